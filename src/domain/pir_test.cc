#include "domain/pir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Evidence Made(const std::string& kind, const std::string& env, Timestamp at,
              std::optional<bool> passed, std::string detail) {
  Evidence e;
  e.kind = kind;
  e.environment = env;
  e.at = at;
  e.passed = passed;
  e.detail = std::move(detail);
  e.recorded_by = "system";
  return e;
}

AuditEvent Event(Timestamp at, std::string action, std::string object, std::string details,
                 std::string actor = "eve") {
  AuditEvent e;
  e.at = at;
  e.action = std::move(action);
  e.object = std::move(object);
  e.details = std::move(details);
  e.actor = std::move(actor);
  return e;
}

class PirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cr_ =
        rollgate::testing::SampleChangeRequest(config_, rollgate::testing::SamplePatch(9.8, true));
    cr_.id = "CR-1";
    cr_.emergency = true;
    Approval verbal;
    verbal.environment = "PROD";
    verbal.approver = "chris";
    verbal.role = "cab-chair";
    verbal.verbal = true;
    verbal.emergency = true;
    verbal.at = T(60);
    verbal.conditions = "rollback at first error";
    cr_.approvals.push_back(verbal);
    cr_.evidence = {
        Made(kEvidenceDeployment, "DEV", T(90), true, "2.4.1 deployed to 1 hosts by RUN-1"),
        Made(kEvidenceRiskAcceptance, "TEST", T(100), true, "TEST skipped: exploited in the wild"),
        Made(kEvidenceDeployment, "PROD", T(120), true, "2.4.1 deployed to 2 hosts by RUN-2"),
        Made(kEvidenceNotification, "PROD", T(121), true, "sent to #it-operations"),
    };
    Evidence trigger = Made(kEvidenceTrigger, "PROD", T(200), false, "health failing on app2");
    trigger.fields = {{"kind", "health"}, {"action", "rollback"}, {"measurement", "0"},
                      {"threshold", "1"}, {"unit", ""},           {"host", "app2"},
                      {"source", "watch"}};
    cr_.evidence.push_back(trigger);
    Evidence rollback = Made(kEvidenceRollback, "PROD", T(205), true, "RUN-3 succeeded");
    rollback.value = 240;
    cr_.evidence.push_back(rollback);
    events_ = {
        Event(T(0), "patch.import", "PATCH-1", "{}"),
        Event(T(10), "cr.create", "CR-1", "{}"),
        Event(T(60), "cr.approve_verbal", "CR-1",
              R"({"environment":"PROD","approver":"chris","role":"cab-chair",)"
              R"("recorded_by":"opal","confirmation_due":"2026-12-01T10:00:00Z"})",
              "opal"),
        Event(T(90), "cr.evidence", "CR-1", R"({"kind":"deployment"})", "system"),
        Event(T(125), "watch.start", "CR-1", R"({"environment":"PROD","run":"RUN-2"})", "system"),
    };
  }
  Timestamp T(int minutes_after) { return MondayMorning() + minutes(minutes_after); }

  Config config_ = rollgate::testing::SampleConfig();
  FixedOffsetZone utc_{Seconds(0)};
  ChangeRequest cr_;
  std::vector<AuditEvent> events_;
};

TEST_F(PirTest, DueFiveBusinessDaysAfterTheEmergencyDeployment) {
  // Monday 2026-11-30 11:00 -> due at the end of Monday 2026-12-07.
  EXPECT_EQ(PirDueDate(config_, utc_, T(120)), sys_days(2026y / December / 8) + hours(0));
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok()) << pir.error().message();
  EXPECT_EQ(pir->occasion, T(120));
  EXPECT_EQ(pir->due, sys_days(2026y / December / 8));
  EXPECT_FALSE(pir->overdue);
  EXPECT_TRUE(pir->emergency);
  EXPECT_TRUE(pir->rolled_back);
  EXPECT_EQ(pir->reason, "emergency deployment to PROD and rollback in PROD");
  auto late = BuildPir(cr_, events_, config_, utc_, sys_days(2026y / December / 8));
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->overdue);
}

TEST_F(PirTest, HolidaysMoveTheDueDate) {
  // Wednesday 2026-12-23: Dec 24 (Thu) is a business day, Dec 25 a holiday, then the weekend.
  Timestamp at = sys_days(2026y / December / 23) + hours(15);
  Timestamp due = PirDueDate(config_, utc_, at);
  EXPECT_GT(due, sys_days(2026y / December / 30));
  config_.holidays.clear();
  EXPECT_EQ(PirDueDate(config_, utc_, at), sys_days(2026y / December / 31));
}

TEST_F(PirTest, TimelineIsInTimeOrderWithEveryCategory) {
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  std::vector<std::string> categories;
  for (const PirTimelineEntry& t : pir->timeline) categories.push_back(t.category);
  EXPECT_THAT(categories,
              ElementsAre("detection", "detection", "approval", "deployment", "deployment",
                          "deployment", "notification", "monitoring", "trigger", "rollback"));
  for (size_t i = 1; i < pir->timeline.size(); ++i) {
    EXPECT_LE(pir->timeline[i - 1].at, pir->timeline[i].at);
  }
  EXPECT_THAT(pir->timeline[2].summary, HasSubstr("VERBAL approval for PROD by chris"));
  EXPECT_THAT(pir->timeline[8].summary, HasSubstr("trigger health fired on app2"));
  EXPECT_THAT(pir->timeline[8].summary, HasSubstr("measured 0"));
  EXPECT_THAT(pir->timeline[9].summary, HasSubstr("took 4m"));
}

TEST_F(PirTest, DeviationsAreComputedAndTheRestIsLeftToTheReview) {
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  const PirSection* deviations = nullptr;
  int to_complete = 0;
  for (const PirSection& s : pir->sections) {
    if (s.title == "Process deviations taken") deviations = &s;
    if (s.to_be_completed) {
      ++to_complete;
      EXPECT_THAT(s.lines, ElementsAre(kPirToBeCompleted));
    }
  }
  EXPECT_EQ(to_complete, 4);
  ASSERT_NE(deviations, nullptr);
  EXPECT_THAT(deviations->lines, Contains("environment TEST skipped on the way to PROD"));
  EXPECT_THAT(deviations->lines,
              Contains(HasSubstr("verbal approval for PROD by chris (cab-chair), conditions: "
                                 "rollback at first error, NOT confirmed in writing")));
  EXPECT_THAT(deviations->lines, Contains(HasSubstr("risk accepted for TEST")));
}

TEST_F(PirTest, AttendeesComeFromTheConfiguredRoles) {
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  ASSERT_EQ(pir->attendees.size(), 4U);
  EXPECT_EQ(pir->attendees[0].group, "Security");
  EXPECT_THAT(pir->attendees[0].people, Contains("sam"));
  EXPECT_THAT(pir->attendees[1].people, ElementsAre("opal"));
  EXPECT_THAT(pir->attendees[2].people, ElementsAre("dana"));
  EXPECT_THAT(pir->attendees[3].people, ElementsAre("carl", "cora", "chris"));
}

TEST_F(PirTest, RollbackAloneMakesAReviewDue) {
  cr_.emergency = false;
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  EXPECT_FALSE(pir->emergency);
  EXPECT_EQ(pir->occasion, T(205));
  EXPECT_EQ(pir->reason, "rollback in PROD");
}

TEST_F(PirTest, NoReviewWithoutEmergencyDeploymentOrRollback) {
  cr_.emergency = false;
  std::erase_if(cr_.evidence, [](const Evidence& e) { return e.kind == kEvidenceRollback; });
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_FALSE(pir.ok());
  EXPECT_EQ(pir.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(pir.error().message(),
            "no post-incident review is due: CR-1 had neither an emergency deployment nor a "
            "rollback");
}

TEST_F(PirTest, RenderedDocumentHasTheHeaderAndSections) {
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  std::string text = RenderPir(*pir, utc_);
  EXPECT_THAT(text, HasSubstr("# Post-incident review: CR-1"));
  EXPECT_THAT(text, HasSubstr("- Due: before 2026-12-08 00:00 (within 5 business days)"));
  EXPECT_THAT(text, HasSubstr("## Root cause\n\n_to be completed by the review_"));
  EXPECT_THAT(text, HasSubstr("- CAB: carl, cora, chris"));
  EXPECT_THAT(text, HasSubstr("[trigger] PROD trigger health fired on app2"));
}

}  // namespace
}  // namespace rollgate
