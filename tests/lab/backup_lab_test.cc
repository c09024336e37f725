// Backups known to restore (playbook §2.4 step 3) on the loopback lab (real sshd and PostgreSQL
// 15): the demo patch deployed to DEV, then `backup verify --restore` restores its dump into a
// scratch database and its archives into scratch directories, counts the critical tables against
// the counts recorded at backup time, records the restore time as RTO evidence, and leaves no
// scratch copy behind, also when the backup is corrupt or does not restore; with
// backup_verification: required the deployment itself verifies its backups before it changes
// anything.
//
// CMake's fixture runs `rollgate lab up 5` in a lab directory of its own (subnet 127.0.85); the
// tests share its hosts and run one at a time (RESOURCE_LOCK).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/lab/lab_cli_fixture.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class BackupLabTest : public LabCliTest {
 protected:
  void SetUp() override {
    LabCliTest::SetUp();
    if (HasFatalFailure()) return;
    SetVerification("optional");
    // The scratch database is created on the same server by the system's own role.
    Psql("postgres", "ALTER ROLE demo CREATEDB");
  }

  // DEV's backup_verification (the starter file writes it as "off").
  void SetVerification(const std::string& mode) {
    std::string config = h_.ReadFile("rollgate.yaml");
    const std::string dev = "  - name: DEV\n";
    auto env = config.find(dev);
    ASSERT_NE(env, std::string::npos);
    auto key = config.find("    backup_verification: ", env);
    ASSERT_NE(key, std::string::npos);
    config.replace(key, config.find('\n', key) - key, "    backup_verification: " + mode);
    h_.WriteConfig(config);
    CommandOutput valid = h_.Run({"validate"});
    ASSERT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  }

  // The demo patch deployed to DEV; returns the CR.
  std::string DeployedToDev(int expected_exit = 0) {
    std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
    ReadyForDev(cr);
    CommandOutput deploy = As("heidi", {"deploy", cr, "--env", "DEV"});
    EXPECT_EQ(deploy.exit_code, expected_exit) << deploy.out << deploy.err;
    return cr;
  }

  // Where the deployment left the backup of `step` (backup-database, backup-app ...) on host1.
  std::filesystem::path BackupOnHost1(const std::string& cr, const std::string& step) {
    for (const auto& e : Evidence(cr, "backup", "DEV")) {
      if (e["fields"]["step"] == step) {
        return kLab / "hosts" / "host1" / "root" /
               e["fields"]["location"].get<std::string>().substr(1);
      }
    }
    ADD_FAILURE() << "no " << step << " evidence: " << last_show_;
    return {};
  }

  static void Corrupt(const std::filesystem::path& file) {
    auto size = std::filesystem::file_size(file);
    std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
    stream.seekp(static_cast<std::streamoff>(size / 2));
    stream.write("rollgate-test-corruption", 24);
  }

  // Scratch copies a verification left behind: databases, and directories beside host1's
  // backups or in host1's temporary directory (TMPDIR of the lab's hosts; the machine's /tmp
  // is shared with the tests running beside this one).
  std::vector<std::string> ScratchLeftovers() {
    std::vector<std::string> left;
    std::string databases =
        Psql("postgres",
             "SELECT string_agg(datname, ' ') FROM pg_database WHERE datname LIKE "
             "'rollgate_verify_%'");
    if (!databases.empty()) left.push_back("databases: " + databases);
    for (const std::filesystem::path& dir :
         {kLab / "hosts" / "host1" / "root" / "var" / "backups" / "demo",
          kLab / "hosts" / "host1" / "root" / "tmp"}) {
      if (!std::filesystem::exists(dir)) continue;
      for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (name.rfind(".rollgate-verify-", 0) == 0 || name.rfind("rollgate-verify.", 0) == 0) {
          left.push_back(entry.path().string());
        }
      }
    }
    return left;
  }

  static const nlohmann::json* FindCheck(const nlohmann::json& report, const std::string& name) {
    for (const auto& check : report["checks"]) {
      if (check["check"] == name) return &check;
    }
    return nullptr;
  }
};

TEST_F(BackupLabTest, TheRestoreTestRecordsTheRtoAndTheCountsAndLeavesNoScratchCopy) {
  std::string cr = DeployedToDev();
  // The rows the deployment counted at backup time: the lab's two orders.
  CommandOutput out = JsonAs("heidi", {"backup", "verify", cr, "--env", "DEV", "--restore"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  nlohmann::json report = out.Json();
  EXPECT_EQ(report["change_request"], cr);
  EXPECT_EQ(report["environment"], "DEV");
  EXPECT_EQ(report["verified"], true) << report.dump(2);
  EXPECT_EQ(report["mode"], "restore");
  EXPECT_EQ(report["state"], "succeeded");
  ASSERT_TRUE(report["rto_seconds"].is_number()) << report.dump(2);
  double rto = report["rto_seconds"].get<double>();
  EXPECT_GT(rto, 0.0);
  EXPECT_LT(rto, 300.0);
  EXPECT_GT(report["database_restore_seconds"].get<double>(), 0.0);
  EXPECT_NEAR(rto,
              report["database_restore_seconds"].get<double>() +
                  report["files_restore_seconds"].get<double>(),
              0.0015);
  EXPECT_THAT(report["database"].get<std::string>(), HasSubstr("/var/backups/demo/database-"));
  EXPECT_EQ(report["files"].size(), 2U);
  ASSERT_EQ(report["counts"].size(), 1U);
  EXPECT_EQ(report["counts"][0]["table"], "orders");
  EXPECT_EQ(report["counts"][0]["restored"], 2);
  EXPECT_EQ(report["counts"][0]["recorded"], 2);
  EXPECT_EQ(report["counts"][0]["equal"], true);
  EXPECT_EQ(report["scratch_removed"], true);
  for (const char* name :
       {"database-checksum", "database-list", "database-restore", "record-counts",
        "scratch-database", "files-checksum", "files-restore", "scratch-directory"}) {
    const nlohmann::json* check = FindCheck(report, name);
    ASSERT_NE(check, nullptr) << name << "\n" << report.dump(2);
    EXPECT_EQ((*check)["passed"], true) << (*check).dump();
    EXPECT_EQ((*check)["host"], LabHost(1));
  }
  EXPECT_THAT((*FindCheck(report, "database-checksum"))["detail"].get<std::string>(),
              HasSubstr("as recorded at backup time"));
  EXPECT_THAT((*FindCheck(report, "database-restore"))["detail"].get<std::string>(),
              HasSubstr("restored into rollgate_verify_"));
  // The RTO evidence on the CR, with the run that measured it.
  auto verified = Evidence(cr, "backup-verified", "DEV");
  ASSERT_EQ(verified.size(), 1U) << last_show_;
  EXPECT_EQ(verified[0]["passed"], true);
  EXPECT_NEAR(verified[0]["value"].get<double>(), rto, 0.0005);
  EXPECT_EQ(verified[0]["fields"]["run"], report["run"]);
  EXPECT_EQ(verified[0]["fields"]["mode"], "restore");
  EXPECT_EQ(verified[0]["fields"]["counts"], "orders=2/2");
  EXPECT_THAT(verified[0]["fields"]["checksums"].get<std::string>(), HasSubstr("ok on"));
  EXPECT_THAT(verified[0]["detail"].get<std::string>(), HasSubstr("restore test passed in"));
  // Nothing left: no scratch database, no scratch directory.
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
  // The verification is a run like any other.
  CommandOutput run = h_.RunJson({"run", "show", report["run"].get<std::string>()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.Json()["state"], "succeeded");

  // The cheap check says what it did and did not do.
  CommandOutput cheap = As("heidi", {"backup", "verify", cr, "--env", "DEV"});
  EXPECT_EQ(cheap.exit_code, 0) << cheap.out << cheap.err;
  EXPECT_THAT(cheap.out, HasSubstr("Cheap check only"));
  EXPECT_THAT(cheap.out, HasSubstr("VERIFIED"));
  verified = Evidence(cr, "backup-verified", "DEV");
  ASSERT_EQ(verified.size(), 2U);
  EXPECT_EQ(verified[1]["fields"]["mode"], "list");
  EXPECT_TRUE(verified[1]["value"].is_null());
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
}

TEST_F(BackupLabTest, ACorruptDumpAndArchiveFailNamingBothAndNothingIsLeftBehind) {
  std::string cr = DeployedToDev();
  Corrupt(BackupOnHost1(cr, "backup-database"));
  Corrupt(BackupOnHost1(cr, "backup-app"));
  CommandOutput out = JsonAs("heidi", {"backup", "verify", cr, "--env", "DEV", "--restore"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  nlohmann::json report = out.Json();
  EXPECT_EQ(report["verified"], false);
  EXPECT_TRUE(report["rto_seconds"].is_null());
  const nlohmann::json* dump = FindCheck(report, "database-checksum");
  ASSERT_NE(dump, nullptr) << report.dump(2);
  EXPECT_EQ((*dump)["passed"], false);
  EXPECT_THAT((*dump)["detail"].get<std::string>(),
              HasSubstr("recorded at backup time: not the backup that was taken"));
  const nlohmann::json* restore = FindCheck(report, "database-restore");
  ASSERT_NE(restore, nullptr);
  EXPECT_EQ((*restore)["passed"], false);
  EXPECT_THAT((*restore)["detail"].get<std::string>(), HasSubstr("not restored"));
  // The archives were checked too: the application's is not the one taken, the configuration's
  // restores.
  std::map<std::string, bool> archives;
  for (const auto& check : report["checks"]) {
    if (check["check"] != "files-checksum") continue;
    std::string target = check["target"];
    archives[target.find("/app-") != std::string::npos ? "app" : "config"] = check["passed"];
  }
  EXPECT_EQ(archives, (std::map<std::string, bool>{{"app", false}, {"config", true}}))
      << report.dump(2);
  for (const auto& check : report["checks"]) {
    if (check["check"] != "files-restore") continue;
    bool app = check["target"].get<std::string>().find("/app-") != std::string::npos;
    EXPECT_EQ(check["passed"], !app) << check.dump();
    if (app) {
      EXPECT_THAT(check["detail"].get<std::string>(), HasSubstr("not restored"));
    }
  }
  auto verified = Evidence(cr, "backup-verified", "DEV");
  ASSERT_EQ(verified.size(), 1U);
  EXPECT_EQ(verified[0]["passed"], false);
  EXPECT_THAT(verified[0]["detail"].get<std::string>(), StartsWith("FAILED: database-checksum"));
  EXPECT_THAT(verified[0]["fields"]["failed_checks"].get<std::string>(),
              HasSubstr("files-checksum"));
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());

  // The cheap check finds both without restoring anything.
  CommandOutput cheap = As("heidi", {"backup", "verify", cr, "--env", "DEV"});
  EXPECT_EQ(cheap.exit_code, 1) << cheap.out << cheap.err;
  EXPECT_THAT(cheap.out, HasSubstr("FAILED  database-checksum"));
  EXPECT_THAT(cheap.out, HasSubstr("FAILED  files-checksum"));
  EXPECT_THAT(cheap.out, HasSubstr("Cheap check only"));
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
}

TEST_F(BackupLabTest, ACorruptArchiveFailsAndItsScratchDirectoryIsGone) {
  std::string cr = DeployedToDev();
  Corrupt(BackupOnHost1(cr, "backup-config"));
  CommandOutput out = JsonAs("heidi", {"backup", "verify", cr, "--env", "DEV", "--restore"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  nlohmann::json report = out.Json();
  EXPECT_EQ(report["verified"], false);
  // The database restored and counted; the configuration archive is not the one taken.
  EXPECT_EQ((*FindCheck(report, "database-restore"))["passed"], true);
  EXPECT_EQ((*FindCheck(report, "record-counts"))["passed"], true);
  bool config_differs = false;
  for (const auto& check : report["checks"]) {
    if (check["check"] == "files-checksum" && check["passed"] == false) {
      config_differs = true;
      EXPECT_THAT(check["target"].get<std::string>(), HasSubstr("/config-"));
    }
  }
  EXPECT_TRUE(config_differs) << report.dump(2);
  // The restores that did run measured an RTO, but a failed restore leaves none to record.
  EXPECT_TRUE(report["rto_seconds"].is_null());
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
}

TEST_F(BackupLabTest, APgRestoreErrorFailsTheTestAndTheScratchDatabaseIsStillDropped) {
  // An extension only a superuser may create: the dump holds it, the system's role cannot
  // restore it. A backup that restores only with more rights than the system has is found now.
  Psql("demo_dev", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  std::string cr = DeployedToDev();
  CommandOutput out = JsonAs("heidi", {"backup", "verify", cr, "--env", "DEV", "--restore"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  nlohmann::json report = out.Json();
  const nlohmann::json* restore = FindCheck(report, "database-restore");
  ASSERT_NE(restore, nullptr) << report.dump(2);
  EXPECT_EQ((*restore)["passed"], false);
  EXPECT_THAT((*restore)["detail"].get<std::string>(),
              HasSubstr("permission denied to create extension"));
  const nlohmann::json* scratch = FindCheck(report, "scratch-database");
  ASSERT_NE(scratch, nullptr) << report.dump(2);
  EXPECT_EQ((*scratch)["passed"], true);
  EXPECT_EQ(report["scratch_removed"], true);
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
  auto verified = Evidence(cr, "backup-verified", "DEV");
  ASSERT_EQ(verified.size(), 1U);
  EXPECT_EQ(verified[0]["passed"], false);
  EXPECT_THAT(verified[0]["detail"].get<std::string>(), HasSubstr("pg_restore failed"));
  Psql("demo_dev", "DROP EXTENSION IF EXISTS pg_stat_statements");
}

TEST_F(BackupLabTest, RequiredVerifiesTheBackupsInsideTheDeploymentBeforeAnyChange) {
  SetVerification("required");
  std::string cr = DeployedToDev();
  EXPECT_EQ(HostVersion(1), "1.1.0");
  nlohmann::json deployment = Run(Evidence(cr, "deployment", "DEV").back()["run"]);
  std::map<std::string, std::string> states;
  std::map<std::string, std::string> tails;
  for (const auto& step : deployment["steps"]) {
    states[step["step"]] = step["state"];
    tails[step["step"]] = step["output_tail"];
  }
  EXPECT_EQ(states["database-backup/verify-database-backup"], "succeeded") << deployment.dump(2);
  EXPECT_THAT(tails["database-backup/verify-database-backup"],
              HasSubstr("rollgate-fact counts ok"));
  EXPECT_THAT(tails["database-backup/verify-database-backup"],
              HasSubstr("rollgate-fact restored yes"));
  EXPECT_EQ(states["rollout/verify-app-backup"], "succeeded");
  EXPECT_THAT(tails["rollout/verify-app-backup"], HasSubstr("rollgate-fact compared ok"));
  EXPECT_EQ(states["rollout/verify-config-backup"], "succeeded");
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
}

TEST_F(BackupLabTest, ARequiredVerificationThatFailsStopsTheDeploymentBeforeAnyChange) {
  SetVerification("required");
  Psql("demo_dev", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  std::string before = HostVersion(1);
  std::string schema =
      Psql("demo_dev", "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations");
  std::string cr = DeployedToDev(/*expected_exit=*/1);
  // Nothing changed: the version, the schema; the failure is named on the CR.
  EXPECT_EQ(HostVersion(1), before);
  EXPECT_EQ(
      Psql("demo_dev", "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"),
      schema);
  auto deployment = Evidence(cr, "deployment", "DEV");
  ASSERT_FALSE(deployment.empty());
  EXPECT_EQ(deployment.back()["passed"], false);
  EXPECT_THAT(deployment.back()["detail"].get<std::string>(), HasSubstr("verify-database-backup"));
  EXPECT_THAT(ScratchLeftovers(), ::testing::IsEmpty());
  Psql("demo_dev", "DROP EXTENSION IF EXISTS pg_stat_statements");
}

TEST_F(BackupLabTest, RefusedWhenOffNotFoundWithoutADeploymentAndBadUsageChangesNothing) {
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  std::string store = h_.StoreDump();
  // TEST keeps the playbook's default: off. Refused, naming the setting.
  CommandOutput off = As("heidi", {"backup", "verify", cr, "--env", "TEST", "--restore"});
  EXPECT_EQ(off.exit_code, 4) << off.out << off.err;
  EXPECT_THAT(off.err, HasSubstr("backup_verification: off"));
  // DEV allows it, but nothing was deployed there.
  CommandOutput never = As("heidi", {"backup", "verify", cr, "--env", "DEV", "--restore"});
  EXPECT_EQ(never.exit_code, 3) << never.out << never.err;
  EXPECT_THAT(never.err, HasSubstr("was never deployed to DEV"));
  CommandOutput unknown = JsonAs("heidi", {"backup", "verify", "CR-999", "--env", "DEV"});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.out << unknown.err;
  EXPECT_EQ(unknown.Json()["error"]["code"], "NOT_FOUND");
  CommandOutput no_env = As("heidi", {"backup", "verify", cr});
  EXPECT_EQ(no_env.exit_code, 2) << no_env.err;
  EXPECT_THAT(no_env.err, HasSubstr("--env"));
  CommandOutput typo = As("heidi", {"backup", "verify", cr, "--env", "DEV", "--restor"});
  EXPECT_EQ(typo.exit_code, 2) << typo.err;
  CommandOutput transport =
      As("heidi", {"backup", "verify", cr, "--env", "DEV", "--transport", "telnet"});
  EXPECT_EQ(transport.exit_code, 2) << transport.err;
  EXPECT_EQ(h_.StoreDump(), store);
}

}  // namespace
}  // namespace rollgate::e2e
