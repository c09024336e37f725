// verify-backup-postgres without a database server: its params, and the checks made before any
// connection (a missing dump, a dump that differs from the one recorded, a file that is not a
// dump). The restore itself runs against a real PostgreSQL in tests/lab/backup_lab_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sha256.h"
#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;
using testing::ValidateError;

// Nothing listens there: a step that connected would fail with a connection error.
constexpr char kNowhere[] = "postgresql://nobody@127.0.0.1:1/none";

TEST(VerifyBackupPostgresStep, Params) {
  std::map<std::string, std::string> params = {{"database_url", "postgresql://demo@{host}/demo"},
                                               {"dump", "/var/backups/database-r1.dump"}};
  EXPECT_EQ(ValidateError("verify-backup-postgres", params), "");
  params["sha256"] = std::string(64, 'e');
  params["tables"] = "orders\ncustomers";
  params["state_dir"] = "/var/tmp/rollgate/state";
  params["counts_label"] = "deploy";
  params["recorded_run"] = "RUN-3-4fa9c2d1";
  EXPECT_EQ(ValidateError("verify-backup-postgres", params), "");
  params["recorded_run"] = "../RUN-3";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("must be a run id"));
  params["recorded_run"] = "RUN-3";
  params["restore"] = "no";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("with restore no"));
  params["restore"] = "yes";
  params["on_failure"] = "report";
  EXPECT_EQ(ValidateError("verify-backup-postgres", params), "");
  params["on_failure"] = "skip";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("must be fail or report"));
  params.erase("on_failure");
  params["tables"] = "orders; DROP TABLE orders";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("each line must be"));
  params["tables"] = "orders";
  params.erase("state_dir");
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("\"state_dir\""));
  params.erase("tables");
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("only with tables"));
  params.erase("counts_label");
  params.erase("recorded_run");
  EXPECT_EQ(ValidateError("verify-backup-postgres", params), "");
  params["sha256"] = "e3b0c442; rm -rf /";
  EXPECT_NE(ValidateError("verify-backup-postgres", params), "");
  params.erase("sha256");
  params["database_url"] = "postgresql://demo:secret@db/demo";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("holds a password"));
  params["database_url"] = "postgresql://demo@db/demo";
  // Exactly one of dump and backup_dir (this run's dump, named by backup_label).
  params["backup_dir"] = "/var/backups";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("give exactly one"));
  params.erase("dump");
  EXPECT_EQ(ValidateError("verify-backup-postgres", params), "");
  params["backup_label"] = "database";
  EXPECT_EQ(ValidateError("verify-backup-postgres", params), "");
  params.erase("backup_dir");
  params["dump"] = "/var/backups/x.dump";
  EXPECT_THAT(ValidateError("verify-backup-postgres", params), HasSubstr("only with backup_dir"));
}

class VerifyBackupPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::UseRun(); }
  testing::LocalStepHost host_;
};

TEST_F(VerifyBackupPostgresTest, AMissingDumpIsBadInputBeforeTheDatabaseIsAsked) {
  testing::StepOutcome out =
      host_.Run("verify-backup-postgres", {{"database_url", kNowhere},
                                           {"backup_dir", "/var/backups/rollgate"},
                                           {"backup_label", "database"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_THAT(out.result.output_tail,
              HasSubstr("the dump /var/backups/rollgate/database-run-1.dump does not exist"));
  EXPECT_EQ(*host_.Probe("verify-backup-postgres",
                         {{"database_url", kNowhere}, {"dump", "/var/backups/x.dump"}}),
            ProbeVerdict::kNotInPlace);
}

TEST_F(VerifyBackupPostgresTest, ADumpThatDiffersFromTheRecordedOneIsNeverRestored) {
  host_.Write("var/backups/database-run-1.dump", "PGDMP not really a dump");
  std::string recorded = Sha256Hex("the dump as it was taken");
  testing::StepOutcome out =
      host_.Run("verify-backup-postgres", {{"database_url", kNowhere},
                                           {"dump", "/var/backups/database-run-1.dump"},
                                           {"sha256", recorded},
                                           {"tables", "orders"},
                                           {"state_dir", "/var/tmp/state"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["sha256"], Sha256Hex("PGDMP not really a dump"));
  EXPECT_EQ(out.facts["expected_sha256"], recorded);
  EXPECT_EQ(out.facts["checksum"], "differs");
  EXPECT_EQ(out.facts["listed"], "failed");
  EXPECT_EQ(out.facts["restored"], "skipped");
  EXPECT_EQ(out.facts["scratch_database"], "");
  EXPECT_EQ(out.facts["scratch_removed"], "not-made");
  EXPECT_EQ(out.facts["counts"], "not-checked");
  EXPECT_THAT(out.facts["problem"], HasSubstr("it is not the backup that was taken"));
  EXPECT_THAT(out.facts["problem"], HasSubstr("does not list with pg_restore --list"));
  // The server was never asked (it would have refused the connection).
  EXPECT_THAT(out.result.output_tail, ::testing::Not(HasSubstr("connection")));
}

TEST_F(VerifyBackupPostgresTest, ReportedFailuresExitZeroAndSayWhatFailed) {
  host_.Write("var/backups/database-run-1.dump", "not a dump at all");
  testing::StepOutcome out =
      host_.Run("verify-backup-postgres", {{"database_url", kNowhere},
                                           {"dump", "/var/backups/database-run-1.dump"},
                                           {"on_failure", "report"}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["listed"], "failed");
  EXPECT_EQ(out.facts["restored"], "skipped");
  EXPECT_THAT(out.facts["problem"], HasSubstr("does not list with pg_restore --list"));
  testing::StepOutcome missing = host_.Run(
      "verify-backup-postgres",
      {{"database_url", kNowhere}, {"dump", "/var/backups/none.dump"}, {"on_failure", "report"}});
  EXPECT_EQ(missing.result.exit_code, 0) << missing.result.output_tail;
  EXPECT_EQ(missing.facts["problem"], "the dump /var/backups/none.dump does not exist");
}

TEST_F(VerifyBackupPostgresTest, AFileThatIsNotADumpFailsTheCheapCheck) {
  host_.Write("var/backups/database-run-1.dump", "not a dump at all");
  testing::StepOutcome out =
      host_.Run("verify-backup-postgres", {{"database_url", kNowhere},
                                           {"dump", "/var/backups/database-run-1.dump"},
                                           {"restore", "no"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["checksum"], "not-recorded");
  EXPECT_EQ(out.facts["listed"], "failed");
  EXPECT_EQ(out.facts["restored"], "no");
  EXPECT_THAT(out.result.output_tail,
              HasSubstr("error: /var/backups/database-run-1.dump does not list with pg_restore"));
}

}  // namespace
}  // namespace rollgate
