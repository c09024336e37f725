// fanout_driver: Rollgate's side of the fan-out benchmarks (bench/fanout.sh, docs/benchmarks.md).
// Runs commands or copies a file on lab hosts host1..hostN through SessionTransport (one
// streamed session per host) or SshTransport (a ControlMaster per host, one multiplexed session
// per command), with the same ssh_config the other tools get, and prints one JSON line:
//   {"mode","transport","hosts","concurrency","steps","seconds","ok","failed"}
//
//   fanout_driver --ssh-config FILE --hosts N --mode once|steps|copy [--transport session|ssh]
//                 [--concurrency P] [--steps K] [--status-dir TEMPLATE] [--file F --remote
//                 TEMPLATE]
//                 [--warm]
// TEMPLATEs are absolute paths in which "{host}" is replaced by the host's name (lab hosts share
// one machine, so each gets its own path). With --status-dir every step writes its exit-status
// file there, as the executor does. --warm opens every connection before the clock starts.
// Exit status: 0 when every host succeeded, 1 otherwise, 2 on bad usage.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "transport/session_transport.h"
#include "transport/ssh_transport.h"

namespace rollgate {
namespace {

struct Options {
  std::string ssh_config;
  int hosts = 0;
  std::string mode;
  std::string transport = "session";
  int concurrency = 0;
  int steps = 10;
  std::string status_dir;
  std::string file;
  std::string remote;
  bool warm = false;
};

// The ten steps of the ten-step benchmark: small real commands, as in the Ansible playbook.
const std::vector<std::vector<std::string>> kSteps = {
    {"uname", "-n"},      {"id", "-u"},
    {"date", "+%s"},      {"cat", "/proc/loadavg"},
    {"df", "-P", "/tmp"}, {"ls", "-d", "/tmp"},
    {"uname", "-r"},      {"nproc"},
    {"whoami"},           {"true"}};

std::string Expand(std::string text, const std::string& host) {
  for (size_t at = text.find("{host}"); at != std::string::npos; at = text.find("{host}")) {
    text.replace(at, 6, host);
  }
  return text;
}

int Usage(const std::string& why) {
  std::cerr << "fanout_driver: " << why
            << "\nusage: fanout_driver --ssh-config FILE --hosts N --mode once|steps|copy "
               "[--transport session|ssh] [--concurrency P] [--steps K] [--status-dir TEMPLATE] "
               "[--file F --remote TEMPLATE] [--warm]\n";
  return 2;
}

bool ParseArgs(int argc, char** argv, Options* options, std::string* why) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        *why = arg + " needs a value";
        return "";
      }
      return argv[++i];
    };
    if (arg == "--ssh-config") {
      options->ssh_config = value();
    } else if (arg == "--hosts") {
      options->hosts = std::atoi(value().c_str());
    } else if (arg == "--mode") {
      options->mode = value();
    } else if (arg == "--transport") {
      options->transport = value();
    } else if (arg == "--concurrency") {
      options->concurrency = std::atoi(value().c_str());
    } else if (arg == "--steps") {
      options->steps = std::atoi(value().c_str());
    } else if (arg == "--status-dir") {
      options->status_dir = value();
    } else if (arg == "--file") {
      options->file = value();
    } else if (arg == "--remote") {
      options->remote = value();
    } else if (arg == "--warm") {
      options->warm = true;
    } else {
      *why = "unknown argument " + arg;
      return false;
    }
    if (!why->empty()) return false;
  }
  if (options->ssh_config.empty() || options->hosts < 1) {
    *why = "--ssh-config and --hosts are required";
  } else if (options->mode != "once" && options->mode != "steps" && options->mode != "copy") {
    *why = "--mode must be once, steps or copy";
  } else if (options->transport != "session" && options->transport != "ssh") {
    *why = "--transport must be session or ssh";
  } else if (options->mode == "copy" && (options->file.empty() || options->remote.empty())) {
    *why = "--mode copy needs --file and --remote";
  } else if (options->steps < 1 || options->steps > static_cast<int>(kSteps.size())) {
    *why = fmt::format("--steps must be 1..{}", kSteps.size());
  }
  if (options->concurrency <= 0) options->concurrency = options->hosts;
  return why->empty();
}

// Everything one host does in `mode`. Prints the first failure on stderr.
bool RunHost(Transport& transport, const Options& options, const std::string& host_name,
             const std::string& run_id) {
  HostAddress host{host_name, "", 0};
  if (options.mode == "copy") {
    Status copied =
        transport.CopyTo(host, options.file, Expand(options.remote, host_name), Seconds(120));
    if (!copied.ok()) std::cerr << host_name << ": " << copied.ToString() << "\n";
    return copied.ok();
  }
  int steps = options.mode == "once" ? 1 : options.steps;
  for (int step = 0; step < steps; ++step) {
    CommandSpec spec;
    spec.argv = options.mode == "once" ? std::vector<std::string>{"true"} : kSteps[step];
    spec.timeout = Seconds(120);
    if (!options.status_dir.empty()) {
      spec.status_file = fmt::format("{}/{}-step{}.status", Expand(options.status_dir, host_name),
                                     run_id, step + 1);
    }
    Result<CommandResult> result = transport.Run(host, spec);
    if (!result.ok() || !result->succeeded()) {
      std::cerr << host_name << " step " << step + 1 << ": "
                << (result.ok() ? fmt::format("exit {} {}", result->exit_code, result->output_tail)
                                : result.status().ToString())
                << "\n";
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  Options options;
  std::string why;
  if (!ParseArgs(argc, argv, &options, &why)) return Usage(why);
  SystemClock clock;
  SshOptions ssh;
  ssh.config_file = options.ssh_config;
  ssh.connect_timeout = Seconds(60);  // 100 handshakes at once on two cores take a while
  std::unique_ptr<Transport> transport;
  if (options.transport == "session") {
    auto created = SessionTransport::Create(clock, ssh);
    if (!created.ok()) return Usage(created.status().ToString());
    transport = std::move(*created);
  } else {
    auto created = SshTransport::Create(clock, ssh);
    if (!created.ok()) return Usage(created.status().ToString());
    transport = std::move(*created);
  }
  std::string run_id = fmt::format("run{}", getpid());

  auto for_all_hosts = [&](const std::function<bool(const std::string&)>& work) {
    std::atomic<int> next{1};
    std::atomic<int> ok{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < options.concurrency; ++w) {
      workers.emplace_back([&] {
        for (int i = next++; i <= options.hosts; i = next++) {
          if (work("host" + std::to_string(i))) ++ok;
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    return ok.load();
  };

  if (options.warm) {
    int warmed = for_all_hosts([&](const std::string& host) {
      CommandSpec spec;
      spec.argv = {"true"};
      auto result = transport->Run({host, "", 0}, spec);
      return result.ok() && result->succeeded();
    });
    if (warmed != options.hosts) {
      std::cerr << "fanout_driver: only " << warmed << " hosts answered the warm-up\n";
      return 1;
    }
  }
  auto start = clock.Monotonic();
  int ok = for_all_hosts(
      [&](const std::string& host) { return RunHost(*transport, options, host, run_id); });
  if (!options.warm) transport->Close();  // tearing connections down is part of a cold run
  double seconds = std::chrono::duration<double>(clock.Monotonic() - start).count();
  transport->Close();
  std::cout << fmt::format(
      "{{\"mode\":\"{}\",\"transport\":\"{}\",\"hosts\":{},\"concurrency\":{},\"steps\":{},"
      "\"seconds\":{:.3f},\"ok\":{},\"failed\":{}}}\n",
      options.mode, options.transport, options.hosts, options.concurrency,
      options.mode == "steps" ? options.steps : 1, seconds, ok, options.hosts - ok);
  return ok == options.hosts ? 0 : 1;
}

}  // namespace
}  // namespace rollgate

int main(int argc, char** argv) { return rollgate::Main(argc, argv); }
