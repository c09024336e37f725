// Pages with escalation through the real binary (playbook §9): a page notifies level 1 of its
// path through a file channel, escalates when the fixed clock (ROLLGATE_NOW) passes the level's
// response time, is acknowledged only by the people of its path, and is exhausted after the last
// level; every step is in `page show` and the audit chain.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    std::string text = h_.ReadFile("rollgate.yaml");
    // A file channel for pages, after the starter configuration's last channel.
    std::string marker = "    settings: {path: outbox/phone.txt}\n";
    auto pos = text.find(marker);
    ASSERT_NE(pos, std::string::npos);
    text.insert(pos + marker.size(),
                "  - name: pages\n    type: file\n    settings: {path: pages.log}\n"
                "oncall:\n  channels: [pages]\n");
    h_.WriteConfig(text);
    h_.SetNow(kMonday);  // 2026-11-30T09:00:00Z
  }

  // The kinds and people of a page's events, "kind:level:person".
  static std::vector<std::string> Steps(const nlohmann::json& page) {
    std::vector<std::string> out;
    for (const auto& e : page["events"]) {
      out.push_back(e["kind"].get<std::string>() + ":" + std::to_string(e["level"].get<int>()) +
                    ":" + e["person"].get<std::string>());
    }
    return out;
  }

  CliHarness h_;
};

TEST_F(PageCliTest, ProductionPageEscalatesUntilAcknowledged) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput open =
      h_.RunJson({"page", "--path", "production", "--subject", "billing down", "--message",
                  "5xx on every request", "--cr", cr, "--env", "PROD"},
                 "heidi");
  ASSERT_EQ(open.exit_code, 0) << Describe(open);
  nlohmann::json page = open.Json();
  EXPECT_EQ(page["id"], "PAGE-1");
  EXPECT_EQ(page["state"], "open");
  EXPECT_EQ(page["level"], 1);
  EXPECT_EQ(page["deadline"], "2026-11-30T09:15:00Z");
  // Level 1 is the IT operations on-call contact's primary, heidi.
  EXPECT_EQ(Steps(page), (std::vector<std::string>{"opened:1:heidi", "notified:1:heidi"}));
  EXPECT_EQ(page["events"][1]["delivered"], true);
  std::string log = h_.ReadFile("pages.log");
  EXPECT_THAT(log, HasSubstr("To: Heidi Hill <heidi@example.com>"));
  EXPECT_THAT(log, HasSubstr("[PAGE-1 production level 1] billing down"));
  EXPECT_THAT(log, HasSubstr("rollgate page ack PAGE-1"));

  // Before the 15 minutes are up nothing happens.
  h_.SetNow("2026-11-30T09:14:00Z");
  CommandOutput tick = h_.RunJson({"page", "tick"});
  ASSERT_EQ(tick.exit_code, 0) << Describe(tick);
  EXPECT_EQ(tick.Json()["escalated"].size(), 0U);

  // After them, level 2 (the IT operations manager, frank) is paged with 30 minutes.
  h_.SetNow("2026-11-30T09:16:00Z");
  CommandOutput shown = h_.RunJson({"page", "show", "PAGE-1"});
  ASSERT_EQ(shown.exit_code, 0) << Describe(shown);
  page = shown.Json();
  EXPECT_EQ(page["level"], 2);
  EXPECT_EQ(page["deadline"], "2026-11-30T09:45:00Z");
  EXPECT_EQ(Steps(page), (std::vector<std::string>{"opened:1:heidi", "notified:1:heidi",
                                                   "escalated:2:", "notified:2:frank"}));
  EXPECT_EQ(page["events"][2]["at"], "2026-11-30T09:15:00Z");
  EXPECT_THAT(h_.ReadFile("pages.log"), HasSubstr("[PAGE-1 production level 2] billing down"));

  // The help desk is not on the path; the CAB chair (level 3) may take it over.
  CommandOutput refused = h_.RunJson({"page", "ack", "PAGE-1"}, "judy");
  EXPECT_EQ(refused.exit_code, 4) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("judy may not acknowledge PAGE-1"));
  CommandOutput ack = h_.RunJson({"page", "ack", "PAGE-1"}, "erin");
  ASSERT_EQ(ack.exit_code, 0) << Describe(ack);
  EXPECT_EQ(ack.Json()["state"], "acknowledged");
  EXPECT_EQ(ack.Json()["acknowledged_by"], "erin");
  CommandOutput again = h_.RunJson({"page", "ack", "PAGE-1"}, "frank");
  EXPECT_EQ(again.exit_code, 2) << Describe(again);

  // Acknowledged pages never escalate again.
  h_.SetNow("2026-11-30T15:00:00Z");
  CommandOutput later = h_.RunJson({"page", "show", "PAGE-1"});
  ASSERT_EQ(later.exit_code, 0) << Describe(later);
  EXPECT_EQ(later.Json()["level"], 2);
  EXPECT_EQ(Steps(later.Json()).back(), "acknowledged:2:erin");
  CommandOutput open_list = h_.RunJson({"page", "list", "--open"});
  ASSERT_EQ(open_list.exit_code, 0) << Describe(open_list);
  EXPECT_EQ(open_list.Json().size(), 0U);

  CommandOutput text = h_.Run({"page", "show", "PAGE-1"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("acknowledged by erin at level 2"));
  EXPECT_THAT(text.out, HasSubstr("escalated to level 2 (it-operations-manager)"));

  CommandOutput verify = h_.RunJson({"audit", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << Describe(verify);
  std::string actions =
      h_.Sql("SELECT group_concat(action) FROM audit_events WHERE object = 'PAGE-1'");
  EXPECT_THAT(actions, HasSubstr("page.open"));
  EXPECT_THAT(actions, HasSubstr("page.notify"));
  EXPECT_THAT(actions, HasSubstr("page.escalate"));
  EXPECT_THAT(actions, HasSubstr("page.ack"));
}

TEST_F(PageCliTest, UnacknowledgedPageIsExhaustedAfterTheLastLevel) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput open = h_.RunJson(
      {"page", "--path", "standard", "--subject", "TEST deploy stuck", "--cr", cr, "--env", "TEST"},
      "heidi");
  ASSERT_EQ(open.exit_code, 0) << Describe(open);
  // 15 m + 30 m + 1 h later every level has been paged and none answered.
  h_.SetNow("2026-11-30T10:45:00Z");
  CommandOutput tick = h_.RunJson({"page", "tick"});
  ASSERT_EQ(tick.exit_code, 0) << Describe(tick);
  ASSERT_EQ(tick.Json()["escalated"].size(), 1U);
  nlohmann::json page = tick.Json()["escalated"][0];
  EXPECT_EQ(page["state"], "exhausted");
  EXPECT_EQ(page["level"], 3);
  EXPECT_EQ(Steps(page), (std::vector<std::string>{"opened:1:heidi", "notified:1:heidi",
                                                   "escalated:2:", "escalated:3:", "exhausted:3:",
                                                   "notified:2:alice", "notified:3:frank"}));
  // Exhausted pages are still open: listed, and may be acknowledged.
  CommandOutput list = h_.RunJson({"page", "list", "--open"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  ASSERT_EQ(list.Json().size(), 1U);
  CommandOutput ack = h_.RunJson({"page", "ack", "PAGE-1"}, "alice");
  EXPECT_EQ(ack.exit_code, 0) << Describe(ack);
}

TEST_F(PageCliTest, PageWithoutChangeRequestIsDeliveredAndAuditedOnThePage) {
  CommandOutput open =
      h_.RunJson({"page", "--path", "security", "--subject", "suspicious logins"}, "heidi");
  ASSERT_EQ(open.exit_code, 0) << Describe(open);
  nlohmann::json page = open.Json();
  // security level 1 is immediate: the on-call primary (grace) and backup (mia).
  EXPECT_EQ(Steps(page),
            (std::vector<std::string>{"opened:1:heidi", "notified:1:grace", "notified:1:mia"}));
  EXPECT_EQ(page["events"][1]["delivered"], true) << page.dump(2);
  EXPECT_EQ(page["events"][2]["delivered"], true) << page.dump(2);
  std::string log = h_.ReadFile("pages.log");
  EXPECT_THAT(log, HasSubstr("suspicious logins"));
  EXPECT_THAT(log, HasSubstr("To: Grace"));
  // The deliveries are audited against the page, as there is no change request.
  CommandOutput audit = h_.RunAs("heidi", {"audit", "export"});
  ASSERT_EQ(audit.exit_code, 0) << Describe(audit);
  EXPECT_THAT(audit.out, HasSubstr(R"("action":"notification.sent")"));
  EXPECT_THAT(audit.out, HasSubstr(R"("object":"PAGE-1")"));
}

TEST_F(PageCliTest, BadInputChangesNothing) {
  CommandOutput no_path = h_.RunJson({"page", "--subject", "x"}, "heidi");
  EXPECT_EQ(no_path.exit_code, 2) << Describe(no_path);
  CommandOutput bad_path = h_.RunJson({"page", "--path", "urgent", "--subject", "x"}, "heidi");
  EXPECT_EQ(bad_path.exit_code, 2) << Describe(bad_path);
  EXPECT_THAT(bad_path.err, HasSubstr("unknown escalation path 'urgent'"));
  CommandOutput no_subject = h_.RunJson({"page", "--path", "standard"}, "heidi");
  EXPECT_EQ(no_subject.exit_code, 2) << Describe(no_subject);
  CommandOutput bad_env =
      h_.RunJson({"page", "--path", "standard", "--subject", "x", "--env", "QA"}, "heidi");
  EXPECT_EQ(bad_env.exit_code, 2) << Describe(bad_env);
  CommandOutput no_cr =
      h_.RunJson({"page", "--path", "standard", "--subject", "x", "--cr", "CR-77"}, "heidi");
  EXPECT_EQ(no_cr.exit_code, 3) << Describe(no_cr);
  CommandOutput bad_id = h_.RunJson({"page", "show", "PAGE-x; rm -rf /"});
  EXPECT_EQ(bad_id.exit_code, 2) << Describe(bad_id);
  CommandOutput unknown = h_.RunJson({"page", "show", "PAGE-9"});
  EXPECT_EQ(unknown.exit_code, 3) << Describe(unknown);
  CommandOutput unknown_ack = h_.RunJson({"page", "ack", "PAGE-9"}, "heidi");
  EXPECT_EQ(unknown_ack.exit_code, 3) << Describe(unknown_ack);
  CommandOutput mixed = h_.RunJson({"page", "--path", "standard", "list"});
  EXPECT_EQ(mixed.exit_code, 2) << Describe(mixed);
  EXPECT_THAT(mixed.err, HasSubstr("use them without a subcommand"));
  CommandOutput flag = h_.RunJson({"page", "list", "--bogus"});
  EXPECT_EQ(flag.exit_code, 2) << Describe(flag);
  EXPECT_THAT(h_.StoreDump(), Not(HasSubstr("PAGE-")));
}

}  // namespace
}  // namespace rollgate::e2e
