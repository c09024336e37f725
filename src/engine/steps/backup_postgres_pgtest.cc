#include <gtest/gtest.h>

#include <regex>

#include "common/sha256.h"
#include "engine/steps/pg_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;
using testing::Shell;

constexpr char kSchema[] = R"sql(
CREATE TABLE schema_migrations (version text PRIMARY KEY,
                                applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL);
INSERT INTO orders (item, quantity) VALUES ('widget', 3), ('gadget', 1), ('gizmo', 2);
INSERT INTO schema_migrations (version) VALUES ('0001_initial');
)sql";

class BackupPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    db_.Sql(kSchema);
  }
  std::map<std::string, std::string> Params(const std::string& url) {
    return {{"database_url", url}, {"destination_dir", "/var/backups/rollgate"}};
  }
  testing::StepOutcome Backup() {
    return host_.Run("backup-postgres", Params(db_.Url()), db_.Secrets());
  }
  fs::path Dump() { return host_.root() / "var/backups/rollgate/database-run-1.dump"; }

  testing::ScratchDatabase db_;
  testing::LocalStepHost host_;
};

TEST_F(BackupPostgresTest, DumpsVerifiesAndReportsTheBackup) {
  testing::StepOutcome out = Backup();
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  ASSERT_TRUE(fs::exists(Dump()));
  EXPECT_EQ(out.facts["location"], "/var/backups/rollgate/database-run-1.dump");
  EXPECT_EQ(out.facts["size_bytes"], std::to_string(fs::file_size(Dump())));
  EXPECT_EQ(out.facts["sha256"], *Sha256File(Dump()));
  EXPECT_EQ(out.facts["tables"], "2");
  EXPECT_EQ(out.facts["database"], db_.name());
  EXPECT_EQ(out.facts["reused"], "no");
  EXPECT_TRUE(
      std::regex_match(out.facts["time"], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_TRUE(std::regex_match(out.facts["wal_lsn"], std::regex("[0-9A-F]+/[0-9A-F]+")))
      << out.facts["wal_lsn"];
  // The inserts of the set-up session (4 rows): its statistics were flushed when it ended.
  EXPECT_EQ(out.facts["writes"], "4");
  // The dump restores: pg_restore lists the table's data.
  testing::ShellResult list = Shell("pg_restore --list '" + Dump().string() + "'");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.output.find("TABLE DATA public orders"), std::string::npos) << list.output;
  // The counters at backup time are kept beside the dump, per table.
  std::string info = testing::ReadText(host_.root() / "var/backups/rollgate/database-run-1.info");
  EXPECT_NE(info.find("\ntable 3 public.orders\n"), std::string::npos) << info;
  EXPECT_NE(info.find("\nwal_lsn " + out.facts["wal_lsn"] + "\n"), std::string::npos) << info;
  // And the schema version before the deployment.
  EXPECT_EQ(out.facts["schema_version"], "0001_initial");
  EXPECT_EQ(out.facts["info"], "/var/backups/rollgate/database-run-1.info");
  EXPECT_NE(info.find("\nschema_version 0001_initial\n"), std::string::npos) << info;
  EXPECT_EQ(fs::status(Dump()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(BackupPostgresTest, WritesAfterTheBackupShowAgainstItsCounters) {
  testing::StepOutcome out = Backup();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  // The WAL position is the cluster's (other databases write too): it can only tell "maybe";
  // the table counters are this database's.
  db_.Sql("UPDATE orders SET quantity = quantity + 1 WHERE item = 'widget'");
  EXPECT_EQ(
      db_.Sql(fmt::format("SELECT pg_current_wal_lsn() > '{}'::pg_lsn", out.facts["wal_lsn"])),
      "t");
  EXPECT_EQ(db_.Sql("SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables"), "5");
}

TEST_F(BackupPostgresTest, WithoutTheVersionTableTheSchemaVersionIsEmpty) {
  db_.Sql(
      "CREATE TABLE \"Applied\" (version text); INSERT INTO \"Applied\" VALUES ('7'), ('10'); "
      "DROP TABLE schema_migrations;");
  testing::StepOutcome out = Backup();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_TRUE(out.facts.contains("schema_version"));
  EXPECT_EQ(out.facts["schema_version"], "");
  std::string info = testing::ReadText(host_.root() / "var/backups/rollgate/database-run-1.info");
  EXPECT_NE(info.find("\nschema_version \n"), std::string::npos) << info;
  // Another table: its highest version as text, bytewise.
  fs::remove_all(host_.root() / "var/backups/rollgate");
  std::map<std::string, std::string> params = Params(db_.Url());
  params["table"] = "Applied";
  testing::StepOutcome other = host_.Run("backup-postgres", params, db_.Secrets());
  ASSERT_EQ(other.result.exit_code, 0) << other.result.output_tail;
  EXPECT_EQ(other.facts["schema_version"], "7");
}

TEST_F(BackupPostgresTest, ARetryKeepsTheDumpOfItsRun) {
  testing::StepOutcome first = Backup();
  ASSERT_EQ(first.result.exit_code, 0) << first.result.output_tail;
  db_.Sql("DELETE FROM orders");
  testing::StepOutcome again = Backup();
  ASSERT_EQ(again.result.exit_code, 0) << again.result.output_tail;
  EXPECT_EQ(again.facts["reused"], "yes");
  EXPECT_EQ(again.facts["sha256"], first.facts["sha256"]);
  EXPECT_EQ(again.facts["writes"], first.facts["writes"]);
  EXPECT_EQ(again.facts["wal_lsn"], first.facts["wal_lsn"]);
  EXPECT_EQ(again.facts["time"], first.facts["time"]);
  EXPECT_EQ(again.facts["schema_version"], "0001_initial");
}

TEST_F(BackupPostgresTest, TheHostPlaceholderAndALabelNameTheDump) {
  std::map<std::string, std::string> params = {
      {"database_url", fmt::format("postgres://demo@{{host}}:{}/{}", db_.port(), db_.name())},
      {"destination_dir", "/var/backups/rollgate/"},
      {"label", "orders_db"}};
  testing::StepOutcome out = host_.Run("backup-postgres", params, db_.Secrets());
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["location"], "/var/backups/rollgate/orders_db-run-1.dump");
  EXPECT_TRUE(fs::exists(host_.root() / "var/backups/rollgate/orders_db-run-1.dump"));
}

TEST_F(BackupPostgresTest, AWrongPasswordFailsAndLeavesNoDump) {
  setenv("ROLLGATE_TEST_WRONG_PASSWORD", "not-the-password", 1);
  testing::StepOutcome out = host_.Run("backup-postgres", Params(db_.Url()),
                                       {{"PGPASSWORD", "env:ROLLGATE_TEST_WRONG_PASSWORD"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("password authentication failed"), std::string::npos)
      << out.result.output_tail;
  EXPECT_FALSE(fs::exists(Dump()));
  int files = 0;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator(host_.root() / "var/backups/rollgate")) {
    ++files;
  }
  EXPECT_EQ(files, 0);
}

TEST_F(BackupPostgresTest, AnUnreachableDatabaseFails) {
  testing::StepOutcome out =
      host_.Run("backup-postgres", Params("postgresql://demo@127.0.0.1:1/nothing"), db_.Secrets());
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_FALSE(fs::exists(Dump()));
}

TEST_F(BackupPostgresTest, ProbeSeesAReadableDumpOnly) {
  EXPECT_EQ(*host_.Probe("backup-postgres", Params(db_.Url())), ProbeVerdict::kNotInPlace);
  ASSERT_EQ(Backup().result.exit_code, 0);
  EXPECT_EQ(*host_.Probe("backup-postgres", Params(db_.Url())), ProbeVerdict::kInPlace);
  host_.Write("var/backups/rollgate/database-run-1.dump", "PGDMP but not really");
  EXPECT_EQ(*host_.Probe("backup-postgres", Params(db_.Url())), ProbeVerdict::kNotInPlace);
}

}  // namespace
}  // namespace rollgate
