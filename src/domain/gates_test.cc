#include "domain/gates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/cr_lifecycle.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleChangeRequest;
using rollgate::testing::SampleConfig;
using rollgate::testing::SamplePatch;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Timestamp At(year_month_day date, int hour, int minute = 0) {
  return sys_days(date) + hours(hour) + minutes(minute);
}

// A P2 CR submitted Monday 30 November 09:00 UTC, with everything the standard path to PROD
// needs: approvals for every environment, DEV and TEST deployed, sign-offs, TEST results,
// a tested rollback, PROD scheduled on Sunday 13 December 02:00 inside its window.
class GatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    patch_ = SamplePatch(7.5);
    cr_ = SampleChangeRequest(config_, patch_);
    cr_.state = CrState::kInProgress;
    cr_.submitted_at = now_;
    cr_.scheduled = {{"DEV", now_ + hours(1)},
                     {"TEST", At(2026y / December / 1, 12)},
                     {"PROD", At(2026y / December / 13, 2)}};
    Approve("DEV", "dana", "development-lead");
    Approve("TEST", "tina", "test-manager");
    Approve("PROD", "carl", "cab-member");
    AddEvidence("DEV", kEvidenceDeployment, true, {});
    AddEvidence("DEV", kEvidenceSmoke, true, 100.0);
    SignOff("DEV", "dev-lead", "dana");
    AddEvidence("TEST", kEvidenceDeployment, true, {});
    AddEvidence("TEST", kEvidenceSmoke, true, 100.0);
    AddEvidence("TEST", kEvidenceRegression, true, 97.5);
    AddEvidence("TEST", kEvidenceRollbackTested, true, 600.0);
    SignOff("TEST", "test-manager", "tina");
    SignOff("TEST", "business-analyst", "bea");
    SignOff("TEST", "uat", "bea");
  }

  void Approve(std::string env, std::string who, std::string role) {
    Approval a;
    a.environment = std::move(env);
    a.approver = std::move(who);
    a.role = std::move(role);
    a.at = now_;
    a.cr_revision = cr_.revision;
    cr_.approvals.push_back(a);
  }

  void AddVerbal(std::string env, std::string who, std::string role, Timestamp at) {
    Approve(std::move(env), std::move(who), std::move(role));
    cr_.approvals.back().verbal = true;
    cr_.approvals.back().at = at;
    cr_.approvals.back().recorded_by = "eve";
  }

  void AddEvidence(std::string env, std::string kind, std::optional<bool> passed,
                   std::optional<double> value) {
    evidence_time_ += minutes(1);
    cr_.evidence.push_back(
        {std::move(env), std::move(kind), passed, value, "", {}, "system", evidence_time_, ""});
  }

  void SignOff(std::string env, std::string kind, std::string who) {
    cr_.signoffs.push_back(
        {std::move(env), std::move(kind), std::move(who), "", now_, cr_.revision});
  }

  void RemoveSignoff(std::string_view kind) {
    std::erase_if(cr_.signoffs, [&](const Signoff& s) { return s.kind == kind; });
  }

  void RemoveEvidence(std::string_view env, std::string_view kind) {
    std::erase_if(cr_.evidence,
                  [&](const Evidence& e) { return e.environment == env && e.kind == kind; });
  }

  GateReport Check(std::string_view env, bool emergency = false) {
    return CheckGates(cr_, config_, env, now_, utc_, emergency, &patch_);
  }

  // The `missing` text of gate `name` for `env`; "PASSED" when it passed, "ABSENT" when the gate
  // was not evaluated.
  std::string Missing(std::string_view env, std::string_view name, bool emergency = false) {
    GateReport report = Check(env, emergency);
    const Gate* g = report.Find(name);
    if (!g) return "ABSENT";
    return g->passed ? "PASSED" : g->missing;
  }

  Config config_ = SampleConfig();
  Timestamp now_ = MondayMorning();
  Timestamp evidence_time_ = MondayMorning();
  FixedOffsetZone utc_{Seconds(0)};
  Patch patch_;
  ChangeRequest cr_;
};

std::vector<std::string> Names(const GateReport& report) {
  std::vector<std::string> names;
  for (const auto& g : report.gates) names.push_back(g.name);
  return names;
}

TEST_F(GatesTest, StandardPathToProdPasses) {
  GateReport report = Check("PROD");
  EXPECT_TRUE(report.passed) << ::testing::PrintToString(report.Missing());
  EXPECT_THAT(
      Names(report),
      ElementsAre("cr-state", "approval", "lead-time", "previous-environment", "exit-signoffs",
                  "test-results-approved", "regression", "uat-signoff", "smoke", "rollback-plan",
                  "rollback-tested", "maintenance-window", "freeze"));
  EXPECT_THAT(report.Missing(), IsEmpty());
}

TEST_F(GatesTest, DevAndTestPassWithTheirGates) {
  EXPECT_TRUE(Check("DEV").passed) << ::testing::PrintToString(Check("DEV").Missing());
  EXPECT_THAT(Names(Check("DEV")),
              ElementsAre("cr-state", "approval", "lead-time", "rollback-plan", "freeze"));
  EXPECT_TRUE(Check("TEST").passed) << ::testing::PrintToString(Check("TEST").Missing());
  EXPECT_THAT(Names(Check("TEST")),
              ElementsAre("cr-state", "approval", "lead-time", "previous-environment",
                          "exit-signoffs", "rollback-plan", "freeze"));
}

TEST_F(GatesTest, UnknownEnvironment) {
  GateReport report = Check("STAGING");
  EXPECT_FALSE(report.passed);
  EXPECT_THAT(report.Missing(), ElementsAre("no environment named 'STAGING' in the configuration"));
}

TEST_F(GatesTest, CrStateGate) {
  for (CrState s : {CrState::kDraft, CrState::kCompleted, CrState::kClosed, CrState::kRejected,
                    CrState::kCancelled}) {
    cr_.state = s;
    EXPECT_EQ(Missing("DEV", "cr-state"), "CR-1 is " + std::string(CrStateName(s)) +
                                              ": it must be submitted or in progress to deploy");
  }
  cr_.state = CrState::kSubmitted;
  EXPECT_EQ(Missing("DEV", "cr-state"), "PASSED");
}

TEST_F(GatesTest, ApprovalGateNamesWhoAndHowMany) {
  std::erase_if(cr_.approvals, [](const Approval& a) { return a.environment == "PROD"; });
  EXPECT_EQ(Missing("PROD", "approval"),
            "PROD needs 1 more approval from a cab-member or cab-chair (quorum 1, counted: none)");
  config_.environments[2].approval.quorum = 2;
  Approve("PROD", "carl", "cab-member");
  EXPECT_EQ(Missing("PROD", "approval"),
            "PROD needs 1 more approval from a cab-member or cab-chair (quorum 2, counted: carl)");
  Approve("PROD", "carl", "cab-member");  // the same person twice counts once
  EXPECT_EQ(Missing("PROD", "approval"),
            "PROD needs 1 more approval from a cab-member or cab-chair (quorum 2, counted: carl)");
  Approve("PROD", "cora", "cab-member");
  EXPECT_EQ(Missing("PROD", "approval"), "PASSED");
}

TEST_F(GatesTest, ApprovalOfAnotherEnvironmentDoesNotCount) {
  std::erase_if(cr_.approvals, [](const Approval& a) { return a.environment == "TEST"; });
  Approve("DEV", "tina", "test-manager");
  EXPECT_EQ(Missing("TEST", "approval"),
            "TEST needs 1 more approval from a test-manager (quorum 1, counted: none)");
}

TEST_F(GatesTest, ApprovalReplayedAfterRevisionBumpIsNotCounted) {
  cr_.revision = 2;
  EXPECT_EQ(Missing("DEV", "approval"),
            "DEV needs 1 more approval from a development-lead (quorum 1, counted: none); not "
            "counted: dana (approved revision 1, the CR is now revision 2)");
  Approve("DEV", "dana", "development-lead");
  EXPECT_EQ(Missing("DEV", "approval"), "PASSED");
}

TEST_F(GatesTest, RequesterApprovalNeverCounts) {
  cr_.approvals.clear();
  config_.people[12].roles.push_back(kRoleDevelopmentLead);
  cr_.requester = "ada";
  Approve("DEV", "ada", "development-lead");  // recorded behind the policy's back
  EXPECT_EQ(Missing("DEV", "approval"),
            "DEV needs 1 more approval from a development-lead (quorum 1, counted: none); not "
            "counted: ada (may not approve DEV)");
}

TEST_F(GatesTest, LeadTimeGate) {
  EXPECT_EQ(Missing("PROD", "lead-time"), "PASSED");
  cr_.scheduled["PROD"] = At(2026y / December / 6, 2);
  EXPECT_EQ(Missing("PROD", "lead-time"),
            "the lead time for PROD is 5 business days (submitted 2026-11-30 09:00): earliest "
            "allowed start 2026-12-07 09:00, but scheduled 2026-12-06 02:00");
  cr_.scheduled["PROD"] = At(2026y / December / 7, 9);
  EXPECT_EQ(Missing("PROD", "lead-time"), "PASSED");
  cr_.scheduled["TEST"] = At(2026y / December / 1, 8, 59);
  EXPECT_EQ(Missing("TEST", "lead-time"),
            "the lead time for TEST is 24h (submitted 2026-11-30 09:00): earliest allowed start "
            "2026-12-01 09:00, but scheduled 2026-12-01 08:59");
  cr_.scheduled["DEV"] = At(2026y / November / 30, 0);  // same day: any time that day
  EXPECT_EQ(Missing("DEV", "lead-time"), "PASSED");
  cr_.scheduled["DEV"] = At(2026y / November / 29, 23, 59);
  EXPECT_EQ(Missing("DEV", "lead-time"),
            "the lead time for DEV is same day (submitted 2026-11-30 09:00): earliest allowed "
            "start 2026-11-30 00:00, but scheduled 2026-11-29 23:59");
  cr_.scheduled.erase("DEV");
  EXPECT_EQ(Missing("DEV", "lead-time"), "no start scheduled for DEV");
  cr_.submitted_at.reset();
  EXPECT_EQ(Missing("DEV", "lead-time"),
            "CR-1 has not been submitted; lead time is measured from submission");
}

TEST_F(GatesTest, LeadTimeCountsHolidays) {
  // Submitted Monday 21 December: 5 business days skip Christmas (Friday) and the weekend.
  cr_.submitted_at = At(2026y / December / 21, 9);
  cr_.scheduled["PROD"] = At(2026y / December / 28, 9);
  EXPECT_EQ(Missing("PROD", "lead-time"),
            "the lead time for PROD is 5 business days (submitted 2026-12-21 09:00): earliest "
            "allowed start 2026-12-29 09:00, but scheduled 2026-12-28 09:00");
}

TEST_F(GatesTest, PreviousEnvironmentGate) {
  RemoveEvidence("DEV", kEvidenceDeployment);
  EXPECT_EQ(Missing("TEST", "previous-environment"), "DEV has no successful deployment recorded");
  AddEvidence("DEV", kEvidenceDeployment, false, {});
  EXPECT_EQ(Missing("TEST", "previous-environment"), "the last deployment to DEV failed");
  AddEvidence("DEV", kEvidenceDeployment, true, {});
  EXPECT_EQ(Missing("TEST", "previous-environment"), "PASSED");
  AddEvidence("DEV", kEvidenceRollback, true, {});
  EXPECT_EQ(Missing("TEST", "previous-environment"), "the deployment to DEV was rolled back");
  EXPECT_EQ(Missing("DEV", "previous-environment"), "ABSENT");
}

TEST_F(GatesTest, ExitSignoffsGate) {
  RemoveSignoff("dev-lead");
  EXPECT_EQ(Missing("TEST", "exit-signoffs"),
            "DEV exit sign-off missing: dev-lead (by a development-lead)");
  RemoveSignoff("test-manager");
  RemoveSignoff("business-analyst");
  EXPECT_EQ(Missing("PROD", "exit-signoffs"),
            "TEST exit sign-offs missing: test-manager (by a test-manager), business-analyst (by a "
            "business-analyst)");
}

TEST_F(GatesTest, SignoffOfEarlierRevisionDoesNotCount) {
  cr_.revision = 2;
  EXPECT_EQ(Missing("TEST", "exit-signoffs"),
            "DEV exit sign-off missing: dev-lead (by a development-lead)");
  EXPECT_EQ(Missing("PROD", "uat-signoff"),
            "no UAT sign-off for TEST (kind uat, by a business-analyst)");
}

TEST_F(GatesTest, TestResultsApprovedGate) {
  RemoveSignoff("test-manager");
  EXPECT_EQ(Missing("PROD", "test-results-approved"),
            "the test manager has not approved the TEST results (test-results-approved evidence "
            "or a test-manager sign-off for TEST)");
  AddEvidence("TEST", kEvidenceTestResultsApproved, true, {});
  EXPECT_EQ(Missing("PROD", "test-results-approved"), "PASSED");
}

TEST_F(GatesTest, RegressionGate) {
  AddEvidence("TEST", kEvidenceRegression, false, 94.9);
  EXPECT_EQ(Missing("PROD", "regression"),
            "regression pass rate in TEST is 94.9 %, at least 95 % required");
  AddEvidence("TEST", kEvidenceRegression, true, 95.0);
  EXPECT_EQ(Missing("PROD", "regression"), "PASSED");
  AddEvidence("TEST", kEvidenceRegression, true, {});
  EXPECT_EQ(Missing("PROD", "regression"), "the regression results for TEST carry no pass rate");
  RemoveEvidence("TEST", kEvidenceRegression);
  EXPECT_EQ(Missing("PROD", "regression"), "no regression results recorded for TEST");
}

TEST_F(GatesTest, SmokeGate) {
  AddEvidence("TEST", kEvidenceSmoke, true, 98.0);
  EXPECT_EQ(Missing("PROD", "smoke"), "smoke tests in TEST passed 98 %, 100 % required");
  AddEvidence("TEST", kEvidenceSmoke, false, {});
  EXPECT_EQ(Missing("PROD", "smoke"), "smoke tests in TEST failed");
  RemoveEvidence("TEST", kEvidenceSmoke);
  EXPECT_EQ(Missing("PROD", "smoke"), "no smoke test results recorded for TEST");
}

TEST_F(GatesTest, UatSignoffGate) {
  RemoveSignoff("uat");
  EXPECT_EQ(Missing("PROD", "uat-signoff"),
            "no UAT sign-off for TEST (kind uat, by a business-analyst)");
  EXPECT_EQ(Missing("PROD", "exit-signoffs"), "PASSED");  // UAT is its own gate
}

TEST_F(GatesTest, RollbackPlanGate) {
  cr_.rollback_plan = " ";
  EXPECT_EQ(Missing("PROD", "rollback-plan"),
            "no rollback plan documented: fill in the rollback plan or attach a "
            "rollback-procedure document");
  cr_.attachments.push_back(
      {"rollback-procedure", "rollback.md", std::string(64, 'b'), 1, "eve", now_});
  EXPECT_EQ(Missing("PROD", "rollback-plan"), "PASSED");
}

TEST_F(GatesTest, RollbackTestedGate) {
  AddEvidence("TEST", kEvidenceRollbackTested, true, 1200.0);
  EXPECT_EQ(Missing("PROD", "rollback-tested"),
            "the tested rollback took 20m, more than the 15m allowed");
  AddEvidence("TEST", kEvidenceRollbackTested, false, {});
  EXPECT_EQ(Missing("PROD", "rollback-tested"), "the rollback test in TEST failed");
  RemoveEvidence("TEST", kEvidenceRollbackTested);
  EXPECT_EQ(Missing("PROD", "rollback-tested"),
            "the rollback procedure has not been tested (record rollback-tested evidence)");
  config_.environments[2].requires_rollback_tested = false;
  EXPECT_EQ(Missing("PROD", "rollback-tested"), "ABSENT");
}

TEST_F(GatesTest, StandardPathChecksTheDurationWhenTheEvidenceCarriesOne) {
  AddEvidence("", kEvidenceRollbackTested, true, 1030.0);  // CR-wide still counts here
  EXPECT_EQ(Missing("PROD", "rollback-tested"),
            "the tested rollback took 17m 10s, more than the 15m allowed");
  AddEvidence("PROD", kEvidenceRollbackTested, true, -1.0);
  EXPECT_EQ(Missing("PROD", "rollback-tested"),
            "the rollback test in PROD recorded -1, not a duration in seconds");
  AddEvidence("PROD", kEvidenceRollbackTested, true, {});
  EXPECT_EQ(Missing("PROD", "rollback-tested"), "PASSED");
}

TEST_F(GatesTest, MaintenanceWindowGate) {
  cr_.scheduled["PROD"] = At(2026y / December / 7, 10);
  EXPECT_EQ(Missing("PROD", "maintenance-window"),
            "the scheduled start 2026-12-07 10:00 is outside every maintenance window for PROD "
            "(next window opens 2026-12-13 02:00); or record maintenance-window-confirmed "
            "evidence");
  AddEvidence("PROD", kEvidenceWindowConfirmed, true, {});
  EXPECT_EQ(Missing("PROD", "maintenance-window"), "PASSED");
  RemoveEvidence("PROD", kEvidenceWindowConfirmed);
  config_.windows.clear();
  EXPECT_EQ(Missing("PROD", "maintenance-window"),
            "the scheduled start 2026-12-07 10:00 is outside every maintenance window for PROD "
            "(no window configured for PROD); or record maintenance-window-confirmed evidence");
  cr_.scheduled.erase("PROD");
  EXPECT_EQ(Missing("PROD", "maintenance-window"),
            "no start scheduled for PROD and no maintenance window confirmed");
  EXPECT_EQ(Missing("DEV", "maintenance-window"), "ABSENT");
}

TEST_F(GatesTest, FreezeGate) {
  config_.freezes = {{"year-end",
                      {"PROD"},
                      At(2026y / December / 13, 0),
                      At(2027y / January / 4, 0),
                      "year-end close"}};
  EXPECT_EQ(Missing("PROD", "freeze"),
            "the deployment scheduled at 2026-12-13 02:00 falls in the freeze year-end (2026-12-13 "
            "00:00 – 2027-01-04 00:00: year-end close) (a cab-chair or it-operations-manager may "
            "override it: deploy --override-freeze --reason T)");
  EXPECT_EQ(Missing("TEST", "freeze"), "PASSED");
  // A freeze starting during the expected duration (45 minutes) also blocks.
  config_.freezes[0].from = At(2026y / December / 13, 2, 30);
  EXPECT_NE(Missing("PROD", "freeze"), "PASSED");
  config_.freezes[0].from = At(2026y / December / 13, 2, 45);
  EXPECT_EQ(Missing("PROD", "freeze"), "PASSED");
  cr_.scheduled.erase("PROD");
  EXPECT_EQ(Missing("PROD", "freeze"), "no start scheduled for PROD");
}

TEST_F(GatesTest, GateReportJson) {
  cr_.scheduled.erase("DEV");
  nlohmann::json j = GateReportToJson(Check("DEV"));
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["cr"], "CR-1");
  EXPECT_EQ(j["gates"][2]["name"], "lead-time");
  EXPECT_EQ(j["gates"][2]["passed"], false);
  EXPECT_EQ(j["gates"][2]["missing"], "no start scheduled for DEV");
  EXPECT_EQ(j["gates"][0]["missing"], "");
}

// The emergency path (§5.3): DEV → PROD, TEST skipped, verbal approval, risk acceptance.
class EmergencyGatesTest : public GatesTest {
 protected:
  void SetUp() override {
    patch_ = SamplePatch(9.8, true);
    cr_ = SampleChangeRequest(config_, patch_);
    cr_.state = CrState::kInProgress;
    cr_.submitted_at = now_;
    cr_.emergency_justification =
        EmergencyJustification{"CVE-2026-12345 exploited against billing",
                               "a public exploit; 5 days is too long",
                               9.8,
                               "NVD",
                               {"active exploitation confirmed in the wild"},
                               "eve",
                               now_};
    cr_.scheduled = {{"DEV", now_ + hours(1)}, {"PROD", now_ + hours(5)}};
    Approve("DEV", "dana", "development-lead");
    AddVerbal("PROD", "sam", "security-lead", now_ + minutes(30));
    AddEvidence("DEV", kEvidenceDeployment, true, {});
    AddEvidence("DEV", kEvidenceSmoke, true, 100.0);
    SignOff("DEV", "dev-lead", "dana");
    AddEvidence("PROD", kEvidenceRiskAcceptance, true, {});
    AddEvidence("DEV", kEvidenceRollbackTested, true, 300.0);
    AddEvidence("PROD", kEvidenceWindowConfirmed, true, {});
  }
};

TEST_F(EmergencyGatesTest, DevToProdPasses) {
  GateReport report = Check("PROD", true);
  EXPECT_TRUE(report.passed) << ::testing::PrintToString(report.Missing());
  EXPECT_THAT(Names(report),
              ElementsAre("cr-state", "emergency-classification", "approval", "lead-time",
                          "previous-environment", "exit-signoffs", "risk-acceptance", "smoke",
                          "rollback-plan", "rollback-tested", "maintenance-window", "freeze"));
}

TEST_F(EmergencyGatesTest, SameCrOnTheStandardPathFailsWhereTheEmergencyPathRelaxes) {
  GateReport report = Check("PROD", false);
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(Missing("PROD", "approval"),
            "PROD needs 1 more approval from a cab-member or cab-chair (quorum 1, counted: none); "
            "not counted: sam (verbal, counts only on the emergency path)");
  EXPECT_EQ(Missing("PROD", "previous-environment"), "TEST has no successful deployment recorded");
  EXPECT_EQ(Missing("PROD", "regression"), "no regression results recorded for TEST");
}

TEST_F(EmergencyGatesTest, RiskAcceptanceRequired) {
  RemoveEvidence("PROD", kEvidenceRiskAcceptance);
  EXPECT_EQ(Missing("PROD", "risk-acceptance", true),
            "no risk acceptance recorded for the emergency path to PROD (TEST skipped on the "
            "emergency path); record risk-acceptance evidence");
  AddEvidence("TEST", kEvidenceRiskAcceptance, true, {});  // recorded against the skipped env
  EXPECT_EQ(Missing("PROD", "risk-acceptance", true), "PASSED");
}

TEST_F(EmergencyGatesTest, OverdueVerbalApprovalStopsCounting) {
  now_ += hours(25);
  EXPECT_EQ(Missing("PROD", "approval", true),
            "PROD needs 1 more approval from a cab-member or cab-chair (or, verbally, a cab-chair "
            "or security-lead or it-operations-manager) (quorum 1, counted: none); not counted: "
            "sam (verbal, written confirmation overdue since 2026-12-01 09:30)");
  cr_.approvals.back().confirmed_at = now_;
  EXPECT_EQ(Missing("PROD", "approval", true), "PASSED");
  EXPECT_EQ(Missing("PROD", "approval", false), "PASSED");  // confirmed in writing
}

TEST_F(EmergencyGatesTest, EmergencyLeadTime) {
  cr_.scheduled["PROD"] = now_ + hours(3);
  EXPECT_EQ(Missing("PROD", "lead-time", true),
            "the emergency lead time for PROD is 4h (submitted 2026-11-30 09:00): earliest "
            "allowed start 2026-11-30 13:00, but scheduled 2026-11-30 12:00");
}

TEST_F(EmergencyGatesTest, EmergencyNeverWaitsLongerThanStandard) {
  cr_.scheduled["DEV"] = now_ + minutes(30);  // DEV: same day beats the 4h emergency lead time
  EXPECT_EQ(Missing("DEV", "lead-time", true), "PASSED");
  cr_.scheduled["DEV"] = now_ - hours(10);
  EXPECT_EQ(Missing("DEV", "lead-time", true),
            "the lead time for DEV is same day (submitted 2026-11-30 09:00): earliest allowed "
            "start 2026-11-30 00:00, but scheduled 2026-11-29 23:00");
}

TEST_F(EmergencyGatesTest, SkippedEnvironmentStillNeedsTheOneBefore) {
  RemoveEvidence("DEV", kEvidenceDeployment);
  EXPECT_EQ(Missing("PROD", "previous-environment", true),
            "DEV has no successful deployment recorded (TEST skipped on the emergency path)");
  RemoveSignoff("dev-lead");
  EXPECT_EQ(Missing("PROD", "exit-signoffs", true),
            "DEV exit sign-off missing: dev-lead (by a development-lead)");
  RemoveEvidence("DEV", kEvidenceSmoke);
  EXPECT_EQ(Missing("PROD", "smoke", true), "no smoke test results recorded for DEV");
}

TEST_F(EmergencyGatesTest, TestNotSkippedWhenItSucceeded) {
  AddEvidence("TEST", kEvidenceDeployment, true, {});
  AddEvidence("TEST", kEvidenceSmoke, true, 100.0);
  EXPECT_EQ(Missing("PROD", "exit-signoffs", true),
            "TEST exit sign-offs missing: test-manager (by a test-manager), business-analyst (by "
            "a business-analyst)");
  EXPECT_EQ(Missing("PROD", "risk-acceptance", true), "PASSED");
}

TEST_F(EmergencyGatesTest, SkipNotAllowedWithoutAllowEmergencySkip) {
  config_.environments[1].allow_emergency_skip = false;
  EXPECT_EQ(Missing("PROD", "previous-environment", true),
            "TEST has no successful deployment recorded");
}

TEST_F(EmergencyGatesTest, EmergencyPathRefusedForAPatchOutsideSection5_1) {
  patch_ = SamplePatch(5.3);
  patch_.id = "PATCH-4";
  cr_.classification = patch_.classification.priority;
  cr_.emergency = patch_.classification.emergency;
  cr_.emergency_justification.reset();
  EXPECT_EQ(Missing("PROD", "emergency-classification", true),
            "PATCH-4 is P3-Moderate with CVSS 5.3 and no exploitation: none of §5.1's criteria "
            "(active exploitation, CVSS ≥ 9.0, or a declared service-availability, "
            "regulatory-directive or business-impact criterion); the emergency path is not "
            "available for CR-1");
  // Even a CR flagged emergency is judged by its patch's criteria.
  cr_.emergency = true;
  EXPECT_THAT(Missing("PROD", "emergency-classification", true),
              ::testing::StartsWith("PATCH-4 is P3-Moderate with CVSS 5.3"));
  EXPECT_EQ(Missing("PROD", "emergency-classification", false), "ABSENT");
}

TEST_F(EmergencyGatesTest, EmergencyPathNeedsTheJustification) {
  cr_.emergency_justification.reset();
  GateReport report = Check("PROD", true);
  EXPECT_FALSE(report.passed);
  EXPECT_THAT(report.Missing(),
              ElementsAre("no emergency justification recorded (playbook §5.1 step 1): rollgate "
                          "cr justify CR-1 --incident TEXT --why TEXT [--cvss-source TEXT]"));
  // Without the patch only the CR's own flag and justification are judged.
  cr_.emergency_justification = EmergencyJustification{};
  EXPECT_TRUE(CheckGates(cr_, config_, "PROD", now_, utc_, true).passed);
}

TEST_F(EmergencyGatesTest, RollbackRehearsedFirstWithinFifteenMinutes) {
  RemoveEvidence("DEV", kEvidenceRollbackTested);
  EXPECT_EQ(Missing("PROD", "rollback-tested", true),
            "no rollback rehearsal recorded in DEV or TEST: the emergency path to PROD needs the "
            "rollback tested first (rollback --rehearse, or rollback-tested evidence with its "
            "duration in seconds)");
  // Evidence recorded against PROD itself or the whole CR is no rehearsal.
  AddEvidence("PROD", kEvidenceRollbackTested, true, 60.0);
  AddEvidence("", kEvidenceRollbackTested, true, 60.0);
  EXPECT_THAT(Missing("PROD", "rollback-tested", true),
              ::testing::StartsWith("no rollback rehearsal recorded in DEV or TEST"));
  AddEvidence("TEST", kEvidenceRollbackTested, true, 1030.0);
  EXPECT_EQ(Missing("PROD", "rollback-tested", true),
            "rollback rehearsal took 17m 10s; the emergency path needs at most 15m");
  AddEvidence("DEV", kEvidenceRollbackTested, true, 900.0);  // exactly the limit
  EXPECT_EQ(Missing("PROD", "rollback-tested", true), "PASSED");
  AddEvidence("DEV", kEvidenceRollbackTested, true, 900.5);  // rounded up, never down
  EXPECT_EQ(Missing("PROD", "rollback-tested", true),
            "rollback rehearsal took 15m 1s; the emergency path needs at most 15m");
  AddEvidence("DEV", kEvidenceRollbackTested, false, 120.0);
  EXPECT_EQ(Missing("PROD", "rollback-tested", true),
            "the rollback rehearsal in DEV failed: the emergency path to PROD needs one that "
            "succeeded");
  AddEvidence("DEV", kEvidenceRollbackTested, true, {});
  EXPECT_EQ(Missing("PROD", "rollback-tested", true),
            "the rollback rehearsal in DEV recorded no duration; the emergency path needs it "
            "measured at most 15m");
  AddEvidence("DEV", kEvidenceRollbackTested, true, -60.0);  // typed by hand: no duration
  EXPECT_THAT(Missing("PROD", "rollback-tested", true),
              ::testing::StartsWith("the rollback rehearsal in DEV recorded no duration"));
  AddEvidence("DEV", kEvidenceRollbackTested, true, 840.0);
  EXPECT_EQ(Missing("PROD", "rollback-tested", true), "PASSED");
}

TEST_F(EmergencyGatesTest, RollbackRehearsalAppliesEvenWhenProdDoesNotRequireIt) {
  config_.environments[2].requires_rollback_tested = false;
  config_.environments[2].thresholds.max_rollback_duration = minutes(4);
  EXPECT_EQ(Missing("PROD", "rollback-tested", true),
            "rollback rehearsal took 5m; the emergency path needs at most 4m");
  EXPECT_EQ(Missing("PROD", "rollback-tested", false), "ABSENT");  // standard path: as configured
  EXPECT_EQ(Missing("DEV", "rollback-tested", true), "ABSENT");    // only to production
}

TEST_F(EmergencyGatesTest, EmergencyPathRefusedForStandardCr) {
  cr_.emergency = false;
  EXPECT_EQ(Missing("PROD", "emergency-classification", true),
            "CR-1 is not an emergency change (playbook §5.1): the emergency path is not available");
  EXPECT_EQ(Missing("PROD", "approval", true),
            "PROD needs 1 more approval from a cab-member or cab-chair (quorum 1, counted: none); "
            "not counted: sam (verbal, counts only on the emergency path)");
}

}  // namespace
}  // namespace rollgate
