#include "service/backup_verify.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/strings.h"
#include "store/store.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"
#include "testing/test_store.h"
#include "transport/simulated_transport.h"

namespace rollgate {
namespace {

using rollgate::testing::FakeClock;
using rollgate::testing::MondayMorning;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDumpSha(64, 'd');
const std::string kAppSha1(64, '1');
const std::string kAppSha2(64, '2');
const std::string kConfigSha1(64, '3');
const std::string kConfigSha2(64, '4');
constexpr const char* kDump = "/var/backups/rollgate/billing/database-RUN-1-abcd1234.dump";
constexpr const char* kApp = "/var/backups/rollgate/billing/app-RUN-1-abcd1234.tar.gz";
constexpr const char* kConfig = "/var/backups/rollgate/billing/config-RUN-1-abcd1234.tar.gz";

std::string Facts(const std::vector<std::pair<std::string, std::string>>& facts) {
  std::string out;
  for (const auto& [key, value] : facts) out += fmt::format("rollgate-fact {} {}\n", key, value);
  return out;
}

StepSpec Step(std::string name, std::map<std::string, std::string> params = {}) {
  StepSpec step;
  step.name = std::move(name);
  step.type = "command";
  step.argv = {"true"};
  step.params = std::move(params);
  return step;
}

// A PROD deployment of billing as the procedure builds it (the steps BackupsOfDeployment reads).
Plan DeploymentPlan() {
  Plan plan;
  plan.name = "CR-1 billing PROD";
  plan.hosts = {"prod-billing-1", "prod-billing-2"};
  plan.instance = "abcd1234";
  Phase backup{"database-backup", std::nullopt, {}};
  backup.one_host = true;
  backup.steps = {Step("backup-database"),
                  Step("integrity-before", {{"tables", "invoices\ncustomers"},
                                            {"state_dir", "/var/tmp/rollgate/state"},
                                            {"label", "deploy"},
                                            {"action", "record"}})};
  Phase rollout{"rollout", HostCount{1, false}, {}};
  rollout.steps = {Step("stop"), Step("backup-app"), Step("backup-config"), Step("install")};
  plan.phases = {backup, rollout};
  return plan;
}

StepExecution Exec(const std::string& run, int phase, int step, const std::string& host,
                   StepState state, std::string tail, int attempt = 1) {
  StepExecution e;
  e.run_id = run;
  e.phase = phase;
  e.step = step;
  e.host = host;
  e.state = state;
  e.attempt = attempt;
  e.output_tail = std::move(tail);
  e.step_name = StepDisplayName(DeploymentPlan(), phase, step);
  e.status_file = fmt::format("/var/tmp/{}-{}-{}-{}-{}.status", run, phase, step, host, attempt);
  return e;
}

std::vector<StepExecution> DeploymentSteps() {
  const std::string run = "RUN-1";
  std::vector<StepExecution> steps = {
      Exec(run, 0, 0, "prod-billing-1", StepState::kSucceeded,
           Facts({{"location", kDump}, {"sha256", kDumpSha}, {"size_bytes", "4096"}})),
      Exec(run, 0, 1, "prod-billing-1", StepState::kSucceeded,
           Facts({{"count.invoices", "12"}, {"count.customers", "3"}}))};
  for (const auto& [host, app, config] : {std::tuple{"prod-billing-1", kAppSha1, kConfigSha1},
                                          std::tuple{"prod-billing-2", kAppSha2, kConfigSha2}}) {
    steps.push_back(Exec(run, 1, 0, host, StepState::kSucceeded, ""));
    steps.push_back(
        Exec(run, 1, 1, host, StepState::kSucceeded, Facts({{"location", kApp}, {"sha256", app}})));
    steps.push_back(Exec(run, 1, 2, host, StepState::kSucceeded,
                         Facts({{"location", kConfig}, {"sha256", config}})));
    steps.push_back(Exec(run, 1, 3, host, StepState::kSucceeded, ""));
  }
  return steps;
}

std::string DatabaseVerified(const std::string& counts_state = "ok",
                             const std::string& restored_customers = "3") {
  std::vector<std::pair<std::string, std::string>> facts = {
      {"dump", kDump},
      {"sha256", kDumpSha},
      {"expected_sha256", kDumpSha},
      {"checksum", "ok"},
      {"listed", "ok"},
      {"tables", "4"},
      {"restore", "yes"},
      {"restored", "yes"},
      {"restore_seconds", "2.000"},
      {"scratch_database", "rollgate_verify_run_2_x_0a1b2c3d"},
      {"scratch_removed", "yes"},
      {"counts", counts_state},
      {"count.customers", restored_customers},
      {"recorded.customers", "3"},
      {"count.invoices", "12"},
      {"recorded.invoices", "12"}};
  if (counts_state == "differ") {
    facts.push_back({"problem",
                     "record counts differ from those recorded at backup time: "
                     "customers (2 restored, 3 recorded)"});
  }
  return Facts(facts);
}

std::string FilesVerified(const std::string& archive, const std::string& sha,
                          const std::string& seconds) {
  return Facts({{"archive", archive},
                {"checked", "yes"},
                {"sha256", sha},
                {"expected_sha256", sha},
                {"checksum", "ok"},
                {"listed", "ok"},
                {"files", "7"},
                {"restore", "yes"},
                {"restored", "yes"},
                {"restore_seconds", seconds},
                {"restored_files", "7"},
                {"compared", "not-compared"},
                {"scratch_dir", "/var/backups/rollgate/billing/.rollgate-verify-RUN-2.x"},
                {"scratch_removed", "yes"}});
}

class NoSleep final : public Sleeper {
 public:
  void SleepFor(Seconds) override {}
};

class BackupVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-backup-verify");
    // The database password, by reference (the sample system's secret).
    setenv("BILLING_DB_PASSWORD", "s3cret", 1);
    auto opened = OpenStore("sqlite:" + (dir_ / "state.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    store_ = std::move(*opened);
    for (Environment& env : config_.environments) {
      env.backup_verification =
          env.name == "PROD" ? BackupVerification::kOptional : BackupVerification::kOff;
    }
    ChangeRequest cr =
        rollgate::testing::SampleChangeRequest(config_, rollgate::testing::SamplePatch());
    cr.id = "CR-1";
    cr.number = 1;
    cr.state = CrState::kCompleted;
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutChangeRequest(cr); }).ok());
  }
  void TearDown() override {
    unsetenv("BILLING_DB_PASSWORD");
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StoreDeployment(const std::vector<StepExecution>& steps, const std::string& id = "RUN-1") {
    rollgate::Run run;
    run.id = id;
    run.change_request = "CR-1";
    run.environment = "PROD";
    run.system = "billing";
    run.state = RunState::kSucceeded;
    run.transport = "simulated";
    run.plan_json = PlanToJson(DeploymentPlan());
    run.created_at = clock_.Now();
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> Status {
                      // As the executor numbers runs: the verification is the next one.
                      RETURN_IF_ERROR(tx.NextNumber("RUN").status());
                      RETURN_IF_ERROR(tx.PutRun(run));
                      for (const StepExecution& e : steps) RETURN_IF_ERROR(tx.PutStepExecution(e));
                      return Status::Ok();
                    })
                    .ok());
  }

  // The verification steps' outputs, per host in the order the steps run there.
  void ScriptVerification(const std::string& database_output, int database_exit = 0) {
    transport_.Script({"prod-billing-1",
                       "--no-privileges",
                       0,
                       1,
                       std::nullopt,
                       {database_exit, false, false, database_output}});
    transport_.Script({"prod-billing-1",
                       "--no-same-owner",
                       0,
                       1,
                       std::nullopt,
                       {0, false, false, FilesVerified(kApp, kAppSha1, "0.500")}});
    transport_.Script({"prod-billing-1",
                       "--no-same-owner",
                       0,
                       1,
                       std::nullopt,
                       {0, false, false, FilesVerified(kConfig, kConfigSha1, "0.250")}});
    transport_.Script({"prod-billing-2",
                       "--no-same-owner",
                       0,
                       1,
                       std::nullopt,
                       {0, false, false, FilesVerified(kApp, kAppSha2, "1.000")}});
    transport_.Script({"prod-billing-2",
                       "--no-same-owner",
                       0,
                       1,
                       std::nullopt,
                       {0, false, false, FilesVerified(kConfig, kConfigSha2, "0.500")}});
  }

  Result<BackupVerificationReport> Verify(bool restore, Evidence* evidence = nullptr) {
    BackupVerifier verifier(config_, *store_, clock_, zone_);
    ASSIGN_OR_RETURN(BackupVerifier::Preparation prep, verifier.Prepare("CR-1", "PROD", restore));
    prep_ = prep;
    BackupVerifier::VerifyExecution execution;
    execution.transport = &transport_;
    execution.types = &types_;
    execution.sleeper = &sleeper_;
    execution.executor.actor = "opal";
    execution.executor.owner_pid = 4242;
    execution.executor.owner_host = "orchestrator";
    execution.executor.owner_token = "test";
    execution.executor.pid_alive = [](int64_t) { return true; };
    execution.created = [this](const std::string& id) { created_ = id; };
    return verifier.Execute(prep, execution, evidence);
  }

  std::vector<Evidence> EvidenceOf(const std::string& kind) {
    ChangeRequest cr = rollgate::testing::StoredChangeRequest(*store_, "CR-1");
    std::vector<Evidence> out;
    for (const Evidence& e : cr.evidence) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }

  Config config_ = rollgate::testing::SampleConfig();
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  FakeClock clock_{MondayMorning()};
  FixedOffsetZone zone_{Seconds(0)};
  SimulatedTransport transport_;
  StepTypeTable types_ = DefaultStepTypes();
  NoSleep sleeper_;
  BackupVerifier::Preparation prep_;
  std::string created_;
};

TEST(BackupsOfDeploymentTest, TheLatestSucceededBackupsWithTheDatabasesHostFirst) {
  std::vector<StepExecution> steps = DeploymentSteps();
  // The dump was taken on the second host; the first host's config backup failed, then a retry
  // succeeded; the second host's app backup failed for good.
  steps[0].host = "prod-billing-2";
  steps[4].state = StepState::kFailed;
  steps.push_back(Exec("RUN-1", 1, 2, "prod-billing-1", StepState::kSucceeded,
                       Facts({{"location", kConfig}, {"sha256", std::string(64, 'f')}}), 2));
  steps[7].state = StepState::kFailed;
  rollgate::Run run;
  run.id = "RUN-1";
  BackupSet backups = BackupsOfDeployment(DeploymentPlan(), run, steps);
  EXPECT_EQ(backups.deployment_run, "RUN-1");
  EXPECT_EQ(backups.run_key, "RUN-1-abcd1234");
  EXPECT_EQ(backups.database_host, "prod-billing-2");
  EXPECT_EQ(backups.database_dump, kDump);
  EXPECT_EQ(backups.database_sha256, kDumpSha);
  EXPECT_THAT(backups.counts_tables, ElementsAre("invoices", "customers"));
  EXPECT_EQ(backups.counts_state_dir, "/var/tmp/rollgate/state");
  EXPECT_EQ(backups.counts_label, "deploy");
  ASSERT_EQ(backups.archives.size(), 3U);
  EXPECT_EQ(backups.archives[0].label, "app");
  EXPECT_EQ(backups.archives[0].host, "prod-billing-1");
  EXPECT_EQ(backups.archives[1].label, "config");
  EXPECT_EQ(backups.archives[1].host, "prod-billing-1");
  EXPECT_EQ(backups.archives[1].sha256, std::string(64, 'f'));
  EXPECT_EQ(backups.archives[2].host, "prod-billing-2");
  EXPECT_EQ(backups.archives[2].label, "config");
  EXPECT_THAT(backups.hosts, ElementsAre("prod-billing-2", "prod-billing-1"));
}

TEST_F(BackupVerifyTest, ThePlanChecksEachBackupWhereItIsAgainstWhatWasRecorded) {
  StoreDeployment(DeploymentSteps());
  BackupVerifier verifier(config_, *store_, clock_, zone_);
  Result<BackupVerifier::Preparation> prep = verifier.Prepare("CR-1", "PROD", true);
  ASSERT_TRUE(prep.ok()) << prep.error().ToString();
  EXPECT_EQ(prep->transport, "simulated");
  const Plan& plan = prep->plan;
  EXPECT_THAT(plan.hosts, ElementsAre("prod-billing-1", "prod-billing-2"));
  EXPECT_EQ(plan.failure_limit.ToString(), "100%");
  ASSERT_EQ(plan.phases.size(), 2U);
  EXPECT_EQ(plan.phases[0].name, "verify-database");
  EXPECT_TRUE(plan.phases[0].one_host);
  const StepSpec& database = plan.phases[0].steps.at(0);
  EXPECT_EQ(database.type, "verify-backup-postgres");
  EXPECT_EQ(database.params.at("dump"), kDump);
  EXPECT_EQ(database.params.at("sha256"), kDumpSha);
  EXPECT_EQ(database.params.at("restore"), "yes");
  // A failed check does not keep the run from checking the other backups.
  EXPECT_EQ(database.params.at("on_failure"), "report");
  EXPECT_EQ(database.params.at("tables"), "invoices\ncustomers");
  EXPECT_EQ(database.params.at("state_dir"), "/var/tmp/rollgate/state");
  EXPECT_EQ(database.params.at("counts_label"), "deploy");
  // The counts the deployment's steps recorded under its run key.
  EXPECT_EQ(database.params.at("recorded_run"), "RUN-1-abcd1234");
  EXPECT_EQ(database.params.at("database_url"), "postgresql://billing@localhost/billing");
  EXPECT_EQ(database.secrets.at("PGPASSWORD"), "env:BILLING_DB_PASSWORD");
  EXPECT_EQ(plan.phases[1].name, "verify-files");
  ASSERT_EQ(plan.phases[1].steps.size(), 2U);
  EXPECT_EQ(plan.phases[1].steps[0].name, "verify-app");
  EXPECT_EQ(plan.phases[1].steps[0].params.at("archive"), kApp);
  EXPECT_EQ(plan.phases[1].steps[0].params.at("expected"),
            "prod-billing-1 " + kAppSha1 + "\nprod-billing-2 " + kAppSha2);
  EXPECT_EQ(plan.phases[1].steps[1].name, "verify-config");
  EXPECT_TRUE(ValidatePlan(plan, types_).ok()) << ValidatePlan(plan, types_).ToString();
  // The cheap check restores nothing and so counts nothing.
  Result<BackupVerifier::Preparation> cheap = verifier.Prepare("CR-1", "PROD", false);
  ASSERT_TRUE(cheap.ok());
  EXPECT_EQ(cheap->plan.phases[0].steps[0].params.at("restore"), "no");
  EXPECT_FALSE(cheap->plan.phases[0].steps[0].params.contains("tables"));
  EXPECT_EQ(cheap->plan.phases[1].steps[0].params.at("restore"), "no");
  EXPECT_TRUE(ValidatePlan(cheap->plan, types_).ok());
}

TEST_F(BackupVerifyTest, ARestoreThatPassesRecordsTheRtoOnTheChangeRequest) {
  StoreDeployment(DeploymentSteps());
  ScriptVerification(DatabaseVerified());
  Evidence evidence;
  Result<BackupVerificationReport> report = Verify(true, &evidence);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->run, created_);
  EXPECT_EQ(report->run_state, RunState::kSucceeded);
  EXPECT_EQ(report->deployment_run, "RUN-1");
  EXPECT_TRUE(report->verified);
  EXPECT_TRUE(report->restore);
  // The database, then the slowest host's archives one after another: 2 + (1 + 0.5).
  ASSERT_TRUE(report->rto_seconds.has_value());
  EXPECT_DOUBLE_EQ(*report->rto_seconds, 3.5);
  EXPECT_DOUBLE_EQ(*report->database_restore_seconds, 2.0);
  EXPECT_DOUBLE_EQ(*report->files_restore_seconds, 1.5);
  EXPECT_EQ(report->database, kDump);
  EXPECT_THAT(report->files, ElementsAre(kApp, kConfig));
  ASSERT_EQ(report->counts.size(), 2U);
  EXPECT_EQ(report->counts[0].table, "customers");
  EXPECT_EQ(report->counts[0].restored, 3);
  EXPECT_EQ(report->counts[0].recorded, 3);
  std::vector<std::string> names;
  for (const BackupCheck& check : report->checks) {
    EXPECT_TRUE(check.passed) << check.name << " " << check.detail;
    names.push_back(check.name + "@" + check.host);
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf(
                         {"database-checksum@prod-billing-1", "database-restore@prod-billing-1",
                          "record-counts@prod-billing-1", "scratch-database@prod-billing-1",
                          "files-checksum@prod-billing-2", "files-restore@prod-billing-2",
                          "scratch-directory@prod-billing-1"}));
  std::vector<Evidence> recorded = EvidenceOf(kEvidenceBackupVerified);
  ASSERT_EQ(recorded.size(), 1U);
  const Evidence& e = recorded[0];
  EXPECT_EQ(e.environment, "PROD");
  EXPECT_EQ(e.run_id, created_);
  EXPECT_EQ(e.passed, true);
  EXPECT_EQ(e.value, 3.5);
  EXPECT_EQ(e.recorded_by, "opal");
  EXPECT_EQ(e.fields.at("mode"), "restore");
  EXPECT_EQ(e.fields.at("run"), created_);
  EXPECT_EQ(e.fields.at("deployment_run"), "RUN-1");
  EXPECT_EQ(e.fields.at("database"), kDump);
  EXPECT_EQ(e.fields.at("counts"), "customers=3/3, invoices=12/12");
  EXPECT_THAT(e.fields.at("checksums"),
              HasSubstr("app-RUN-1-abcd1234.tar.gz ok on prod-billing-2"));
  EXPECT_EQ(e.fields.at("rto_seconds"), "3.500");
  EXPECT_EQ(e.fields.at("scratch_removed"), "yes");
  EXPECT_THAT(e.detail, HasSubstr("restore test passed in 3.500 s (RTO)"));
  EXPECT_EQ(evidence.detail, e.detail);
  // Recorded with its audit event.
  auto events = store_->AuditEventsFor("CR-1");
  ASSERT_TRUE(events.ok());
  EXPECT_FALSE(events->empty());
}

TEST_F(BackupVerifyTest, CountsThatDifferFailTheVerificationAndSayWhich) {
  StoreDeployment(DeploymentSteps());
  // on_failure=report: the step exits 0 and its facts say what failed.
  ScriptVerification(DatabaseVerified("differ", "2"));
  Result<BackupVerificationReport> report = Verify(true);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->verified);
  EXPECT_EQ(report->run_state, RunState::kSucceeded);
  // The restores themselves worked: the RTO is measured.
  EXPECT_EQ(report->rto_seconds, 3.5);
  const BackupCheck* counts = nullptr;
  for (const BackupCheck& check : report->checks) {
    if (check.name == "record-counts") counts = &check;
  }
  ASSERT_NE(counts, nullptr);
  EXPECT_FALSE(counts->passed);
  EXPECT_THAT(counts->detail, HasSubstr("customers (2 restored, 3 recorded)"));
  std::vector<Evidence> recorded = EvidenceOf(kEvidenceBackupVerified);
  ASSERT_EQ(recorded.size(), 1U);
  EXPECT_EQ(recorded[0].passed, false);
  EXPECT_THAT(recorded[0].detail,
              HasSubstr("FAILED: record-counts on prod-billing-1: record counts differ"));
  EXPECT_EQ(recorded[0].fields.at("failed_checks"), "record-counts");
  // The database's host went on to check its archives.
  int files_checked_there = 0;
  for (const BackupCheck& check : report->checks) {
    if (check.name == "files-restore" && check.host == "prod-billing-1") {
      EXPECT_TRUE(check.passed) << check.detail;
      ++files_checked_there;
    }
  }
  EXPECT_EQ(files_checked_there, 2);
}

TEST_F(BackupVerifyTest, TheCheapCheckRecordsItsVerdictWithoutAnRto) {
  StoreDeployment(DeploymentSteps());
  std::string database = Facts({{"dump", kDump},
                                {"sha256", kDumpSha},
                                {"expected_sha256", kDumpSha},
                                {"checksum", "ok"},
                                {"listed", "ok"},
                                {"tables", "4"},
                                {"restore", "no"},
                                {"restored", "no"},
                                {"scratch_database", ""},
                                {"scratch_removed", "not-made"},
                                {"counts", "not-checked"}});
  transport_.Script(
      {"prod-billing-1", "pg_restore --list", 0, 1, std::nullopt, {0, false, false, database}});
  transport_.Script({"",
                     "tar -tzf",
                     0,
                     -1,
                     std::nullopt,
                     {0, false, false,
                      Facts({{"archive", kApp},
                             {"checked", "yes"},
                             {"sha256", kAppSha1},
                             {"checksum", "ok"},
                             {"listed", "ok"},
                             {"files", "7"},
                             {"restore", "no"},
                             {"restored", "no"},
                             {"compared", "not-compared"},
                             {"scratch_removed", "not-made"}})}});
  Result<BackupVerificationReport> report = Verify(false);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->verified);
  EXPECT_FALSE(report->restore);
  EXPECT_FALSE(report->rto_seconds.has_value());
  std::vector<Evidence> recorded = EvidenceOf(kEvidenceBackupVerified);
  ASSERT_EQ(recorded.size(), 1U);
  EXPECT_EQ(recorded[0].passed, true);
  EXPECT_FALSE(recorded[0].value.has_value());
  EXPECT_EQ(recorded[0].fields.at("mode"), "list");
  EXPECT_THAT(recorded[0].detail, HasSubstr("not restored"));
}

TEST_F(BackupVerifyTest, RefusedWhenOffAndNotFoundWithoutABackupToVerify) {
  BackupVerifier verifier(config_, *store_, clock_, zone_);
  // Nothing deployed yet.
  Result<BackupVerifier::Preparation> never = verifier.Prepare("CR-1", "PROD", true);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(never.error().message(), HasSubstr("CR-1 was never deployed to PROD"));
  Result<BackupVerifier::Preparation> unknown = verifier.Prepare("CR-9", "PROD", true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  Result<BackupVerifier::Preparation> env = verifier.Prepare("CR-1", "PRDO", true);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(env.error().message(), HasSubstr("did you mean 'PROD'"));
  // DEV is off: refused, naming the setting.
  Result<BackupVerifier::Preparation> off = verifier.Prepare("CR-1", "DEV", true);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(off.error().message(), HasSubstr("backup_verification: off"));
  // A deployment whose backups all failed left nothing to verify.
  std::vector<StepExecution> steps = DeploymentSteps();
  for (StepExecution& e : steps) e.state = StepState::kFailed;
  StoreDeployment(steps);
  Result<BackupVerifier::Preparation> none = verifier.Prepare("CR-1", "PROD", true);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.error().message(), HasSubstr("deployment RUN-1 to PROD took no backup"));
  EXPECT_TRUE(EvidenceOf(kEvidenceBackupVerified).empty());
}

TEST_F(BackupVerifyTest, ABackupThatCouldNotBeCheckedAtAllIsAFailureSayingWhy) {
  StoreDeployment(DeploymentSteps());
  unsetenv("BILLING_DB_PASSWORD");
  ScriptVerification(DatabaseVerified());
  Result<BackupVerificationReport> report = Verify(true);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_FALSE(report->verified);
  ASSERT_FALSE(report->checks.empty());
  EXPECT_EQ(report->checks[0].name, "database-backup");
  EXPECT_FALSE(report->checks[0].passed);
  EXPECT_THAT(report->checks[0].detail, HasSubstr("env:BILLING_DB_PASSWORD"));
  EXPECT_FALSE(report->rto_seconds.has_value());
  // Nothing ran there, so that host ran nothing more: its archives were not checked, and the
  // report says so rather than leave them out.
  int not_checked = 0;
  for (const BackupCheck& check : report->checks) {
    if (check.name == "files-backup" && check.host == "prod-billing-1") {
      EXPECT_FALSE(check.passed);
      EXPECT_THAT(check.detail, HasSubstr("not checked"));
      ++not_checked;
    }
  }
  EXPECT_EQ(not_checked, 2);
}

TEST(ReportFromRunTest, ADeploymentsOwnVerificationStepsAreReadTheSameWay) {
  // backup_verification: required: the deployment's verify-database-backup step on one host.
  Plan plan;
  plan.hosts = {"h1"};
  StepSpec verify;
  verify.name = "verify-database-backup";
  verify.type = "verify-backup-postgres";
  verify.params = {{"backup_dir", "/b"}};
  plan.phases = {{"database-backup", std::nullopt, {Step("backup-database"), verify}, true}};
  rollgate::Run run;
  run.id = "RUN-7";
  run.state = RunState::kFailed;
  StepExecution failed;
  failed.phase = 0;
  failed.step = 1;
  failed.host = "h1";
  failed.state = StepState::kFailed;
  failed.exit_code = 1;
  failed.output_tail =
      "error: pg_restore failed: pg_restore: error: could not execute query: ERROR:  permission "
      "denied to create extension\n" +
      Facts({{"dump", "/b/database-RUN-7.dump"},
             {"sha256", kDumpSha},
             {"checksum", "not-recorded"},
             {"listed", "ok"},
             {"tables", "2"},
             {"restore", "yes"},
             {"restored", "failed"},
             {"restore_seconds", "0.300"},
             {"scratch_database", "rollgate_verify_run_7_0a0b0c0d"},
             {"scratch_removed", "yes"},
             {"counts", "not-checked"},
             {"problem",
              "pg_restore failed: pg_restore: error: could not execute query: ERROR:  "
              "permission denied to create extension"}});
  BackupVerificationReport report = ReportFromRun(plan, run, {failed});
  EXPECT_FALSE(report.verified);
  EXPECT_FALSE(report.rto_seconds.has_value()) << "a failed restore measures no RTO";
  EXPECT_TRUE(report.scratch_removed);
  const BackupCheck* restore = nullptr;
  for (const BackupCheck& check : report.checks) {
    if (check.name == "database-restore") restore = &check;
  }
  ASSERT_NE(restore, nullptr);
  EXPECT_FALSE(restore->passed);
  EXPECT_THAT(restore->detail, HasSubstr("permission denied to create extension"));
  Evidence e = BackupVerifiedEvidence(report, MondayMorning());
  EXPECT_EQ(e.passed, false);
  EXPECT_FALSE(e.value.has_value());
  EXPECT_THAT(e.detail, HasSubstr("FAILED: database-restore on h1: pg_restore failed"));
}

}  // namespace
}  // namespace rollgate
