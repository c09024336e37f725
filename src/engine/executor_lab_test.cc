// The executor against the loopback lab over real ssh (label "lab"; RELIABILITY.md 1, 3, 7, 8,
// "Secrets").
// CMake's fixture runs `lab/lab.sh up 3` in a lab directory of its own (ROLLGATE_TEST_LAB_DIR,
// hosts on ROLLGATE_TEST_LAB_SUBNET.1-3 port 2222) before, and `lab/lab.sh down` after.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "engine/executor.h"
#include "store/sqlite/sqlite_store.h"
#include "transport/ssh_transport.h"

namespace rollgate {
namespace {

const std::filesystem::path kLab = ROLLGATE_TEST_LAB_DIR;
const std::string kSubnet = ROLLGATE_TEST_LAB_SUBNET;
using ::testing::HasSubstr;
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

std::string FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The parent pid of `pid` from /proc/PID/stat (0 when it is gone).
pid_t ParentOf(pid_t pid) {
  std::string stat = FileBytes("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  char state = 0;
  int parent = 0;
  if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &parent) != 2) return 0;
  return parent;
}

// `root` and all its descendants.
std::set<pid_t> ProcessTree(pid_t root) {
  std::map<pid_t, std::vector<pid_t>> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    children[ParentOf(pid)].push_back(pid);
  }
  std::set<pid_t> tree{root};
  std::vector<pid_t> pending{root};
  while (!pending.empty()) {
    pid_t pid = pending.back();
    pending.pop_back();
    for (pid_t child : children[pid]) {
      if (tree.insert(child).second) pending.push_back(child);
    }
  }
  return tree;
}

class RecordingSink final : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  std::vector<ProgressEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::vector<ProgressEvent> events_;
};

// "canary-" and 16 random hex digits.
std::string RandomCanary() {
  std::random_device device;
  std::mt19937_64 random(device());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random()));
  return std::string("canary-") + hex;
}

class ExecutorLabTest : public ::testing::Test {
 protected:
  // A host that was frozen is always thawed, so that the fixture can stop the lab.
  void TearDown() override { Thaw(); }

  // Freezes lab host `i`: SIGSTOP to its sshd and everything below it (connections, sessions,
  // the commands they run). The host still accepts TCP connections (the kernel does) but answers
  // nothing, like a host that hangs.
  void Freeze(int i) {
    std::ifstream in(kLab / "hosts" / ("host" + std::to_string(i)) / "sshd.pid");
    pid_t sshd = 0;
    in >> sshd;
    ASSERT_GT(sshd, 0) << "no sshd.pid for host" << i;
    frozen_root_ = sshd;
    // Twice: a process forked while the first pass ran is stopped by the second.
    for (int pass = 0; pass < 2; ++pass) {
      for (pid_t pid : ProcessTree(sshd)) {
        if (kill(pid, SIGSTOP) == 0) frozen_.insert(pid);
      }
    }
  }

  void Thaw() {
    if (frozen_root_ != 0) {
      for (pid_t pid : ProcessTree(frozen_root_)) frozen_.insert(pid);
    }
    for (pid_t pid : frozen_) kill(pid, SIGCONT);
    frozen_.clear();
    frozen_root_ = 0;
  }

  // RELIABILITY.md invariants: clean store, verified audit chain, every step execution final,
  // unknown ones with evidence.
  void CheckInvariants(Store& store, const std::string& run_id) {
    EXPECT_TRUE(store.CheckIntegrity().ok());
    auto verification = store.VerifyAudit();
    ASSERT_TRUE(verification.ok());
    EXPECT_TRUE(verification->ok) << verification->reason;
    for (const StepExecution& e : Journal(store, run_id)) {
      EXPECT_TRUE(IsFinal(e.state))
          << e.step_name << " on " << e.host << " is " << StepStateName(e.state);
      if (e.state == StepState::kUnknown) {
        EXPECT_FALSE(e.evidence.empty());
      }
    }
  }

  std::vector<StepExecution> Journal(Store& store, const std::string& run_id) {
    std::vector<StepExecution> journal;
    EXPECT_TRUE(store
                    .Read([&](Transaction& txn) -> Status {
                      ASSIGN_OR_RETURN(journal, txn.ListStepExecutions(run_id));
                      return Status::Ok();
                    })
                    .ok());
    return journal;
  }

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kLab / "known_hosts")) << "the lab is not up at " << kLab;
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    work_ = kLab / "engine-tests" / name_;
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_ / "marks");
  }

  std::unique_ptr<SshTransport> MakeTransport(Seconds connect_timeout = Seconds(5)) {
    SshOptions options;
    options.identity_file = kLab / "client" / "id_ed25519";
    options.known_hosts_file = kLab / "known_hosts";
    options.connect_timeout = connect_timeout;
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
  std::filesystem::path Mark(int host, const std::string& what) const {
    return work_ / "marks" / (Host(host) + "." + what);
  }

  // RELIABILITY.md 3: host 1 stops answering while it runs a step that is not idempotent (see
  // the tests below).
  void HostStopsAnsweringMidStep(bool with_probe);

  std::set<pid_t> frozen_;
  pid_t frozen_root_ = 0;
  SystemClock clock_;
  RealSleeper sleeper_;
  StepTypeTable types_ = DefaultStepTypes();
  std::string name_;
  std::filesystem::path work_;
};

// kill -9 of the orchestrator mid-step: the remote command keeps running, leaves its exit status,
// and resume reads it instead of re-running the (non-idempotent) step.
TEST_F(ExecutorLabTest, KillMinusNineMidStepThenResumeReadsTheExitStatus) {
  // Long enough that the kill lands while every host still runs the step, even on a loaded
  // machine where the three marks take seconds to appear.
  Plan plan = PlanWith({Script("migrate", "touch " + Marks() +
                                              "/$ROLLGATE_HOST.started; sleep 10; "
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

void ExecutorLabTest::HostStopsAnsweringMidStep(bool with_probe) {
  auto store = OpenSqliteStore(work_ / "state.db");
  ASSERT_TRUE(store.ok());
  auto transport = MakeTransport(Seconds(2));
  ASSERT_TRUE(transport);
  // Takes about 2 s plus the session's start; the timeout leaves room for a slow login.
  StepSpec step = Script("migrate",
                         "touch " + Marks() + "/$ROLLGATE_HOST.started; sleep 2; echo x >> " +
                             Marks() + "/$ROLLGATE_HOST.migrate",
                         Seconds(15));
  if (with_probe) {
    step.probe =
        ProbeSpec{{"sh", "-c", "test -s " + Marks() + "/$ROLLGATE_HOST.migrate"}, Seconds(5)};
  }
  Plan plan = PlanWith({step});
  ExecutorOptions options = Options(1);
  options.settle_wait = Seconds(10);
  options.cancel_timeout = Seconds(5);
  Executor executor(**store, *transport, types_, clock_, sleeper_, options);
  auto id = executor.Create(plan, RunTarget{"", "demo", "LAB", "ssh"});
  ASSERT_TRUE(id.ok()) << id.error().ToString();

  std::thread freezer([&] {
    if (WaitForFile(Mark(1, "started"), std::chrono::seconds(60))) Freeze(1);
  });
  auto execution = std::async(std::launch::async, [&] { return executor.Execute(*id); });
  freezer.join();
  ASSERT_FALSE(frozen_.empty()) << "host 1 never started the step";
  // A guard against a hang, far beyond every timeout involved (not a measure of speed).
  if (execution.wait_for(std::chrono::seconds(150)) != std::future_status::ready) {
    Thaw();
    ADD_FAILURE() << "the executor hung on a host that stopped answering";
    execution.wait();
    return;
  }
  Result<RunRecord> run = execution.get();
  ASSERT_TRUE(run.ok()) << run.error().ToString();

  // Paused for a person, who is told which host and what to check.
  EXPECT_EQ(run->state, RunState::kPausedForPerson) << run->message;
  EXPECT_THAT(run->attention, HasSubstr("step deploy/migrate on " + Host(1)));
  EXPECT_THAT(run->attention, HasSubstr("exit-status file"));
  EXPECT_THAT(run->attention, HasSubstr("--decide deploy/migrate@" + Host(1) + "=in-place"));
  EXPECT_EQ(run->attention.find(Host(2)), std::string::npos) << run->attention;
  std::vector<StepExecution> journal = Journal(**store, *id);
  ASSERT_EQ(journal.size(), 3U);
  std::string status_file;
  for (const StepExecution& e : journal) {
    if (e.host == Host(1)) {
      // Unknown with evidence: the host did not answer, nothing could make sure the command
      // stopped, and no probe guessed (it could not reach the host).
      EXPECT_EQ(e.state, StepState::kUnknown) << e.evidence;
      EXPECT_FALSE(e.exit_code.has_value());
      EXPECT_FALSE(e.probe_exit_code.has_value());
      EXPECT_TRUE(e.evidence.find("timed out after") != std::string::npos ||
                  e.evidence.find("connection to the host was lost") != std::string::npos)
          << e.evidence;
      EXPECT_THAT(e.evidence, HasSubstr("could not make sure the command stopped"));
      status_file = e.status_file;
    } else {
      // The other hosts completed.
      EXPECT_EQ(e.state, StepState::kSucceeded) << e.host << ": " << e.evidence;
      EXPECT_EQ(e.exit_code, 0);
    }
  }
  ASSERT_FALSE(status_file.empty());
  EXPECT_EQ(LinesIn(Mark(2, "migrate")), 1);
  EXPECT_EQ(LinesIn(Mark(3, "migrate")), 1);
  EXPECT_FALSE(std::filesystem::exists(CompanionStatusFile(status_file, "probe")))
      << "a probe ran on a host that did not answer";
  CheckInvariants(**store, *id);

  // The host answers again; its command finishes and leaves its exit status.
  Thaw();
  ASSERT_TRUE(WaitForFile(status_file, std::chrono::seconds(60)))
      << "the command on host 1 left no exit-status file";
  Result<RunRecord> resumed = executor.Resume(*id);
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  EXPECT_EQ(resumed->state, RunState::kSucceeded) << resumed->attention;
  journal = Journal(**store, *id);
  ASSERT_EQ(journal.size(), 3U) << "a step was run again";
  for (const StepExecution& e : journal) {
    EXPECT_EQ(e.state, StepState::kSucceeded) << e.host << ": " << e.evidence;
    if (e.host != Host(1)) continue;
    // The outcome was read from the host, not guessed.
    EXPECT_EQ(e.attempt, 1);
    EXPECT_EQ(e.exit_code, 0);
    EXPECT_THAT(e.evidence, HasSubstr("exit status 0 read from the exit-status file"));
    EXPECT_THAT(e.evidence, HasSubstr("unknown until checked again at resume"));
  }
  EXPECT_EQ(LinesIn(Mark(1, "migrate")), 1) << "the step ran twice on host 1";
  CheckInvariants(**store, *id);
  transport->Close();
}

// A host that stops answering mid-step, the step without a probe: the executor does not hang,
// the step ends unknown with evidence and the run pauses for a person; the other hosts
// complete; once the host answers again, resume reads the step's exit status from the host.
TEST_F(ExecutorLabTest, HostThatStopsAnsweringMidStepPausesThenResumeReadsTheExitStatus) {
  HostStopsAnsweringMidStep(/*with_probe=*/false);
}

// The same with a probe: a probe that cannot reach the host decides nothing (no guess, no
// re-run).
TEST_F(ExecutorLabTest, HostThatStopsAnsweringIsNotDecidedByAProbeThatCannotReachIt) {
  HostStopsAnsweringMidStep(/*with_probe=*/true);
}

// RELIABILITY.md "Secrets": a canary secret handed to a command step by reference, echoed by
// the command and printed in its error message, is nowhere in what the run leaves behind: not
// in the store (step output, run and plan, audit events, the database and WAL bytes), not in
// progress events, not on the hosts (the status directory with the kept output).
TEST_F(ExecutorLabTest, CanarySecretOfAStepIsNowhereInTheStoreEventsOrOnTheHosts) {
  const std::string canary = RandomCanary();
  const std::string variable = "ROLLGATE_LAB_CANARY_" + std::to_string(getpid());
  ASSERT_EQ(setenv(variable.c_str(), canary.c_str(), 1), 0);
  auto store = OpenSqliteStore(work_ / "state.db");
  ASSERT_TRUE(store.ok());
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  StepSpec step = Script("login",
                         "echo \"token=$APP_TOKEN\"; "
                         "echo \"error: login refused with $APP_TOKEN\" >&2; exit 1");
  step.secrets = {{"APP_TOKEN", "env:" + variable}};
  Plan plan = PlanWith({step});
  plan.failure_limit = HostCount{3, false};
  RecordingSink sink;
  Executor executor(**store, *transport, types_, clock_, sleeper_, Options(1), &sink);
  auto id = executor.Create(plan, RunTarget{"", "demo", "LAB", "ssh"});
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  Result<RunRecord> run = executor.Execute(*id);
  unsetenv(variable.c_str());
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kFailed);

  // The command had the secret (its output shows where, masked) and failed.
  std::vector<StepExecution> journal = Journal(**store, *id);
  ASSERT_EQ(journal.size(), 3U);
  for (const StepExecution& e : journal) {
    EXPECT_EQ(e.state, StepState::kFailed) << e.evidence;
    EXPECT_EQ(e.exit_code, 1);
    EXPECT_THAT(e.output_tail, HasSubstr("token=***"));
    EXPECT_THAT(e.output_tail, HasSubstr("error: login refused with ***"));
    EXPECT_EQ(e.output_tail.find(canary), std::string::npos) << e.output_tail;
    EXPECT_EQ(e.evidence.find(canary), std::string::npos) << e.evidence;
  }
  RunRecord stored;
  ASSERT_TRUE((*store)
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(stored, txn.GetRun(*id));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_THAT(stored.plan_json, HasSubstr("env:" + variable)) << "the reference is kept";
  EXPECT_EQ(stored.plan_json.find(canary), std::string::npos);
  EXPECT_EQ(stored.message.find(canary), std::string::npos);
  EXPECT_EQ(stored.attention.find(canary), std::string::npos);
  int audited = 0;
  ASSERT_TRUE((*store)
                  ->ForEachAuditEvent([&](const AuditEvent& event) -> Status {
                    ++audited;
                    EXPECT_EQ(event.details.find(canary), std::string::npos) << event.details;
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_GT(audited, 0);
  std::vector<ProgressEvent> events = sink.events();
  EXPECT_FALSE(events.empty());
  for (const ProgressEvent& event : events) {
    EXPECT_EQ(event.message.find(canary), std::string::npos) << event.message;
  }
  // The database's bytes as they are on disk, WAL included (the store is still open).
  int database_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(work_)) {
    if (!entry.is_regular_file()) continue;
    ++database_files;
    EXPECT_EQ(FileBytes(entry.path()).find(canary), std::string::npos) << entry.path();
  }
  EXPECT_GE(database_files, 1);
  // On the hosts: every file under the run's status directory, the kept output included.
  int kept_outputs = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(work_ / "status")) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = FileBytes(entry.path());
    EXPECT_EQ(bytes.find(canary), std::string::npos) << entry.path();
    if (entry.path().extension() == ".out") {
      ++kept_outputs;
      EXPECT_THAT(bytes, HasSubstr("token=***")) << entry.path();
    }
  }
  EXPECT_EQ(kept_outputs, 3);
  for (int i = 1; i <= 3; ++i) {
    std::filesystem::path log = kLab / "hosts" / ("host" + std::to_string(i)) / "sshd.log";
    EXPECT_EQ(FileBytes(log).find(canary), std::string::npos) << log;
  }
  CheckInvariants(**store, *id);
  transport->Close();
}

}  // namespace
}  // namespace rollgate
