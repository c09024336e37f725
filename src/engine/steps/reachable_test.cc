#include <gtest/gtest.h>

#include "engine/steps/script_step.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

TEST(ReachableStep, ReportsTheHost) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("reachable", {});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_FALSE(out.facts["hostname"].empty());
  EXPECT_FALSE(out.facts["kernel"].empty());
}

TEST(ReachableStep, RejectsUnknownParams) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("reachable", {{"dir", "/x"}});
  EXPECT_NE(out.error.find("has no param \"dir\""), std::string::npos) << out.error;
}

TEST(ScriptStep, FactsAreParsedFromTheOutputTail) {
  auto facts = ParseFacts(
      "noise\nrollgate-fact size 42\nrollgate-fact path /a b\r\nrollgate-fact size 43\n");
  EXPECT_EQ(facts["size"], "43");
  EXPECT_EQ(facts["path"], "/a b");
}

TEST(ScriptStep, ParamVariableNames) {
  EXPECT_EQ(ParamVariable("app_dir"), "RG_APP_DIR");
  EXPECT_EQ(ParamVariable("root-env"), "RG_ROOT_ENV");
}

TEST(ScriptStep, SecretReferences) {
  setenv("ROLLGATE_TEST_SECRET_X", "s3cret", 1);
  EXPECT_EQ(*ResolveSecret("env:ROLLGATE_TEST_SECRET_X"), "s3cret");
  EXPECT_FALSE(ResolveSecret("env:ROLLGATE_TEST_SECRET_UNSET_Y").ok());
  EXPECT_FALSE(ResolveSecret("plain").ok());
  Result<std::string> missing = ResolveSecret("file:/nonexistent/secret");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("file:/nonexistent/secret"), std::string::npos);
}

}  // namespace
}  // namespace rollgate
