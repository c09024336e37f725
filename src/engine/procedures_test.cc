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

TEST_F(ProceduresTest, RequiredBackupVerificationRestoresTheBackupsBeforeAnythingChanges) {
  // Optional (PROD's default): the procedure takes its backups and goes on.
  config_.environments[2].backup_verification = BackupVerification::kOptional;
  Result<Plan> optional = Build("PROD");
  ASSERT_TRUE(optional.ok());
  for (const Phase& phase : optional->phases) {
    for (const StepSpec& step : phase.steps) {
      EXPECT_EQ(step.type.rfind("verify-backup", 0), std::string::npos) << step.name;
    }
  }
  config_.environments[2].backup_verification = BackupVerification::kRequired;
  Result<Plan> plan = Build("PROD");
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  // The dump right after it was taken and its counts recorded, still in the one-host phase.
  ASSERT_EQ(plan->phases[2].name, "database-backup");
  EXPECT_THAT(
      StepNames(plan->phases[2]),
      ::testing::ElementsAre("backup-database", "integrity-before", "verify-database-backup"));
  const StepSpec& database = plan->phases[2].steps[2];
  EXPECT_EQ(database.type, "verify-backup-postgres");
  EXPECT_EQ(database.params.at("backup_dir"), "/var/backups/rollgate/billing");
  EXPECT_EQ(database.params.at("backup_label"), "database");
  EXPECT_EQ(database.params.at("tables"), "invoices\npayments");
  EXPECT_EQ(database.params.at("counts_label"), "deploy");
  EXPECT_EQ(database.params.at("state_dir"), plan->phases[2].steps[1].params.at("state_dir"));
  EXPECT_EQ(database.params.at("database_url"), system_.database_url);
  EXPECT_EQ(database.secrets.at("PGPASSWORD"), "env:BILLING_DB_PASSWORD");
  // Each node's archives after they were taken, before the install changes the node.
  EXPECT_THAT(StepNames(plan->phases[3]),
              ::testing::ElementsAre("stop", "backup-app", "backup-config", "verify-app-backup",
                                     "verify-config-backup", "install", "configure", "migrate",
                                     "start", "node-health", "smoke"));
  const StepSpec& app = plan->phases[3].steps[3];
  EXPECT_EQ(app.type, "verify-backup-files");
  EXPECT_EQ(app.params.at("label"), "app");
  EXPECT_EQ(app.params.at("compare_dir"), system_.app_dir);
  EXPECT_EQ(plan->phases[3].steps[4].params.at("compare_dir"), system_.config_dir);
  StepTypeTable types = DefaultStepTypes();
  for (const StepSpec* step :
       std::vector<const StepSpec*>{&database, &app, &plan->phases[3].steps[4]}) {
    const StepType* type = types.Find(step->type);
    ASSERT_NE(type, nullptr) << step->type;
    EXPECT_TRUE(type->Validate(*step).ok()) << type->Validate(*step).ToString();
  }
  // Without critical tables there is nothing to count; the restore is still checked.
  system_.critical_tables.clear();
  Result<Plan> uncounted = Build("PROD");
  ASSERT_TRUE(uncounted.ok());
  EXPECT_THAT(StepNames(uncounted->phases[2]),
              ::testing::ElementsAre("backup-database", "verify-database-backup"));
  EXPECT_FALSE(uncounted->phases[2].steps[1].params.contains("tables"));
  EXPECT_TRUE(types.Find("verify-backup-postgres")->Validate(uncounted->phases[2].steps[1]).ok());
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

TEST_F(ProceduresTest, AnObservationWindowEndsTheVerifyPhaseOnEveryHost) {
  Result<Plan> plain = Build("PROD");
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  ASSERT_EQ(plain->phases[4].name, "verify");
  EXPECT_THAT(StepNames(plain->phases[4]), ::testing::Not(::testing::Contains("observe")));

  DeploymentRequest request;
  request.change_request = "CR-1";
  request.system = &system_;
  request.environment = config_.FindEnvironment("PROD");
  request.package = package_;
  request.observe_window = std::chrono::minutes(10);
  Result<Plan> plan = BuildDeploymentPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const Phase& verify = plan->phases[4];
  ASSERT_EQ(verify.name, "verify");
  EXPECT_FALSE(verify.one_host);
  EXPECT_FALSE(verify.batch.has_value());  // every host at once
  EXPECT_THAT(StepNames(verify), ::testing::ElementsAre("health", "observe", "logs", "metrics"));
  const StepSpec& observe = verify.steps[1];
  EXPECT_EQ(observe.type, "observe");
  EXPECT_EQ(observe.params.at("health_url"), "http://{host}:8080/health");
  EXPECT_EQ(observe.params.at("probe_urls"),
            "http://{host}:8080/ready\nhttp://{host}:8080/metrics");
  EXPECT_EQ(observe.params.at("window_seconds"), "600");
  EXPECT_EQ(observe.params.at("interval_seconds"), "5");
  EXPECT_FALSE(observe.params.contains("metrics_url"));  // no counters named
  EXPECT_GT(observe.timeout, std::chrono::minutes(10));
  EXPECT_TRUE(observe.idempotent);
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();

  // The error share from the service's counters; an interval longer than the window is cut.
  system_.metrics.metrics_path = "/internal/metrics";
  system_.metrics.requests_metric = "billing_requests_total";
  system_.metrics.errors_metric = "billing_errors_total";
  request.observe_window = std::chrono::seconds(3);
  plan = BuildDeploymentPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const StepSpec& counted = plan->phases[4].steps[1];
  EXPECT_EQ(counted.params.at("metrics_url"), "http://{host}:8080/internal/metrics");
  EXPECT_EQ(counted.params.at("requests_metric"), "billing_requests_total");
  EXPECT_EQ(counted.params.at("errors_metric"), "billing_errors_total");
  EXPECT_EQ(counted.params.at("window_seconds"), "3");
  EXPECT_EQ(counted.params.at("interval_seconds"), "3");
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();
  Result<Plan> round_trip = PlanFromJson(PlanToJson(*plan));
  ASSERT_TRUE(round_trip.ok()) << round_trip.error().ToString();
  EXPECT_EQ(*round_trip, *plan);

  // The system's own changes still apply: it may leave the observation out.
  system_.skip_steps = {"observe"};
  plan = BuildDeploymentPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(StepNames(plan->phases[4]), ::testing::ElementsAre("health", "logs", "metrics"));
  system_.skip_steps.clear();

  request.observe_window = std::chrono::seconds(0);
  Result<Plan> zero = BuildDeploymentPlan(request);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.error().message(), ::testing::HasSubstr("from 1 s to 24 h (got 0 s)"));
  request.observe_window = std::chrono::hours(25);
  EXPECT_FALSE(BuildDeploymentPlan(request).ok());
  request.observe_window = std::chrono::minutes(10);
  system_.port = 0;
  Result<Plan> no_port = BuildDeploymentPlan(request);
  ASSERT_FALSE(no_port.ok());
  EXPECT_THAT(no_port.error().message(), ::testing::HasSubstr("needs its port and health"));
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

class RollbackPlanTest : public ProceduresTest {
 protected:
  RollbackRequest Request() {
    RollbackRequest request;
    request.change_request = "CR-1";
    request.system = &system_;
    request.environment = config_.FindEnvironment("PROD");
    request.source.deployment_run = "RUN-4";
    request.source.hosts = {"p1"};
    request.source.app_archive = "/var/backups/app-RUN-4.tar.gz";
    request.source.config_archive = "/var/backups/config-RUN-4.tar.gz";
    request.source.database_dump = "/var/backups/database-RUN-4.dump";
    return request;
  }
  // The request of a deployment that applied migrations, with everything its steps reported.
  RollbackRequest Migrated() {
    RollbackRequest request = Request();
    request.source.restore_database = true;
    request.source.database_sha256 = std::string(64, 'b');
    request.source.database_info = "/var/backups/database-RUN-4.info";
    request.source.schema_version = "0001_initial";
    request.source.counts_state_dir = "/var/tmp/rollgate/state";
    request.source.counts_label = "deploy";
    request.source.counts_tables = {"invoices", "payments"};
    return request;
  }
  static const StepSpec& Step(const Plan& plan, const std::string& phase, const std::string& step) {
    for (const Phase& p : plan.phases) {
      if (p.name != phase) continue;
      for (const StepSpec& s : p.steps) {
        if (s.name == step) return s;
      }
    }
    ADD_FAILURE() << "no step " << phase << "/" << step;
    static const StepSpec none;
    return none;
  }
};

TEST_F(RollbackPlanTest, RestoresOnlyTheChangedNodesAndTheDatabaseOnlyWhenMigrated) {
  RollbackRequest request = Request();
  Result<Plan> plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(plan->hosts, ::testing::ElementsAre("p1"));
  EXPECT_THAT(PhaseNames(*plan), ::testing::ElementsAre("stop", "restore"));
  request.source.restore_database = true;
  plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(PhaseNames(*plan),
              ::testing::ElementsAre("stop", "database-restore", "restore", "database-verify"));
  EXPECT_EQ(plan->phases[1].steps[0].params.at("dump"), "/var/backups/database-RUN-4.dump");
  EXPECT_EQ(plan->phases[1].steps[0].secrets.at("PGPASSWORD"), "env:BILLING_DB_PASSWORD");
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();
  request.source.app_archive.clear();
  EXPECT_FALSE(BuildRollbackPlan(request).ok());
}

TEST_F(RollbackPlanTest, TheRestoredNodesAreCheckedForHealthAndTheirCriticalEndpoints) {
  system_.port = 8080;
  system_.endpoints = {{"health", "/health"}};
  system_.metrics.probe_paths = {"/api/orders"};
  Result<Plan> plan = BuildRollbackPlan(Request());
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(StepNames(plan->phases.back()),
              ::testing::ElementsAre("restore-app", "restore-config", "start", "health", "smoke"));
  const StepSpec& smoke = Step(*plan, "restore", "smoke");
  EXPECT_EQ(smoke.type, "http-check");
  EXPECT_EQ(smoke.params.at("urls"), "http://{host}:8080/api/orders");
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();
  system_.metrics.probe_paths.clear();
  plan = BuildRollbackPlan(Request());
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(StepNames(plan->phases.back()),
              ::testing::ElementsAre("restore-app", "restore-config", "start", "health"));
}

TEST_F(RollbackPlanTest, AMigrationThatNeverCommittedNeedsNoRestoreAndNoVerification) {
  // The service sets restore_database only when "migrate" reports applied versions: a migration
  // whose transaction rolled back changed nothing.
  RollbackRequest request = Migrated();
  request.source.restore_database = false;
  Result<Plan> plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(PhaseNames(*plan), ::testing::ElementsAre("stop", "restore"));
  for (const Phase& phase : plan->phases) {
    for (const StepSpec& step : phase.steps) {
      EXPECT_NE(step.type, "restore-postgres");
      EXPECT_NE(step.type, "schema-version");
    }
  }
  request.database_only = true;
  Result<Plan> database = BuildRollbackPlan(request);
  ASSERT_FALSE(database.ok());
  EXPECT_THAT(database.error().message(), ::testing::HasSubstr("applied no migration"));
}

TEST_F(RollbackPlanTest, TheRestoreFollowsThePolicyOnWritesAndIsVerified) {
  RollbackRequest request = Migrated();
  Result<Plan> plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const StepSpec& restore = Step(*plan, "database-restore", "restore-database");
  EXPECT_EQ(restore.type, "restore-postgres");
  EXPECT_EQ(restore.params.at("on_writes"), "hold");
  EXPECT_EQ(restore.params.at("sha256"), std::string(64, 'b'));
  EXPECT_EQ(restore.params.at("database_url"), "postgresql://billing@db.example:5432/billing");

  ASSERT_EQ(plan->phases.back().name, "database-verify");
  EXPECT_TRUE(plan->phases.back().one_host);
  EXPECT_THAT(StepNames(plan->phases.back()),
              ::testing::ElementsAre("verify-schema", "verify-integrity"));
  const StepSpec& schema = Step(*plan, "database-verify", "verify-schema");
  EXPECT_EQ(schema.type, "schema-version");
  EXPECT_EQ(schema.params.at("expected"), "0001_initial");
  EXPECT_EQ(schema.params.at("restore_dump"), "/var/backups/database-RUN-4.dump");
  EXPECT_FALSE(schema.params.contains("backup_info"));
  EXPECT_EQ(schema.secrets.at("PGPASSWORD"), "env:BILLING_DB_PASSWORD");
  const StepSpec& counts = Step(*plan, "database-verify", "verify-integrity");
  EXPECT_EQ(counts.type, "data-integrity");
  EXPECT_EQ(counts.params.at("action"), "compare");
  EXPECT_EQ(counts.params.at("recorded_run"), "RUN-4");
  EXPECT_EQ(counts.params.at("label"), "deploy");
  EXPECT_EQ(counts.params.at("state_dir"), "/var/tmp/rollgate/state");
  EXPECT_EQ(counts.params.at("tables"), "invoices\npayments");
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();

  request.on_writes = "restore";
  plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Step(*plan, "database-restore", "restore-database").params.at("on_writes"), "restore");
  request.on_writes = "ask";
  Result<Plan> bad = BuildRollbackPlan(request);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), ::testing::HasSubstr("must be hold or restore (got 'ask')"));
}

TEST_F(RollbackPlanTest, WithoutTheBackupsFactsTheVerificationReadsTheInfoFile) {
  // A deployment whose backup reported no schema version and took no record counts.
  RollbackRequest request = Migrated();
  request.source.schema_version.reset();
  request.source.counts_tables.clear();
  Result<Plan> plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(StepNames(plan->phases.back()), ::testing::ElementsAre("verify-schema"));
  EXPECT_EQ(Step(*plan, "database-verify", "verify-schema").params.at("backup_info"),
            "/var/backups/database-RUN-4.info");
  request.source.database_info.clear();
  plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Step(*plan, "database-verify", "verify-schema").params.at("backup_info"),
            "/var/backups/database-RUN-4.info");
  // An empty version is a version: the table did not exist before the deployment.
  request.source.schema_version = "";
  plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Step(*plan, "database-verify", "verify-schema").params.at("expected"), "");
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();
}

TEST_F(RollbackPlanTest, ADatabaseOnlyPlanStopsRestoresStartsAndVerifies) {
  RollbackRequest request = Migrated();
  request.database_only = true;
  request.on_writes = "restore";
  request.source.app_archive.clear();  // not needed
  Result<Plan> plan = BuildRollbackPlan(request);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_THAT(PhaseNames(*plan),
              ::testing::ElementsAre("stop", "database-restore", "start", "database-verify"));
  EXPECT_THAT(StepNames(plan->phases[2]), ::testing::ElementsAre("start", "health"));
  EXPECT_EQ(Step(*plan, "database-restore", "restore-database").params.at("on_writes"), "restore");
  for (const Phase& phase : plan->phases) {
    for (const StepSpec& step : phase.steps) EXPECT_NE(step.type, "restore-files") << step.name;
  }
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok())
      << ValidatePlan(*plan, DefaultStepTypes()).ToString();
  request.source.database_dump.clear();
  Result<Plan> no_dump = BuildRollbackPlan(request);
  ASSERT_FALSE(no_dump.ok());
  EXPECT_THAT(no_dump.error().message(), ::testing::HasSubstr("took no database backup"));
}

TEST_F(RollbackPlanTest, TheDeploymentRecordsTheMigrationsWritesBesideTheBackup) {
  Result<Plan> plan = Build("PROD");
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const StepSpec& backup = Step(*plan, "database-backup", "backup-database");
  const StepSpec& migrate = Step(*plan, "rollout", "migrate");
  EXPECT_EQ(migrate.params.at("backup_dir"), backup.params.at("destination_dir"));
  EXPECT_EQ(migrate.params.at("backup_label"), backup.params.at("label"));
}

}  // namespace
}  // namespace rollgate
