#include "engine/procedures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/step_type.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

std::vector<std::string> StepNames(const Phase& phase) {
  std::vector<std::string> names;
  for (const StepSpec& step : phase.steps) names.push_back(step.name);
  return names;
}

class ProceduresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::SampleConfig();
    ASSERT_FALSE(config_.systems.empty());
    system_ = config_.systems.front();
    system_.hosts = {{"DEV", {"dev1"}}, {"TEST", {"test1"}}, {"PROD", {"p1", "p2", "p3"}}};
    system_.port = 8080;
    system_.database_url = "postgresql://billing@db.example:5432/billing";
    system_.database_password = "env:BILLING_DB_PASSWORD";
    system_.critical_tables = {"invoices", "payments"};
    system_.regression_results = "/opt/billing/tests/results.xml";
    package_ = LayoutFromPaths({"billing-2.0/", "billing-2.0/app/bin/billing",
                                "billing-2.0/config/billing.conf",
                                "billing-2.0/migrations/0002_x.sql", "billing-2.0/smoke-test.sh"});
    package_.local_path = "/store/packages/abc.pkg";
    package_.sha256 = std::string(64, 'a');
  }

  Result<Plan> Build(const std::string& env, bool regression = false, bool emergency = false) {
    DeploymentRequest request;
    request.change_request = "CR-1";
    request.system = &system_;
    request.environment = config_.FindEnvironment(env);
    request.package = package_;
    request.run_regression = regression;
    request.emergency = emergency;
    return BuildDeploymentPlan(request);
  }

  Config config_;
  System system_;
  PackageLayout package_;
};

TEST_F(ProceduresTest, LayoutIsReadFromTheArchivePaths) {
  EXPECT_EQ(package_.top, "billing-2.0");
  EXPECT_TRUE(package_.has_app);
  EXPECT_TRUE(package_.has_config);
  EXPECT_TRUE(package_.has_migrations);
  PackageLayout flat = LayoutFromPaths({"app/x", "migrations/1.sql"});
  EXPECT_EQ(flat.top, "");
  EXPECT_TRUE(flat.has_app);
  EXPECT_FALSE(flat.has_config);
}

TEST_F(ProceduresTest, ProdRollsOneNodeAtATimeInThePlaybooksOrder) {
  Result<Plan> plan = Build("PROD");
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(plan->hosts, ::testing::ElementsAre("p1", "p2", "p3"));
  EXPECT_EQ(plan->batch.ToString(), "100%");
  ASSERT_TRUE(plan->phases[3].batch.has_value());
  EXPECT_EQ(plan->phases[3].batch->ToString(), "1");
  EXPECT_EQ(plan->failure_limit.value, 0);
  std::vector<std::string> phases;
  for (const Phase& phase : plan->phases) phases.push_back(phase.name);
  EXPECT_THAT(phases, ::testing::ElementsAre("readiness", "transfer", "database-backup", "rollout",
                                             "verify", "database-verify"));
  EXPECT_TRUE(plan->phases[2].one_host);
  EXPECT_THAT(StepNames(plan->phases[3]),
              ::testing::ElementsAre("stop", "backup-app", "backup-config", "install", "configure",
                                     "migrate", "start", "node-health", "smoke"));
  const StepSpec& migrate = plan->phases[3].steps[5];
  EXPECT_EQ(migrate.params.at("database_url"), system_.database_url);
  // The password travels as a reference only.
  EXPECT_EQ(migrate.secrets.at("PGPASSWORD"), "env:BILLING_DB_PASSWORD");
  EXPECT_EQ(plan->phases[3].steps[3].params.at("subdir"), "billing-2.0/app");
  EXPECT_EQ(plan->phases[0].steps[1].params.at("min_free_percent"), "20");
  // Every step is one the table knows, with valid params.
  StepTypeTable types = DefaultStepTypes();
  for (const Phase& phase : plan->phases) {
    for (const StepSpec& step : phase.steps) {
      const StepType* type = types.Find(step.type);
      if (type == nullptr) continue;  // registered by the step-type groups
      EXPECT_TRUE(type->Validate(step).ok())
          << step.name << ": " << type->Validate(step).ToString();
    }
  }
  Result<Plan> round_trip = PlanFromJson(PlanToJson(*plan));
  ASSERT_TRUE(round_trip.ok()) << round_trip.error().ToString();
  EXPECT_EQ(*round_trip, *plan);
}

TEST_F(ProceduresTest, TestRunsTheRegressionSuiteAndDevDeploysAllAtOnce) {
  Result<Plan> test = Build("TEST", /*regression=*/true);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->phases.back().name, "regression");
  EXPECT_EQ(test->phases.back().steps[0].params.at("min_pass_rate"), "95");
  Result<Plan> dev = Build("DEV");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->phases[3].batch->ToString(), "100%");
  EXPECT_NE(dev->phases.back().name, "regression");
}

TEST_F(ProceduresTest, RefusesWhatCannotBeDeployed) {
  system_.hosts.clear();
  Result<Plan> no_hosts = Build("DEV");
  ASSERT_FALSE(no_hosts.ok());
  EXPECT_THAT(no_hosts.error().message(), ::testing::HasSubstr("has no hosts in DEV"));
  system_.hosts = {{"DEV", {"dev1"}}};
  package_.has_app = false;
  Result<Plan> no_app = Build("DEV");
  ASSERT_FALSE(no_app.ok());
  EXPECT_THAT(no_app.error().message(), ::testing::HasSubstr("no app/ directory"));
}

}  // namespace
}  // namespace rollgate

namespace rollgate {
namespace {

TEST_F(ProceduresTest, HooksAndTheSystemsOwnChangesShapeTheRollout) {
  system_.drain_command = "lb drain";
  system_.maintenance_on_command = "maint on";
  system_.maintenance_off_command = "maint off";
  system_.skip_steps = {"metrics-baseline", "metrics"};
  system_.extra_steps = {{"rollout", "smoke", "api", "http-check", {{"urls", "http://{host}/x"}}},
                         {"verify", "", "report", "command", {{"script", "echo done"}}}};
  Result<Plan> plan = Build("PROD");
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(StepNames(plan->phases[3]),
              ::testing::ElementsAre("drain", "maintenance-on", "stop", "backup-app",
                                     "backup-config", "install", "configure", "migrate", "start",
                                     "node-health", "smoke", "api", "maintenance-off"));
  EXPECT_EQ(plan->phases[4].steps.back().name, "report");
  EXPECT_EQ(plan->phases[4].steps.back().script, "echo done");
  for (const Phase& phase : plan->phases) {
    for (const StepSpec& step : phase.steps) EXPECT_NE(step.name, "metrics") << phase.name;
  }
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();

  system_.skip_steps = {"no-such-step"};
  Result<Plan> bad = Build("PROD");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), ::testing::HasSubstr("no step 'no-such-step'"));
  system_.skip_steps.clear();
  system_.extra_steps = {{"nowhere", "", "x", "hook", {{"command", "true"}}}};
  Result<Plan> no_phase = Build("PROD");
  ASSERT_FALSE(no_phase.ok());
  EXPECT_THAT(no_phase.error().message(), ::testing::HasSubstr("no phase 'nowhere'"));
}

TEST_F(ProceduresTest, RollbackRestoresOnlyTheChangedNodesAndTheDatabaseOnlyWhenMigrated) {
  RollbackRequest request;
  request.change_request = "CR-1";
  request.system = &system_;
  request.environment = config_.FindEnvironment("PROD");
  request.source.deployment_run = "RUN-4";
  request.source.hosts = {"p1"};
  request.source.app_archive = "/var/backups/app-RUN-4.tar.gz";
  request.source.config_archive = "/var/backups/config-RUN-4.tar.gz";
  request.source.database_dump = "/var/backups/database-RUN-4.dump";
  Result<Plan> plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(plan->hosts, ::testing::ElementsAre("p1"));
  std::vector<std::string> phases;
  for (const Phase& phase : plan->phases) phases.push_back(phase.name);
  EXPECT_THAT(phases, ::testing::ElementsAre("stop", "restore"));
  request.source.restore_database = true;
  plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->phases[1].name, "database-restore");
  EXPECT_EQ(plan->phases[1].steps[0].params.at("dump"), "/var/backups/database-RUN-4.dump");
  EXPECT_EQ(plan->phases[1].steps[0].secrets.at("PGPASSWORD"), "env:BILLING_DB_PASSWORD");
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();
  request.source.app_archive.clear();
  EXPECT_FALSE(BuildRollbackPlan(request).ok());
}

std::vector<std::string> PhaseNames(const Plan& plan) {
  std::vector<std::string> names;
  for (const Phase& phase : plan.phases) names.push_back(phase.name);
  return names;
}

TEST_F(ProceduresTest, EmergencyPathRunsTargetedTestsOnOneHostAndNeverTheRegression) {
  system_.targeted_test_command = "/opt/billing/tests/targeted.sh --suite pdf";
  Result<Plan> prod = Build("PROD", /*regression=*/false, /*emergency=*/true);
  ASSERT_TRUE(prod.ok()) << prod.error().ToString();
  EXPECT_THAT(PhaseNames(*prod),
              ::testing::ElementsAre("readiness", "transfer", "database-backup", "rollout",
                                     "verify", "database-verify", "targeted-tests"));
  const Phase& targeted = prod->phases.back();
  EXPECT_TRUE(targeted.one_host);
  ASSERT_EQ(targeted.steps.size(), 1u);
  const StepSpec& step = targeted.steps[0];
  EXPECT_EQ(step.name, "targeted-tests");
  EXPECT_EQ(step.type, "smoke-test");
  EXPECT_EQ(step.params.at("command"), "/opt/billing/tests/targeted.sh --suite pdf");
  EXPECT_EQ(step.params.at("base_url"), "http://{host}:8080");
  EXPECT_TRUE(step.env.contains("ROLLGATE_RELEASE_DIR"));
  StepTypeTable types = DefaultStepTypes();
  const StepType* type = types.Find("smoke-test");
  ASSERT_NE(type, nullptr);
  EXPECT_TRUE(type->Validate(step).ok()) << type->Validate(step).ToString();
  // The smoke test still runs on every node of the rollout.
  EXPECT_THAT(StepNames(prod->phases[3]), ::testing::Contains("smoke"));

  // Even where the standard path runs the regression suite (TEST), the emergency path does not.
  Result<Plan> test = Build("TEST", /*regression=*/true, /*emergency=*/true);
  ASSERT_TRUE(test.ok());
  EXPECT_THAT(PhaseNames(*test), ::testing::Not(::testing::Contains("regression")));
  EXPECT_EQ(test->phases.back().name, "targeted-tests");
}

TEST_F(ProceduresTest, NoTargetedTestsOnTheStandardPathOrWithoutACommand) {
  system_.targeted_test_command = "/opt/billing/tests/targeted.sh";
  Result<Plan> standard = Build("PROD");
  ASSERT_TRUE(standard.ok());
  EXPECT_THAT(PhaseNames(*standard), ::testing::Not(::testing::Contains("targeted-tests")));
  system_.targeted_test_command.clear();
  Result<Plan> unconfigured = Build("PROD", false, /*emergency=*/true);
  ASSERT_TRUE(unconfigured.ok());
  EXPECT_THAT(PhaseNames(*unconfigured), ::testing::Not(::testing::Contains("targeted-tests")));
}

}  // namespace
}  // namespace rollgate
