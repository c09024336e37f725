#include "service/rollback_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "testing/fake_clock.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;

StepSpec Step(std::string name) {
  StepSpec s;
  s.name = std::move(name);
  s.type = "command";
  return s;
}

// readiness(reachable) | rollout(stop, backup-app, install, migrate, start, node-health, smoke) |
// verify(health, metrics, observe) | database-verify(integrity)
Plan DeploymentPlan() {
  Plan plan;
  plan.hosts = {"h1", "h2", "h3"};
  plan.phases = {{"readiness", std::nullopt, {Step("reachable")}},
                 {"rollout",
                  std::nullopt,
                  {Step("stop"), Step("backup-app"), Step("install"), Step("migrate"),
                   Step("start"), Step("node-health"), Step("smoke")}},
                 {"verify", std::nullopt, {Step("health"), Step("metrics"), Step("observe")}},
                 {"database-verify", std::nullopt, {Step("integrity")}, true}};
  return plan;
}

StepExecution Exec(int phase, int step, std::string host, StepState state, std::string tail = "",
                   int attempt = 1) {
  StepExecution e;
  e.run_id = "RUN-4";
  e.phase = phase;
  e.step = step;
  e.host = std::move(host);
  e.state = state;
  e.attempt = attempt;
  e.output_tail = std::move(tail);
  e.step_name = StepDisplayName(DeploymentPlan(), phase, step);
  return e;
}

// Every rollout step of `host` succeeded (backup included).
std::vector<StepExecution> RolledOut(const std::string& host) {
  std::vector<StepExecution> out;
  for (int i = 0; i < 7; ++i) out.push_back(Exec(1, i, host, StepState::kSucceeded));
  return out;
}

class TriggersFromRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.environments.resize(2);
    config_.environments[0].name = "DEV";
    config_.environments[0].order = 0;
    config_.environments[1].name = "PROD";
    config_.environments[1].order = 1;
    system_.name = "demo";
    run_.id = "RUN-4";
    run_.state = RunState::kFailed;
  }

  std::vector<TriggerFiring> Fire(const std::vector<StepExecution>& steps,
                                  const std::string& env = "PROD") {
    const Environment* e = config_.FindEnvironment(env);
    return TriggersFromRun(DeploymentPlan(), run_, steps, TriggerPoliciesFor(config_, system_, *e),
                           e->thresholds);
  }

  Config config_;
  System system_;
  rollgate::Run run_;
};

TEST_F(TriggersFromRunTest, FailuresBeforeTheRolloutChangedNothingAndFireNothing) {
  std::vector<StepExecution> steps = {Exec(0, 0, "h1", StepState::kFailed, "unreachable")};
  EXPECT_TRUE(Fire(steps).empty());
}

TEST_F(TriggersFromRunTest, AFailedMigrationOnAChangedNodeFiresDeploymentFailed) {
  std::vector<StepExecution> steps = {
      Exec(1, 0, "h1", StepState::kSucceeded), Exec(1, 1, "h1", StepState::kSucceeded),
      Exec(1, 2, "h1", StepState::kSucceeded),
      Exec(1, 3, "h1", StepState::kFailed, "ERROR: could not create unique index\n")};
  std::vector<TriggerFiring> fired = Fire(steps);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].kind, TriggerKind::kDeploymentFailed);
  EXPECT_EQ(fired[0].action, TriggerAction::kRollback);
  EXPECT_EQ(fired[0].host, "h1");
  EXPECT_THAT(fired[0].detail, HasSubstr("rollout/migrate failed on h1"));
  EXPECT_THAT(fired[0].detail, HasSubstr("could not create unique index"));
}

TEST_F(TriggersFromRunTest, AStopThatFailedBeforeTheBackupIsNotATriggerButAFailedDeployment) {
  std::vector<StepExecution> steps = {Exec(1, 0, "h1", StepState::kFailed, "still running")};
  EXPECT_TRUE(Fire(steps).empty());
}

TEST_F(TriggersFromRunTest, NodeHealthFailingFiresHealthAtOnce) {
  std::vector<StepExecution> steps = RolledOut("h1");
  steps[5].state = StepState::kFailed;
  std::vector<TriggerFiring> fired = Fire(steps);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].kind, TriggerKind::kHealth);
  EXPECT_EQ(fired[0].action, TriggerAction::kRollback);
  EXPECT_EQ(fired[0].source, "step rollout/node-health");
}

TEST_F(TriggersFromRunTest, SmokeFailingInProdIsEvaluatedNotRolledBackAtOnce) {
  std::vector<StepExecution> steps = RolledOut("h1");
  steps[6].state = StepState::kFailed;
  std::vector<TriggerFiring> fired = Fire(steps);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].kind, TriggerKind::kSmoke);
  EXPECT_EQ(fired[0].action, TriggerAction::kEvaluate);
  EXPECT_EQ(StrongestAction(fired), TriggerAction::kEvaluate);
}

TEST_F(TriggersFromRunTest, TheLatestAttemptCounts) {
  std::vector<StepExecution> steps = RolledOut("h1");
  steps[5].state = StepState::kFailed;
  steps.push_back(Exec(1, 5, "h1", StepState::kSucceeded, "", 2));
  EXPECT_TRUE(Fire(steps).empty());
}

TEST_F(TriggersFromRunTest, MeasurementsOfTheVerifyPhaseAreJudgedAgainstTheThresholds) {
  run_.state = RunState::kSucceeded;
  std::vector<StepExecution> steps = RolledOut("h1");
  steps.push_back(Exec(2, 1, "h1", StepState::kSucceeded,
                       "rollgate-fact degradation_percent 35.5\nrollgate-fact flagged yes\n"));
  steps.push_back(Exec(2, 2, "h1", StepState::kSucceeded,
                       "rollgate-fact availability_percent 97.0\n"
                       "rollgate-fact error_percent 6.5\n"));
  std::vector<TriggerFiring> fired = Fire(steps);
  std::set<TriggerKind> kinds;
  for (const TriggerFiring& f : fired) kinds.insert(f.kind);
  EXPECT_EQ(kinds, (std::set<TriggerKind>{TriggerKind::kResponseTime, TriggerKind::kAvailability,
                                          TriggerKind::kUsersAffected}));
  for (const TriggerFiring& f : fired) {
    EXPECT_EQ(f.host, "h1");
    if (f.kind == TriggerKind::kAvailability) {
      EXPECT_EQ(f.measurement, 97.0);
      EXPECT_EQ(f.threshold, 99.5);
      EXPECT_EQ(f.action, TriggerAction::kRollback);
    }
    if (f.kind == TriggerKind::kUsersAffected) {
      EXPECT_EQ(f.measurement, 6.5);
    }
    if (f.kind == TriggerKind::kResponseTime) {
      EXPECT_EQ(f.action, TriggerAction::kEvaluate);
    }
  }
  EXPECT_EQ(StrongestAction(fired), TriggerAction::kRollback);
}

TEST_F(TriggersFromRunTest, FiguresWithinTheThresholdsFireNothing) {
  run_.state = RunState::kSucceeded;
  std::vector<StepExecution> steps = RolledOut("h1");
  steps.push_back(
      Exec(2, 1, "h1", StepState::kSucceeded, "rollgate-fact degradation_percent 20\n"));
  steps.push_back(Exec(2, 2, "h1", StepState::kSucceeded,
                       "rollgate-fact availability_percent 99.5\n"
                       "rollgate-fact error_percent 4.9\n"));
  EXPECT_TRUE(Fire(steps).empty());
}

TEST_F(TriggersFromRunTest, ADataIntegrityFailureFiresWithWhatWasFound) {
  std::vector<StepExecution> steps = RolledOut("h1");
  steps.push_back(Exec(3, 0, "h1", StepState::kFailed,
                       "orders: 90 rows, 100 before the deployment\n"
                       "rollgate-fact orders 90\n"));
  std::vector<TriggerFiring> fired = Fire(steps);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].kind, TriggerKind::kDataIntegrity);
  EXPECT_EQ(fired[0].action, TriggerAction::kRollback);
}

TEST_F(TriggersFromRunTest, APolicyTurnedOffFiresNothing) {
  TriggerPolicy off;
  off.kind = TriggerKind::kHealth;
  off.action = TriggerAction::kOff;
  system_.triggers["PROD"] = {off};
  std::vector<StepExecution> steps = RolledOut("h1");
  steps[5].state = StepState::kFailed;
  EXPECT_TRUE(Fire(steps).empty());
}

// §6.4 step 2: a progress update every 15 minutes while the rollback lasts.
class RecordingSink final : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override { events.push_back(event.kind); }
  std::vector<ProgressEvent::Kind> events;
};

ProgressEvent StepEvent(ProgressEvent::Kind kind, std::string step, std::string host = "h1",
                        StepState state = StepState::kSucceeded) {
  ProgressEvent e;
  e.kind = kind;
  e.step = std::move(step);
  e.host = std::move(host);
  e.state = state;
  return e;
}

TEST(RollbackProgressTest, AnUpdateEveryFifteenMinutesWithTheStepUnderWayAndTheIssues) {
  rollgate::testing::FakeClock clock(rollgate::testing::MondayMorning());
  RecordingSink next;
  std::vector<std::pair<std::string, std::string>> sent;
  RollbackProgress progress(
      &next, clock, std::chrono::minutes(15),
      [&](const std::string& step, const std::string& issues) { sent.emplace_back(step, issues); });
  using Kind = ProgressEvent::Kind;
  progress.OnEvent(StepEvent(Kind::kStepStarted, "stop/stop"));
  clock.Advance(std::chrono::minutes(14));
  progress.OnEvent(StepEvent(Kind::kStepFinished, "stop/stop"));
  EXPECT_TRUE(sent.empty()) << "nothing before 15 minutes";
  progress.OnEvent(StepEvent(Kind::kStepStarted, "restore/restore-database"));
  clock.Advance(std::chrono::minutes(1));
  progress.OnEvent(
      StepEvent(Kind::kStepFinished, "restore/restore-database", "h2", StepState::kFailed));
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].first, "restore/restore-database");
  EXPECT_EQ(sent[0].second, "restore/restore-database on h2: failed");
  // The next one 15 minutes after that one, not after the start.
  clock.Advance(std::chrono::minutes(10));
  progress.OnEvent(StepEvent(Kind::kStepStarted, "restore/start"));
  EXPECT_EQ(sent.size(), 1U);
  clock.Advance(std::chrono::minutes(5));
  progress.OnEvent(StepEvent(Kind::kStepFinished, "restore/start"));
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[1].first, "restore/start");
  // A run that finished late sends no update: the completion message follows.
  clock.Advance(std::chrono::minutes(30));
  progress.OnEvent(StepEvent(Kind::kRunFinished, ""));
  EXPECT_EQ(sent.size(), 2U);
  // Every event reached the next sink.
  EXPECT_EQ(next.events.size(), 7U);
}

}  // namespace
}  // namespace rollgate
