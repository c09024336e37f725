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
INSERT INTO orders (item, quantity) VALUES ('widget', 3), ('gadget', 1);
INSERT INTO schema_migrations (version) VALUES ('0001_initial');
)sql";

// The lab patch's migration: its own transaction, records itself.
constexpr char kAddColumn[] = R"sql(BEGIN;
ALTER TABLE orders ADD COLUMN priority integer NOT NULL DEFAULT 0;
INSERT INTO schema_migrations (version) VALUES ('0002_add_column');
COMMIT;
)sql";
constexpr char kAddColumnDown[] = R"sql(BEGIN;
ALTER TABLE orders DROP COLUMN priority;
DELETE FROM schema_migrations WHERE version = '0002_add_column';
COMMIT;
)sql";
// Without a transaction of its own: the step's makes it atomic.
constexpr char kIndex[] = R"sql(CREATE INDEX orders_item ON orders (item);
INSERT INTO schema_migrations (version) VALUES ('0003_index');
)sql";

class PostgresMigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    // Its writes reach the statistics before the session ends.
    db_.Sql(std::string(kSchema) + "SELECT pg_stat_force_next_flush();");
    host_.Write("opt/app/migrations/0001_initial.sql", "SELECT 1/0;  -- recorded: never runs\n");
    host_.Write("opt/app/migrations/0002_add_column.sql", kAddColumn);
    host_.Write("opt/app/migrations/0002_add_column.down.sql", kAddColumnDown);
    host_.Write("opt/app/migrations/0003_index.sql", kIndex);
    host_.Write("opt/app/migrations/README", "not a migration");
  }
  std::map<std::string, std::string> Params() {
    return {{"database_url", db_.Url()}, {"migrations_dir", "/opt/app/migrations"}};
  }
  testing::StepOutcome Migrate() { return host_.Run("postgres-migrate", Params(), db_.Secrets()); }
  Result<ProbeVerdict> Probe() {
    testing::ScopedPassword password(db_.Password());
    return host_.Probe("postgres-migrate", Params());
  }
  std::string Versions() {
    return db_.Sql("SELECT string_agg(version, ' ' ORDER BY version) FROM schema_migrations");
  }
  std::string Columns() {
    return db_.Sql(
        "SELECT string_agg(column_name, ' ' ORDER BY ordinal_position) FROM "
        "information_schema.columns WHERE table_name = 'orders'");
  }

  testing::ScratchDatabase db_;
  testing::LocalStepHost host_;
};

TEST_F(PostgresMigrateTest, AppliesWhatIsNotRecordedInOrderAndSkipsTheRest) {
  EXPECT_EQ(*Probe(), ProbeVerdict::kNotInPlace);
  testing::StepOutcome out = Migrate();
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["previous_schema_version"], "0001_initial");
  EXPECT_EQ(out.facts["schema_version"], "0003_index");
  EXPECT_EQ(out.facts["applied"], "0002_add_column 0003_index");
  EXPECT_EQ(out.facts["skipped"], "1");
  EXPECT_EQ(Versions(), "0001_initial 0002_add_column 0003_index");
  EXPECT_EQ(Columns(), "id item quantity priority");  // the .down.sql did not run
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_item'"), "1");
  EXPECT_EQ(*Probe(), ProbeVerdict::kInPlace);

  // Again (TEST and PROD after DEV, or a retry): nothing to do.
  testing::StepOutcome again = Migrate();
  ASSERT_EQ(again.result.exit_code, 0) << again.result.output_tail;
  EXPECT_EQ(again.facts["previous_schema_version"], "0003_index");
  EXPECT_EQ(again.facts["schema_version"], "0003_index");
  EXPECT_EQ(again.facts["applied"], "");
  EXPECT_EQ(again.facts["skipped"], "3");
}

TEST_F(PostgresMigrateTest, RecordsTheCountersBesideTheBackupWithTheMigrationsWritesOnly) {
  // The backup of the run, and its counters: 2 inserts into orders, 1 into schema_migrations.
  testing::StepOutcome backup = host_.Run(
      "backup-postgres",
      {{"database_url", db_.Url()}, {"destination_dir", "/var/backups/rollgate"}}, db_.Secrets());
  ASSERT_EQ(backup.result.exit_code, 0) << backup.result.output_tail;
  // A user's write between the backup and the migration stays a user's write.
  db_.Sql(
      "UPDATE orders SET quantity = 5 WHERE item = 'gadget'; SELECT pg_stat_force_next_flush();");
  std::map<std::string, std::string> params = Params();
  params["backup_dir"] = "/var/backups/rollgate";
  testing::StepOutcome out = host_.Run("postgres-migrate", params, db_.Secrets());
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["counters"], "/var/backups/rollgate/database-run-1.after-migrate.info");
  std::string after =
      testing::ReadText(host_.root() / "var/backups/rollgate/database-run-1.after-migrate.info");
  // orders: 2 recorded + 0 written by the migrations (the user's update is not added);
  // schema_migrations: 1 recorded + 2 versions.
  EXPECT_NE(after.find("\ntable 2 public.orders\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\ntable 3 public.schema_migrations\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\nwrites 5\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\nschema_version 0003_index\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\ndatabase " + db_.name() + "\n"), std::string::npos) << after;

  // Nothing applied: the file is left as it is.
  db_.Sql("INSERT INTO orders (item, quantity) VALUES ('x', 1)");
  testing::StepOutcome again = host_.Run("postgres-migrate", params, db_.Secrets());
  ASSERT_EQ(again.result.exit_code, 0) << again.result.output_tail;
  EXPECT_FALSE(again.facts.contains("counters"));
  EXPECT_EQ(
      testing::ReadText(host_.root() / "var/backups/rollgate/database-run-1.after-migrate.info"),
      after);
}

TEST_F(PostgresMigrateTest, WithoutABackupNoCountersAreRecorded) {
  std::map<std::string, std::string> params = Params();
  params["backup_dir"] = "/var/backups/rollgate";
  testing::StepOutcome out = host_.Run("postgres-migrate", params, db_.Secrets());
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["applied"], "0002_add_column 0003_index");
  EXPECT_FALSE(out.facts.contains("counters"));
  EXPECT_NE(out.result.output_tail.find("the write counters are not recorded"), std::string::npos)
      << out.result.output_tail;
  EXPECT_FALSE(fs::exists(host_.root() / "var/backups/rollgate/database-run-1.after-migrate.info"));
}

TEST_F(PostgresMigrateTest, AFailedMigrationLeavesNoPartialChangeAndNoRecordedVersion) {
  host_.Write("opt/app/migrations/0003_index.sql", R"sql(CREATE TABLE audit (id integer);
ALTER TABLE orders ADD COLUMN note text;
UPDATE orders SET quantity = 0;
INSERT INTO schema_migrations (version) VALUES ('0003_index');
SELECT 1 / (SELECT count(*) - count(*) FROM orders);
)sql");
  host_.Write("opt/app/migrations/0004_later.sql",
              "CREATE TABLE later (id integer);\n"
              "INSERT INTO schema_migrations (version) VALUES ('0004_later');\n");
  testing::StepOutcome out = Migrate();
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("division by zero"), std::string::npos)
      << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("migration 0003_index failed"), std::string::npos);
  EXPECT_EQ(out.facts["failed_migration"], "0003_index");
  EXPECT_EQ(out.facts["applied"], "0002_add_column");
  EXPECT_EQ(out.facts["schema_version"], "0002_add_column");
  // Nothing of 0003 is left, and 0004 never ran.
  EXPECT_EQ(Versions(), "0001_initial 0002_add_column");
  EXPECT_EQ(Columns(), "id item quantity priority");
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM pg_tables WHERE tablename IN ('audit', 'later')"), "0");
  EXPECT_EQ(db_.Sql("SELECT string_agg(quantity::text, ' ' ORDER BY id) FROM orders"), "3 1");
  EXPECT_EQ(*Probe(), ProbeVerdict::kNotInPlace);

  // Fixed, the same step finishes the job.
  host_.Write("opt/app/migrations/0003_index.sql", kIndex);
  testing::StepOutcome fixed = Migrate();
  ASSERT_EQ(fixed.result.exit_code, 0) << fixed.result.output_tail;
  EXPECT_EQ(fixed.facts["applied"], "0003_index 0004_later");
  EXPECT_EQ(fixed.facts["skipped"], "2");
}

TEST_F(PostgresMigrateTest, AMigrationThatDoesNotRecordItselfIsRolledBack) {
  host_.Write("opt/app/migrations/0003_index.sql", "CREATE TABLE forgotten (id integer);\n");
  testing::StepOutcome out = Migrate();
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("migration 0003_index ran but did not record itself"),
            std::string::npos)
      << out.result.output_tail;
  EXPECT_EQ(out.facts["failed_migration"], "0003_index");
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM pg_tables WHERE tablename = 'forgotten'"), "0");
  EXPECT_EQ(Versions(), "0001_initial 0002_add_column");
}

TEST_F(PostgresMigrateTest, AFreshDatabaseGetsItsTableFromTheFirstMigration) {
  db_.Sql("DROP TABLE schema_migrations; DROP TABLE orders;");
  host_.Write("opt/app/migrations/0001_initial.sql", std::string(kSchema));
  testing::StepOutcome out = Migrate();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["previous_schema_version"], "");
  EXPECT_EQ(out.facts["applied"], "0001_initial 0002_add_column 0003_index");
  EXPECT_EQ(out.facts["schema_version"], "0003_index");
}

TEST_F(PostgresMigrateTest, AnotherTableAndFileNamesAreData) {
  db_.Sql(
      "CREATE TABLE \"Applied\" (version text PRIMARY KEY); "
      "INSERT INTO \"Applied\" SELECT version FROM schema_migrations;");
  fs::remove_all(host_.root() / "opt/app/migrations");
  std::string dir = "opt/app/migrations $(touch pwned) 'x'";
  // A version holding quotes and SQL: it reaches PostgreSQL only as a quoted literal.
  std::string version = "0005_x'; DROP TABLE orders; --";
  host_.Write(dir + "/" + version + ".sql",
              "INSERT INTO \"Applied\" (version) VALUES ('0005_x''; DROP TABLE orders; --');\n");
  testing::StepOutcome out =
      host_.Run("postgres-migrate",
                {{"database_url", db_.Url()}, {"migrations_dir", "/" + dir}, {"table", "Applied"}},
                db_.Secrets());
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["applied"], version);
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM \"Applied\" WHERE version LIKE '0005%'"), "1");
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM orders"), "2");
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_FALSE(fs::exists(host_.root() / "pwned"));
}

TEST_F(PostgresMigrateTest, AMissingDirectoryIsBadInputAndAnUnreachableDatabaseUndecided) {
  testing::StepOutcome out =
      host_.Run("postgres-migrate", {{"database_url", db_.Url()}, {"migrations_dir", "/opt/none"}},
                db_.Secrets());
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  testing::StepOutcome down = host_.Run("postgres-migrate",
                                        {{"database_url", "postgresql://demo@127.0.0.1:1/x"},
                                         {"migrations_dir", "/opt/app/migrations"}},
                                        db_.Secrets());
  EXPECT_EQ(down.result.exit_code, 1) << down.result.output_tail;
  EXPECT_EQ(*host_.Probe("postgres-migrate", {{"database_url", "postgresql://demo@127.0.0.1:1/x"},
                                              {"migrations_dir", "/opt/app/migrations"}}),
            ProbeVerdict::kUndecided);
  EXPECT_EQ(Versions(), "0001_initial");
}

}  // namespace
}  // namespace rollgate
