// The executor against the loopback lab over real ssh (label "lab"; RELIABILITY.md 1, 3, 7, 8).
// CMake's fixture runs `lab/lab.sh up 3` in a lab directory of its own (ROLLGATE_TEST_LAB_DIR,
// hosts on ROLLGATE_TEST_LAB_SUBNET.1-3 port 2222) before, and `lab/lab.sh down` after.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "engine/executor.h"
#include "store/sqlite/sqlite_store.h"
#include "transport/ssh_transport.h"

namespace rollgate {
namespace {

const std::filesystem::path kLab = ROLLGATE_TEST_LAB_DIR;
const std::string kSubnet = ROLLGATE_TEST_LAB_SUBNET;
using RunRecord = ::rollgate::Run;

std::string Host(int i) { return "root@" + kSubnet + "." + std::to_string(i) + ":2222"; }

int LinesIn(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

bool WaitForFile(const std::filesystem::path& path, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class ExecutorLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kLab / "known_hosts")) << "the lab is not up at " << kLab;
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    work_ = kLab / "engine-tests" / name_;
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_ / "marks");
  }

  std::unique_ptr<SshTransport> MakeTransport() {
    SshOptions options;
    options.identity_file = kLab / "client" / "id_ed25519";
    options.known_hosts_file = kLab / "known_hosts";
    options.connect_timeout = Seconds(5);
    auto created = SshTransport::Create(clock_, options);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(*created) : nullptr;
  }

  ExecutorOptions Options(int n) {
    ExecutorOptions options;
    options.actor = "lab";
    options.owner_pid = getpid();
    options.owner_host = "lab-test";
    options.owner_token = name_ + std::to_string(n);
    options.settle_wait = Seconds(30);
    options.poll_interval = Seconds(1);
    options.cancel_timeout = Seconds(10);
    return options;
  }

  Plan PlanWith(std::vector<StepSpec> steps, int hosts = 3) {
    Plan plan;
    for (int i = 1; i <= hosts; ++i) plan.hosts.push_back(Host(i));
    plan.concurrency = 3;
    plan.status_dir = (work_ / "status").string();
    plan.phases.push_back(Phase{"deploy", std::nullopt, std::move(steps)});
    return plan;
  }

  StepSpec Script(std::string name, std::string script, Seconds timeout = Seconds(60)) {
    StepSpec step;
    step.name = std::move(name);
    step.type = "command";
    step.script = std::move(script);
    step.timeout = timeout;
    return step;
  }

  std::string Marks() const { return (work_ / "marks").string(); }

  SystemClock clock_;
  RealSleeper sleeper_;
  StepTypeTable types_ = DefaultStepTypes();
  std::string name_;
  std::filesystem::path work_;
};

// kill -9 of the orchestrator mid-step: the remote command keeps running, leaves its exit status,
// and resume reads it instead of re-running the (non-idempotent) step.
TEST_F(ExecutorLabTest, KillMinusNineMidStepThenResumeReadsTheExitStatus) {
  Plan plan = PlanWith({Script("migrate", "touch " + Marks() +
                                              "/$ROLLGATE_HOST.started; sleep 3; "
                                              "echo x >> " +
                                              Marks() + "/$ROLLGATE_HOST.migrate")});
  std::filesystem::path db = work_ / "state.db";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = OpenSqliteStore(db);
    auto transport = MakeTransport();
    if (!store.ok() || !transport) _exit(2);
    Executor executor(**store, *transport, types_, clock_, sleeper_, Options(1));
    auto id = executor.Create(plan, RunTarget{"", "demo", "LAB", "ssh"});
    if (!id.ok()) _exit(3);
    (void)executor.Execute(*id);
    _exit(0);
  }
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitForFile(work_ / "marks" / (Host(i) + ".started"), std::chrono::seconds(30)));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = OpenSqliteStore(db);
  ASSERT_TRUE(store.ok());
  auto transport = MakeTransport();
  ExecutorOptions options = Options(2);
  options.pid_alive = [child](int64_t pid) { return pid != child; };  // the child is gone
  Executor resumer(**store, *transport, types_, clock_, sleeper_, options);
  Result<RunRecord> run = resumer.Resume("RUN-1");
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kSucceeded) << run->attention;
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(LinesIn(work_ / "marks" / (Host(i) + ".migrate")), 1);
  std::vector<StepExecution> journal;
  ASSERT_TRUE((*store)
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(journal, txn.ListStepExecutions("RUN-1"));
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(journal.size(), 3U);
  for (const StepExecution& e : journal) {
    EXPECT_EQ(e.state, StepState::kSucceeded);
    EXPECT_NE(e.evidence.find("exit-status file"), std::string::npos) << e.evidence;
  }
  transport->Close();
}

// The ControlMaster dies mid-step: the step's outcome is unknown until its exit-status file
// decides; it is not re-run.
TEST_F(ExecutorLabTest, DroppedConnectionIsDecidedByTheStatusFile) {
  auto store = OpenSqliteStore(work_ / "state.db");
  ASSERT_TRUE(store.ok());
  auto transport = MakeTransport();
  Plan plan = PlanWith({Script("migrate", "touch " + Marks() +
                                              "/$ROLLGATE_HOST.started; sleep 3; "
                                              "echo x >> " +
                                              Marks() + "/$ROLLGATE_HOST.migrate")},
                       1);
  std::thread dropper([&] {
    if (!WaitForFile(work_ / "marks" / (Host(1) + ".started"), std::chrono::seconds(30))) return;
    HostAddress host = *ParseHostAddress(Host(1));
    std::string socket = transport->ControlSocketPath(host).string();
    std::string command = "ssh -o ControlPath='" + socket + "' -O exit x >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0);
  });
  Executor executor(**store, *transport, types_, clock_, sleeper_, Options(1));
  auto id = executor.Create(plan, RunTarget{"", "demo", "LAB", "ssh"});
  ASSERT_TRUE(id.ok());
  Result<RunRecord> run = executor.Execute(*id);
  dropper.join();
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kSucceeded) << run->attention;
  EXPECT_EQ(LinesIn(work_ / "marks" / (Host(1) + ".migrate")), 1);
  transport->Close();
}

// More failures than allowed in a batch: later batches never start.
TEST_F(ExecutorLabTest, FailureLimitInABatchStopsLaterBatches) {
  auto store = OpenSqliteStore(work_ / "state.db");
  ASSERT_TRUE(store.ok());
  auto transport = MakeTransport();
  Plan plan = PlanWith({Script("install", "echo x >> " + Marks() +
                                              "/$ROLLGATE_HOST.install; "
                                              "test $ROLLGATE_HOST != " +
                                              Host(1))});
  plan.batch = HostCount{1, false};
  plan.failure_limit = HostCount{0, false};
  Executor executor(**store, *transport, types_, clock_, sleeper_, Options(1));
  auto id = executor.Create(plan, RunTarget{"", "demo", "LAB", "ssh"});
  ASSERT_TRUE(id.ok());
  Result<RunRecord> run = executor.Execute(*id);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kFailed);
  EXPECT_EQ(LinesIn(work_ / "marks" / (Host(1) + ".install")), 1);
  EXPECT_FALSE(std::filesystem::exists(work_ / "marks" / (Host(2) + ".install")));
  EXPECT_FALSE(std::filesystem::exists(work_ / "marks" / (Host(3) + ".install")));
  transport->Close();
}

// Cancel during a step: the run is reported cancelled only once the remote processes are gone.
TEST_F(ExecutorLabTest, CancelDuringAStepKillsTheRemoteProcessesFirst) {
  auto store = OpenSqliteStore(work_ / "state.db");
  ASSERT_TRUE(store.ok());
  auto transport = MakeTransport();
  // A sleep with a duration unique to this test process, so pgrep finds exactly ours.
  std::string duration = "300." + std::to_string(getpid());
  Plan plan = PlanWith(
      {Script("long", "echo $$ > " + Marks() + "/$ROLLGATE_HOST.pid; exec sleep " + duration)});
  Executor executor(**store, *transport, types_, clock_, sleeper_, Options(1));
  auto id = executor.Create(plan, RunTarget{"", "demo", "LAB", "ssh"});
  ASSERT_TRUE(id.ok());
  std::thread canceller([&] {
    for (int i = 1; i <= 3; ++i) {
      WaitForFile(work_ / "marks" / (Host(i) + ".pid"), std::chrono::seconds(30));
    }
    executor.RequestCancel();
  });
  Result<RunRecord> run = executor.Execute(*id);
  canceller.join();
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kCancelled) << run->attention;
  // Reported cancelled: no remote process of the step is left.
  // "[s]leep" matches the sleep but not the shell running pgrep.
  std::string check = "pgrep -f '[s]leep " + duration + "' >/dev/null";
  EXPECT_NE(std::system(check.c_str()), 0) << "a remote sleep survived the cancel";
  transport->Close();
}

}  // namespace
}  // namespace rollgate
