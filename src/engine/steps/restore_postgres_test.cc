#include <gtest/gtest.h>

#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

using testing::ValidateError;

TEST(RestorePostgresStep, Params) {
  std::map<std::string, std::string> params = {{"database_url", "postgresql://demo@{host}/demo"},
                                               {"dump", "/var/backups/rollgate/db-r1.dump"}};
  EXPECT_EQ(ValidateError("restore-postgres", params), "");
  params["sha256"] = std::string(64, 'e');
  params["table"] = "schema_migrations";
  EXPECT_EQ(ValidateError("restore-postgres", params), "");
  params["sha256"] = "e3b0c442; rm -rf /";
  EXPECT_NE(ValidateError("restore-postgres", params), "");
  params.erase("sha256");
  params["dump"] = "relative.dump";
  EXPECT_NE(ValidateError("restore-postgres", params), "");
  params["dump"] = "/var/backups/db.dump";
  params["database_url"] = "postgresql://demo:secret@db/demo";
  EXPECT_NE(ValidateError("restore-postgres", params), "");
  params["database_url"] = "postgresql://demo@db/demo";
  for (const std::string policy : {"hold", "restore"}) {
    params["on_writes"] = policy;
    EXPECT_EQ(ValidateError("restore-postgres", params), "") << policy;
  }
  params["on_writes"] = "ask";
  EXPECT_NE(ValidateError("restore-postgres", params).find("must be hold or restore"),
            std::string::npos);
}

TEST(RestorePostgresStep, AMissingDumpIsBadInputBeforeTheDatabaseIsAsked) {
  testing::UseRun();
  testing::LocalStepHost host;
  testing::StepOutcome out =
      host.Run("restore-postgres", {{"database_url", "postgresql://nobody@127.0.0.1:1/none"},
                                    {"dump", "/var/backups/none.dump"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("/var/backups/none.dump does not exist"),
            std::string::npos);
  EXPECT_EQ(*host.Probe("restore-postgres", {{"database_url", "postgresql://nobody@127.0.0.1:1/x"},
                                             {"dump", "/var/backups/none.dump"}}),
            ProbeVerdict::kNotInPlace);
}

TEST(RestorePostgresStep, AHeldRestoreIsInPlaceForTheProbeWithoutAskingTheDatabase) {
  testing::UseRun();
  testing::LocalStepHost host;
  std::map<std::string, std::string> params = {
      {"database_url", "postgresql://nobody@127.0.0.1:1/none"},
      {"dump", "/var/backups/database-run-0.dump"}};
  host.Write("var/backups/database-run-0.dump", "PGDMP");
  EXPECT_EQ(*host.Probe("restore-postgres", params), ProbeVerdict::kNotInPlace);
  // A backup that recorded its schema version: the database must be asked, and cannot be.
  host.Write("var/backups/database-run-0.info", "time x\nschema_version 0001_initial\n");
  EXPECT_EQ(*host.Probe("restore-postgres", params), ProbeVerdict::kUndecided);
  host.Write("var/backups/database-run-0.dump.held-run-1", "");
  EXPECT_EQ(*host.Probe("restore-postgres", params), ProbeVerdict::kInPlace);
}

}  // namespace
}  // namespace rollgate
