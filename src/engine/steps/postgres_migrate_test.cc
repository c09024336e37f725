#include <gtest/gtest.h>

#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

using testing::ValidateError;

TEST(PostgresMigrateStep, Params) {
  EXPECT_EQ(ValidateError("postgres-migrate", {{"database_url", "postgresql://demo@{host}/demo"},
                                               {"migrations_dir", "/opt/app/migrations"},
                                               {"table", "Applied_Versions"}}),
            "");
  EXPECT_NE(ValidateError("postgres-migrate", {{"database_url", "postgresql://demo@db/demo"},
                                               {"migrations_dir", "/opt/app/migrations"},
                                               {"table", "schema_migrations; DROP TABLE x"}}),
            "");
  EXPECT_NE(ValidateError("postgres-migrate", {{"database_url", "postgresql://demo@db/demo"},
                                               {"migrations_dir", "/opt/app/migrations"},
                                               {"table", "public.schema_migrations"}}),
            "");
  EXPECT_NE(ValidateError("postgres-migrate", {{"database_url", "postgresql://demo:pw@db/demo"},
                                               {"migrations_dir", "/opt/app/migrations"}}),
            "");
  EXPECT_NE(ValidateError("postgres-migrate", {{"database_url", "postgresql://demo@db/demo"},
                                               {"migrations_dir", "migrations"}}),
            "");
  EXPECT_NE(ValidateError("postgres-migrate", {{"database_url", "postgresql://demo@db/demo"}}), "");
  std::map<std::string, std::string> counters = {{"database_url", "postgresql://demo@db/demo"},
                                                 {"migrations_dir", "/opt/app/migrations"},
                                                 {"backup_dir", "/var/backups/rollgate"},
                                                 {"backup_label", "database"}};
  EXPECT_EQ(ValidateError("postgres-migrate", counters), "");
  counters["backup_dir"] = "backups";
  EXPECT_NE(ValidateError("postgres-migrate", counters), "");
  counters["backup_dir"] = "/var/backups/rollgate";
  counters["backup_label"] = "database-1";
  EXPECT_NE(ValidateError("postgres-migrate", counters), "");
}

TEST(PostgresMigrateStep, AMissingDirectoryIsBadInputBeforeTheDatabaseIsAsked) {
  testing::UseRun();
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run(
      "postgres-migrate",
      {{"database_url", "postgresql://nobody@127.0.0.1:1/none"}, {"migrations_dir", "/opt/none"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("/opt/none does not exist"), std::string::npos);
}

}  // namespace
}  // namespace rollgate
