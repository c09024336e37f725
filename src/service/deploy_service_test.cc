#include "service/deploy_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rollgate
