// The change calendar through the real binary (playbook §2.3): windows, freezes (one-off and
// recurring), holidays and scheduled changes in time order; conflicts warned or refused by
// `cr schedule`, the no-overlapping-changes gate, and the audited freeze override of `deploy`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

class CalendarCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    std::string text = h_.ReadFile("rollgate.yaml");
    // A weekly freeze besides the starter's one-off year-end freeze.
    std::string marker = "      reason: Year-end change freeze\n";
    auto pos = text.find(marker);
    ASSERT_NE(pos, std::string::npos);
    text.insert(pos + marker.size(),
                "    - name: friday-afternoon\n"
                "      environments: [PROD]\n"
                "      days: [friday]\n"
                "      start: \"12:00\"\n"
                "      end: \"24:00\"\n"
                "      reason: nobody deploys into the weekend\n");
    h_.WriteConfig(text);
    h_.SetNow(kMonday);  // Monday 2026-11-30 09:00 UTC
  }

  static std::vector<std::string> Entries(const nlohmann::json& calendar) {
    std::vector<std::string> out;
    for (const auto& e : calendar["entries"]) {
      out.push_back(e["kind"].get<std::string>() + ":" + e["name"].get<std::string>() + "@" +
                    e["start"].get<std::string>());
    }
    return out;
  }

  CliHarness h_;
};

TEST_F(CalendarCliTest, ListsWindowsFreezesHolidaysAndChangesInOrder) {
  CommandOutput valid = h_.Run({"validate"});
  ASSERT_EQ(valid.exit_code, 0) << Describe(valid);
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-08 22:00"});
  CommandOutput cal =
      h_.RunJson({"calendar", "--from", "2026-12-07", "--to", "2026-12-13", "--env", "PROD"});
  ASSERT_EQ(cal.exit_code, 0) << Describe(cal);
  nlohmann::json doc = cal.Json();
  EXPECT_EQ(doc["from"], "2026-12-07T00:00:00Z");
  EXPECT_EQ(doc["to"], "2026-12-14T00:00:00Z");
  // prod-weekly Tue/Thu 22:00-02:00, prod-saturday-morning, the Friday freeze, the change.
  EXPECT_EQ(Entries(doc), (std::vector<std::string>{
                              "change:" + cr + "@2026-12-08T22:00:00Z",
                              "window:prod-weekly@2026-12-08T22:00:00Z",
                              "window:prod-weekly@2026-12-10T22:00:00Z",
                              "freeze:friday-afternoon@2026-12-11T12:00:00Z",
                              "window:prod-saturday-morning@2026-12-12T06:00:00Z",
                          }));
  EXPECT_EQ(doc["entries"][0]["system"], "billing");
  EXPECT_EQ(doc["entries"][0]["end"], "2026-12-08T23:00:00Z");  // --duration 1h
  EXPECT_EQ(doc["conflicts"].size(), 0U);

  // Across the new year: the year-end freeze and the holidays.
  CommandOutput winter = h_.RunJson({"calendar", "--from", "2026-12-24", "--to", "2027-01-02"});
  ASSERT_EQ(winter.exit_code, 0) << Describe(winter);
  std::vector<std::string> entries = Entries(winter.Json());
  auto has = [&](const std::string& entry) {
    return std::find(entries.begin(), entries.end(), entry) != entries.end();
  };
  EXPECT_TRUE(has("freeze:year-end@2026-12-21T00:00:00Z"));
  EXPECT_TRUE(has("holiday:holiday@2026-12-25T00:00:00Z"));
  EXPECT_TRUE(has("holiday:holiday@2027-01-01T00:00:00Z"));

  CommandOutput text = h_.Run({"calendar", "--from", "2026-12-07", "--to", "2026-12-13"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr(cr));
  EXPECT_THAT(text.out, HasSubstr("friday-afternoon"));

  CommandOutput bad = h_.RunJson({"calendar", "--from", "2026-13-01"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  CommandOutput backwards = h_.RunJson({"calendar", "--from", "2026-12-10", "--to", "2026-12-01"});
  EXPECT_EQ(backwards.exit_code, 2) << Describe(backwards);
  CommandOutput env = h_.RunJson({"calendar", "--env", "QA"});
  EXPECT_EQ(env.exit_code, 2) << Describe(env);
}

TEST_F(CalendarCliTest, OverlappingChangesWarnInTestAndAreRefusedInProd) {
  std::string first = SubmittedCr(h_, {"--cvss", kHighVector});
  std::string second = SubmittedCr(h_, {"--cvss", kHighVector});
  Ok(h_, "heidi", {"cr", "schedule", first, "--env", "TEST", "--at", "2026-12-02 10:00"});
  // TEST requires no window: the overlap on billing is a warning, and the schedule is kept.
  CommandOutput warned =
      h_.RunJson({"cr", "schedule", second, "--env", "TEST", "--at", "2026-12-02 10:30"}, "heidi");
  ASSERT_EQ(warned.exit_code, 0) << Describe(warned);
  EXPECT_THAT(warned.err, HasSubstr("warning: " + second));
  ASSERT_EQ(warned.Json()["conflicts"].size(), 1U);
  EXPECT_EQ(warned.Json()["conflicts"][0]["kind"], "overlap");

  nlohmann::json gates = GateCheck(h_, second, "TEST");
  EXPECT_THAT(Missing(gates, "no-overlapping-changes"), HasSubstr(first));
  EXPECT_THAT(Missing(gates, "no-overlapping-changes"), HasSubstr("same system billing"));

  CommandOutput cal = h_.RunJson({"calendar", "--from", "2026-12-02", "--to", "2026-12-02"});
  ASSERT_EQ(cal.exit_code, 0) << Describe(cal);
  ASSERT_EQ(cal.Json()["conflicts"].size(), 1U);
  EXPECT_EQ(cal.Json()["conflicts"][0]["change_requests"], (nlohmann::json{first, second}));

  // Moving it to start when the first ends (11:00) clears the conflict: adjacent is fine.
  Ok(h_, "heidi", {"cr", "schedule", second, "--env", "TEST", "--at", "2026-12-02 11:00"});
  EXPECT_EQ(Missing(GateCheck(h_, second, "TEST"), "no-overlapping-changes"), "");

  // PROD requires a window: an overlap there is refused and nothing is stored; a start outside
  // the windows only warns (the maintenance-window gate decides at deployment).
  Ok(h_, "heidi", {"cr", "schedule", first, "--env", "PROD", "--at", "2026-12-08 22:00"});
  std::string before = h_.StoreDump();
  CommandOutput overlap =
      h_.RunJson({"cr", "schedule", second, "--env", "PROD", "--at", "2026-12-08 22:30"}, "heidi");
  EXPECT_EQ(overlap.exit_code, 4) << Describe(overlap);
  EXPECT_THAT(overlap.err, HasSubstr(first));
  EXPECT_EQ(h_.StoreDump(), before);
  CommandOutput outside =
      h_.RunJson({"cr", "schedule", second, "--env", "PROD", "--at", "2026-12-09 10:00"}, "heidi");
  EXPECT_EQ(outside.exit_code, 0) << Describe(outside);
  EXPECT_THAT(outside.err, HasSubstr("outside every maintenance window"));
  ASSERT_EQ(outside.Json()["conflicts"].size(), 1U);
  EXPECT_EQ(outside.Json()["conflicts"][0]["kind"], "outside-window");
}

TEST_F(CalendarCliTest, DeployingInAFreezeNeedsAnAuditedOverride) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  // Tuesday 2026-12-22 22:00 is in the prod-weekly window and in the year-end freeze: a warning.
  CommandOutput frozen =
      h_.RunJson({"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-22 22:00"}, "heidi");
  ASSERT_EQ(frozen.exit_code, 0) << Describe(frozen);
  EXPECT_THAT(frozen.err, HasSubstr("year-end"));
  EXPECT_THAT(Missing(GateCheck(h_, cr, "PROD"), "freeze"), HasSubstr("--override-freeze"));

  int64_t events = h_.AuditEvents();
  CommandOutput no_reason =
      h_.RunJson({"deploy", cr, "--env", "PROD", "--dry-run", "--override-freeze"}, "erin");
  EXPECT_EQ(no_reason.exit_code, 2) << Describe(no_reason);
  CommandOutput no_role = h_.RunJson(
      {"deploy", cr, "--env", "PROD", "--dry-run", "--override-freeze", "--reason", "outage"},
      "heidi");
  EXPECT_EQ(no_role.exit_code, 4) << Describe(no_role);
  EXPECT_THAT(no_role.err, HasSubstr("may not override a freeze"));
  EXPECT_EQ(h_.AuditEvents(), events);

  // The CAB chair overrides it; the other gates still refuse this CR, but not the freeze.
  CommandOutput chair = h_.RunJson({"deploy", cr, "--env", "PROD", "--dry-run", "--override-freeze",
                                    "--reason", "payroll outage"},
                                   "erin");
  EXPECT_NE(chair.exit_code, 0) << Describe(chair);
  EXPECT_EQ(h_.AuditEvents(), events + 1);
  EXPECT_EQ(Missing(GateCheck(h_, cr, "PROD"), "freeze"), "");
  EXPECT_THAT(h_.Sql("SELECT details FROM audit_events WHERE action = 'cr.freeze-override'"),
              HasSubstr("payroll outage"));
}

}  // namespace
}  // namespace rollgate::e2e
