#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "common/sha256.h"
#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ValidateError;

TEST(VerifyBackupFilesStep, Params) {
  std::map<std::string, std::string> params = {{"archive", "/var/backups/app-r1.tar.gz"}};
  EXPECT_EQ(ValidateError("verify-backup-files", params), "");
  params["expected"] = "root@10.0.0.1:22 " + std::string(64, 'a') + "\n\nweb2 -\n";
  params["restore"] = "no";
  EXPECT_EQ(ValidateError("verify-backup-files", params), "");
  params["compare_dir"] = "/opt/app";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("with restore no"));
  params["restore"] = "yes";
  EXPECT_EQ(ValidateError("verify-backup-files", params), "");
  params["restore"] = "maybe";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("must be yes or no"));
  params["restore"] = "yes";
  params["on_failure"] = "report";
  EXPECT_EQ(ValidateError("verify-backup-files", params), "");
  params["on_failure"] = "ignore";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("must be fail or report"));
  params.erase("on_failure");
  params["expected"] = "web1 e3b0c442; rm -rf /";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("\"HOST SHA256\""));
  params["expected"] = "\n \n";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("names no host"));
  params.erase("expected");
  // Exactly one of archive and backup_dir; label names this run's archive in backup_dir.
  params["backup_dir"] = "/var/backups";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("give exactly one"));
  params.erase("archive");
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("\"label\": required"));
  params["label"] = "app";
  EXPECT_EQ(ValidateError("verify-backup-files", params), "");
  params.erase("backup_dir");
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("give exactly one"));
  params["archive"] = "/var/backups/app.tar.gz";
  EXPECT_THAT(ValidateError("verify-backup-files", params), HasSubstr("only with backup_dir"));
  params.erase("label");
  params["archive"] = "relative/app.tar.gz";
  EXPECT_NE(ValidateError("verify-backup-files", params), "");
}

class VerifyBackupFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    setenv("ROLLGATE_HOST", "web1", 1);
    host_.Write("opt/app/VERSION", "1.0.0\n");
    host_.Write("opt/app/lib/libapp.so", "binary");
    ASSERT_EQ(symlink("VERSION", (host_.root() / "opt/app/current").c_str()), 0);
    testing::StepOutcome backup = host_.Run(
        "backup-files",
        {{"source", "/opt/app"}, {"destination_dir", "/var/backups/rollgate"}, {"label", "app"}});
    ASSERT_EQ(backup.result.exit_code, 0) << backup.result.output_tail;
    sha256_ = backup.facts["sha256"];
  }
  void TearDown() override { unsetenv("ROLLGATE_HOST"); }

  testing::StepOutcome Verify(std::map<std::string, std::string> params) {
    return host_.Run("verify-backup-files", std::move(params));
  }
  fs::path Archive() const { return host_.root() / "var/backups/rollgate/app-run-1.tar.gz"; }
  // What the backup directory holds besides the archive (scratch copies left behind).
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(Archive().parent_path())) {
      if (entry.path() != Archive()) out.push_back(entry.path().filename().string());
    }
    return out;
  }

  testing::LocalStepHost host_;
  std::string sha256_;
};

TEST_F(VerifyBackupFilesTest, ThisRunsArchiveRestoresAndEqualsTheDirectoryItWasTakenOf) {
  testing::StepOutcome out = Verify(
      {{"backup_dir", "/var/backups/rollgate"}, {"label", "app"}, {"compare_dir", "/opt/app"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["archive"], "/var/backups/rollgate/app-run-1.tar.gz");
  EXPECT_EQ(out.facts["checked"], "yes");
  EXPECT_EQ(out.facts["sha256"], sha256_);
  EXPECT_EQ(out.facts["checksum"], "not-recorded");
  EXPECT_EQ(out.facts["listed"], "ok");
  EXPECT_EQ(out.facts["files"], "3");
  EXPECT_EQ(out.facts["restored"], "yes");
  EXPECT_EQ(out.facts["restored_files"], "3");
  EXPECT_EQ(out.facts["compared"], "ok");
  EXPECT_THAT(out.facts["restore_seconds"], ::testing::MatchesRegex("[0-9]+\\.[0-9][0-9][0-9]"));
  EXPECT_THAT(out.facts["scratch_dir"],
              ::testing::StartsWith("/var/backups/rollgate/.rollgate-verify-run-1."));
  EXPECT_EQ(out.facts["scratch_removed"], "yes");
  EXPECT_TRUE(Leftovers().empty());
  EXPECT_EQ(out.facts.count("problem"), 0U);
}

TEST_F(VerifyBackupFilesTest, TheChecksumRecordedOnThisHostIsCompared) {
  std::string other(64, 'b');
  testing::StepOutcome out = Verify({{"archive", "/var/backups/rollgate/app-run-1.tar.gz"},
                                     {"expected", "web0 " + other + "\nweb1 " + sha256_}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["checksum"], "ok");
  EXPECT_EQ(out.facts["expected_sha256"], sha256_);
  EXPECT_EQ(out.facts["restored"], "yes");
  EXPECT_EQ(out.facts["compared"], "not-compared");
  // A host the deployment took no such backup on: nothing to check there.
  testing::StepOutcome elsewhere = Verify(
      {{"archive", "/var/backups/rollgate/app-run-1.tar.gz"}, {"expected", "web0 " + other}});
  EXPECT_EQ(elsewhere.result.exit_code, 0) << elsewhere.result.output_tail;
  EXPECT_EQ(elsewhere.facts["checked"], "no");
  EXPECT_EQ(elsewhere.facts.count("restored"), 0U);
  // Taken there, with no checksum recorded: checked, not compared.
  testing::StepOutcome unrecorded =
      Verify({{"archive", "/var/backups/rollgate/app-run-1.tar.gz"}, {"expected", "web1 -"}});
  EXPECT_EQ(unrecorded.result.exit_code, 0) << unrecorded.result.output_tail;
  EXPECT_EQ(unrecorded.facts["checksum"], "not-recorded");
  EXPECT_EQ(unrecorded.facts["restored"], "yes");
}

TEST_F(VerifyBackupFilesTest, AnArchiveChangedSinceTheBackupIsNotRestoredAndTheFailureIsNamed) {
  {
    std::fstream archive(Archive(), std::ios::in | std::ios::out | std::ios::binary);
    archive.seekp(40);
    archive.put('\x5a');
  }
  testing::StepOutcome out = Verify(
      {{"archive", "/var/backups/rollgate/app-run-1.tar.gz"}, {"expected", "web1 " + sha256_}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["checksum"], "differs");
  EXPECT_EQ(out.facts["restored"], "skipped");
  EXPECT_EQ(out.facts["scratch_removed"], "not-made");
  EXPECT_THAT(out.facts["problem"],
              HasSubstr("differs from the one recorded at backup time (" + sha256_ + ")"));
  EXPECT_THAT(out.result.output_tail, HasSubstr("error: the SHA-256 of /var/backups/rollgate/"));
  EXPECT_TRUE(Leftovers().empty());
}

TEST_F(VerifyBackupFilesTest, ATruncatedArchiveDoesNotReadBack) {
  fs::resize_file(Archive(), fs::file_size(Archive()) / 2);
  testing::StepOutcome out = Verify({{"archive", "/var/backups/rollgate/app-run-1.tar.gz"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["listed"], "failed");
  EXPECT_EQ(out.facts["restored"], "skipped");
  EXPECT_THAT(out.facts["problem"], HasSubstr("does not read back with tar -tzf"));
  EXPECT_TRUE(Leftovers().empty());
}

TEST_F(VerifyBackupFilesTest, RestoredFilesThatDifferFromTheSourceFailAndTheScratchCopyGoes) {
  host_.Write("opt/app/VERSION", "1.1.0\n");
  host_.Write("opt/app/lib/new.so", "new");
  testing::StepOutcome out = Verify(
      {{"backup_dir", "/var/backups/rollgate"}, {"label", "app"}, {"compare_dir", "/opt/app"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["restored"], "yes");
  EXPECT_EQ(out.facts["compared"], "differs");
  EXPECT_THAT(out.facts["problem"],
              HasSubstr("the restored files differ from /opt/app: VERSION lib/new.so"));
  EXPECT_EQ(out.facts["scratch_removed"], "yes");
  EXPECT_TRUE(Leftovers().empty());
  testing::StepOutcome missing = Verify(
      {{"backup_dir", "/var/backups/rollgate"}, {"label", "app"}, {"compare_dir", "/opt/none"}});
  EXPECT_EQ(missing.result.exit_code, 1);
  EXPECT_EQ(missing.facts["compared"], "failed");
  EXPECT_THAT(missing.facts["problem"], HasSubstr("/opt/none, does not exist"));
  EXPECT_TRUE(Leftovers().empty());
}

TEST_F(VerifyBackupFilesTest, TheCheapCheckRestoresNothing) {
  testing::StepOutcome out = Verify({{"archive", "/var/backups/rollgate/app-run-1.tar.gz"},
                                     {"expected", "web1 " + sha256_},
                                     {"restore", "no"}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["checksum"], "ok");
  EXPECT_EQ(out.facts["listed"], "ok");
  EXPECT_EQ(out.facts["restored"], "no");
  EXPECT_EQ(out.facts.count("restore_seconds"), 0U);
  EXPECT_EQ(out.facts["scratch_removed"], "not-made");
  EXPECT_TRUE(Leftovers().empty());
}

TEST_F(VerifyBackupFilesTest, ReportedFailuresLetTheRunGoOnToTheOtherBackups) {
  fs::resize_file(Archive(), fs::file_size(Archive()) / 2);
  testing::StepOutcome out = Verify({{"archive", "/var/backups/rollgate/app-run-1.tar.gz"},
                                     {"expected", "web1 " + sha256_},
                                     {"on_failure", "report"}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["checksum"], "differs");
  EXPECT_THAT(out.facts["problem"], HasSubstr("differs from the one recorded at backup time"));
  EXPECT_THAT(out.result.output_tail, HasSubstr("error: the SHA-256 of"));
  testing::StepOutcome missing =
      Verify({{"archive", "/var/backups/rollgate/app-run-9.tar.gz"}, {"on_failure", "report"}});
  EXPECT_EQ(missing.result.exit_code, 0) << missing.result.output_tail;
  EXPECT_EQ(missing.facts["problem"],
            "the archive /var/backups/rollgate/app-run-9.tar.gz does not exist");
  EXPECT_TRUE(Leftovers().empty());
}

TEST_F(VerifyBackupFilesTest, AMissingArchiveIsBadInput) {
  testing::StepOutcome out = Verify({{"archive", "/var/backups/rollgate/app-run-9.tar.gz"}});
  EXPECT_EQ(out.result.exit_code, 2);
  EXPECT_THAT(out.result.output_tail,
              HasSubstr("the archive /var/backups/rollgate/app-run-9.tar.gz does not exist"));
  EXPECT_EQ(*host_.Probe("verify-backup-files", {{"archive", "/var/backups/x.tar.gz"}}),
            ProbeVerdict::kNotInPlace);
}

}  // namespace
}  // namespace rollgate
