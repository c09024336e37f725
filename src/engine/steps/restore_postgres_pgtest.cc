#include <gtest/gtest.h>

#include "engine/steps/pg_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;

constexpr char kSchema[] = R"sql(
CREATE TABLE schema_migrations (version text PRIMARY KEY,
                                applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL);
INSERT INTO orders (item, quantity) VALUES ('widget', 3), ('gadget', 1), ('gizmo', 2);
INSERT INTO schema_migrations (version) VALUES ('0001_initial');
)sql";

constexpr char kDump[] = "/var/backups/rollgate/database-run-1.dump";

class RestorePostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    db_.Sql(kSchema);
    testing::StepOutcome backup = host_.Run(
        "backup-postgres",
        {{"database_url", db_.Url()}, {"destination_dir", "/var/backups/rollgate"}}, db_.Secrets());
    ASSERT_EQ(backup.result.exit_code, 0) << backup.result.output_tail;
    sha256_ = backup.facts["sha256"];
  }
  // After the backup: the deploy migrates, and rows are deleted.
  void ChangeTheDatabase() {
    db_.Sql(
        "ALTER TABLE orders ADD COLUMN priority integer NOT NULL DEFAULT 0; "
        "INSERT INTO schema_migrations (version) VALUES ('0002_add_column'); "
        "DELETE FROM orders WHERE item <> 'widget'; "
        // The session's writes reach the statistics now, not when it has ended.
        "SELECT pg_stat_force_next_flush();");
  }
  // The deletes are users' writes: restored anyway (on_writes restore) unless told otherwise.
  testing::StepOutcome Restore(std::map<std::string, std::string> extra = {}) {
    extra.insert({"database_url", db_.Url()});
    extra.insert({"dump", kDump});
    extra.insert({"on_writes", "restore"});
    return host_.Run("restore-postgres", extra, db_.Secrets());
  }
  std::string Items() { return db_.Sql("SELECT string_agg(item, ' ' ORDER BY id) FROM orders"); }

  testing::ScratchDatabase db_;
  testing::LocalStepHost host_;
  std::string sha256_;
};

TEST_F(RestorePostgresTest, BringsBackRowsDeletedAfterTheBackup) {
  ChangeTheDatabase();
  ASSERT_EQ(Items(), "widget");
  std::map<std::string, std::string> params = {{"database_url", db_.Url()}, {"dump", kDump}};
  testing::ScopedPassword password(db_.Password());
  EXPECT_EQ(*host_.Probe("restore-postgres", params), ProbeVerdict::kNotInPlace);
  testing::StepOutcome out = Restore({{"sha256", sha256_}});
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(Items(), "widget gadget gizmo");
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM information_schema.columns "
                    "WHERE table_name = 'orders' AND column_name = 'priority'"),
            "0");
  EXPECT_EQ(out.facts["schema_version"], "0001_initial");
  EXPECT_EQ(out.facts["database"], db_.name());
  EXPECT_EQ(out.facts["dump"], kDump);
  EXPECT_EQ(out.facts["held"], "no");
  EXPECT_EQ(out.facts["checked_against"], "/var/backups/rollgate/database-run-1.info");
  // Written since the backup: the database as it was is saved first.
  EXPECT_EQ(out.facts["current_dump"], "/var/backups/rollgate/database-run-1.current-run-1.dump");
  EXPECT_TRUE(fs::exists(host_.root() / "var/backups/rollgate/database-run-1.current-run-1.dump"));
  EXPECT_EQ(*host_.Probe("restore-postgres", params), ProbeVerdict::kInPlace);
  // New rows continue the restored sequence.
  EXPECT_EQ(db_.Sql("INSERT INTO orders (item, quantity) VALUES ('new', 1) RETURNING id"), "4");
}

TEST_F(RestorePostgresTest, AFailingRestoreChangesNothing) {
  ChangeTheDatabase();
  // A view made after the backup depends on orders: dropping orders fails mid-restore.
  db_.Sql("CREATE VIEW big_orders AS SELECT * FROM orders WHERE quantity > 2");
  testing::StepOutcome out = Restore();
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("the database is unchanged"), std::string::npos);
  EXPECT_EQ(Items(), "widget");
  EXPECT_EQ(db_.Sql("SELECT string_agg(version, ' ' ORDER BY version) FROM schema_migrations"),
            "0001_initial 0002_add_column");
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM big_orders"), "1");
  EXPECT_FALSE(fs::exists(host_.root() / (std::string(kDump).substr(1) + ".restored-run-1")));
}

TEST_F(RestorePostgresTest, AWrongChecksumOrNotADumpStopsBeforeTheDatabase) {
  ChangeTheDatabase();
  testing::StepOutcome wrong = Restore({{"sha256", std::string(64, '0')}});
  EXPECT_EQ(wrong.result.exit_code, 2) << wrong.result.output_tail;
  host_.Write("var/backups/rollgate/bogus.dump", "PGDMP not really a dump");
  testing::StepOutcome bogus = Restore({{"dump", "/var/backups/rollgate/bogus.dump"}});
  EXPECT_EQ(bogus.result.exit_code, 2) << bogus.result.output_tail;
  testing::StepOutcome missing = Restore({{"dump", "/var/backups/rollgate/none.dump"}});
  EXPECT_EQ(missing.result.exit_code, 2) << missing.result.output_tail;
  EXPECT_EQ(Items(), "widget");
}

TEST_F(RestorePostgresTest, RestoringTwiceGivesTheSameDatabase) {
  ChangeTheDatabase();
  ASSERT_EQ(Restore().result.exit_code, 0);
  testing::StepOutcome again = Restore();
  ASSERT_EQ(again.result.exit_code, 0) << again.result.output_tail;
  EXPECT_EQ(Items(), "widget gadget gizmo");
  EXPECT_EQ(again.facts["schema_version"], "0001_initial");
}

// A rollback of a deployment that migrated: the backup, the counts before the deployment and the
// migration in run "run-1" (the deployment), then the restore and its verification in "rb-1".
constexpr char kBackupDir[] = "/var/backups/rollgate";
constexpr char kAfterMigrate[] = "/var/backups/rollgate/database-run-1.after-migrate.info";
constexpr char kCurrent[] = "/var/backups/rollgate/database-run-1.current-rb-1.dump";
// The migration writes too (an update of every row, its version): those are not users' writes.
constexpr char kMigration[] = R"sql(BEGIN;
ALTER TABLE orders ADD COLUMN priority integer NOT NULL DEFAULT 0;
UPDATE orders SET priority = 1;
INSERT INTO schema_migrations (version) VALUES ('0002_priority');
COMMIT;
)sql";
// A user's write, reported to the statistics at once.
constexpr char kUserWrite[] =
    "INSERT INTO orders (item, quantity) VALUES ('sprocket', 7); SELECT "
    "pg_stat_force_next_flush();";

class RollbackOfAMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun("run-1");
    db_.Sql(std::string(kSchema) + "SELECT pg_stat_force_next_flush();");
    testing::StepOutcome backup =
        host_.Run("backup-postgres", {{"database_url", db_.Url()}, {"destination_dir", kBackupDir}},
                  db_.Secrets());
    ASSERT_EQ(backup.result.exit_code, 0) << backup.result.output_tail;
    backup_ = backup.facts;
    testing::StepOutcome counts = host_.Run("data-integrity", Counts("record"), db_.Secrets());
    ASSERT_EQ(counts.result.exit_code, 0) << counts.result.output_tail;
    host_.Write("opt/app/migrations/0001_initial.sql", "SELECT 1/0;\n");
    host_.Write("opt/app/migrations/0002_priority.sql", kMigration);
  }
  void Migrate() {
    testing::StepOutcome migrate = host_.Run("postgres-migrate",
                                             {{"database_url", db_.Url()},
                                              {"migrations_dir", "/opt/app/migrations"},
                                              {"backup_dir", kBackupDir},
                                              {"backup_label", "database"}},
                                             db_.Secrets());
    ASSERT_EQ(migrate.result.exit_code, 0) << migrate.result.output_tail;
    ASSERT_EQ(migrate.facts["applied"], "0002_priority");
    ASSERT_EQ(migrate.facts["counters"], kAfterMigrate);
    // The rollback is a run of its own.
    testing::UseRun("rb-1");
  }
  std::map<std::string, std::string> Counts(const std::string& action) {
    std::map<std::string, std::string> params = {{"database_url", db_.Url()},
                                                 {"tables", "orders\nschema_migrations"},
                                                 {"state_dir", "/var/tmp/rollgate/state"},
                                                 {"label", "deploy"},
                                                 {"action", action}};
    if (action == "compare") params["recorded_run"] = "run-1";
    return params;
  }
  std::map<std::string, std::string> RestoreParams(const std::string& on_writes = "") {
    std::map<std::string, std::string> params = {{"database_url", db_.Url()}, {"dump", kDump}};
    if (!on_writes.empty()) params["on_writes"] = on_writes;
    return params;
  }
  testing::StepOutcome Restore(const std::string& on_writes = "") {
    return host_.Run("restore-postgres", RestoreParams(on_writes), db_.Secrets());
  }
  testing::StepOutcome VerifySchema(std::map<std::string, std::string> params = {}) {
    params.insert({"database_url", db_.Url()});
    if (!params.contains("backup_info")) params.insert({"expected", backup_["schema_version"]});
    params.insert({"restore_dump", kDump});
    return host_.Run("schema-version", params, db_.Secrets());
  }
  testing::StepOutcome VerifyCounts() {
    return host_.Run("data-integrity", Counts("compare"), db_.Secrets());
  }
  std::string Items() { return db_.Sql("SELECT string_agg(item, ' ' ORDER BY id) FROM orders"); }
  std::string Columns() {
    return db_.Sql(
        "SELECT string_agg(column_name, ' ' ORDER BY ordinal_position) FROM "
        "information_schema.columns WHERE table_name = 'orders'");
  }
  std::string Version() { return db_.Sql("SELECT max(version) FROM schema_migrations"); }

  testing::ScratchDatabase db_;
  testing::LocalStepHost host_;
  std::map<std::string, std::string> backup_;
};

TEST_F(RollbackOfAMigrationTest, NothingWrittenSinceTheMigrationIsRestoredAndVerified) {
  EXPECT_EQ(backup_["schema_version"], "0001_initial");
  Migrate();
  testing::StepOutcome out = Restore();  // default policy: hold when written
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["writes_since_backup"], "0") << out.result.output_tail;
  EXPECT_EQ(out.facts["tables_written"], "");
  EXPECT_EQ(out.facts["checked_against"], kAfterMigrate);
  EXPECT_EQ(out.facts["held"], "no");
  EXPECT_FALSE(out.facts.contains("current_dump"));
  EXPECT_EQ(out.facts["schema_version"], "0001_initial");
  EXPECT_EQ(Columns(), "id item quantity");
  EXPECT_EQ(Items(), "widget gadget gizmo");

  testing::StepOutcome schema = VerifySchema();
  EXPECT_EQ(schema.result.exit_code, 0) << schema.result.output_tail;
  EXPECT_EQ(schema.facts["schema_version"], "0001_initial");
  EXPECT_EQ(schema.facts["held"], "no");
  testing::StepOutcome counts = VerifyCounts();
  EXPECT_EQ(counts.result.exit_code, 0) << counts.result.output_tail;
  EXPECT_EQ(counts.facts["lost_rows"], "0");

  // A restore that committed but left no marker (the host died): the schema version tells.
  testing::ScopedPassword password(db_.Password());
  EXPECT_EQ(*host_.Probe("restore-postgres", RestoreParams()), ProbeVerdict::kInPlace);
  fs::remove(host_.root() / (std::string(kDump).substr(1) + ".restored-rb-1"));
  EXPECT_EQ(*host_.Probe("restore-postgres", RestoreParams()), ProbeVerdict::kInPlace);
}

TEST_F(RollbackOfAMigrationTest, WritesAfterTheMigrationAreSavedAndTheRestoreHeld) {
  Migrate();
  db_.Sql(kUserWrite);
  testing::ScopedPassword password(db_.Password());
  EXPECT_EQ(*host_.Probe("restore-postgres", RestoreParams()), ProbeVerdict::kNotInPlace);
  testing::StepOutcome out = Restore();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["held"], "yes");
  EXPECT_EQ(out.facts["writes_since_backup"], "1");
  EXPECT_EQ(out.facts["tables_written"], "public.orders");
  EXPECT_EQ(out.facts["checked_against"], kAfterMigrate);
  EXPECT_EQ(out.facts["current_dump"], kCurrent);
  EXPECT_EQ(out.facts["schema_version"], "0002_priority");
  EXPECT_NE(out.result.output_tail.find("held: the database was written to since the backup (1 "
                                        "writes to public.orders); it was NOT restored"),
            std::string::npos)
      << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find(kCurrent), std::string::npos);
  // The database is untouched, and its current data is in the saved dump.
  EXPECT_EQ(Columns(), "id item quantity priority");
  EXPECT_EQ(Items(), "widget gadget gizmo sprocket");
  EXPECT_EQ(Version(), "0002_priority");
  fs::path current = host_.root() / std::string(kCurrent).substr(1);
  testing::ShellResult data =
      testing::Shell("pg_restore --data-only --table=orders -f - '" + current.string() + "'");
  EXPECT_EQ(data.exit_code, 0);
  EXPECT_NE(data.output.find("sprocket"), std::string::npos) << data.output;
  // Held is in place: not redone blindly; the schema check knows it was held.
  EXPECT_EQ(*host_.Probe("restore-postgres", RestoreParams()), ProbeVerdict::kInPlace);
  testing::StepOutcome schema = VerifySchema();
  EXPECT_EQ(schema.result.exit_code, 0) << schema.result.output_tail;
  EXPECT_EQ(schema.facts["held"], "yes");
  // Record counts still hold: no user's row was lost.
  EXPECT_EQ(VerifyCounts().result.exit_code, 0);
}

TEST_F(RollbackOfAMigrationTest, OnWritesRestoreSavesTheCurrentDataThenRestores) {
  Migrate();
  db_.Sql(kUserWrite);
  testing::StepOutcome out = Restore("restore");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["held"], "no");
  EXPECT_EQ(out.facts["writes_since_backup"], "1");
  EXPECT_EQ(out.facts["current_dump"], kCurrent);
  EXPECT_EQ(out.facts["schema_version"], "0001_initial");
  EXPECT_EQ(Items(), "widget gadget gizmo");
  EXPECT_EQ(Columns(), "id item quantity");
  testing::ShellResult list = testing::Shell(
      "pg_restore --list '" + (host_.root() / std::string(kCurrent).substr(1)).string() + "'");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(VerifySchema().result.exit_code, 0);
  EXPECT_EQ(VerifyCounts().result.exit_code, 0);
}

TEST_F(RollbackOfAMigrationTest, WritesBetweenTheBackupAndTheMigrationStayUsers) {
  // The service still runs between the backup and the migration: its writes are not the
  // migration's.
  db_.Sql(kUserWrite);
  Migrate();
  testing::StepOutcome out = Restore();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["held"], "yes");
  EXPECT_EQ(out.facts["writes_since_backup"], "1");
  EXPECT_EQ(out.facts["tables_written"], "public.orders");
  EXPECT_EQ(Items(), "widget gadget gizmo sprocket");
}

TEST_F(RollbackOfAMigrationTest, CountersLowerThanRecordedCannotTellAndCountAsWritten) {
  Migrate();
  // Statistics reset (as after a crash): every counter is back to 0.
  testing::ShellResult reset = testing::Shell(
      fmt::format("psql -X -q -h '{}' -p {} -U postgres -d {} -c 'SELECT pg_stat_reset()' 2>&1",
                  (testing::kPgLab / "postgres/run").string(), db_.port(), db_.name()));
  ASSERT_EQ(reset.exit_code, 0) << reset.output;
  testing::StepOutcome out = Restore();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["writes_since_backup"], "unknown");
  EXPECT_EQ(out.facts["held"], "yes");
  EXPECT_NE(out.facts["tables_written"].find("public.orders"), std::string::npos)
      << out.facts["tables_written"];
  EXPECT_EQ(out.facts["current_dump"], kCurrent);
  EXPECT_EQ(Version(), "0002_priority");
}

TEST_F(RollbackOfAMigrationTest, VerificationFindsAWrongSchemaVersionAndLostRows) {
  Migrate();
  // Not restored: the schema is the migration's.
  testing::StepOutcome schema = VerifySchema();
  EXPECT_EQ(schema.result.exit_code, 1) << schema.result.output_tail;
  EXPECT_EQ(schema.facts["schema_version"], "0002_priority");
  EXPECT_EQ(schema.facts["expected"], "0001_initial");
  EXPECT_NE(
      schema.result.output_tail.find("the schema version is '0002_priority', expected '0001_"),
      std::string::npos)
      << schema.result.output_tail;
  // The same from the backup's .info file.
  testing::StepOutcome from_info =
      VerifySchema({{"backup_info", "/var/backups/rollgate/database-run-1.info"}});
  EXPECT_EQ(from_info.result.exit_code, 1) << from_info.result.output_tail;
  EXPECT_EQ(from_info.facts["expected"], "0001_initial");
  // Rows lost since the counts before the deployment.
  db_.Sql("DELETE FROM orders WHERE item = 'gizmo'");
  testing::StepOutcome counts = VerifyCounts();
  EXPECT_EQ(counts.result.exit_code, 1) << counts.result.output_tail;
  EXPECT_EQ(counts.facts["lost_rows"], "1");
  EXPECT_EQ(counts.facts["recorded.orders"], "3");
  // Restored, both hold again.
  ASSERT_EQ(Restore("restore").result.exit_code, 0);
  EXPECT_EQ(VerifySchema().result.exit_code, 0);
  EXPECT_EQ(VerifyCounts().result.exit_code, 0);
}

}  // namespace
}  // namespace rollgate
