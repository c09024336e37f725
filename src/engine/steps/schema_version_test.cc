#include <gtest/gtest.h>

#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

using testing::ValidateError;

TEST(SchemaVersionStep, NeedsExactlyOneOfExpectedAndBackupInfo) {
  std::map<std::string, std::string> params = {{"database_url", "postgresql://demo@{host}/demo"},
                                               {"expected", "0001_initial"}};
  EXPECT_EQ(ValidateError("schema-version", params), "");
  params["expected"] = "";  // no version before the deployment
  EXPECT_EQ(ValidateError("schema-version", params), "");
  params["backup_info"] = "/var/backups/database-RUN-1.info";
  EXPECT_NE(ValidateError("schema-version", params).find("exactly one of"), std::string::npos);
  params.erase("expected");
  params["restore_dump"] = "/var/backups/database-RUN-1.dump";
  params["table"] = "Applied";
  EXPECT_EQ(ValidateError("schema-version", params), "");
  params.erase("backup_info");
  EXPECT_NE(ValidateError("schema-version", params), "");
  params["expected"] = "1\n2";
  EXPECT_NE(ValidateError("schema-version", params), "");
  params["expected"] = "1";
  params["table"] = "a; DROP TABLE b";
  EXPECT_NE(ValidateError("schema-version", params), "");
  params["table"] = "Applied";
  params["restore_dump"] = "relative.dump";
  EXPECT_NE(ValidateError("schema-version", params), "");
  params["restore_dump"] = "/var/backups/database-RUN-1.dump";
  params["database_url"] = "postgresql://demo:pw@db/demo";
  EXPECT_NE(ValidateError("schema-version", params), "");
}

TEST(SchemaVersionStep, AHeldRestoreIsNotCheckedAndAMissingInfoIsBadInput) {
  testing::UseRun();
  testing::LocalStepHost host;
  const std::string nowhere = "postgresql://nobody@127.0.0.1:1/none";
  testing::StepOutcome missing =
      host.Run("schema-version",
               {{"database_url", nowhere}, {"backup_info", "/var/backups/database-r.info"}});
  ASSERT_EQ(missing.error, "");
  EXPECT_EQ(missing.result.exit_code, 2) << missing.result.output_tail;
  EXPECT_NE(missing.result.output_tail.find("records no schema version"), std::string::npos);
  host.Write("var/backups/database-r.info", "time x\nwrites 3\n");
  EXPECT_EQ(host.Run("schema-version",
                     {{"database_url", nowhere}, {"backup_info", "/var/backups/database-r.info"}})
                .result.exit_code,
            2);

  std::map<std::string, std::string> params = {{"database_url", nowhere},
                                               {"expected", "0001_initial"},
                                               {"restore_dump", "/var/backups/database-r.dump"}};
  // Not held: the database is asked, and cannot be read.
  testing::StepOutcome unreadable = host.Run("schema-version", params);
  EXPECT_EQ(unreadable.result.exit_code, 1) << unreadable.result.output_tail;
  EXPECT_EQ(*host.Probe("schema-version", params), ProbeVerdict::kUndecided);
  host.Write("var/backups/database-r.dump.held-run-1", "");
  testing::StepOutcome held = host.Run("schema-version", params);
  EXPECT_EQ(held.result.exit_code, 0) << held.result.output_tail;
  EXPECT_EQ(held.facts["held"], "yes");
  EXPECT_EQ(*host.Probe("schema-version", params), ProbeVerdict::kInPlace);
}

}  // namespace
}  // namespace rollgate
