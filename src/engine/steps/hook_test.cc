#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(HookStep, RunsTheCommandInItsWorkdir) {
  testing::LocalStepHost host;
  host.Write("opt/app/.keep", "");
  testing::StepOutcome out = host.Run("hook", {{"command",
                                                "echo on > \"$ROLLGATE_ROOT/opt/app/maintenance\"; "
                                                "echo \"$ROLLGATE_HOOK_PURPOSE in $(pwd)\""},
                                               {"purpose", "maintenance-on"},
                                               {"workdir", "/opt/app"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["purpose"], "maintenance-on");
  EXPECT_EQ(out.facts["exit_code"], "0");
  EXPECT_EQ(ReadFile(host.root() / "opt/app/maintenance"), "on\n");
  EXPECT_NE(out.result.output_tail.find("maintenance-on in " + (host.root() / "opt/app").string()),
            std::string::npos)
      << out.result.output_tail;
}

TEST(HookStep, AFailingCommandFailsTheStep) {
  testing::LocalStepHost host;
  testing::StepOutcome out =
      host.Run("hook", {{"command", "echo draining; exit 7"}, {"purpose", "drain"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1);
  EXPECT_EQ(out.facts["exit_code"], "7");
  EXPECT_EQ(out.facts["purpose"], "drain");
  EXPECT_NE(out.result.output_tail.find("draining"), std::string::npos);
}

TEST(HookStep, MissingWorkdirAndHostileValues) {
  testing::LocalStepHost host;
  testing::StepOutcome missing =
      host.Run("hook", {{"command", "true"}, {"purpose", "notify"}, {"workdir", "/nowhere"}});
  EXPECT_EQ(missing.result.exit_code, 2);

  std::string marker = (host.root() / "pwned").string();
  std::string purpose = "notify $(touch " + marker + ") `touch " + marker + "` '\"; rm -rf /";
  testing::StepOutcome hostile = host.Run("hook", {{"command", "true"}, {"purpose", purpose}});
  ASSERT_EQ(hostile.error, "");
  EXPECT_EQ(hostile.result.exit_code, 0);
  EXPECT_EQ(hostile.facts["purpose"], purpose);
  EXPECT_FALSE(std::filesystem::exists(marker));

  EXPECT_NE(host.Run("hook", {{"command", "true"}}).error.find("needs param \"purpose\""),
            std::string::npos);
  EXPECT_NE(host.Run("hook", {{"command", "true"}, {"purpose", "a\nb"}}).error.find("one line"),
            std::string::npos);
}

}  // namespace
}  // namespace rollgate
