// Orchestrator overhead of the durable executor (issue 4, "Performance"): a 12-step plan shaped
// like the PROD procedure on 10,000 simulated hosts with zero latency, persisted in a real SQLite
// store (synchronous=FULL) in $ROLLGATE_BENCH_DIR (else the system's temporary directory).
// Reports CPU time (user + system, this process) per host-step including persistence (target
// <= 50 us) and peak memory, VmHWM (target <= 500 MB). Every step execution is journalled as an
// intent and a result with its audit event; intents are committed in chunks before their commands
// are sent, results are group-committed as they arrive.
// Run: build/release/bench/executor_bench [hosts] [concurrency]
#include <fmt/format.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "engine/executor.h"
#include "store/sqlite/sqlite_store.h"
#include "transport/simulated_transport.h"

namespace rollgate {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The peak resident set size in MiB (VmHWM), or -1 when /proc is not there.
double PeakMemoryMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return -1;
}

Plan ProdShapedPlan(int hosts, int concurrency) {
  Plan plan;
  plan.name = "prod-shaped";
  for (int i = 0; i < hosts; ++i) plan.hosts.push_back(fmt::format("host{:05d}", i));
  plan.batch = HostCount{10, true};
  plan.failure_limit = HostCount{1, true};
  plan.concurrency = concurrency;
  auto step = [](const char* name, bool idempotent) {
    StepSpec s;
    s.name = name;
    s.type = "command";
    s.argv = {"rollgate-step", name};
    s.idempotent = idempotent;
    return s;
  };
  plan.phases.push_back(Phase{"prepare",
                              std::nullopt,
                              {step("readiness", true), step("notify-start", true),
                               step("backup-config", true), step("backup-database", true)}});
  plan.phases.push_back(Phase{"deploy",
                              std::nullopt,
                              {step("stop-service", true), step("install-package", false),
                               step("migrate", false), step("start-service", true)}});
  plan.phases.push_back(Phase{"verify",
                              std::nullopt,
                              {step("health", true), step("smoke", true), step("log-scan", true),
                               step("notify-done", true)}});
  return plan;
}

int Main(int argc, char** argv) {
  int hosts = argc > 1 ? std::atoi(argv[1]) : 10'000;
  int concurrency = argc > 2 ? std::atoi(argv[2]) : 8;
  const char* configured = std::getenv("ROLLGATE_BENCH_DIR");
  std::filesystem::path base =
      configured ? std::filesystem::path(configured) : std::filesystem::temp_directory_path();
  std::random_device random;
  std::filesystem::path dir = base / fmt::format("rollgate-executor-bench-{:08x}", random());
  auto store = OpenSqliteStore(dir / "state.db");
  if (!store.ok()) {
    fmt::print(stderr, "cannot open the store: {}\n", store.error().ToString());
    return 1;
  }
  SimulatedTransport transport;
  transport.SetRecording(false);
  StepTypeTable types = DefaultStepTypes();
  SystemClock clock;
  RealSleeper sleeper;
  ExecutorOptions options;
  options.actor = "bench";
  options.owner_pid = 1;
  options.owner_host = "bench";
  options.owner_token = "bench";
  Executor executor(**store, transport, types, clock, sleeper, options);
  Plan plan = ProdShapedPlan(hosts, concurrency);

  double cpu_before = CpuSeconds();
  auto wall_before = clock.Monotonic();
  Result<std::string> id = executor.Create(plan, RunTarget{"CR-1", "billing", "PROD", "simulated"});
  Result<Run> run = id.ok() ? executor.Execute(*id) : Result<Run>(id.error());
  double cpu = CpuSeconds() - cpu_before;
  double wall = std::chrono::duration<double>(clock.Monotonic() - wall_before).count();
  if (!run.ok() || run->state != RunState::kSucceeded) {
    fmt::print(stderr, "the run did not succeed: {}\n",
               run.ok() ? run->message : run.error().ToString());
    return 1;
  }
  double host_steps = static_cast<double>(hosts) * 12;
  auto db_size = std::filesystem::file_size(dir / "state.db");
  fmt::print("hosts {}  steps 12  host-steps {:.0f}  concurrency {}\n", hosts, host_steps,
             concurrency);
  fmt::print("cpu {:.2f} s  wall {:.2f} s  cpu per host-step {:.1f} us (target <= 50)\n", cpu, wall,
             cpu / host_steps * 1e6);
  fmt::print("peak memory (VmHWM) {:.1f} MiB (target <= 500)  store {:.1f} MiB\n", PeakMemoryMiB(),
             static_cast<double>(db_size) / (1024.0 * 1024.0));
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace rollgate

int main(int argc, char** argv) { return rollgate::Main(argc, argv); }
