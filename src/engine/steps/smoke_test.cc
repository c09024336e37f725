#include <gtest/gtest.h>

#include <filesystem>

#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

constexpr char kRunSmoke[] = R"("$ROLLGATE_ROOT/opt/app/smoke.sh" "${ROLLGATE_BASE_URL:-none}")";

TEST(SmokeTestStep, PassingSuiteIsAHundredPercent) {
  testing::LocalStepHost host;
  host.Write("opt/app/smoke.sh",
             "#!/bin/sh\necho \"base $1 in $(pwd)\"\necho 'ok   /health'\necho '  ok /ready'\n"
             "echo 'PASS /api/orders'\n",
             true);
  host.Write("opt/app/tests/.keep", "");
  testing::StepOutcome out = host.Run(
      "smoke-test",
      {{"command", kRunSmoke}, {"base_url", "http://{host}:8080"}, {"workdir", "/opt/app/tests"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["passed"], "3");
  EXPECT_EQ(out.facts["failed"], "0");
  EXPECT_EQ(out.facts["pass_rate"], "100");
  EXPECT_EQ(out.facts["exit_code"], "0");
  std::string workdir = (host.root() / "opt/app/tests").string();
  EXPECT_NE(out.result.output_tail.find("base http://127.0.0.1:8080 in " + workdir),
            std::string::npos)
      << out.result.output_tail;
}

TEST(SmokeTestStep, AFailedCheckFailsTheStep) {
  testing::LocalStepHost host;
  host.Write("opt/app/smoke.sh",
             "#!/bin/sh\necho 'ok   /health'\necho 'ok   /ready'\n"
             "echo 'FAIL /api/orders answered 500'\nexit 1\n",
             true);
  testing::StepOutcome out = host.Run("smoke-test", {{"command", kRunSmoke}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["passed"], "2");
  EXPECT_EQ(out.facts["failed"], "1");
  EXPECT_EQ(out.facts["pass_rate"], "66");
  EXPECT_EQ(out.facts["exit_code"], "1");
  EXPECT_NE(out.result.output_tail.find("FAIL /api/orders answered 500"), std::string::npos);
}

TEST(SmokeTestStep, ReportedFailuresFailEvenWithExitZero) {
  testing::LocalStepHost host;
  testing::StepOutcome out =
      host.Run("smoke-test", {{"command", "echo 'ok 1 - health'; echo 'not ok 2 - orders'"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["pass_rate"], "50");
  EXPECT_EQ(out.facts["exit_code"], "0");
}

TEST(SmokeTestStep, NonZeroExitWithoutResultLines) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("smoke-test", {{"command", "echo broken; exit 3"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1);
  EXPECT_EQ(out.facts["pass_rate"], "0");
  EXPECT_EQ(out.facts["exit_code"], "3");

  testing::StepOutcome missing = host.Run("smoke-test", {{"command", "/no/such/smoke-test.sh"}});
  EXPECT_EQ(missing.result.exit_code, 1);
  EXPECT_EQ(missing.facts["exit_code"], "127");
}

TEST(SmokeTestStep, HostPlaceholderIsNotReplacedInTheCommand) {
  testing::LocalStepHost host;
  testing::StepOutcome out =
      host.Run("smoke-test", {{"command", "echo \"at {host} and $ROLLGATE_HOST_NAME\""}});
  EXPECT_EQ(out.result.exit_code, 0);
  EXPECT_NE(out.result.output_tail.find("at {host} and 127.0.0.1"), std::string::npos)
      << out.result.output_tail;
}

TEST(SmokeTestStep, MissingWorkdirIsAnInputProblem) {
  testing::LocalStepHost host;
  testing::StepOutcome out =
      host.Run("smoke-test", {{"command", "true"}, {"workdir", "/opt/none; touch /tmp/x"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2);
  EXPECT_NE(out.result.output_tail.find("no directory /opt/none; touch /tmp/x"), std::string::npos)
      << out.result.output_tail;
}

TEST(SmokeTestStep, HostileBaseUrlIsPlainData) {
  testing::LocalStepHost host;
  std::string marker = (host.root() / "pwned").string();
  std::string url = "http://{host}/$(touch${IFS}" + marker + ")'\"`touch${IFS}" + marker + "`";
  testing::StepOutcome out = host.Run(
      "smoke-test", {{"command", "printf 'url=%s\\n' \"$ROLLGATE_BASE_URL\""}, {"base_url", url}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_NE(out.result.output_tail.find("url=http://127.0.0.1/$(touch${IFS}" + marker),
            std::string::npos)
      << out.result.output_tail;
}

TEST(SmokeTestStep, ValidationRejectsBadParams) {
  testing::LocalStepHost host;
  EXPECT_NE(host.Run("smoke-test", {}).error.find("needs param \"command\""), std::string::npos);
  EXPECT_NE(host.Run("smoke-test", {{"command", ""}}).error.find("is empty"), std::string::npos);
  EXPECT_NE(host.Run("smoke-test", {{"command", "true\nrm -rf /"}}).error.find("one line"),
            std::string::npos);
  EXPECT_NE(
      host.Run("smoke-test", {{"command", "true"}, {"base_url", "ftp://x"}}).error.find("URL"),
      std::string::npos);
  EXPECT_NE(
      host.Run("smoke-test", {{"command", "true"}, {"workdir", "/opt/../etc"}}).error.find(".."),
      std::string::npos);
}

}  // namespace
}  // namespace rollgate
