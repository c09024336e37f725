#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "engine/step_type.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;

constexpr char kRun[] = "run-7";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A scratch host with ROLLGATE_RUN set, and archives built in it.
class ExtractSwitchTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("ROLLGATE_RUN", kRun, 1); }
  void TearDown() override { unsetenv("ROLLGATE_RUN"); }

  // Packs root()/build/<name> (its contents, "tar -C dir .") into root()/<host_path>; returns
  // the archive's SHA-256. `tar_options` go before the member list.
  std::string Pack(const std::string& name, const std::string& host_path,
                   const std::string& members = ".", const std::string& tar_options = "") {
    fs::path archive = host_.root() / host_path.substr(1);
    fs::create_directories(archive.parent_path());
    std::string command = "cd '" + (host_.root() / "build" / name).string() + "' && tar -czf '" +
                          archive.string() + "' " + tar_options + " " + members + " 2>/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return *Sha256File(archive);
  }

  // The release 1.1.0 of "demo": demo-1.1.0/app/{VERSION,bin/run.sh}, demo-1.1.0/README.
  std::string PackRelease() {
    host_.Write("build/rel/demo-1.1.0/app/VERSION", "1.1.0\n");
    host_.Write("build/rel/demo-1.1.0/app/bin/run.sh", "#!/bin/sh\necho run\n", true);
    host_.Write("build/rel/demo-1.1.0/README", "read me\n");
    return Pack("rel", "/srv/incoming/demo-1.1.0.tar.gz");
  }

  // The live version 1.0.0 in /opt/demo/app.
  void InstallOld() {
    host_.Write("opt/demo/app/VERSION", "1.0.0\n");
    host_.Write("opt/demo/app/old.txt", "only in 1.0.0\n");
  }

  std::map<std::string, std::string> Params(const std::string& sha) {
    return {{"archive", "/srv/incoming/demo-1.1.0.tar.gz"},
            {"sha256", sha},
            {"target_dir", "/opt/demo/app"},
            {"subdir", "demo-1.1.0/app"}};
  }

  // Only the live directory (and its siblings made by the step) under /opt/demo.
  std::vector<std::string> DemoDirectory() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(host_.root() / "opt/demo")) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  void ExpectOldVersionUntouched() {
    EXPECT_EQ(ReadFile(host_.root() / "opt/demo/app/VERSION"), "1.0.0\n");
    EXPECT_TRUE(fs::exists(host_.root() / "opt/demo/app/old.txt"));
    EXPECT_FALSE(fs::exists(host_.root() / "opt/demo/app/.rollgate-release"));
    EXPECT_EQ(DemoDirectory(), std::vector<std::string>{"app"});
  }

  testing::LocalStepHost host_;
};

TEST_F(ExtractSwitchTest, SwitchInstallsTheNewVersionAndKeepsThePrevious) {
  InstallOld();
  std::string sha = PackRelease();
  EXPECT_EQ(*host_.Probe("extract-switch", Params(sha)), ProbeVerdict::kNotInPlace);

  testing::StepOutcome out = host_.Run("extract-switch", Params(sha));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  fs::path app = host_.root() / "opt/demo/app";
  fs::path previous = host_.root() / "opt/demo/app.rollgate-previous-run-7";
  EXPECT_EQ(ReadFile(app / "VERSION"), "1.1.0\n");
  EXPECT_FALSE(fs::exists(app / "old.txt"));
  EXPECT_FALSE(fs::exists(app / "README"));  // outside the subdir
  EXPECT_NE(fs::status(app / "bin/run.sh").permissions() & fs::perms::owner_exec, fs::perms::none);
  EXPECT_EQ(ReadFile(app / ".rollgate-release"),
            "sha256 " + sha + "\nrun run-7\narchive /srv/incoming/demo-1.1.0.tar.gz\n");
  EXPECT_EQ(ReadFile(previous / "VERSION"), "1.0.0\n");
  EXPECT_TRUE(fs::exists(previous / "old.txt"));
  EXPECT_EQ(DemoDirectory(), (std::vector<std::string>{"app", "app.rollgate-previous-run-7"}));
  EXPECT_EQ(out.facts["previous_dir"], "/opt/demo/app.rollgate-previous-run-7");
  EXPECT_EQ(out.facts["target_dir"], "/opt/demo/app");
  EXPECT_EQ(out.facts["sha256"], sha);
  EXPECT_EQ(out.facts["version"], "1.1.0");
  EXPECT_EQ(out.facts["files"], "2");
  EXPECT_EQ(*host_.Probe("extract-switch", Params(sha)), ProbeVerdict::kInPlace);

  // A re-run of the same run does not switch again: the previous version stays 1.0.0.
  out = host_.Run("extract-switch", Params(sha));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("already holds this archive"), std::string::npos);
  EXPECT_EQ(ReadFile(previous / "VERSION"), "1.0.0\n");
  EXPECT_EQ(out.facts["previous_dir"], "/opt/demo/app.rollgate-previous-run-7");
  EXPECT_EQ(out.facts["version"], "1.1.0");
  EXPECT_EQ(DemoDirectory(), (std::vector<std::string>{"app", "app.rollgate-previous-run-7"}));

  // Another run is not this one's effect.
  setenv("ROLLGATE_RUN", "run-8", 1);
  EXPECT_EQ(*host_.Probe("extract-switch", Params(sha)), ProbeVerdict::kNotInPlace);
}

TEST_F(ExtractSwitchTest, FirstInstallHasNoPreviousDirectory) {
  fs::create_directories(host_.root() / "opt/demo");
  std::string sha = PackRelease();
  std::map<std::string, std::string> params = Params(sha);
  for (char& c : sha) c = static_cast<char>(toupper(c));  // upper case hex is accepted too
  params["sha256"] = sha;
  testing::StepOutcome out = host_.Run("extract-switch", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["previous_dir"], "");
  EXPECT_EQ(ReadFile(host_.root() / "opt/demo/app/VERSION"), "1.1.0\n");
  EXPECT_EQ(DemoDirectory(), std::vector<std::string>{"app"});
}

TEST_F(ExtractSwitchTest, QuotesAndCommandsInPathsArePlainData) {
  std::string sha = PackRelease();
  std::string odd = "/opt/demo/it's a \"dir\" $(touch pwned) `id`";
  fs::create_directories(host_.root() / "opt/demo");
  std::map<std::string, std::string> params = Params(sha);
  params["target_dir"] = odd;
  testing::StepOutcome out = host_.Run("extract-switch", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(ReadFile(host_.root() / odd.substr(1) / "VERSION"), "1.1.0\n");
  EXPECT_EQ(out.facts["target_dir"], odd);
  EXPECT_EQ(*host_.Probe("extract-switch", params), ProbeVerdict::kInPlace);
  EXPECT_FALSE(fs::exists("pwned"));
  EXPECT_FALSE(fs::exists(host_.root() / "pwned"));
}

TEST_F(ExtractSwitchTest, AnInterruptedSwitchIsCompletedByTheReRun) {
  InstallOld();
  std::string sha = PackRelease();
  // As if the step died between its two renames.
  fs::rename(host_.root() / "opt/demo/app", host_.root() / "opt/demo/app.rollgate-previous-run-7");
  testing::StepOutcome out = host_.Run("extract-switch", Params(sha));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(ReadFile(host_.root() / "opt/demo/app/VERSION"), "1.1.0\n");
  EXPECT_EQ(ReadFile(host_.root() / "opt/demo/app.rollgate-previous-run-7/VERSION"), "1.0.0\n");
  EXPECT_EQ(out.facts["previous_dir"], "/opt/demo/app.rollgate-previous-run-7");
}

TEST_F(ExtractSwitchTest, AWrongChecksumLeavesTheTargetAlone) {
  InstallOld();
  std::string sha = PackRelease();
  std::string wrong = sha;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  testing::StepOutcome out = host_.Run("extract-switch", Params(wrong));
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("has SHA-256 " + sha + ", expected " + wrong),
            std::string::npos)
      << out.result.output_tail;
  ExpectOldVersionUntouched();
}

TEST_F(ExtractSwitchTest, ACorruptArchiveLeavesTheTargetAlone) {
  InstallOld();
  fs::path archive = host_.Write("srv/incoming/demo-1.1.0.tar.gz", "not a gzip stream at all");
  testing::StepOutcome out = host_.Run("extract-switch", Params(*Sha256File(archive)));
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("cannot be read as a .tar.gz"), std::string::npos);
  ExpectOldVersionUntouched();

  // A gzip stream cut short: the listing or the extraction fails.
  PackRelease();
  std::string whole = ReadFile(archive);
  fs::path cut = host_.Write("srv/incoming/demo-1.1.0.tar.gz", whole.substr(0, whole.size() / 2));
  out = host_.Run("extract-switch", Params(*Sha256File(cut)));
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("cannot be read as a .tar.gz"), std::string::npos)
      << out.result.output_tail;
  ExpectOldVersionUntouched();
}

TEST_F(ExtractSwitchTest, MembersOutsideTheArchiveAreRefused) {
  InstallOld();
  host_.Write("build/evil/inner/x", "x\n");
  host_.Write("build/evil/escape.txt", "escaped\n");
  // "../escape.txt" from inside build/evil/inner.
  std::string dotdot =
      Pack("evil/inner", "/srv/incoming/demo-1.1.0.tar.gz", "x ../escape.txt", "-P");
  std::map<std::string, std::string> params = Params(dotdot);
  params.erase("subdir");
  testing::StepOutcome out = host_.Run("extract-switch", params);
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("has a member outside its directory: ../escape.txt"),
            std::string::npos)
      << out.result.output_tail;
  EXPECT_FALSE(fs::exists(host_.root() / "opt/demo/escape.txt"));
  ExpectOldVersionUntouched();

  std::string absolute = Pack("evil", "/srv/incoming/demo-1.1.0.tar.gz",
                              "'" + (host_.root() / "build/evil/escape.txt").string() + "'", "-P");
  out = host_.Run("extract-switch", {{"archive", "/srv/incoming/demo-1.1.0.tar.gz"},
                                     {"sha256", absolute},
                                     {"target_dir", "/opt/demo/app"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("has a member outside its directory: /"),
            std::string::npos);
  ExpectOldVersionUntouched();
}

TEST_F(ExtractSwitchTest, TheSubdirMustBeARealDirectoryOfTheArchive) {
  InstallOld();
  std::string sha = PackRelease();
  std::map<std::string, std::string> params = Params(sha);
  params["subdir"] = "demo-1.1.0/nothing";
  testing::StepOutcome out = host_.Run("extract-switch", params);
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("has no directory demo-1.1.0/nothing"), std::string::npos);
  ExpectOldVersionUntouched();

  // A symbolic link "pkg" -> a directory elsewhere on the host is not followed.
  host_.Write("elsewhere/secret", "host data\n");
  fs::create_directories(host_.root() / "build/link");
  fs::create_directory_symlink(host_.root() / "elsewhere", host_.root() / "build/link/pkg");
  params["sha256"] = Pack("link", "/srv/incoming/demo-1.1.0.tar.gz", "pkg");
  params["subdir"] = "pkg";
  out = host_.Run("extract-switch", params);
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("has no directory pkg"), std::string::npos);
  EXPECT_TRUE(fs::exists(host_.root() / "elsewhere/secret"));
  ExpectOldVersionUntouched();
}

TEST_F(ExtractSwitchTest, OverlayReplacesFilesAndKeepsTheOriginals) {
  host_.Write("etc/demo/a.conf", "old a\n");
  host_.Write("etc/demo/b.conf", "kept\n");
  host_.Write("build/conf/conf/a.conf", "new a\n");
  host_.Write("build/conf/conf/sub/c.conf", "c\n");
  std::string sha = Pack("conf", "/srv/incoming/conf.tar.gz");
  std::map<std::string, std::string> params = {{"archive", "/srv/incoming/conf.tar.gz"},
                                               {"sha256", sha},
                                               {"target_dir", "/etc/demo"},
                                               {"subdir", "conf"},
                                               {"mode", "overlay"}};
  testing::StepOutcome out = host_.Run("extract-switch", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  fs::path target = host_.root() / "etc/demo";
  fs::path previous = host_.root() / "etc/demo.rollgate-previous-run-7";
  EXPECT_EQ(ReadFile(target / "a.conf"), "new a\n");
  EXPECT_EQ(ReadFile(target / "b.conf"), "kept\n");
  EXPECT_EQ(ReadFile(target / "sub/c.conf"), "c\n");
  EXPECT_EQ(ReadFile(previous / "a.conf"), "old a\n");
  EXPECT_FALSE(fs::exists(previous / "b.conf"));
  std::string list = ReadFile(previous / ".rollgate-overlay");
  EXPECT_NE(list.find("replaced a.conf\n"), std::string::npos) << list;
  EXPECT_NE(list.find("added-dir sub\n"), std::string::npos) << list;
  EXPECT_NE(list.find("added sub/c.conf\n"), std::string::npos) << list;
  EXPECT_NE(list.find("added .rollgate-release\n"), std::string::npos) << list;
  EXPECT_EQ(out.facts["files"], "2");
  EXPECT_EQ(out.facts["previous_dir"], "/etc/demo.rollgate-previous-run-7");
  EXPECT_FALSE(fs::exists(host_.root() / "etc/demo.rollgate-staging-run-7"));
  EXPECT_EQ(*host_.Probe("extract-switch", params), ProbeVerdict::kInPlace);

  out = host_.Run("extract-switch", params);
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(ReadFile(previous / "a.conf"), "old a\n");
  EXPECT_EQ(out.facts["files"], "2");
}

TEST_F(ExtractSwitchTest, AFailedOverlayPutsTheTargetBack) {
  host_.Write("etc/demo/a.conf", "old a\n");
  host_.Write("etc/demo/z.conf/inside", "a directory where the archive has a file\n");
  host_.Write("build/conf/a.conf", "new a\n");
  host_.Write("build/conf/n/new.conf", "new\n");
  host_.Write("build/conf/z.conf", "file\n");
  std::string sha = Pack("conf", "/srv/incoming/conf.tar.gz");
  std::map<std::string, std::string> params = {{"archive", "/srv/incoming/conf.tar.gz"},
                                               {"sha256", sha},
                                               {"target_dir", "/etc/demo"},
                                               {"mode", "overlay"}};
  testing::StepOutcome out = host_.Run("extract-switch", params);
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("z.conf is a directory in the target"), std::string::npos)
      << out.result.output_tail;
  fs::path target = host_.root() / "etc/demo";
  EXPECT_EQ(ReadFile(target / "a.conf"), "old a\n");
  EXPECT_FALSE(fs::exists(target / "n"));
  EXPECT_FALSE(fs::exists(target / ".rollgate-release"));
  EXPECT_TRUE(fs::exists(target / "z.conf/inside"));
  EXPECT_FALSE(fs::exists(host_.root() / "etc/demo.rollgate-previous-run-7"));
  EXPECT_FALSE(fs::exists(host_.root() / "etc/demo.rollgate-staging-run-7"));
  EXPECT_EQ(*host_.Probe("extract-switch", params), ProbeVerdict::kNotInPlace);
}

TEST_F(ExtractSwitchTest, AnInterruptedOverlayIsUndoneBeforeTheReRun) {
  host_.Write("etc/demo/a.conf", "old a\n");
  host_.Write("build/conf/a.conf", "new a\n");
  std::string sha = Pack("conf", "/srv/incoming/conf.tar.gz");
  // As if an attempt of this run died after replacing a.conf and adding half.conf.
  host_.Write("etc/demo.rollgate-previous-run-7/a.conf", "old a\n");
  host_.Write("etc/demo.rollgate-previous-run-7/.rollgate-overlay",
              "replaced a.conf\nadded half.conf\n");
  host_.Write("etc/demo/a.conf", "new a\n");
  host_.Write("etc/demo/half.conf", "from an older archive\n");
  testing::StepOutcome out = host_.Run("extract-switch", {{"archive", "/srv/incoming/conf.tar.gz"},
                                                          {"sha256", sha},
                                                          {"target_dir", "/etc/demo"},
                                                          {"mode", "overlay"}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(ReadFile(host_.root() / "etc/demo/a.conf"), "new a\n");
  EXPECT_FALSE(fs::exists(host_.root() / "etc/demo/half.conf"));
  EXPECT_EQ(ReadFile(host_.root() / "etc/demo.rollgate-previous-run-7/a.conf"), "old a\n");
  EXPECT_EQ(out.facts["files"], "1");
}

TEST_F(ExtractSwitchTest, OwnershipAndModes) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  InstallOld();
  std::string sha = PackRelease();
  std::map<std::string, std::string> params = Params(sha);
  params["owner"] = "root";
  params["group"] = "root";
  params["file_mode"] = "0640";
  params["dir_mode"] = "0750";
  testing::StepOutcome out = host_.Run("extract-switch", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  struct stat file_stat {};
  ASSERT_EQ(stat((host_.root() / "opt/demo/app/bin/run.sh").c_str(), &file_stat), 0);
  EXPECT_EQ(file_stat.st_mode & 07777, 0640u);
  EXPECT_EQ(file_stat.st_uid, 0u);
  struct stat dir_stat {};
  ASSERT_EQ(stat((host_.root() / "opt/demo/app/bin").c_str(), &dir_stat), 0);
  EXPECT_EQ(dir_stat.st_mode & 07777, 0750u);
}

TEST_F(ExtractSwitchTest, MissingInputsOnTheHost) {
  std::string sha(64, 'a');
  fs::path marker = host_.root() / "pwned";
  testing::StepOutcome out =
      host_.Run("extract-switch", {{"archive", "/srv/$(touch " + marker.string() + ").tgz"},
                                   {"sha256", sha},
                                   {"target_dir", "/opt/demo/app"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_FALSE(fs::exists(marker));

  PackRelease();
  out = host_.Run("extract-switch", {{"archive", "/srv/incoming/demo-1.1.0.tar.gz"},
                                     {"sha256", sha},
                                     {"target_dir", "/no/such/parent/app"}});
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;

  unsetenv("ROLLGATE_RUN");
  out = host_.Run("extract-switch", Params(sha));
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_EQ(*host_.Probe("extract-switch", Params(sha)), ProbeVerdict::kUndecided);
}

Status Validate(std::map<std::string, std::string> params) {
  std::map<std::string, std::string> all = {
      {"archive", "/srv/a.tar.gz"}, {"sha256", std::string(64, 'f')}, {"target_dir", "/opt/app"}};
  for (auto& [key, value] : params) all[key] = value;
  StepTypeTable table = DefaultStepTypes();
  StepSpec spec;
  spec.name = "deploy";
  spec.type = "extract-switch";
  spec.params = std::move(all);
  return table.Find("extract-switch")->Validate(spec);
}

TEST(ExtractSwitchValidate, RefusesMalformedAndHostileParams) {
  EXPECT_TRUE(Validate({}).ok());
  EXPECT_TRUE(Validate({{"subdir", "demo-1.1.0/app"},
                        {"mode", "overlay"},
                        {"owner", "app_user"},
                        {"group", "app"},
                        {"file_mode", "644"},
                        {"dir_mode", "0755"}})
                  .ok());
  for (const std::string& sha :
       std::vector<std::string>{"", "abc", std::string(63, 'a') + "g", std::string(65, 'a'),
                                "$(id)" + std::string(59, 'a')}) {
    EXPECT_FALSE(Validate({{"sha256", sha}}).ok()) << sha;
  }
  for (const std::string& target :
       std::vector<std::string>{"/", "/opt/app/", "/opt/./app", "/opt//app", "/opt/../etc",
                                "opt/app", "", "/opt/app\n/etc"}) {
    EXPECT_FALSE(Validate({{"target_dir", target}}).ok()) << target;
  }
  for (const std::string& subdir : std::vector<std::string>{"", "../x", "a/../../b", "/abs", "-rf",
                                                            "a//b", "a/", "./a", "a\nb"}) {
    EXPECT_FALSE(Validate({{"subdir", subdir}}).ok()) << subdir;
  }
  for (const std::string& archive : std::vector<std::string>{"relative.tgz", "/a/../b.tgz", ""}) {
    EXPECT_FALSE(Validate({{"archive", archive}}).ok()) << archive;
  }
  EXPECT_FALSE(Validate({{"mode", "swap"}}).ok());
  EXPECT_FALSE(Validate({{"owner", "root;rm -rf /"}}).ok());
  EXPECT_FALSE(Validate({{"group", "-x"}}).ok());
  for (const std::string& mode :
       std::vector<std::string>{"0999", "u+x", "75", "07555", "0644; id"}) {
    EXPECT_FALSE(Validate({{"file_mode", mode}}).ok()) << mode;
    EXPECT_FALSE(Validate({{"dir_mode", mode}}).ok()) << mode;
  }
  EXPECT_FALSE(Validate({{"unknown", "x"}}).ok());
}

}  // namespace
}  // namespace rollgate

namespace rollgate {
namespace {

TEST(ExtractSwitchMerge, KeepsTheLiveFilesTheArchiveDoesNotShipAndSwitchesAsAWhole) {
  testing::LocalStepHost host;
  setenv("ROLLGATE_RUN", "run-9", 1);
  host.Write("opt/demo/app/VERSION", "1.0.0\n");
  host.Write("opt/demo/app/bin/service", "binary\n", true);
  host.Write("build/p/demo-1.1.0/app/VERSION", "1.1.0\n");
  std::filesystem::path archive = host.root() / "in/p.tar.gz";
  std::filesystem::create_directories(archive.parent_path());
  std::string command = "cd '" + (host.root() / "build/p").string() + "' && tar -czf '" +
                        archive.string() + "' demo-1.1.0";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string sha = *Sha256File(archive);
  std::map<std::string, std::string> params = {{"archive", "/in/p.tar.gz"},
                                               {"sha256", sha},
                                               {"target_dir", "/opt/demo/app"},
                                               {"subdir", "demo-1.1.0/app"},
                                               {"mode", "merge"}};
  testing::StepOutcome out = host.Run("extract-switch", params);
  ASSERT_EQ(out.error, "");
  ASSERT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(ReadFile(host.root() / "opt/demo/app/VERSION"), "1.1.0\n");
  EXPECT_EQ(ReadFile(host.root() / "opt/demo/app/bin/service"), "binary\n");
  EXPECT_EQ(ReadFile(host.root() / "opt/demo/app.rollgate-previous-run-9/VERSION"), "1.0.0\n");
  EXPECT_FALSE(std::filesystem::exists(host.root() / "opt/demo/app.rollgate-merge-run-9"));
  EXPECT_EQ(out.facts["version"], "1.1.0");
  EXPECT_EQ(*host.Probe("extract-switch", params), ProbeVerdict::kInPlace);
}

}  // namespace
}  // namespace rollgate
