// The §2.5 pre-deployment notice through the real binary: DEV is told when the change is
// scheduled, PROD 72 hours ahead (sent by `notify flush` once due), a late schedule is told at
// once and marked late, and a notice is never sent twice for the same planned start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AdvanceNoticeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.SetNow(kMonday);  // 2026-11-30T09:00:00Z
  }

  // The advance notices recorded on `cr`, "ENV planned late", once each (a notice is recorded
  // once per channel).
  std::vector<std::string> Notices(const std::string& cr) {
    CommandOutput show = h_.RunJson({"cr", "show", cr}, "heidi");
    EXPECT_EQ(show.exit_code, 0) << Describe(show);
    std::vector<std::string> out;
    nlohmann::json shown = show.Json();
    for (const auto& e : shown["evidence"]) {
      const auto& fields = e["fields"];
      if (e["kind"] != "notification" || fields.value("notice", "") != "advance") continue;
      std::string notice = e["environment"].get<std::string>() + " " + fields.value("planned", "") +
                           " " + fields.value("late", "");
      if (std::find(out.begin(), out.end(), notice) == out.end()) out.push_back(notice);
    }
    return out;
  }

  CliHarness h_;
};

TEST_F(AdvanceNoticeCliTest, EachEnvironmentIsToldOnItsScheduleOnce) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  ASSERT_FALSE(cr.empty());

  // DEV: at once, through the starter configuration's file channels (outbox/).
  CommandOutput dev =
      h_.Run({"--as", "heidi", "cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30 14:00"});
  ASSERT_EQ(dev.exit_code, 0) << Describe(dev);
  EXPECT_THAT(dev.err, HasSubstr("pre-deployment notice (playbook 2.5): " + cr + " DEV"));
  EXPECT_EQ(Notices(cr), std::vector<std::string>{"DEV 2026-11-30T14:00:00Z no"});
  std::string outbox = h_.ReadFile("outbox/teams.txt");
  EXPECT_THAT(outbox, HasSubstr("[PLANNED DEPLOYMENT] billing - DEV"));
  EXPECT_THAT(outbox, HasSubstr("Affected systems: billing"));
  EXPECT_THAT(outbox, HasSubstr("Rollback plan: documented"));

  // PROD on Friday 22:00: due 72 hours before (Tuesday 22:00), not now.
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-04 22:00"});
  EXPECT_EQ(Notices(cr).size(), 1u);
  CommandOutput early = h_.RunJson({"notify", "flush"}, "heidi");
  ASSERT_EQ(early.exit_code, 0) << Describe(early);
  EXPECT_TRUE(early.Json()["advance_notices"].empty()) << early.out;
  h_.SetNow("2026-12-01T23:00:00Z");
  CommandOutput due = h_.RunJson({"notify", "flush"}, "heidi");
  ASSERT_EQ(due.exit_code, 0) << Describe(due);
  EXPECT_EQ(due.Json()["advance_notices"].size(), 1u) << due.out;
  EXPECT_THAT(h_.ReadFile("outbox/email.txt"), HasSubstr("[PLANNED DEPLOYMENT] billing - PROD"));
  // Flushed again: nothing more.
  EXPECT_TRUE(h_.RunJson({"notify", "flush"}, "heidi").Json()["advance_notices"].empty());

  // TEST scheduled 10 hours ahead: told at once, and late (the playbook asks for 24 hours).
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "TEST", "--at", "2026-12-02 09:00"});
  std::vector<std::string> notices = Notices(cr);
  ASSERT_EQ(notices.size(), 3u);
  EXPECT_EQ(notices[0], "DEV 2026-11-30T14:00:00Z no");
  EXPECT_EQ(notices[1], "PROD 2026-12-04T22:00:00Z no");
  EXPECT_EQ(notices[2], "TEST 2026-12-02T09:00:00Z yes");
  EXPECT_THAT(h_.ReadFile("outbox/teams.txt"), HasSubstr("late notice"));
}

TEST_F(AdvanceNoticeCliTest, DraftsAreNotAnnounced) {
  std::string patch = AddPatch(h_, {"--cvss", kHighVector});
  std::string cr = CreateCr(h_, patch);
  ASSERT_FALSE(cr.empty());
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30 14:00"});
  EXPECT_TRUE(Notices(cr).empty());
  EXPECT_THAT(h_.ReadFile("outbox/teams.txt"), Not(HasSubstr("PLANNED DEPLOYMENT")));
}

}  // namespace
}  // namespace rollgate::e2e
