#include "engine/executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/faulty_store.h"
#include "transport/local_transport.h"
#include "transport/simulated_transport.h"

namespace rollgate {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using RunRecord = ::rollgate::Run;

// A fake clock several threads may read while a sleeper advances it.
std::filesystem::path MakeTempDirectory() {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("rollgate-executor-" + std::to_string(::getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(path);
  return path;
}

class SharedFakeClock final : public Clock {
 public:
  Timestamp Now() const override {
    std::lock_guard lock(mutex_);
    return clock_.Now();
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    std::lock_guard lock(mutex_);
    return clock_.Monotonic();
  }
  void Advance(Seconds d) {
    std::lock_guard lock(mutex_);
    clock_.Advance(d);
  }

 private:
  mutable std::mutex mutex_;
  testing::FakeClock clock_{testing::MondayMorning()};
};

class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(SharedFakeClock& clock) : clock_(clock) {}
  void SleepFor(Seconds d) override {
    std::lock_guard lock(mutex_);
    slept_ += d;
    clock_.Advance(d);
  }
  Seconds slept() {
    std::lock_guard lock(mutex_);
    return slept_;
  }

 private:
  SharedFakeClock& clock_;
  std::mutex mutex_;
  Seconds slept_{0};
};

class RecordingSink final : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override { events.push_back(event); }
  std::vector<ProgressEvent> events;
};

StepSpec Command(std::string name, std::vector<std::string> argv, bool idempotent = false) {
  StepSpec step;
  step.name = std::move(name);
  step.type = "command";
  step.argv = std::move(argv);
  step.idempotent = idempotent;
  step.timeout = Seconds(30);
  return step;
}

Plan PlanOn(int hosts, std::vector<StepSpec> steps) {
  Plan plan;
  plan.name = "test";
  for (int i = 1; i <= hosts; ++i) plan.hosts.push_back("h" + std::to_string(i));
  plan.concurrency = 2;
  plan.phases.push_back(Phase{"deploy", std::nullopt, std::move(steps)});
  return plan;
}

const RunTarget kTarget{"CR-1", "billing", "PROD", "simulated"};

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory();
    auto store = OpenSqliteStore(directory_ / "state.db");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(directory_);
  }

  // A process identity: `n` distinguishes processes (pids 1000 + n), all on one host.
  ExecutorOptions Options(int n) {
    ExecutorOptions options;
    options.actor = "alice";
    options.owner_pid = 1000 + n;
    options.owner_host = "orchestrator";
    options.owner_token = "process-" + std::to_string(n);
    options.pid_alive = [this](int64_t pid) { return alive_.count(pid) > 0; };
    options.settle_wait = Seconds(20);
    options.poll_interval = Seconds(5);
    alive_.insert(1000 + n);
    return options;
  }
  // Simulates `kill -9` of process n: its pid is no longer alive.
  void Kill(int n) { alive_.erase(1000 + n); }

  std::unique_ptr<Executor> MakeExecutor(Store& store, int n, ProgressSink* sink = nullptr) {
    return std::make_unique<Executor>(store, transport_, types_, clock_, sleeper_, Options(n),
                                      sink);
  }

  Result<RunRecord> StartAndExecute(const Plan& plan, Executor& executor) {
    ASSIGN_OR_RETURN(std::string id, executor.Create(plan, kTarget));
    return executor.Execute(id);
  }

  std::vector<StepExecution> Journal(const std::string& run_id) {
    std::vector<StepExecution> out;
    EXPECT_TRUE(store_
                    ->Read([&](Transaction& txn) -> Status {
                      ASSIGN_OR_RETURN(out, txn.ListStepExecutions(run_id));
                      return Status::Ok();
                    })
                    .ok());
    return out;
  }

  // RELIABILITY.md invariants: clean store, verified chain, no step execution stuck, unknown
  // ones carry evidence.
  void CheckInvariants(const std::string& run_id) {
    EXPECT_TRUE(store_->CheckIntegrity().ok());
    auto verification = store_->VerifyAudit();
    ASSERT_TRUE(verification.ok());
    EXPECT_TRUE(verification->ok) << verification->reason;
    for (const StepExecution& e : Journal(run_id)) {
      EXPECT_TRUE(IsFinal(e.state))
          << e.step_name << " on " << e.host << " is " << StepStateName(e.state);
      if (e.state == StepState::kUnknown) {
        EXPECT_FALSE(e.evidence.empty());
      }
    }
  }

  std::filesystem::path directory_;
  std::unique_ptr<Store> store_;
  SharedFakeClock clock_;
  FakeSleeper sleeper_{clock_};
  SimulatedTransport transport_;
  StepTypeTable types_ = DefaultStepTypes();
  std::set<int64_t> alive_;
};

TEST_F(ExecutorTest, RunsEveryStepOnEveryHostInOrderAndJournalsIt) {
  RecordingSink sink;
  auto executor = MakeExecutor(*store_, 1, &sink);
  Plan plan = PlanOn(3, {Command("stop", {"stop-service"}), Command("install", {"install", "v2"}),
                         Command("start", {"start-service"})});
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kSucceeded);
  EXPECT_EQ(run->id, "RUN-1");
  for (const std::string host : {"h1", "h2", "h3"}) {
    EXPECT_THAT(transport_.CommandsRan(host),
                ::testing::ElementsAre("stop-service", "install v2", "start-service"));
  }
  std::vector<StepExecution> journal = Journal("RUN-1");
  ASSERT_EQ(journal.size(), 9U);
  std::set<std::string> status_files;
  for (const StepExecution& e : journal) {
    EXPECT_EQ(e.state, StepState::kSucceeded);
    EXPECT_EQ(e.exit_code, 0);
    EXPECT_TRUE(e.started_at && e.finished_at);
    status_files.insert(e.status_file);
  }
  EXPECT_EQ(status_files.size(), 9U) << "one status file per run/step/host/attempt";
  int finished = 0;
  for (const ProgressEvent& event : sink.events) {
    finished += event.kind == ProgressEvent::Kind::kStepFinished;
  }
  EXPECT_EQ(finished, 9);
  EXPECT_EQ(sink.events.back().kind, ProgressEvent::Kind::kRunFinished);
  CheckInvariants("RUN-1");
  // The lock is released: the next run may start.
  EXPECT_TRUE(executor->Create(plan, kTarget).ok());
}

// What must become visible with a run's end (a deployment's evidence on its CR) is written in
// the commit that records the end: when it cannot be written the run has not ended either, and
// the resume that ends it writes it then, once.
TEST_F(ExecutorTest, WhatTheEndHookWritesCommitsWithTheRunsEndOrNotAtAll) {
  auto actions_of_run = [&] {
    std::vector<std::string> actions;
    Result<std::vector<AuditEvent>> events = store_->AuditEventsFor("RUN-1");
    EXPECT_TRUE(events.ok());
    for (const AuditEvent& e : events.value_or(std::vector<AuditEvent>{})) {
      actions.push_back(e.action);
    }
    return actions;
  };
  ExecutorOptions failing = Options(1);
  int calls = 0;
  failing.on_finish = [&](Transaction& txn, const RunRecord& run) -> Status {
    ++calls;
    EXPECT_EQ(run.state, RunState::kSucceeded);
    EXPECT_TRUE(run.finished_at.has_value());
    RETURN_IF_ERROR(txn.AppendAudit({clock_.Now(), "alice", "test.end", run.id, "{}"}).status());
    return Unavailable("the CR could not be written");
  };
  Executor first(*store_, transport_, types_, clock_, sleeper_, failing);
  Plan plan = PlanOn(2, {Command("install", {"install"})});
  Result<RunRecord> run = StartAndExecute(plan, first);
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.error().message(), HasSubstr("the CR could not be written"));
  EXPECT_EQ(calls, 1);
  RunRecord stored;
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(stored, txn.GetRun("RUN-1"));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(stored.state, RunState::kRunning);
  EXPECT_FALSE(stored.finished_at.has_value());
  EXPECT_THAT(actions_of_run(), Not(Contains("test.end")));
  EXPECT_THAT(actions_of_run(), Not(Contains("run.succeeded")));

  Kill(1);
  ExecutorOptions working = Options(2);
  working.on_finish = [&](Transaction& txn, const RunRecord& ended) -> Status {
    return txn.AppendAudit({clock_.Now(), "alice", "test.end", ended.id, "{}"}).status();
  };
  Executor second(*store_, transport_, types_, clock_, sleeper_, working);
  Result<RunRecord> resumed = second.Resume("RUN-1");
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  EXPECT_EQ(resumed->state, RunState::kSucceeded);
  std::vector<std::string> actions = actions_of_run();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "test.end"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "run.succeeded"), 1);
  EXPECT_THAT(transport_.CommandsRan("h1"), ElementsAre("install")) << "not run again";
  CheckInvariants("RUN-1");
}

// A run paused for a person has not ended: the hook waits for the end.
TEST_F(ExecutorTest, APausedRunDoesNotCallTheEndHook) {
  ExecutorOptions options = Options(1);
  int calls = 0;
  options.on_finish = [&](Transaction&, const RunRecord&) -> Status {
    ++calls;
    return Status::Ok();
  };
  Executor executor(*store_, transport_, types_, clock_, sleeper_, options);
  ScriptedOutcome lost{
      "h1", "migrate",    0,
      1,    std::nullopt, CommandResult{.exit_code = kExitUnknown, .connection_lost = true}};
  lost.status_file_code = std::optional<int>();
  transport_.Script(lost);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {Command("migrate", {"migrate"})}), executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ASSERT_EQ(run->state, RunState::kPausedForPerson);
  EXPECT_EQ(calls, 0);
}

// A step that runs for minutes: after a minute with no other event the executor says it is
// still running (the §6.4 rollback updates are sent from events, so a long step must make some).
TEST_F(ExecutorTest, ALongStepIsReportedAsStillRunningAfterAMinuteOfSilence) {
  RecordingSink sink;
  // The command takes 90 s of the test clock; in real time it lasts long enough for the
  // executor's wait (200 ms) to come round with the clock already moved.
  transport_.SetLatencySink([&](std::chrono::milliseconds elapsed) {
    clock_.Advance(std::chrono::duration_cast<Seconds>(elapsed));
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
  });
  SimulatedHostBehavior slow;
  slow.latency = std::chrono::seconds(90);
  transport_.SetDefaultBehavior(slow);
  StepSpec restore = Command("restore", {"pg_restore"});
  restore.timeout = Seconds(600);
  auto executor = MakeExecutor(*store_, 1, &sink);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {restore}), *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kSucceeded);
  int running = 0;
  for (const ProgressEvent& event : sink.events) {
    if (event.kind != ProgressEvent::Kind::kStepRunning) continue;
    ++running;
    EXPECT_EQ(event.step, "deploy/restore");
    EXPECT_EQ(event.hosts, 1);
  }
  EXPECT_GE(running, 1);
  EXPECT_EQ(ProgressKindName(ProgressEvent::Kind::kStepRunning), "step-running");
}

TEST_F(ExecutorTest, AOneHostPhaseRunsOnTheFirstHostThatHasNotFailed) {
  auto executor = MakeExecutor(*store_, 1);
  Plan plan = PlanOn(3, {Command("install", {"install"})});
  Phase database;
  database.name = "database";
  database.one_host = true;
  database.steps = {Command("migrate", {"migrate"})};
  plan.phases.push_back(database);
  plan.failure_limit = {1, false};
  transport_.Script({"h1", "install", 0, 1, std::nullopt, CommandResult{.exit_code = 1}});
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_THAT(transport_.CommandsRan("h1"), ::testing::ElementsAre("install"));
  EXPECT_THAT(transport_.CommandsRan("h2"), ::testing::ElementsAre("install", "migrate"));
  EXPECT_THAT(transport_.CommandsRan("h3"), ::testing::ElementsAre("install"));
  Result<Plan> round_trip = PlanFromJson(PlanToJson(plan));
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, plan);
}

// A transport that checks, when a command is sent, that its intent is already committed.
class IntentCheckingTransport final : public Transport {
 public:
  IntentCheckingTransport(Transport& inner, Store& observer) : inner_(inner), observer_(observer) {}
  Result<CommandResult> Run(const HostAddress& host, const CommandSpec& spec) override {
    {
      std::lock_guard lock(mutex_);
      Status status = observer_.Read([&](Transaction& txn) -> Status {
        ASSIGN_OR_RETURN(auto journal, txn.ListStepExecutions("RUN-1"));
        for (const auto& e : journal) {
          if (e.status_file == spec.status_file && e.state == StepState::kIntent) {
            ++checked;
            return Status::Ok();
          }
        }
        ++missing;
        return Status::Ok();
      });
      EXPECT_TRUE(status.ok());
    }
    return inner_.Run(host, spec);
  }
  Status CopyTo(const HostAddress& h, const std::filesystem::path& l, const std::string& r,
                Seconds t) override {
    return inner_.CopyTo(h, l, r, t);
  }
  Result<std::optional<int>> ReadExitStatus(const HostAddress& h, const std::string& f) override {
    return inner_.ReadExitStatus(h, f);
  }
  Status Cancel(const HostAddress& h, const std::string& f, Seconds t) override {
    return inner_.Cancel(h, f, t);
  }
  void Close() override {}
  int checked = 0;
  int missing = 0;

 private:
  Transport& inner_;
  Store& observer_;
  std::mutex mutex_;
};

TEST_F(ExecutorTest, IntentIsCommittedBeforeTheTransportIsCalled) {
  auto observer = OpenSqliteStore(directory_ / "state.db");
  ASSERT_TRUE(observer.ok());
  IntentCheckingTransport transport(transport_, **observer);
  Executor executor(*store_, transport, types_, clock_, sleeper_, Options(1));
  Result<RunRecord> run =
      StartAndExecute(PlanOn(4, {Command("a", {"a"}), Command("b", {"b"})}), executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(transport.checked, 8);
  EXPECT_EQ(transport.missing, 0);
}

TEST_F(ExecutorTest, FailureLimitStopsLaterBatches) {
  Plan plan = PlanOn(6, {Command("install", {"install"}), Command("verify", {"verify"})});
  plan.batch = HostCount{2, false};
  plan.failure_limit = HostCount{0, false};
  transport_.Script({"h3", "install", 0, 1, std::nullopt, CommandResult{.exit_code = 7}});
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kFailed);
  EXPECT_THAT(run->message, HasSubstr("batches 3..3"));
  EXPECT_THAT(transport_.CommandsRan("h3"), ::testing::ElementsAre("install"));
  EXPECT_THAT(transport_.CommandsRan("h4"), ::testing::ElementsAre("install", "verify"));
  EXPECT_TRUE(transport_.CommandsRan("h5").empty());
  EXPECT_TRUE(transport_.CommandsRan("h6").empty());
  CheckInvariants("RUN-1");
}

TEST_F(ExecutorTest, FailuresWithinTheLimitLetLaterBatchesRun) {
  Plan plan = PlanOn(4, {Command("install", {"install"})});
  plan.batch = HostCount{25, true};
  plan.failure_limit = HostCount{25, true};
  transport_.Script({"h1", "install", 0, 1, std::nullopt, CommandResult{.exit_code = 2}});
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, RunState::kFailed);
  EXPECT_THAT(run->message, HasSubstr("1 of 4 hosts failed"));
  EXPECT_EQ(transport_.CommandsRan("h4").size(), 1U);
}

TEST_F(ExecutorTest, IdempotentStepsAreRetriedWithBackoffOnTheInjectedClock) {
  StepSpec step = Command("restart", {"restart"}, /*idempotent=*/true);
  step.retry = RetryPolicy{3, Seconds(5), Seconds(60)};
  transport_.Script({"h1", "restart", 0, 2, std::nullopt, CommandResult{.exit_code = 1}});
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {step}), *executor);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, RunState::kSucceeded);
  EXPECT_EQ(sleeper_.slept(), Seconds(15));
  std::vector<StepExecution> journal = Journal("RUN-1");
  ASSERT_EQ(journal.size(), 3U);
  EXPECT_EQ(journal[0].state, StepState::kFailed);
  EXPECT_EQ(journal[2].attempt, 3);
  EXPECT_EQ(journal[2].state, StepState::kSucceeded);
  EXPECT_NE(journal[0].status_file, journal[1].status_file);
}

TEST_F(ExecutorTest, TransientFailuresUseTheRetryBudgetAndOthersDoNot) {
  // Playbook §7.1 step 6: "retry deployment if transient error", within a budget.
  StepSpec step = Command("unpack", {"unpack"}, /*idempotent=*/true);
  step.retry.transient_attempts = 2;
  step.retry.backoff = Seconds(5);
  transport_.Script(
      {"h1", "unpack", 0, 2, std::nullopt,
       CommandResult{.exit_code = 1, .output_tail = "read: Connection reset by peer\n"}});
  transport_.Script({"h2", "unpack", 0, 3, std::nullopt,
                     CommandResult{.exit_code = 1,
                                   .output_tail = "ERROR: canceling statement due to lock "
                                                  "timeout\n"}});
  transport_.Script({"h3", "unpack", 0, 1, std::nullopt,
                     CommandResult{.exit_code = 1, .output_tail = "No such file\n"}});
  Plan plan = PlanOn(3, {step});
  plan.failure_limit = HostCount{100, true};
  auto executor = MakeExecutor(*store_, 3);
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok());
  // h1 succeeds on its third attempt; h2 is still failing when the budget is spent; h3's failure
  // is not transient and is not retried.
  EXPECT_EQ(transport_.CommandsRan("h1").size(), 3U);
  EXPECT_EQ(transport_.CommandsRan("h2").size(), 3U);
  EXPECT_EQ(transport_.CommandsRan("h3").size(), 1U);
  EXPECT_EQ(run->state, RunState::kFailed);
  int h1_succeeded = 0;
  for (const StepExecution& e : Journal("RUN-1")) {
    if (e.host == "h1" && e.state == StepState::kSucceeded) h1_succeeded = e.attempt;
  }
  EXPECT_EQ(h1_succeeded, 3);
}

TEST_F(ExecutorTest, NonIdempotentStepsAreNotRetried) {
  transport_.Script({"h1", "migrate", 0, 1, std::nullopt, CommandResult{.exit_code = 1}});
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {Command("migrate", {"migrate"})}), *executor);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, RunState::kFailed);
  EXPECT_EQ(transport_.CommandsRan("h1").size(), 1U);
}

TEST_F(ExecutorTest, LostConnectionIsDecidedByTheExitStatusFileNotReRun) {
  ScriptedOutcome lost{
      "h1", "migrate",    0,
      1,    std::nullopt, CommandResult{.exit_code = kExitUnknown, .connection_lost = true}};
  lost.status_file_code = std::optional<int>(0);
  transport_.Script(lost);
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {Command("migrate", {"migrate"})}), *executor);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, RunState::kSucceeded);
  std::vector<StepExecution> journal = Journal("RUN-1");
  ASSERT_EQ(journal.size(), 1U);
  EXPECT_THAT(journal[0].evidence, HasSubstr("connection to the host was lost"));
  EXPECT_THAT(journal[0].evidence, HasSubstr("exit-status file"));
  EXPECT_EQ(transport_.CommandsRan("h1").size(), 1U);
}

TEST_F(ExecutorTest, TimedOutStepWithoutStatusFileIsProbed) {
  StepSpec step = Command("stop", {"stop"});
  step.probe = ProbeSpec{{"check-stopped"}, Seconds(5)};
  ScriptedOutcome timeout{
      "h1", "stop",       0,
      1,    std::nullopt, CommandResult{.exit_code = kExitUnknown, .timed_out = true}};
  timeout.status_file_code = std::optional<int>();
  transport_.Script(timeout);
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {step}), *executor);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, RunState::kSucceeded);
  std::vector<StepExecution> journal = Journal("RUN-1");
  EXPECT_EQ(journal[0].probe_exit_code, 0);
  EXPECT_THAT(journal[0].evidence, HasSubstr("probe says the effect is in place"));
  // The command was stopped on the host before the probe looked.
  bool cancelled = false;
  for (const SimulatedCall& call : transport_.Calls()) {
    cancelled = cancelled || call.kind == SimulatedCall::Kind::kCancel;
  }
  EXPECT_TRUE(cancelled);
}

TEST_F(ExecutorTest, UndecidableNonIdempotentStepPausesForAPersonThenResumesOnDecision) {
  ScriptedOutcome lost{
      "h2", "migrate",    0,
      1,    std::nullopt, CommandResult{.exit_code = kExitUnknown, .connection_lost = true}};
  lost.status_file_code = std::optional<int>();
  transport_.Script(lost);
  auto executor = MakeExecutor(*store_, 1);
  Plan plan = PlanOn(2, {Command("migrate", {"migrate"}), Command("start", {"start"})});
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kPausedForPerson);
  EXPECT_THAT(run->attention, HasSubstr("deploy/migrate on h2"));
  EXPECT_THAT(run->attention, HasSubstr("--decide deploy/migrate@h2=in-place"));
  EXPECT_EQ(sleeper_.slept(), Seconds(20)) << "waited (bounded) for a status file";
  EXPECT_TRUE(transport_.CommandsRan("h2") == std::vector<std::string>{"migrate"});
  CheckInvariants("RUN-1");
  // Resuming without a decision stays paused and re-runs nothing.
  Kill(1);
  auto second = MakeExecutor(*store_, 2);
  Result<RunRecord> again = second->Resume("RUN-1");
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->state, RunState::kPausedForPerson);
  EXPECT_EQ(transport_.CommandsRan("h2").size(), 1U);
  // A person checked: the migration is in place.
  Result<RunRecord> decided = second->Resume("RUN-1", {{"deploy/migrate", "h2", true}});
  ASSERT_TRUE(decided.ok()) << decided.error().ToString();
  EXPECT_EQ(decided->state, RunState::kSucceeded);
  EXPECT_THAT(transport_.CommandsRan("h2"), ::testing::ElementsAre("migrate", "start"));
  CheckInvariants("RUN-1");
}

// A step left unknown (the host did not answer) is looked at again by Resume: once the host
// shows the command's exit status, that decides it; until then its record stays as it was.
TEST_F(ExecutorTest, ResumeDecidesAnUnknownStepByTheExitStatusTheHostShowsLater) {
  ScriptedOutcome lost{
      "h2", "migrate",    0,
      1,    std::nullopt, CommandResult{.exit_code = kExitUnknown, .connection_lost = true}};
  lost.status_file_code = std::optional<int>();
  transport_.Script(lost);
  auto executor = MakeExecutor(*store_, 1);
  Plan plan = PlanOn(2, {Command("migrate", {"migrate"}), Command("start", {"start"})});
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  ASSERT_EQ(run->state, RunState::kPausedForPerson);
  std::vector<StepExecution> before = Journal("RUN-1");
  ASSERT_EQ(before.size(), 2U);
  const StepExecution& unknown = before[0].host == "h2" ? before[0] : before[1];
  ASSERT_EQ(unknown.state, StepState::kUnknown);

  // Nothing on the host yet: the record is kept as it was and the run stays paused.
  Result<RunRecord> again = executor->Resume("RUN-1");
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->state, RunState::kPausedForPerson);
  std::vector<StepExecution> kept = Journal("RUN-1");
  ASSERT_EQ(kept.size(), 2U);
  for (const StepExecution& e : kept) {
    if (e.host != "h2") continue;
    EXPECT_EQ(e.state, StepState::kUnknown);
    EXPECT_EQ(e.evidence, unknown.evidence);
  }

  // The host shows the exit status now: it decides, and nothing runs twice.
  transport_.SetFile("h2", unknown.status_file, "0\n");
  Result<RunRecord> resumed = executor->Resume("RUN-1");
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  EXPECT_EQ(resumed->state, RunState::kSucceeded) << resumed->attention;
  for (const StepExecution& e : Journal("RUN-1")) {
    if (e.host != "h2" || e.step_name != "deploy/migrate") continue;
    EXPECT_EQ(e.state, StepState::kSucceeded);
    EXPECT_EQ(e.attempt, 1);
    EXPECT_THAT(e.evidence, HasSubstr("unknown until checked again at resume"));
    EXPECT_THAT(e.evidence, HasSubstr("exit status 0 read from the exit-status file"));
  }
  EXPECT_THAT(transport_.CommandsRan("h2"), ::testing::ElementsAre("migrate", "start"));
  CheckInvariants("RUN-1");
}

std::string FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// "canary-" and 16 random hex digits.
std::string RandomCanary() {
  std::random_device device;
  std::mt19937_64 random(device());
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random()));
  return std::string("canary-") + hex;
}

// RELIABILITY.md "Secrets": a step given a secret by reference echoes it, prints it in an error
// message and fails; the value is nowhere in what the run leaves behind.
TEST_F(ExecutorTest, CanarySecretOfACommandStepIsNowhereInTheStoreOrEvents) {
  const std::string canary = RandomCanary();
  const std::string variable = "ROLLGATE_TEST_CANARY_" + std::to_string(getpid());
  ASSERT_EQ(setenv(variable.c_str(), canary.c_str(), 1), 0);
  StepSpec step;
  step.name = "login";
  step.type = "command";
  step.script =
      "echo \"token=$APP_TOKEN\"; echo \"error: login refused with $APP_TOKEN\" >&2; exit 1";
  step.secrets = {{"APP_TOKEN", "env:" + variable}};
  step.timeout = Seconds(30);
  step.probe = ProbeSpec{{"sh", "-c", "echo \"probe $APP_TOKEN\"; exit 1"}, Seconds(10)};
  Plan plan = PlanOn(2, {step});
  plan.status_dir = (directory_ / "status").string();
  SystemClock real_clock;
  LocalTransport local(real_clock);
  RecordingSink sink;
  Executor executor(*store_, local, types_, clock_, sleeper_, Options(1), &sink);
  auto id = executor.Create(plan, kTarget);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  Result<RunRecord> run = executor.Execute(*id);
  unsetenv(variable.c_str());
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kFailed);

  // The command did get the secret: its output shows where it was, masked.
  std::vector<StepExecution> journal = Journal(*id);
  ASSERT_EQ(journal.size(), 2U);
  for (const StepExecution& e : journal) {
    EXPECT_EQ(e.state, StepState::kFailed);
    EXPECT_EQ(e.exit_code, 1);
    EXPECT_THAT(e.output_tail, HasSubstr("token=***"));
    EXPECT_THAT(e.output_tail, HasSubstr("error: login refused with ***"));
    EXPECT_EQ(e.output_tail.find(canary), std::string::npos) << e.output_tail;
    EXPECT_EQ(e.evidence.find(canary), std::string::npos) << e.evidence;
  }
  RunRecord stored_run;
  RunRecord* stored = &stored_run;
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(stored_run, txn.GetRun(*id));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_THAT(stored->plan_json, HasSubstr("env:" + variable)) << "the reference is kept";
  EXPECT_EQ(stored->plan_json.find(canary), std::string::npos);
  EXPECT_EQ(stored->message.find(canary), std::string::npos);
  EXPECT_EQ(stored->attention.find(canary), std::string::npos);
  int audited = 0;
  ASSERT_TRUE(store_
                  ->ForEachAuditEvent([&](const AuditEvent& event) -> Status {
                    ++audited;
                    EXPECT_EQ(event.details.find(canary), std::string::npos) << event.details;
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_GT(audited, 0);
  ASSERT_FALSE(sink.events.empty());
  for (const ProgressEvent& event : sink.events) {
    EXPECT_EQ(event.message.find(canary), std::string::npos) << event.message;
  }
  // The database's bytes, WAL included, as they are on disk.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(FileBytes(entry.path()).find(canary), std::string::npos) << entry.path();
  }
  EXPECT_GE(files, 1);
  // Whatever the run left in its status directory.
  int status_files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory_ / "status")) {
    if (!entry.is_regular_file()) continue;
    ++status_files;
    EXPECT_EQ(FileBytes(entry.path()).find(canary), std::string::npos) << entry.path();
  }
  EXPECT_GE(status_files, 2);
  CheckInvariants(*id);
}

// A secret reference that cannot be resolved fails the step before anything is sent; the
// message names the reference.
TEST_F(ExecutorTest, UnresolvableSecretReferenceFailsTheStepNamingTheReference) {
  const std::string variable = "ROLLGATE_TEST_UNSET_" + std::to_string(getpid());
  unsetenv(variable.c_str());
  StepSpec step = Command("login", {"login"});
  step.secrets = {{"APP_TOKEN", "env:" + variable}, {"KEY", "file:/nonexistent/rollgate/key"}};
  auto executor = MakeExecutor(*store_, 1);
  Result<RunRecord> run = StartAndExecute(PlanOn(1, {step}), *executor);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kFailed);
  std::vector<StepExecution> journal = Journal("RUN-1");
  ASSERT_EQ(journal.size(), 1U);
  EXPECT_EQ(journal[0].state, StepState::kFailed);
  EXPECT_THAT(journal[0].evidence, HasSubstr("not run"));
  EXPECT_THAT(journal[0].evidence, HasSubstr("APP_TOKEN"));
  EXPECT_THAT(journal[0].evidence, HasSubstr("env:" + variable));
  EXPECT_TRUE(transport_.CommandsRan("h1").empty());
  // A malformed reference is refused when the plan is checked.
  StepSpec bad = Command("login", {"login"});
  bad.secrets = {{"APP_TOKEN", "plain-text-password"}};
  Status refused = ValidatePlan(PlanOn(1, {bad}), types_);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message().find("plain-text-password"), std::string::npos) << refused.message();
  CheckInvariants("RUN-1");
}

TEST_F(ExecutorTest, SecondRunOnTheSameTargetIsRefusedNamingTheRunInProgress) {
  auto first = MakeExecutor(*store_, 1);
  Plan plan = PlanOn(1, {Command("a", {"a"})});
  ASSERT_TRUE(first->Create(plan, kTarget).ok());
  auto second = MakeExecutor(*store_, 2);
  Result<std::string> refused = second->Create(plan, kTarget);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kConflict);
  EXPECT_THAT(refused.error().message(), HasSubstr("RUN-1 is in progress"));
  // Another environment is independent.
  EXPECT_TRUE(second->Create(plan, RunTarget{"CR-1", "billing", "TEST", "simulated"}).ok());
}

TEST_F(ExecutorTest, StaleLockIsTakenOverByResumeAndTheOldOwnerIsFenced) {
  auto first = MakeExecutor(*store_, 1);
  Plan plan = PlanOn(2, {Command("a", {"a"})});
  Result<std::string> id = first->Create(plan, kTarget);
  ASSERT_TRUE(id.ok());
  // The first process "dies" before executing; a new deploy is refused and told to resume.
  Kill(1);
  auto second = MakeExecutor(*store_, 2);
  Result<std::string> refused = second->Create(plan, kTarget);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("rollgate run resume RUN-1"));
  // A live owner is not taken over.
  alive_.insert(1001);
  EXPECT_EQ(second->Resume(*id).status().code(), StatusCode::kConflict);
  Kill(1);
  Result<RunRecord> resumed = second->Resume(*id);
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  EXPECT_EQ(resumed->state, RunState::kSucceeded);
  EXPECT_GE(resumed->fencing_token, 2);
  // The first process comes back: its writes are refused (fencing), nothing runs twice.
  Result<RunRecord> stale = first->Execute(*id);
  EXPECT_FALSE(stale.ok());
  EXPECT_EQ(transport_.CommandsRan("h1").size(), 1U);
}

TEST_F(ExecutorTest, ExpiredLeaseMakesALockStaleEvenWhenThePidIsAlive) {
  auto first = MakeExecutor(*store_, 1);
  Result<std::string> id = first->Create(PlanOn(1, {Command("a", {"a"})}), kTarget);
  ASSERT_TRUE(id.ok());
  auto second = MakeExecutor(*store_, 2);
  EXPECT_EQ(second->Resume(*id).status().code(), StatusCode::kConflict);
  clock_.Advance(Seconds(121));
  Result<RunRecord> resumed = second->Resume(*id);
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  EXPECT_EQ(resumed->state, RunState::kSucceeded);
}

// Crash at every store write (RELIABILITY.md 1, STYLE.md 14): the Nth write fails, the process
// "dies", another process resumes. Whatever N, the run completes, nothing is stuck, and no step
// that is not idempotent ran twice on a host.
TEST_F(ExecutorTest, CrashAtEveryWriteThenResumeCompletesWithoutRunningAnythingTwice) {
  StepSpec migrate = Command("migrate", {"migrate"});
  migrate.probe = ProbeSpec{{"migration-recorded"}, Seconds(5)};
  Plan plan = PlanOn(
      3, {Command("stop", {"stop"}, /*idempotent=*/true), migrate, Command("start", {"start"})});
  plan.batch = HostCount{2, false};
  int completed_without_fault = 0;
  for (int n = 1; n < 60; ++n) {
    SCOPED_TRACE("failing write " + std::to_string(n));
    TearDown();
    SetUp();
    transport_.~SimulatedTransport();
    new (&transport_) SimulatedTransport();
    testing::FaultyStore faulty(*store_);
    faulty.FailWrite(n);
    std::string id;
    {
      auto executor = MakeExecutor(faulty, 1);
      Result<std::string> created = executor->Create(plan, kTarget);
      if (created.ok()) {
        id = *created;
        Result<RunRecord> run = executor->Execute(id);
        if (run.ok()) {
          ++completed_without_fault;
          EXPECT_FALSE(faulty.failed());
          break;
        }
        EXPECT_EQ(run.error().code(), StatusCode::kUnavailable) << run.error().ToString();
      } else {
        EXPECT_EQ(created.error().code(), StatusCode::kUnavailable);
      }
    }
    Kill(1);
    if (id.empty()) continue;
    auto resumer = MakeExecutor(*store_, 2);
    Result<RunRecord> resumed = resumer->Resume(id);
    ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
    EXPECT_TRUE(resumed->state == RunState::kSucceeded)
        << RunStateName(resumed->state) << ": " << resumed->attention;
    CheckInvariants(id);
    for (const std::string host : {"h1", "h2", "h3"}) {
      std::map<std::string, int> ran;
      for (const std::string& command : transport_.CommandsRan(host)) ++ran[command];
      EXPECT_LE(ran["migrate"], 1) << host;
      EXPECT_LE(ran["start"], 1) << host;
      EXPECT_EQ(ran["start"], 1) << host;
    }
  }
  EXPECT_EQ(completed_without_fault, 1) << "the loop reached a write count with no fault";
}

TEST_F(ExecutorTest, StoreFullStopsTheRunAndReportsNothingUncommitted) {
  store_.reset();
  SqliteStoreOptions options;
  options.max_page_count = 46;  // the schema and a few pages: full within the run
  auto small = OpenSqliteStore(directory_ / "small.db", options);
  ASSERT_TRUE(small.ok()) << small.error().ToString();
  RecordingSink sink;
  auto executor =
      std::make_unique<Executor>(**small, transport_, types_, clock_, sleeper_, Options(1), &sink);
  Plan plan = PlanOn(200, {Command("a", {"a", std::string(300, 'x')}),
                           Command("b", {"b", std::string(300, 'y')})});
  plan.concurrency = 4;
  Result<RunRecord> run = StartAndExecute(plan, *executor);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(run.error().message(), HasSubstr("stopped"));
  EXPECT_THAT(run.error().message(), HasSubstr("disk full"));
  // Every step reported finished is recorded finished.
  std::vector<StepExecution> journal;
  ASSERT_TRUE((*small)
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(journal, txn.ListStepExecutions("RUN-1"));
                    return Status::Ok();
                  })
                  .ok());
  std::set<std::pair<std::string, std::string>> recorded;
  for (const StepExecution& e : journal) {
    if (e.state == StepState::kSucceeded) recorded.insert({e.step_name, e.host});
  }
  for (const ProgressEvent& event : sink.events) {
    if (event.kind == ProgressEvent::Kind::kStepFinished) {
      EXPECT_TRUE(recorded.count({event.step, event.host})) << event.step << " " << event.host;
    }
  }
  EXPECT_TRUE((*small)->CheckIntegrity().ok());
}

// A transport whose commands run until cancelled (a long step), recording the order of events.
class LongRunningTransport final : public Transport {
 public:
  Result<CommandResult> Run(const HostAddress&, const CommandSpec& spec) override {
    std::unique_lock lock(mutex_);
    started.push_back(spec.status_file);
    changed_.notify_all();
    changed_.wait(lock, [&] { return cancelled.count(spec.status_file) > 0; });
    CommandResult result;
    result.exit_code = 143;
    return result;
  }
  Status CopyTo(const HostAddress&, const std::filesystem::path&, const std::string&,
                Seconds) override {
    return Status::Ok();
  }
  Result<std::optional<int>> ReadExitStatus(const HostAddress&, const std::string&) override {
    return std::optional<int>();
  }
  Status Cancel(const HostAddress&, const std::string& status_file, Seconds) override {
    std::lock_guard lock(mutex_);
    cancelled.insert(status_file);
    changed_.notify_all();
    return Status::Ok();
  }
  void Close() override {}
  void WaitForStarts(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return started.size() >= n; });
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> started;
  std::set<std::string> cancelled;
};

TEST_F(ExecutorTest, CancelDuringAStepStopsTheRemoteProcessesBeforeReportingCancelled) {
  LongRunningTransport transport;
  Executor executor(*store_, transport, types_, clock_, sleeper_, Options(1));
  Plan plan = PlanOn(5, {Command("long", {"sleep", "600"}), Command("after", {"after"})});
  plan.concurrency = 2;
  Result<std::string> id = executor.Create(plan, kTarget);
  ASSERT_TRUE(id.ok());
  std::thread canceller([&] {
    transport.WaitForStarts(2);
    executor.RequestCancel();
  });
  Result<RunRecord> run = executor.Execute(*id);
  canceller.join();
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kCancelled);
  std::vector<StepExecution> journal = Journal(*id);
  int cancelled_running = 0;
  int never_started = 0;
  for (const StepExecution& e : journal) {
    EXPECT_EQ(e.state, StepState::kCancelled) << e.host;
    EXPECT_EQ(e.step_name, "deploy/long");
    if (e.evidence.find("gone from the host") != std::string::npos) {
      ++cancelled_running;
      EXPECT_EQ(transport.cancelled.count(e.status_file), 1U);
    }
    never_started += e.evidence.find("never started") != std::string::npos;
  }
  EXPECT_EQ(cancelled_running, 2);
  EXPECT_EQ(cancelled_running + never_started, static_cast<int>(journal.size()));
  EXPECT_EQ(transport.started.size(), 2U);
  CheckInvariants(*id);
}

TEST_F(ExecutorTest, CancelOfARunWhoseOwnerDiedStopsWhatItLeftRunning) {
  auto first = MakeExecutor(*store_, 1);
  Plan plan = PlanOn(2, {Command("long", {"long"})});
  Result<std::string> id = first->Create(plan, kTarget);
  ASSERT_TRUE(id.ok());
  // Simulate: intents committed by process 1, which then died before any result.
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) -> Status {
                    for (const std::string host : {"h1", "h2"}) {
                      StepExecution e;
                      e.run_id = *id;
                      e.step_name = "deploy/long";
                      e.host = host;
                      e.state = StepState::kIntent;
                      e.status_file = "/var/tmp/rollgate/" + *id + "/" + host + ".status";
                      RETURN_IF_ERROR(txn.PutStepExecution(e));
                    }
                    return Status::Ok();
                  })
                  .ok());
  Kill(1);
  auto canceller = MakeExecutor(*store_, 2);
  Result<RunRecord> run = canceller->Cancel(*id, Seconds(10));
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->state, RunState::kCancelled);
  int cancels = 0;
  for (const SimulatedCall& call : transport_.Calls()) {
    cancels += call.kind == SimulatedCall::Kind::kCancel;
  }
  EXPECT_EQ(cancels, 2);
  for (const StepExecution& e : Journal(*id)) EXPECT_EQ(e.state, StepState::kCancelled);
  CheckInvariants(*id);
  // The lock is free again.
  EXPECT_TRUE(canceller->Create(plan, kTarget).ok());
}

}  // namespace
}  // namespace rollgate
