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
        "DELETE FROM orders WHERE item <> 'widget';");
  }
  testing::StepOutcome Restore(std::map<std::string, std::string> extra = {}) {
    extra.insert({"database_url", db_.Url()});
    extra.insert({"dump", kDump});
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

}  // namespace
}  // namespace rollgate
