#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>

#include "common/sha256.h"
#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;
using testing::ReadText;
using testing::Shell;

class BackupFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    host_.Write("opt/app/VERSION", "1.0.0\n");
    host_.Write("opt/app/lib/libapp.so", "binary");
    host_.Write("etc/app/app.conf", "port=8080\n");
  }

  testing::StepOutcome Backup(const std::string& source = "/opt/app",
                              const std::string& label = "app") {
    return host_.Run(
        "backup-files",
        {{"source", source}, {"destination_dir", "/var/backups/rollgate"}, {"label", label}});
  }
  fs::path Archive(const std::string& label = "app") {
    return host_.root() / "var/backups/rollgate" / (label + "-run-1.tar.gz");
  }
  std::string Listing(const fs::path& archive) {
    return Shell("tar -tzf '" + archive.string() + "' | LC_ALL=C sort").output;
  }

  testing::LocalStepHost host_;
};

TEST_F(BackupFilesTest, ArchivesTheDirectoryAndReportsWhereWhenAndHowBig) {
  testing::StepOutcome out = Backup();
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  fs::path archive = Archive();
  ASSERT_TRUE(fs::exists(archive));
  EXPECT_EQ(out.facts["location"], "/var/backups/rollgate/app-run-1.tar.gz");
  EXPECT_EQ(out.facts["size_bytes"], std::to_string(fs::file_size(archive)));
  EXPECT_EQ(out.facts["sha256"], *Sha256File(archive));
  EXPECT_EQ(out.facts["files"], "2");
  EXPECT_TRUE(std::regex_match(out.facts["time"], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << out.facts["time"];
  EXPECT_EQ(out.facts["source"], "/opt/app");
  EXPECT_EQ(out.facts["reused"], "no");
  EXPECT_EQ(Listing(archive), "./\n./VERSION\n./lib/\n./lib/libapp.so\n");
  // Only the owner may read a backup (configuration holds secrets); no temporary files remain.
  EXPECT_EQ(fs::status(archive).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(archive.parent_path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(BackupFilesTest, AppAndConfigBackupsLiveSideBySide) {
  ASSERT_EQ(Backup("/opt/app", "app").result.exit_code, 0);
  testing::StepOutcome config = Backup("/etc/app", "config");
  ASSERT_EQ(config.result.exit_code, 0) << config.result.output_tail;
  EXPECT_EQ(config.facts["location"], "/var/backups/rollgate/config-run-1.tar.gz");
  EXPECT_EQ(Listing(Archive("config")), "./\n./app.conf\n");
  EXPECT_TRUE(fs::exists(Archive("app")));
}

TEST_F(BackupFilesTest, AMissingSourceFailsAndLeavesNoArchive) {
  testing::StepOutcome out = Backup("/opt/missing");
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1);
  EXPECT_NE(out.result.output_tail.find("/opt/missing does not exist"), std::string::npos)
      << out.result.output_tail;
  EXPECT_FALSE(fs::exists(Archive()));
}

TEST_F(BackupFilesTest, AnUnreadableSourceFailsWithoutAnArchive) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  fs::path secret = host_.Write("opt/app/secret", "x");
  chmod(secret.c_str(), 0);
  testing::StepOutcome out = Backup();
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_FALSE(fs::exists(Archive()));
}

TEST_F(BackupFilesTest, ADestinationThatCannotBeWrittenFails) {
  host_.Write("var/backups/rollgate", "a file, not a directory");
  testing::StepOutcome out = Backup();
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("cannot create /var/backups/rollgate"), std::string::npos)
      << out.result.output_tail;
  EXPECT_EQ(ReadText(host_.root() / "var/backups/rollgate"), "a file, not a directory");
}

TEST_F(BackupFilesTest, ARetryKeepsTheCompleteArchiveOfItsRun) {
  testing::StepOutcome first = Backup();
  ASSERT_EQ(first.result.exit_code, 0);
  // The deploy changed the application since: a retry must not back up the new state.
  host_.Write("opt/app/VERSION", "1.1.0\n");
  testing::StepOutcome again = Backup();
  ASSERT_EQ(again.result.exit_code, 0) << again.result.output_tail;
  EXPECT_EQ(again.facts["reused"], "yes");
  EXPECT_EQ(again.facts["sha256"], first.facts["sha256"]);
  EXPECT_EQ(Shell("tar -xzOf '" + Archive().string() + "' ./VERSION").output, "1.0.0\n");
}

TEST_F(BackupFilesTest, AnIncompleteArchiveIsTakenAgain) {
  host_.Write("var/backups/rollgate/app-run-1.tar.gz", "\x1f\x8b truncated");
  testing::StepOutcome out = Backup();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["reused"], "no");
  EXPECT_EQ(Listing(Archive()), "./\n./VERSION\n./lib/\n./lib/libapp.so\n");
}

TEST_F(BackupFilesTest, ProbeSeesAReadableArchiveOnly) {
  std::map<std::string, std::string> params = {
      {"source", "/opt/app"}, {"destination_dir", "/var/backups/rollgate"}, {"label", "app"}};
  EXPECT_EQ(*host_.Probe("backup-files", params), ProbeVerdict::kNotInPlace);
  ASSERT_EQ(Backup().result.exit_code, 0);
  EXPECT_EQ(*host_.Probe("backup-files", params), ProbeVerdict::kInPlace);
  std::string bytes = ReadText(Archive());
  host_.Write("var/backups/rollgate/app-run-1.tar.gz", bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(*host_.Probe("backup-files", params), ProbeVerdict::kNotInPlace);
}

TEST_F(BackupFilesTest, EachRunHasItsOwnArchive) {
  ASSERT_EQ(Backup().result.exit_code, 0);
  testing::UseRun("run-2");
  testing::StepOutcome second = Backup();
  testing::UseRun();
  ASSERT_EQ(second.result.exit_code, 0);
  EXPECT_EQ(second.facts["location"], "/var/backups/rollgate/app-run-2.tar.gz");
  EXPECT_EQ(second.facts["reused"], "no");
  EXPECT_TRUE(fs::exists(Archive()));
}

TEST_F(BackupFilesTest, ARunIdThatCannotNameAFileIsBadInput) {
  testing::UseRun("../../etc/x");
  testing::StepOutcome out = Backup();
  testing::UseRun();
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_FALSE(fs::exists(host_.root() / "etc/x-run-1.tar.gz"));
}

TEST_F(BackupFilesTest, HostileParamsAreRejectedOrPlainData) {
  EXPECT_NE(testing::ValidateError("backup-files", {{"source", "/opt/app"},
                                                    {"destination_dir", "/var/backups"},
                                                    {"label", "app; rm -rf /"}}),
            "");
  EXPECT_NE(testing::ValidateError(
                "backup-files",
                {{"source", "/opt/../etc"}, {"destination_dir", "/var/backups"}, {"label", "app"}}),
            "");
  EXPECT_NE(testing::ValidateError(
                "backup-files",
                {{"source", "opt/app"}, {"destination_dir", "/var/backups"}, {"label", "app"}}),
            "");
  EXPECT_NE(testing::ValidateError("backup-files", {{"source", "/opt/app\n/etc"},
                                                    {"destination_dir", "/var/backups"},
                                                    {"label", "app"}}),
            "");
  EXPECT_NE(testing::ValidateError("backup-files", {{"source", "/opt/app"}, {"label", "app"}}), "");
  // Shell syntax in a path is part of the name.
  testing::StepOutcome injected = Backup("/opt/$(touch pwned)`touch pwned2`");
  EXPECT_EQ(injected.result.exit_code, 1) << injected.result.output_tail;
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_FALSE(fs::exists(host_.root() / "pwned"));
  EXPECT_FALSE(fs::exists("pwned2"));
  std::string odd = "/opt/it's a \"dir\"; $HOME";
  host_.Write(odd.substr(1) + "/file", "x");
  testing::StepOutcome out = Backup(odd);
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["source"], odd);
  EXPECT_EQ(out.facts["files"], "1");
}

}  // namespace
}  // namespace rollgate
