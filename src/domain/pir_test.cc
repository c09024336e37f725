#include "domain/pir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "common/strings.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

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
  EXPECT_EQ(pir->status.occasion, T(120));
  EXPECT_EQ(pir->status.due, sys_days(2026y / December / 8));
  EXPECT_FALSE(pir->status.overdue);
  EXPECT_TRUE(pir->status.incident);
  EXPECT_TRUE(pir->emergency);
  EXPECT_TRUE(pir->rolled_back);
  EXPECT_EQ(pir->status.reason, "emergency deployment to PROD and rollback in PROD");
  ASSERT_EQ(pir->status.occasions.size(), 2U);
  EXPECT_EQ(pir->status.occasions[1].at, T(205));
  auto late = BuildPir(cr_, events_, config_, utc_, sys_days(2026y / December / 8));
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->status.overdue);
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
    if (s.title == "Deviations from the plan") deviations = &s;
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
  std::erase_if(cr_.evidence, [](const Evidence& e) {
    return e.kind == kEvidenceDeployment && e.environment == "PROD";
  });
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  EXPECT_FALSE(pir->emergency);
  EXPECT_TRUE(pir->status.incident);
  EXPECT_EQ(pir->status.occasion, T(205));
  EXPECT_EQ(pir->status.reason, "rollback in PROD");
}

TEST_F(PirTest, NoReviewWithoutProdDeploymentEmergencyDeploymentOrRollback) {
  cr_.emergency = false;
  std::erase_if(cr_.evidence, [](const Evidence& e) {
    return e.kind == kEvidenceRollback ||
           (e.kind == kEvidenceDeployment && e.environment == "PROD");
  });
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_FALSE(pir.ok());
  EXPECT_EQ(pir.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(pir.error().message(),
            "no review is due: CR-1 had no deployment to PROD, no emergency deployment and no "
            "rollback");
  EXPECT_FALSE(OpenPirOccasion(cr_, config_).has_value());
}

TEST_F(PirTest, RollbackRehearsalsAreNoOccasion) {
  cr_.emergency = false;
  cr_.evidence = {Made(kEvidenceDeployment, "TEST", T(90), true, "RUN-1"),
                  Made(kEvidenceRollback, "TEST", T(95), true, "RUN-2 succeeded")};
  cr_.evidence.back().fields = {{"rehearsal", "yes"}};
  EXPECT_TRUE(PirOccasions(cr_, config_).empty());
  cr_.evidence.back().fields.clear();
  ASSERT_EQ(PirOccasions(cr_, config_).size(), 1U);
  EXPECT_EQ(PirOccasions(cr_, config_)[0].reason, "rollback in TEST");
}

TEST_F(PirTest, EmergencyDeploymentShortOfProdIsAnOccasionUntilProdIsReached) {
  cr_.evidence = {Made(kEvidenceDeployment, "DEV", T(90), true, "RUN-1")};
  auto occasions = PirOccasions(cr_, config_);
  ASSERT_EQ(occasions.size(), 1U);
  EXPECT_EQ(occasions[0].reason, "emergency deployment to DEV");
  cr_.evidence.push_back(Made(kEvidenceDeployment, "PROD", T(120), true, "RUN-2"));
  occasions = PirOccasions(cr_, config_);
  ASSERT_EQ(occasions.size(), 1U);
  EXPECT_EQ(occasions[0].reason, "emergency deployment to PROD");
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

// A standard CR deployed to PROD with nothing going wrong: the playbook's §4.4 step 3 review.
class ProdReviewTest : public PirTest {
 protected:
  void SetUp() override {
    PirTest::SetUp();
    cr_.emergency = false;
    cr_.approvals.clear();
    cr_.scheduled["PROD"] = T(60);
    Evidence prod =
        Made(kEvidenceDeployment, "PROD", T(150), true, "2.4.1 deployed to 2 hosts by RUN-2");
    prod.run_id = "RUN-2";
    prod.value = 50 * 60;
    Evidence smoke = Made(kEvidenceSmoke, "PROD", T(150), true, "smoke tests passed on 2 hosts");
    smoke.value = 100;
    Evidence regression = Made(kEvidenceRegression, "TEST", T(30), true, "412 of 423 passed");
    regression.value = 97.5;
    Evidence backup = Made(kEvidenceBackup, "PROD", T(105), true,
                           "backup-database on app1: /var/backups/x (4096 bytes)");
    Evidence metrics = Made(kEvidenceMetrics, "PROD", T(150), true,
                            "response time at most 3.0 % worse than the baseline");
    cr_.evidence = {Made(kEvidenceDeployment, "DEV", T(10), true, "RUN-0"),
                    Made(kEvidenceDeployment, "TEST", T(20), true, "RUN-1"),
                    regression,
                    backup,
                    prod,
                    smoke,
                    metrics};
    events_ = {
        Event(T(0), "cr.create", "CR-1", "{}"),
        Event(T(99), "run.created", "RUN-2",
              R"({"change_request":"CR-1","environment":"PROD","hosts":2})", "eve"),
        Event(T(100), "run.started", "RUN-2", "{}", "eve"),
        Event(T(110), "step.failed", "RUN-2",
              R"({"step":"rollout/install","host":"app2","attempt":1,"exit_code":1})", "eve"),
        Event(T(112), "step.succeeded", "RUN-2",
              R"({"step":"rollout/install","host":"app2","attempt":2,"exit_code":0})", "eve"),
        Event(T(113), "step.succeeded", "RUN-2",
              R"({"step":"rollout/start","host":"app2","attempt":1,"exit_code":0})", "eve"),
    };
  }
  const PirSection* Section(const PirDocument& pir, const std::string& title) {
    for (const PirSection& s : pir.sections) {
      if (s.title == title) return &s;
    }
    return nullptr;
  }
};

TEST_F(ProdReviewTest, EveryProdDeploymentMakesAPostImplementationReviewDue) {
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok()) << pir.error().message();
  EXPECT_FALSE(pir->status.incident);
  EXPECT_EQ(pir->status.reason, "PROD deployment");
  EXPECT_EQ(pir->status.occasion, T(150));
  EXPECT_EQ(pir->status.due, sys_days(2026y / December / 8));
  EXPECT_FALSE(pir->status.closing.has_value());
  EXPECT_EQ(Section(*pir, "Timeline of emergency response"), nullptr);
  std::vector<std::string> people_sections;
  for (const PirSection& s : pir->sections) {
    if (s.to_be_completed) people_sections.push_back(s.title);
  }
  EXPECT_THAT(people_sections, ElementsAre("Recommendations", "Lessons learned"));
  std::string text = RenderPir(*pir, utc_);
  EXPECT_THAT(text, HasSubstr("# Post-implementation review: CR-1\n"));
  EXPECT_THAT(text, HasSubstr("- Occasion: PROD deployment (2026-11-30 11:30)"));
  EXPECT_THAT(text, HasSubstr("- Status: open; record its closing with `rollgate pir close CR-1"));
  ASSERT_TRUE(OpenPirOccasion(cr_, config_).has_value());
  EXPECT_EQ(OpenPirOccasion(cr_, config_)->reason, "PROD deployment");
}

TEST_F(ProdReviewTest, TheDueDateFollowsTheConfiguredBusinessDays) {
  config_.review_within_business_days = 2;
  auto status = CurrentPir(cr_, config_, utc_, T(300));
  ASSERT_TRUE(status.ok());
  // Monday: Tuesday and Wednesday are the two business days.
  EXPECT_EQ(status->due, sys_days(2026y / December / 3));
  EXPECT_FALSE(status->overdue);
  auto late = CurrentPir(cr_, config_, utc_, sys_days(2026y / December / 3));
  EXPECT_TRUE(late->overdue);
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  EXPECT_THAT(RenderPir(*pir, utc_), HasSubstr("(within 2 business days)"));
}

TEST_F(ProdReviewTest, ResultsPerEnvironmentInPromotionOrder) {
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  ASSERT_EQ(pir->results.size(), 3U);
  EXPECT_EQ(pir->results[0].environment, "DEV");
  EXPECT_EQ(pir->results[1].environment, "TEST");
  EXPECT_THAT(pir->results[1].lines, Contains("deployment succeeded: RUN-1"));
  EXPECT_THAT(pir->results[1].lines,
              Contains("regression passed, 97.5 % (pass rate needed 95 %): 412 of 423 passed"));
  const PirEnvironmentResult& prod = pir->results[2];
  EXPECT_EQ(prod.environment, "PROD");
  EXPECT_EQ(prod.outcome, "succeeded");
  EXPECT_THAT(prod.lines,
              Contains("deployment succeeded: 2.4.1 deployed to 2 hosts by RUN-2 (took 50m)"));
  EXPECT_THAT(prod.lines, Contains("backup: backup-database on app1: /var/backups/x (4096 bytes)"));
  EXPECT_THAT(prod.lines, Contains("smoke tests passed (100 %): smoke tests passed on 2 hosts"));
  EXPECT_THAT(prod.lines, Contains("metrics against the baseline passed: response time at most "
                                   "3.0 % worse than the baseline"));
  EXPECT_THAT(RenderPir(*pir, utc_),
              HasSubstr("### PROD (succeeded)\n\n- backup: backup-database on app1"));
}

TEST_F(ProdReviewTest, DeviationsFromThePlan) {
  Approval verbal;
  verbal.environment = "PROD";
  verbal.approver = "chris";
  verbal.role = "cab-chair";
  verbal.verbal = true;
  verbal.at = T(0);
  verbal.confirmed_at = T(0) + hours(25);  // due within 24 hours
  cr_.approvals.push_back(verbal);
  Evidence trigger = Made(kEvidenceTrigger, "PROD", T(160), false, "p95 40 % over the baseline");
  trigger.fields = {{"kind", "response-time"},
                    {"action", "evaluate"},
                    {"measurement", "40"},
                    {"threshold", "20"},
                    {"unit", "%"}};
  cr_.evidence.push_back(trigger);
  auto pir = BuildPir(cr_, events_, config_, utc_, T(0) + hours(30));
  ASSERT_TRUE(pir.ok());
  const PirSection* deviations = Section(*pir, "Deviations from the plan");
  ASSERT_NE(deviations, nullptr);
  // Only the last environment is expected to be scheduled.
  EXPECT_THAT(deviations->lines, Not(Contains(HasSubstr("DEV: no planned start"))));
  EXPECT_THAT(deviations->lines,
              Contains("PROD: started 40m later than planned (planned 2026-11-30 10:00, actual "
                       "2026-11-30 10:40, RUN-2)"));
  EXPECT_THAT(deviations->lines, Contains("PROD: RUN-2 took 50m, 5m over the expected 45m"));
  EXPECT_THAT(deviations->lines,
              Contains("PROD: expected downtime 15m; availability after the deployment not "
                       "measured yet"));
  EXPECT_THAT(
      deviations->lines,
      Contains("PROD: step rollout/install failed on app2 (RUN-2, attempt 1, exit code 1)"));
  EXPECT_THAT(deviations->lines,
              Contains("PROD: step rollout/install succeeded after a retry on app2 (RUN-2, "
                       "attempt 2, exit code 0)"));
  EXPECT_THAT(deviations->lines, Contains(HasSubstr("PROD: trigger response-time fired: p95 40 % "
                                                    "over the baseline (measured 40%, threshold "
                                                    "20%; action evaluate)")));
  EXPECT_THAT(deviations->lines,
              Contains("verbal approval for PROD by chris (cab-chair), confirmed in writing LATE "
                       "2026-12-01 10:00 (due 2026-12-01 09:00)"));
  // The run's start and the failed step are on the timeline, in PROD.
  bool started = false;
  for (const PirTimelineEntry& t : pir->timeline) {
    if (t.summary == "RUN-2 started") started = t.environment == "PROD" && t.at == T(100);
  }
  EXPECT_TRUE(started);
}

TEST_F(ProdReviewTest, StartAsPlannedWithoutRunEventsComesFromTheDuration) {
  cr_.scheduled["PROD"] = T(100);
  events_.clear();
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  ASSERT_TRUE(pir.ok());
  EXPECT_THAT(Section(*pir, "Deviations from the plan")->lines,
              Contains("PROD: started as planned at 2026-11-30 10:40, RUN-2"));
}

TEST_F(ProdReviewTest, IssuesFoundDuringTheWatch) {
  auto nothing = BuildPir(cr_, events_, config_, utc_, T(300));
  EXPECT_THAT(Section(*nothing, "Issues found during enhanced monitoring")->lines,
              ElementsAre("no enhanced monitoring was recorded for this change"));

  events_.push_back(
      Event(T(151), "watch.start", "CR-1",
            R"({"environment":"PROD","run":"RUN-2","ends_at":"2026-12-03T11:31:00Z"})", "system"));
  Evidence quiet = Made(kEvidenceWatchCheckin, "PROD", T(211), true, "check-in 1 of 8: fine");
  cr_.evidence.push_back(quiet);
  auto active = BuildPir(cr_, events_, config_, utc_, T(300));
  EXPECT_THAT(Section(*active, "Issues found during enhanced monitoring")->lines,
              ElementsAre("none found: 1 check-in(s), none failing",
                          "PROD: the watch of RUN-2 is still active, until 2026-12-03 11:31"));

  Evidence failing = Made(kEvidenceWatchCheckin, "PROD", T(271), false,
                          "check-in 2 of 8: availability 98 % over the last hour");
  Evidence fired = Made(kEvidenceTrigger, "PROD", T(280), false, "health failing on app2");
  fired.fields = {{"kind", "health"}, {"action", "evaluate"}, {"measurement", "0"},
                  {"threshold", "1"}, {"host", "app2"},       {"source", "watch"}};
  cr_.evidence.push_back(failing);
  cr_.evidence.push_back(fired);
  events_.push_back(Event(T(290), "watch.stop", "CR-1",
                          R"({"environment":"PROD","run":"RUN-2","reason":"false alarm"})",
                          "opal"));
  auto pir = BuildPir(cr_, events_, config_, utc_, T(300));
  const PirSection* issues = Section(*pir, "Issues found during enhanced monitoring");
  ASSERT_NE(issues, nullptr);
  ASSERT_EQ(issues->lines.size(), 3U);
  EXPECT_EQ(issues->lines[0],
            "2026-11-30 13:31 PROD: check-in 2 of 8: availability 98 % over the last hour");
  EXPECT_THAT(issues->lines[1], HasSubstr("2026-11-30 13:40 PROD: trigger health fired on app2"));
  EXPECT_EQ(issues->lines[2],
            "2026-11-30 13:50 PROD: the watch of RUN-2 was stopped by opal: false alarm");
}

TEST_F(ProdReviewTest, ClosingRecordsTheLessonsAndFillsTheSections) {
  const std::string lessons =
      "The install step needed a retry on app2.\n\n## Recommendations\n\n- pre-pull the "
      "package\n- check disk before the window\n";
  auto t = ClosePir(cr_, events_, config_, utc_, "chris", {lessons, "  went well  "}, T(400));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->action, "pir.close");
  EXPECT_EQ(t->cr.state, cr_.state);
  ASSERT_EQ(t->cr.evidence.size(), cr_.evidence.size() + 1);
  const Evidence& closing = t->cr.evidence.back();
  EXPECT_EQ(closing.kind, kEvidencePirClosed);
  EXPECT_EQ(closing.recorded_by, "chris");
  EXPECT_EQ(closing.environment, "");
  EXPECT_EQ(closing.fields.at("summary"), "went well");
  EXPECT_EQ(closing.fields.at("role"), "cab-chair");
  EXPECT_EQ(closing.fields.at("late"), "false");
  nlohmann::json details = nlohmann::json::parse(t->details);
  EXPECT_EQ(details["by"], "chris");
  EXPECT_EQ(details["review"], "post-implementation review");
  EXPECT_EQ(details["reason"], "PROD deployment");
  EXPECT_EQ(details["due"], "2026-12-08T00:00:00Z");
  EXPECT_EQ(details["late"], false);
  EXPECT_EQ(details["lessons_sha256"], Sha256Hex(std::string(Trim(lessons))));

  ChangeRequest closed = t->cr;
  EXPECT_FALSE(OpenPirOccasion(closed, config_).has_value());
  auto pir = BuildPir(closed, events_, config_, utc_, sys_days(2026y / December / 9));
  ASSERT_TRUE(pir.ok());
  ASSERT_TRUE(pir->status.closing.has_value());
  EXPECT_EQ(pir->status.closing->by, "chris");
  EXPECT_FALSE(pir->status.overdue);  // closed in time; never overdue afterwards
  const PirSection* recommendations = Section(*pir, "Recommendations");
  ASSERT_NE(recommendations, nullptr);
  EXPECT_TRUE(recommendations->written);
  EXPECT_THAT(recommendations->lines,
              ElementsAre("- pre-pull the package", "- check disk before the window"));
  EXPECT_THAT(Section(*pir, "Lessons learned")->lines,
              ElementsAre("The install step needed a retry on app2."));
  std::string text = RenderPir(*pir, utc_);
  EXPECT_THAT(text, HasSubstr("- Closed: 2026-11-30 15:40 by chris (cab-chair): went well\n"));
  EXPECT_THAT(text, HasSubstr("## Recommendations\n\n- pre-pull the package\n"));
  EXPECT_THAT(text, Not(HasSubstr(kPirToBeCompleted)));

  // Closing it again is refused, naming the closing.
  auto again = ClosePir(closed, events_, config_, utc_, "opal", {"more", ""}, T(500));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kRefusedByGate);
  EXPECT_EQ(again.error().message(),
            "the post-implementation review of CR-1 (PROD deployment, 2026-11-30T11:30:00Z) is "
            "already closed: by chris at 2026-11-30T15:40:00Z");
}

TEST_F(ProdReviewTest, AnIncidentReviewClosedWithoutSomeSectionsSaysSo) {
  Evidence rollback = Made(kEvidenceRollback, "PROD", T(200), true, "RUN-3 succeeded");
  cr_.evidence.push_back(rollback);
  auto t = ClosePir(cr_, events_, config_, utc_, "opal",
                    {"# ROOT CAUSE\nA missing library on app2.\n###\n", ""}, T(400));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto pir = BuildPir(t->cr, events_, config_, utc_, T(500));
  ASSERT_TRUE(pir.ok());
  EXPECT_TRUE(pir->status.incident);
  EXPECT_EQ(pir->status.reason, "PROD deployment and rollback in PROD");
  EXPECT_THAT(Section(*pir, "Root cause")->lines, ElementsAre("A missing library on app2.", "###"));
  EXPECT_THAT(Section(*pir, "Response effectiveness")->lines, ElementsAre(kPirNotRecorded));
  EXPECT_FALSE(Section(*pir, "Response effectiveness")->to_be_completed);
}

TEST_F(ProdReviewTest, ALaterOccasionOpensANewReview) {
  auto t = ClosePir(cr_, events_, config_, utc_, "chris", {"fine", ""}, T(400));
  ASSERT_TRUE(t.ok());
  ChangeRequest cr = t->cr;
  cr.evidence.push_back(Made(kEvidenceRollback, "PROD", T(600), true, "RUN-4 succeeded"));
  auto status = CurrentPir(cr, config_, utc_, T(700));
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->closing.has_value());
  EXPECT_TRUE(status->incident);
  EXPECT_EQ(status->reason, "rollback in PROD");
  EXPECT_EQ(status->occasion, T(600));
  ASSERT_TRUE(OpenPirOccasion(cr, config_).has_value());
}

TEST_F(ProdReviewTest, LateClosingIsRecordedAsLate) {
  Timestamp after = sys_days(2026y / December / 9) + hours(10);
  auto t = ClosePir(cr_, events_, config_, utc_, "opal", {"late but done", ""}, after);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->cr.evidence.back().fields.at("late"), "true");
  EXPECT_EQ(t->cr.evidence.back().fields.at("role"), "it-operations-manager");
  auto status = CurrentPir(t->cr, config_, utc_, after);
  EXPECT_TRUE(status->closing->late);
  EXPECT_FALSE(status->overdue);
}

TEST_F(ProdReviewTest, ClosingRefusals) {
  auto close = [&](const ChangeRequest& cr, const std::string& person, PirClosingDraft draft) {
    return ClosePir(cr, events_, config_, utc_, person, std::move(draft), T(400));
  };
  // Bad input: InvalidArgument, nothing recorded.
  EXPECT_EQ(close(cr_, "chris", {" \n\t ", ""}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(close(cr_, "chris", {" \n ", ""}).error().message(),
              HasSubstr("the lessons learned of the review of CR-1 are empty"));
  EXPECT_THAT(close(cr_, "chris", {"ok", "two\nlines"}).error().message(),
              HasSubstr("the summary must be one line"));
  EXPECT_THAT(close(cr_, "chris", {"bell \x07 here", ""}).error().message(),
              HasSubstr("control characters"));
  EXPECT_THAT(close(cr_, "chris", {"bad \xff utf-8", ""}).error().message(), HasSubstr("UTF-8"));
  EXPECT_THAT(
      close(cr_, "chris", {std::string(kPirMaxLessonsBytes + 1, 'x'), ""}).error().message(),
      HasSubstr("larger than 64 KiB"));
  EXPECT_THAT(
      close(cr_, "chris", {"ok", std::string(kPirMaxSummaryBytes + 1, 's')}).error().message(),
      HasSubstr("the summary is longer than 1024 bytes"));
  // Unknown person, and a person without a closer role.
  EXPECT_EQ(close(cr_, "nobody", {"ok", ""}).error().code(), StatusCode::kNotFound);
  auto engineer = close(cr_, "eve", {"ok", ""});
  EXPECT_EQ(engineer.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(engineer.error().message(),
            "eve may not close the post-implementation review of CR-1: that takes one of the "
            "roles cab-chair, it-operations-manager (policy.review_closer_roles)");
  config_.review_closer_roles = {kRoleEngineer};
  EXPECT_TRUE(close(cr_, "eve", {"ok", ""}).ok());
  // No review due.
  ChangeRequest undeployed = cr_;
  std::erase_if(undeployed.evidence, [](const Evidence& e) {
    return e.kind == kEvidenceDeployment && e.environment == "PROD";
  });
  auto none = close(undeployed, "eve", {"ok", ""});
  EXPECT_EQ(none.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(none.error().message(),
              HasSubstr("no review is due: CR-1 had no deployment to PROD"));
  // The watch still runs: what it finds belongs in the review.
  events_.push_back(
      Event(T(151), "watch.start", "CR-1",
            R"({"environment":"PROD","run":"RUN-2","ends_at":"2026-12-03T11:31:00Z"})", "system"));
  auto watching = close(cr_, "eve", {"ok", ""});
  EXPECT_EQ(watching.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(
      watching.error().message(),
      HasSubstr("the enhanced monitoring of RUN-2 in PROD runs until 2026-12-03T11:31:00Z"));
  events_.push_back(
      Event(T(300), "watch.end", "CR-1", R"({"environment":"PROD","run":"RUN-2"})", "system"));
  EXPECT_TRUE(close(cr_, "eve", {"ok", ""}).ok());
}

}  // namespace
}  // namespace rollgate
