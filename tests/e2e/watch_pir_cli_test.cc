// The enhanced-monitoring watch and the post-incident review through the real binary: listing,
// the refusals of `watch start`/`watch stop`, a single tick with nothing to do, and `pir show`
// before and after a rollback is recorded (playbook §4.2 step 4, §5.3 step 5, §5.4).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

class WatchPirCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.SetNow(kMonday);
  }
  CliHarness h_;
};

TEST_F(WatchPirCliTest, NoWatchesUntilADeploymentIsWatched) {
  CommandOutput list = h_.RunJson({"watch", "list", "--all"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_EQ(list.Json()["watches"], nlohmann::json::array());

  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput start = h_.RunJson({"watch", "start", cr, "--env", "PROD"}, "heidi");
  EXPECT_EQ(start.exit_code, 3) << Describe(start);
  EXPECT_THAT(start.err, HasSubstr("has no successful deployment in PROD to watch"));

  CommandOutput stop = h_.RunJson({"watch", "stop", cr, "--env", "PROD"}, "heidi");
  EXPECT_EQ(stop.exit_code, 3) << Describe(stop);

  CommandOutput tick = h_.Run({"watch", "run", "--once"});
  EXPECT_EQ(tick.exit_code, 0) << Describe(tick);
  EXPECT_EQ(tick.out, "");
}

TEST_F(WatchPirCliTest, PirIsDueFiveBusinessDaysAfterARollback) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput none = h_.RunJson({"pir", "show", cr});
  EXPECT_EQ(none.exit_code, 3) << Describe(none);
  EXPECT_THAT(none.err, HasSubstr("no post-incident review is due"));

  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "rollback", "--passed", "--value", "95",
      "--detail", "RUN-1 restored"});
  CommandOutput shown = h_.RunJson({"pir", "show", cr});
  ASSERT_EQ(shown.exit_code, 0) << Describe(shown);
  nlohmann::json doc = shown.Json();
  EXPECT_EQ(doc["change_request"], cr);
  EXPECT_EQ(doc["rolled_back"], true);
  EXPECT_EQ(doc["reason"], "rollback in DEV");
  EXPECT_EQ(doc["occasion"], kMonday);
  // Monday + 5 business days: due at the end of the next Monday.
  EXPECT_EQ(doc["overdue"], false);
  bool rollback_in_timeline = false;
  for (const auto& entry : doc["timeline"]) {
    if (entry["category"] == "rollback") rollback_in_timeline = true;
  }
  EXPECT_TRUE(rollback_in_timeline);
  ASSERT_EQ(doc["attendees"].size(), 4U);

  CommandOutput text = h_.Run({"pir", "show", cr});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("# Post-incident review: " + cr));
  EXPECT_THAT(text.out, HasSubstr("## Root cause"));

  h_.SetNow("2026-12-09T09:00:00Z");
  CommandOutput late = h_.RunJson({"pir", "show", cr});
  ASSERT_EQ(late.exit_code, 0) << Describe(late);
  EXPECT_EQ(late.Json()["overdue"], true);
}

}  // namespace
}  // namespace rollgate::e2e
