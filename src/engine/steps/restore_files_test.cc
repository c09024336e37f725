#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/sha256.h"
#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;
using testing::ReadText;

constexpr char kArchive[] = "/var/backups/rollgate/app-run-1.tar.gz";

class RestoreFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    host_.Write("opt/app/VERSION", "1.0.0\n");
    host_.Write("opt/app/lib/libapp.so", "old library");
    host_.Write("opt/app/bin/app", "#!/bin/sh\n", true);
    chmod((host_.root() / "opt/app/lib").c_str(), 0750);
    testing::StepOutcome backup = host_.Run(
        "backup-files",
        {{"source", "/opt/app"}, {"destination_dir", "/var/backups/rollgate"}, {"label", "app"}});
    ASSERT_EQ(backup.result.exit_code, 0) << backup.result.output_tail;
    sha256_ = backup.facts["sha256"];
  }

  // What a deploy does to the application: a new version, a new file, a file removed.
  void Deploy() {
    host_.Write("opt/app/VERSION", "1.1.0\n");
    host_.Write("opt/app/lib/libnew.so", "new library");
    fs::remove(host_.root() / "opt/app/bin/app");
  }

  testing::StepOutcome Restore(std::map<std::string, std::string> extra = {}) {
    // Defaults only where `extra` names nothing.
    extra.insert({"archive", kArchive});
    extra.insert({"target_dir", "/opt/app"});
    return host_.Run("restore-files", extra);
  }
  Result<ProbeVerdict> Probe() {
    return host_.Probe("restore-files", {{"archive", kArchive}, {"target_dir", "/opt/app"}});
  }
  void ExpectOriginalTree(const fs::path& dir) {
    EXPECT_EQ(ReadText(dir / "VERSION"), "1.0.0\n");
    EXPECT_EQ(ReadText(dir / "lib/libapp.so"), "old library");
    EXPECT_FALSE(fs::exists(dir / "lib/libnew.so"));
    ASSERT_TRUE(fs::exists(dir / "bin/app"));
    EXPECT_NE(fs::status(dir / "bin/app").permissions() & fs::perms::owner_exec, fs::perms::none);
    EXPECT_EQ(fs::status(dir / "lib").permissions() & fs::perms::all, static_cast<fs::perms>(0750));
  }

  testing::LocalStepHost host_;
  std::string sha256_;
};

TEST_F(RestoreFilesTest, PutsTheBackedUpTreeBackAndKeepsTheReplacedOneAside) {
  Deploy();
  EXPECT_EQ(*Probe(), ProbeVerdict::kNotInPlace);
  testing::StepOutcome out = Restore({{"sha256", sha256_}});
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  ExpectOriginalTree(host_.root() / "opt/app");
  EXPECT_EQ(out.facts["target_dir"], "/opt/app");
  EXPECT_EQ(out.facts["files"], "3");
  EXPECT_EQ(out.facts["replaced"], "/opt/app.rollgate-replaced-run-1");
  fs::path aside = host_.root() / "opt/app.rollgate-replaced-run-1";
  EXPECT_EQ(ReadText(aside / "VERSION"), "1.1.0\n");
  EXPECT_TRUE(fs::exists(aside / "lib/libnew.so"));
  EXPECT_FALSE(fs::exists(host_.root() / "opt/app.rollgate-restore-run-1"));
  EXPECT_EQ(*Probe(), ProbeVerdict::kInPlace);
}

TEST_F(RestoreFilesTest, ProbeSeesChangedContentsNotOnlyNames) {
  EXPECT_EQ(*Probe(), ProbeVerdict::kInPlace);  // nothing changed since the backup
  host_.Write("opt/app/VERSION", "9.9.9\n");    // same names, other contents
  EXPECT_EQ(*Probe(), ProbeVerdict::kNotInPlace);
  host_.Write("opt/app/VERSION", "1.0.0\n");
  host_.Write("opt/app/extra", "");
  EXPECT_EQ(*Probe(), ProbeVerdict::kNotInPlace);
  fs::remove_all(host_.root() / "opt/app");
  EXPECT_EQ(*Probe(), ProbeVerdict::kNotInPlace);
  EXPECT_EQ(*host_.Probe("restore-files",
                         {{"archive", "/var/backups/none.tar.gz"}, {"target_dir", "/opt/app"}}),
            ProbeVerdict::kUndecided);
}

TEST_F(RestoreFilesTest, AWrongChecksumStopsBeforeAnythingChanges) {
  Deploy();
  std::string wrong(64, 'a');
  testing::StepOutcome out = Restore({{"sha256", wrong}});
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("expected " + wrong), std::string::npos);
  EXPECT_EQ(ReadText(host_.root() / "opt/app/VERSION"), "1.1.0\n");
  EXPECT_FALSE(fs::exists(host_.root() / "opt/app.rollgate-replaced-run-1"));
  // Upper-case digests are the same digest.
  std::string upper = sha256_;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Restore({{"sha256", upper}}).result.exit_code, 0);
}

TEST_F(RestoreFilesTest, ABrokenArchiveLeavesTheTargetAsItWas) {
  Deploy();
  std::string bytes = ReadText(host_.root() / "var/backups/rollgate/app-run-1.tar.gz");
  host_.Write("var/backups/rollgate/broken.tar.gz", bytes.substr(0, bytes.size() - 30));
  testing::StepOutcome out =
      host_.Run("restore-files",
                {{"archive", "/var/backups/rollgate/broken.tar.gz"}, {"target_dir", "/opt/app"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("/opt/app is unchanged"), std::string::npos);
  EXPECT_EQ(ReadText(host_.root() / "opt/app/VERSION"), "1.1.0\n");
  EXPECT_TRUE(fs::exists(host_.root() / "opt/app/lib/libnew.so"));
  EXPECT_FALSE(fs::exists(host_.root() / "opt/app.rollgate-restore-run-1"));
  EXPECT_FALSE(fs::exists(host_.root() / "opt/app.rollgate-replaced-run-1"));
}

TEST_F(RestoreFilesTest, AMissingArchiveIsBadInput) {
  testing::StepOutcome out = host_.Run(
      "restore-files", {{"archive", "/var/backups/none.tar.gz"}, {"target_dir", "/opt/app"}});
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_EQ(ReadText(host_.root() / "opt/app/VERSION"), "1.0.0\n");
}

TEST_F(RestoreFilesTest, AMissingTargetIsCreated) {
  fs::remove_all(host_.root() / "opt");
  testing::StepOutcome out = Restore();
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  ExpectOriginalTree(host_.root() / "opt/app");
  EXPECT_EQ(out.facts["replaced"], "");
}

TEST_F(RestoreFilesTest, ARetryKeepsTheFirstSetAsideCopy) {
  Deploy();
  ASSERT_EQ(Restore().result.exit_code, 0);
  testing::StepOutcome again = Restore();
  ASSERT_EQ(again.result.exit_code, 0) << again.result.output_tail;
  ExpectOriginalTree(host_.root() / "opt/app");
  // The set-aside copy is still the deployed state, not the first restore.
  EXPECT_EQ(ReadText(host_.root() / "opt/app.rollgate-replaced-run-1/VERSION"), "1.1.0\n");
}

TEST_F(RestoreFilesTest, ATargetWithATrailingSlashIsTheSameDirectory) {
  Deploy();
  testing::StepOutcome out = Restore({{"target_dir", "/opt/app//"}});
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  ExpectOriginalTree(host_.root() / "opt/app");
  EXPECT_TRUE(fs::exists(host_.root() / "opt/app.rollgate-replaced-run-1"));
}

TEST_F(RestoreFilesTest, HostileParamsAreRejectedOrPlainData) {
  EXPECT_NE(testing::ValidateError("restore-files", {{"archive", kArchive}, {"target_dir", "/"}}),
            "");
  EXPECT_NE(testing::ValidateError("restore-files", {{"archive", kArchive}, {"target_dir", "//"}}),
            "");
  EXPECT_NE(testing::ValidateError(
                "restore-files",
                {{"archive", kArchive}, {"target_dir", "/opt/app"}, {"sha256", "abc; rm -rf /"}}),
            "");
  EXPECT_NE(testing::ValidateError("restore-files",
                                   {{"archive", "/var/../etc/shadow"}, {"target_dir", "/opt/app"}}),
            "");
  std::string odd = "/opt/new $(touch pwned) 'app'";
  testing::StepOutcome out =
      host_.Run("restore-files", {{"archive", kArchive}, {"target_dir", odd}});
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  ExpectOriginalTree(host_.root() / odd.substr(1));
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_FALSE(fs::exists(host_.root() / "pwned"));
}

}  // namespace
}  // namespace rollgate
