// The README's first command tells the governance story with `rollgate demo`: it must exit 0,
// show each part of the Done-when (patch classified, CR created, approvals refused and granted,
// gates, Appendix B, audit verified) and leave a store whose audit chain verifies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

TEST(DemoCliTest, TheStoryRunsAndLeavesAStoreThatVerifies) {
  CliHarness h;
  std::filesystem::path workspace = h.dir() / "demo";
  CommandOutput demo = h.Run({"demo", "--dir", workspace.string()});
  ASSERT_EQ(demo.exit_code, 0) << Describe(demo);
  for (const char* part :
       {"PATCH-1  Remote code execution", "P1-Critical", "it is P2-High", "CR-1: created",
        "CR-2: created", "verbal approval by erin recorded", "confirmed by erin",
        "refused with exit code 2", "refused with exit code 4", "approved for DEV by alice",
        "ALL PASSED", "REFUSED", "CHANGE REQUEST", "POST-DEPLOYMENT", "audit chain OK",
        "rollgate-checkpoint v1", "The story is complete"}) {
    EXPECT_THAT(demo.out, HasSubstr(part)) << part;
  }

  // The workspace is an ordinary Rollgate directory afterwards.
  std::string config = (workspace / "rollgate.yaml").string();
  CommandOutput verify = h.Run({"--config", config, "audit", "verify", "--against",
                                (workspace / "audit-checkpoint.txt").string(), "--output", "json"});
  ASSERT_EQ(verify.exit_code, 0) << Describe(verify);
  nlohmann::json v = verify.Json();
  EXPECT_EQ(v["ok"], true);
  EXPECT_GT(v["events"].get<int>(), 20);
  CommandOutput gates =
      h.Run({"--config", config, "gate", "check", "CR-1", "--env", "PROD", "--output", "json"});
  EXPECT_EQ(gates.exit_code, 0) << Describe(gates);
  EXPECT_EQ(gates.Json()["passed"], true);

  // A second run into the same directory is refused rather than mixing two stories.
  CommandOutput again = h.Run({"demo", "--dir", workspace.string()});
  EXPECT_EQ(again.exit_code, 2) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("already holds a Rollgate store"));
}

}  // namespace
}  // namespace rollgate::e2e
