// The README's first command: `rollgate demo` tells the whole story on a lab it starts itself
// (five loopback hosts, PostgreSQL): intake, the CR and its approvals, DEV, TEST and a rolling
// PROD deployment recorded as evidence, a change that fails in PROD and is rolled back, the
// emergency path, and the record. It must exit 0, stop its lab, and leave a workspace whose
// audit chain verifies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/cli_harness.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

TEST(DemoLabTest, TheStoryRunsOnTheLabAndLeavesAStoreThatVerifies) {
  CliHarness h;
  std::filesystem::path workspace = h.dir() / "demo";
  std::map<std::string, std::string> env = {{"ROLLGATE_LAB_SUBNET", ROLLGATE_TEST_LAB_SUBNET},
                                            {"ROLLGATE_DEMO_SERVICE", ROLLGATE_DEMO_SERVICE}};
  // The hosts log in to the workspace's lab: it must be reachable by the lab's user.
  std::filesystem::permissions(h.dir(), std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
  CommandOutput demo = h.Run({"demo", "--dir", workspace.string()}, env);
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  for (const char* part : {"lab up: 5 hosts",
                           "PATCH-1  Remote code execution",
                           "P1-Critical",
                           "it is P2-High",
                           "CR-1: created",
                           "CR-2: created",
                           "CR-3: created",
                           "refused with exit code 2",
                           "refused with exit code 4",
                           "approved for DEV by alice",
                           "ALL PASSED",
                           "REFUSED",
                           "Dry run: CR-1 to DEV",
                           "rollback rehearsed in DEV",
                           "RUN-3 succeeded in DEV",
                           "RUN-4 succeeded in TEST",
                           "regression         passed 25 of 25 passed",
                           "RUN-5 succeeded in PROD",
                           "phase rollout batch 3/3",
                           "RUN-10 failed in PROD",
                           "0003_unique_item",
                           "deployment-failed [rollback]",
                           "failed with exit code 1, as this story expects",
                           "Rolled back in PROD",
                           "none needed: automatic rollback for deployment-failed",
                           "rollback-authorisation passed frank (it-operations-manager)",
                           "verbal approval by erin recorded",
                           "confirmed by erin",
                           "CHANGE REQUEST",
                           "audit chain OK",
                           "rollgate-checkpoint v1",
                           "lab down: stopped everything",
                           "The story is complete"}) {
    EXPECT_THAT(demo.out, HasSubstr(part)) << part;
  }

  // The workspace is an ordinary Rollgate directory afterwards.
  std::string config = (workspace / "rollgate.yaml").string();
  CommandOutput verify = h.Run({"--config", config, "audit", "verify", "--against",
                                (workspace / "audit-checkpoint.txt").string(), "--output", "json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  nlohmann::json v = verify.Json();
  EXPECT_EQ(v["ok"], true);
  EXPECT_GT(v["events"].get<int>(), 100);
  CommandOutput show = h.Run({"--config", config, "cr", "show", "CR-2", "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.Json()["outcomes"]["PROD"], "rolled-back");
  CommandOutput first = h.Run({"--config", config, "cr", "show", "CR-1", "--format", "json"});
  EXPECT_EQ(first.Json()["outcomes"]["PROD"], "rolled-back");

  // A second run into the same directory is refused rather than mixing two stories.
  CommandOutput again = h.Run({"demo", "--dir", workspace.string()}, env);
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_THAT(again.err, HasSubstr("already holds a Rollgate store"));
}

}  // namespace
}  // namespace rollgate::e2e
