#include "service/deploy_service.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"
#include "testing/test_store.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;

Plan TwoHostPlan() {
  Plan plan;
  plan.hosts = {"h1", "h2"};
  auto step = [](std::string name) {
    StepSpec s;
    s.name = std::move(name);
    s.type = "command";
    return s;
  };
  plan.phases = {{"readiness", std::nullopt, {step("reachable")}},
                 {"rollout", std::nullopt, {step("backup-app"), step("smoke")}},
                 {"regression", std::nullopt, {step("regression")}, true}};
  return plan;
}

StepExecution Exec(int phase, int step, std::string host, StepState state, std::string tail,
                   int attempt = 1) {
  StepExecution e;
  e.phase = phase;
  e.step = step;
  e.host = std::move(host);
  e.state = state;
  e.attempt = attempt;
  e.output_tail = std::move(tail);
  e.step_name = "x";
  return e;
}

const Evidence* Find(const std::vector<Evidence>& list, const std::string& kind) {
  for (const Evidence& e : list) {
    if (e.kind == kind) return &e;
  }
  return nullptr;
}

TEST(EvidenceFromRunTest, ASucceededRunGivesTheEvidenceTheGatesRead) {
  rollgate::Run run;
  run.id = "RUN-1";
  run.state = RunState::kSucceeded;
  std::vector<StepExecution> steps = {
      Exec(0, 0, "h1", StepState::kSucceeded, ""),
      Exec(0, 0, "h2", StepState::kSucceeded, ""),
      Exec(1, 0, "h1", StepState::kSucceeded,
           "rollgate-fact location /b/app-RUN-1.tar.gz\nrollgate-fact size_bytes 42\n"),
      Exec(1, 0, "h2", StepState::kSucceeded, "rollgate-fact location /b/app-RUN-1.tar.gz\n"),
      Exec(1, 1, "h1", StepState::kSucceeded, "rollgate-fact pass_rate 100\n"),
      Exec(1, 1, "h2", StepState::kFailed, "FAIL /health\n", 1),
      Exec(1, 1, "h2", StepState::kSucceeded, "rollgate-fact pass_rate 100\n", 2),
      Exec(2, 0, "h1", StepState::kSucceeded,
           "rollgate-fact tests 200\nrollgate-fact failures 4\nrollgate-fact errors 0\n"
           "rollgate-fact skipped 0\nrollgate-fact pass_rate 98.0\n")};
  std::vector<Evidence> evidence = EvidenceFromRun(TwoHostPlan(), run, steps, "TEST", "1.1.0");
  ASSERT_NE(Find(evidence, kEvidenceReadiness), nullptr);
  EXPECT_TRUE(*Find(evidence, kEvidenceReadiness)->passed);
  const Evidence* smoke = Find(evidence, kEvidenceSmoke);
  ASSERT_NE(smoke, nullptr);
  EXPECT_TRUE(*smoke->passed) << "the latest attempt counts";
  EXPECT_EQ(*smoke->value, 100.0);
  const Evidence* regression = Find(evidence, kEvidenceRegression);
  ASSERT_NE(regression, nullptr);
  EXPECT_EQ(*regression->value, 98.0);
  EXPECT_EQ(regression->detail, "196 of 200 passed (0 skipped)");
  int backups = 0;
  for (const Evidence& e : evidence) backups += e.kind == kEvidenceBackup;
  EXPECT_EQ(backups, 2);
  const Evidence* deployment = Find(evidence, kEvidenceDeployment);
  ASSERT_NE(deployment, nullptr);
  EXPECT_TRUE(*deployment->passed);
  EXPECT_EQ(deployment->fields.at("version"), "1.1.0");
  EXPECT_EQ(deployment->run_id, "RUN-1");
}

TEST(EvidenceFromRunTest, AFailedRunSaysWhereAndWhy) {
  rollgate::Run run;
  run.id = "RUN-2";
  run.state = RunState::kFailed;
  run.message = "1 of 2 hosts failed";
  std::vector<StepExecution> steps = {
      Exec(0, 0, "h1", StepState::kSucceeded, ""), Exec(0, 0, "h2", StepState::kSucceeded, ""),
      Exec(1, 0, "h1", StepState::kSucceeded, "rollgate-fact location /b/a\n"),
      Exec(1, 1, "h1", StepState::kFailed,
           "FAIL /health answered 500\nrollgate-fact pass_rate 66\n")};
  steps[3].step_name = "rollout/smoke";
  std::vector<Evidence> evidence = EvidenceFromRun(TwoHostPlan(), run, steps, "PROD", "1.2.0");
  const Evidence* smoke = Find(evidence, kEvidenceSmoke);
  ASSERT_NE(smoke, nullptr);
  EXPECT_FALSE(*smoke->passed);
  EXPECT_EQ(*smoke->value, 66.0);
  const Evidence* deployment = Find(evidence, kEvidenceDeployment);
  ASSERT_NE(deployment, nullptr);
  EXPECT_FALSE(*deployment->passed);
  EXPECT_THAT(deployment->detail,
              HasSubstr("rollout/smoke on h1: failed (FAIL /health answered 500)"));
}

// A deployment run's evidence is written by the hook the executor calls in the commit that
// records the run's end (ExecutorOptions::on_finish), against a real store.
class RunEvidenceOnFinishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-deploy-service");
    auto opened = OpenStore("sqlite:" + (dir_ / "state.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    store_ = std::move(*opened);
    run_.id = "RUN-1";
    run_.change_request = "CR-1";
    run_.environment = "TEST";
    run_.system = "billing";
    run_.state = RunState::kSucceeded;
    run_.plan_json = PlanToJson(TwoHostPlan());
    run_.created_at = clock_.Now();
    run_.finished_at = clock_.Now();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // PATCH-1, CR-1 in `state`, and run_ with a smoke test and a backup on both hosts.
  void StoreAll(CrState state) {
    Patch patch = rollgate::testing::SamplePatch();
    ChangeRequest cr = rollgate::testing::SampleChangeRequest(config_, patch);
    cr.id = "CR-1";
    cr.number = 1;
    cr.state = state;
    std::vector<StepExecution> steps;
    for (const std::string host : {"h1", "h2"}) {
      steps.push_back(Exec(0, 0, host, StepState::kSucceeded, ""));
      steps.push_back(Exec(1, 0, host, StepState::kSucceeded, "rollgate-fact location /b/a\n"));
      steps.push_back(Exec(1, 1, host, StepState::kSucceeded, "rollgate-fact pass_rate 100\n"));
    }
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> Status {
                      RETURN_IF_ERROR(tx.PutPatch(patch));
                      RETURN_IF_ERROR(tx.PutChangeRequest(cr));
                      RETURN_IF_ERROR(tx.PutRun(run_));
                      for (StepExecution& e : steps) {
                        e.run_id = run_.id;
                        RETURN_IF_ERROR(tx.PutStepExecution(e));
                      }
                      return Status::Ok();
                    })
                    .ok());
  }

  Status EndTheRun(DeployService& service) {
    auto hook = service.RunEvidenceOnFinish("eve");
    return store_->Write([&](Transaction& tx) { return hook(tx, run_); });
  }

  ChangeRequest Cr() { return rollgate::testing::StoredChangeRequest(*store_, "CR-1"); }

  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    EXPECT_TRUE(store_
                    ->ForEachAuditEvent([&](const AuditEvent& e) {
                      actions.push_back(e.action);
                      return Status::Ok();
                    })
                    .ok());
    return actions;
  }

  Config config_ = rollgate::testing::SampleConfig();
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  rollgate::testing::FakeClock clock_{rollgate::testing::MondayMorning()};
  FixedOffsetZone zone_{Seconds(0)};
  rollgate::Run run_;
};

TEST_F(RunEvidenceOnFinishTest,
       TheEndOfTheRunRecordsItsEvidenceOnceAndRecordingItAgainAddsNothing) {
  StoreAll(CrState::kInProgress);
  DeployService service(config_, *store_, clock_, zone_, dir_);
  ASSERT_TRUE(EndTheRun(service).ok());
  ChangeRequest cr = Cr();
  std::vector<std::string> kinds;
  for (const Evidence& e : cr.evidence) {
    EXPECT_EQ(e.run_id, "RUN-1");
    EXPECT_EQ(e.recorded_by, "eve");
    EXPECT_EQ(e.at, *run_.finished_at);
    kinds.push_back(e.kind);
  }
  EXPECT_THAT(kinds,
              ::testing::IsSupersetOf(std::vector<std::string>{
                  kEvidenceReadiness, kEvidenceBackup, kEvidenceSmoke, kEvidenceDeployment}));
  std::vector<std::string> actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "cr.evidence"),
            static_cast<long>(cr.evidence.size()))
      << "one audit event per item";

  // What the runner does after the run: the evidence recorded at the end, nothing new.
  clock_.Advance(Seconds(30));
  Result<std::vector<Evidence>> again = service.RecordRunEvidence("RUN-1", "eve");
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->size(), cr.evidence.size());
  for (const Evidence& e : *again) EXPECT_EQ(e.at, *run_.finished_at);
  ASSERT_TRUE(EndTheRun(service).ok());
  EXPECT_EQ(Cr().evidence.size(), cr.evidence.size());
  EXPECT_EQ(AuditActions(), actions);
}

TEST_F(RunEvidenceOnFinishTest, WithoutTheHookTheEvidenceIsRecordedAfterTheRunAndOnlyOnce) {
  StoreAll(CrState::kInProgress);
  DeployService service(config_, *store_, clock_, zone_, dir_);
  Result<std::vector<Evidence>> first = service.RecordRunEvidence("RUN-1", "eve");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_FALSE(first->empty());
  EXPECT_EQ(Cr().evidence.size(), first->size());
  Result<std::vector<Evidence>> second = service.RecordRunEvidence("RUN-1", "eve");
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(second->size(), first->size());
  EXPECT_EQ(Cr().evidence.size(), first->size());
}

TEST_F(RunEvidenceOnFinishTest, ACrThatRefusesEvidenceLetsTheRunEndAndSaysWhyAfterwards) {
  StoreAll(CrState::kCancelled);
  DeployService service(config_, *store_, clock_, zone_, dir_);
  std::vector<std::string> before = AuditActions();
  ASSERT_TRUE(EndTheRun(service).ok()) << "the run's end is recorded all the same";
  EXPECT_TRUE(Cr().evidence.empty());
  EXPECT_EQ(AuditActions(), before);
  Result<std::vector<Evidence>> refused = service.RecordRunEvidence("RUN-1", "eve");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("cannot evidence CR-1: it is cancelled"));
}

TEST_F(RunEvidenceOnFinishTest, ARunThatIsNotADeploymentLeavesNothingThroughTheHook) {
  Plan restore = TwoHostPlan();
  restore.phases.erase(restore.phases.begin() + 1);  // no rollout phase
  run_.plan_json = PlanToJson(restore);
  StoreAll(CrState::kInProgress);
  DeployService service(config_, *store_, clock_, zone_, dir_);
  ASSERT_TRUE(EndTheRun(service).ok());
  EXPECT_TRUE(Cr().evidence.empty());
  run_.change_request.clear();  // a developer run: no CR at all
  ASSERT_TRUE(EndTheRun(service).ok());
}

}  // namespace
}  // namespace rollgate
