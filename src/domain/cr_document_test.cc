#include "domain/cr_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleChangeRequest;
using rollgate::testing::SampleConfig;
using rollgate::testing::SamplePatch;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CrDocumentTest : public ::testing::Test {
 protected:
  Config config_ = SampleConfig();
  Patch patch_ = SamplePatch(7.5);
  Timestamp now_ = MondayMorning();
  FixedOffsetZone utc_{Seconds(0)};
  ChangeRequest cr_ = SampleChangeRequest(config_, patch_);
};

TEST_F(CrDocumentTest, DraftRendersTheTemplateWithPendingValues) {
  std::string text = RenderCrText(cr_, &patch_, config_, now_, utc_);
  EXPECT_THAT(text, StartsWith(R"(CHANGE REQUEST
==============

CR Number: CR-1
Title: billing - Security Patch - 2026-11-30

CLASSIFICATION
==============
Type: Security
Priority: P2-High
CVSS Score: 7.5 (CVSS 3.1)

APPROVALS
=========
DEV Approval: [pending]
TEST Approval: [pending]
PROD Approval: [pending]

DEPLOYMENT DETAILS
==================
Target Environment: DEV
Scheduled Date: [pending]
Scheduled Time: [pending]
Expected Duration: 45m
Downtime Required: Yes (15m)

ROLLBACK PLAN
=============
Rollback Procedure: documented in this CR (Rollback Plan Details below)
Rollback Duration: [pending]
Rollback Trigger: availability < 99.5 %; ≥ 5 % of users affected by critical defects; any confirmed data integrity issue; security vulnerability CVSS ≥ 7 discovered; smoke test failure in PROD; performance > 20 % slower

VALIDATION
==========
Smoke Tests: [pending]
Regression: [pending]
UAT Sign-off: [pending]

POST-DEPLOYMENT
===============
Status: [pending]
Completed: [pending]
Issues: [pending]

CHANGE DETAILS
==============
State: draft (revision 1)
)"));
}

TEST_F(CrDocumentTest, EveryTemplateHeadingInOrder) {
  std::string text = RenderCrText(cr_, nullptr, config_, now_, utc_);
  size_t at = 0;
  for (const char* heading :
       {"CHANGE REQUEST\n==============", "CLASSIFICATION\n==============", "APPROVALS\n=========",
        "DEPLOYMENT DETAILS\n==================", "ROLLBACK PLAN\n=============",
        "VALIDATION\n==========", "POST-DEPLOYMENT\n==============="}) {
    size_t found = text.find(heading, at);
    ASSERT_NE(found, std::string::npos) << heading;
    at = found;
  }
  EXPECT_THAT(text, HasSubstr("CVSS Score: [pending]"));
  for (const char* label : {"CR Number:",
                            "Title:",
                            "Type:",
                            "Priority:",
                            "CVSS Score:",
                            "DEV Approval:",
                            "TEST Approval:",
                            "PROD Approval:",
                            "Target Environment:",
                            "Scheduled Date:",
                            "Scheduled Time:",
                            "Expected Duration:",
                            "Downtime Required:",
                            "Rollback Procedure:",
                            "Rollback Duration:",
                            "Rollback Trigger:",
                            "Smoke Tests:",
                            "Regression:",
                            "UAT Sign-off:",
                            "Status:",
                            "Completed:",
                            "Issues:"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + label)) << label;
  }
}

TEST_F(CrDocumentTest, FilledFromTheRecord) {
  Patch critical = SamplePatch(9.8, true);
  critical.cvss[0].severity = "Critical";
  cr_ = SampleChangeRequest(config_, critical);
  cr_.state = CrState::kCompleted;
  cr_.submitted_at = now_;
  cr_.scheduled["PROD"] = sys_days(2026y / December / 13) + hours(2) + minutes(30);
  cr_.approvals.push_back({"DEV", "dana", "development-lead", now_, 1, false, "", "", {}, false});
  cr_.approvals.push_back(
      {"PROD", "sam", "security-lead", now_, 1, true, "eve", "after 18:00", {}, true});
  cr_.rejections.push_back({"TEST", "tina", now_, "not tested"});
  cr_.signoffs.push_back({"TEST", "uat", "bea", "business-analyst", now_, 1});
  cr_.attachments.push_back(
      {"rollback-procedure", "rollback.md", std::string(64, 'c'), 42, "eve", now_});
  cr_.evidence.push_back({"DEV", kEvidenceDeployment, true, {}, "", {}, "system", now_, ""});
  cr_.evidence.push_back({"TEST", kEvidenceSmoke, true, 100.0, "", {}, "system", now_, ""});
  cr_.evidence.push_back({"TEST", kEvidenceRegression, true, 97.5, "", {}, "system", now_, ""});
  cr_.evidence.push_back({"TEST", kEvidenceRollbackTested, true, 540.0, "", {}, "ed", now_, ""});
  cr_.evidence.push_back(
      {"PROD", kEvidenceDeployment, true, {}, "", {}, "system", now_ + hours(1), ""});
  std::string text =
      RenderCrText(cr_, &critical, config_, now_ + hours(30), FixedOffsetZone(hours(1)));
  EXPECT_THAT(text,
              HasSubstr("Priority: P1-Critical (emergency)\nCVSS Score: 9.8 (CVSS 3.1, Critical)"));
  EXPECT_THAT(text, HasSubstr("DEV Approval: dana 2026-11-30\n"));
  EXPECT_THAT(text, HasSubstr("TEST Approval: rejected by tina 2026-11-30: not tested\n"));
  EXPECT_THAT(text, HasSubstr("PROD Approval: sam 2026-11-30 (verbal, written confirmation overdue "
                              "since 2026-12-01 10:00)\n"));
  EXPECT_THAT(text, HasSubstr("Target Environment: PROD\nScheduled Date: 2026-12-13\nScheduled "
                              "Time: 03:30\n"));
  EXPECT_THAT(text, HasSubstr("Rollback Procedure: rollback.md (sha256 cccccccccccc)\nRollback "
                              "Duration: 9m (tested in TEST)\n"));
  EXPECT_THAT(text, HasSubstr("Smoke Tests: Pass (TEST, 100 %)\nRegression: 97.5% (TEST)\nUAT "
                              "Sign-off: bea 2026-11-30\n"));
  EXPECT_THAT(text, HasSubstr("Status: Success\nCompleted: 2026-11-30 11:00\nIssues: None\n"));
  EXPECT_THAT(text, HasSubstr("OVERDUE CONFIRMATIONS\n=====================\nPROD sam: verbal "
                              "approval of 2026-11-30 10:00, written confirmation due 2026-12-01 "
                              "10:00, overdue by 6h\n"));
}

TEST_F(CrDocumentTest, RolledBackStatusAndIssues) {
  cr_.evidence.push_back({"PROD", kEvidenceDeployment, true, {}, "", {}, "system", now_, ""});
  cr_.evidence.push_back(
      {"PROD", kEvidenceSmoke, false, 80.0, "checkout fails", {}, "system", now_ + minutes(5), ""});
  cr_.evidence.push_back(
      {"PROD", kEvidenceRollback, true, {}, "", {}, "system", now_ + minutes(20), ""});
  std::string text = RenderCrText(cr_, &patch_, config_, now_, utc_);
  EXPECT_THAT(text, HasSubstr("Status: Rolled Back\nCompleted: 2026-11-30 09:20\nIssues: smoke "
                              "failed: checkout fails\n"));
}

TEST_F(CrDocumentTest, MultiLineValuesAreIndentedAndEscaped) {
  cr_.implementation_plan = "1. stop\n2. deploy\x1b[31m";
  std::string text = RenderCrText(cr_, &patch_, config_, now_, utc_);
  EXPECT_THAT(text, HasSubstr("Implementation Plan: 1. stop\n  2. deploy"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST_F(CrDocumentTest, Markdown) {
  std::string md = RenderCrMarkdown(cr_, &patch_, config_, now_, utc_);
  EXPECT_THAT(md, StartsWith("# CHANGE REQUEST\n\n- **CR Number:** CR-1\n- **Title:** billing - "
                             "Security Patch - 2026-11-30\n\n## CLASSIFICATION\n\n- **Type:** "
                             "Security\n"));
  for (const char* heading : {"## APPROVALS", "## DEPLOYMENT DETAILS", "## ROLLBACK PLAN",
                              "## VALIDATION", "## POST-DEPLOYMENT"}) {
    EXPECT_THAT(md, HasSubstr(heading));
  }
}

TEST_F(CrDocumentTest, JsonHasAllFields) {
  cr_.approvals.push_back({"DEV", "dana", "development-lead", now_, 1, false, "", "", {}, false});
  cr_.approvals.push_back({"PROD", "carl", "cab-member", now_, 0, false, "", "", {}, false});
  nlohmann::json j = CrToJson(cr_, &patch_, config_, now_, utc_);
  for (const char* key : {"id",
                          "number",
                          "patch_id",
                          "title",
                          "classification",
                          "priority",
                          "emergency",
                          "type",
                          "state",
                          "revision",
                          "description",
                          "system",
                          "affected_systems",
                          "implementation_plan",
                          "rollback_plan",
                          "risk_assessment",
                          "test_plan",
                          "expected_downtime_seconds",
                          "expected_duration_seconds",
                          "rollback_complexity",
                          "requester",
                          "created_at",
                          "submitted_at",
                          "updated_at",
                          "scheduled",
                          "cvss",
                          "approvals",
                          "rejections",
                          "signoffs",
                          "evidence",
                          "attachments",
                          "overdue_confirmations",
                          "outcomes",
                          "environments",
                          "document"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["classification"], "P2");
  EXPECT_EQ(j["classification_name"], "P2-High");
  EXPECT_EQ(j["cvss"]["base_score"], 7.5);
  EXPECT_EQ(j["approvals"][0]["counts"], true);
  EXPECT_EQ(j["approvals"][1]["counts"], false);  // an earlier revision
  EXPECT_EQ(j["submitted_at"], nullptr);
  EXPECT_EQ(j["outcomes"]["DEV"], "none");
  EXPECT_EQ(j["environments"], nlohmann::json::array({"DEV", "TEST", "PROD"}));  // their order
  EXPECT_EQ(j["document"][0]["heading"], "CHANGE REQUEST");
}

TEST_F(CrDocumentTest, EmergencyJustificationAndExpeditedApproval) {
  Patch critical = SamplePatch(9.8, true);
  cr_ = SampleChangeRequest(config_, critical);
  std::string pending = RenderCrText(cr_, &critical, config_, now_, utc_);
  EXPECT_THAT(pending, HasSubstr("EMERGENCY JUSTIFICATION\n=======================\n"
                                 "Justification: [pending] (rollgate cr justify CR-1 --incident "
                                 "TEXT --why TEXT)\n"));
  EXPECT_THAT(pending, HasSubstr("EMERGENCY APPROVAL\n==================\nApproval type: "
                                 "Emergency (Expedited)\nApprovers: [pending]\n"));
  cr_.emergency_justification = EmergencyJustification{"CVE-2026-12345 exploited against billing",
                                                       "a public exploit; 5 days is too long",
                                                       9.8,
                                                       "NVD",
                                                       critical.classification.emergency_reasons,
                                                       "eve",
                                                       now_ + minutes(5)};
  cr_.approvals.push_back({"DEV", "dana", "development-lead", now_, 1, false, "", "", {}, true});
  cr_.approvals.push_back({"PROD", "sam", "security-lead", now_ + minutes(30), 1, true, "eve",
                           "deploy after 18:00", now_ + hours(2), true});
  cr_.approvals.push_back(
      {"PROD", "chris", "cab-chair", now_ + minutes(40), 1, true, "eve", "", {}, true});
  std::string text = RenderCrText(cr_, &critical, config_, now_, utc_);
  EXPECT_THAT(text, HasSubstr("EMERGENCY JUSTIFICATION\n=======================\n"
                              "Incident: CVE-2026-12345 exploited against billing\n"
                              "Criteria (5.1): active exploitation confirmed in the wild; CVSS "
                              "3.1 base score 9.8 ≥ 9.0 (critical)\n"
                              "CVSS Score: 9.8\nCVSS Source: NVD\n"
                              "Why Normal Process Cannot Be Followed: a public exploit; 5 days is "
                              "too long\nRecorded: eve 2026-11-30 09:05\n"));
  EXPECT_THAT(text, HasSubstr("EMERGENCY APPROVAL\n==================\n"
                              "Approval type: Emergency (Expedited)\n"
                              "Approvers: dana (development-lead, DEV), sam (security-lead, PROD, "
                              "verbal), chris (cab-chair, PROD, verbal)\n"
                              "Approval time: dana 2026-11-30 09:00, sam 2026-11-30 09:30 "
                              "(confirmed in writing 2026-11-30 11:00), chris 2026-11-30 09:40 "
                              "(written confirmation due 2026-12-01 09:40)\n"
                              "Conditions: sam: deploy after 18:00\n"));
  // After the template, before the change details.
  EXPECT_LT(text.find("POST-DEPLOYMENT"), text.find("EMERGENCY JUSTIFICATION"));
  EXPECT_LT(text.find("EMERGENCY APPROVAL"), text.find("CHANGE DETAILS"));
  nlohmann::json j = CrToJson(cr_, &critical, config_, now_, utc_);
  EXPECT_EQ(j["approval_type"], "Emergency (Expedited)");
  EXPECT_EQ(j["emergency_justification"]["cvss_source"], "NVD");
  EXPECT_EQ(j["emergency_justification"]["recorded_at"], "2026-11-30T09:05:00Z");
}

TEST_F(CrDocumentTest, StandardChangeHasNoEmergencySections) {
  std::string text = RenderCrText(cr_, &patch_, config_, now_, utc_);
  EXPECT_EQ(text.find("EMERGENCY"), std::string::npos);
  nlohmann::json j = CrToJson(cr_, &patch_, config_, now_, utc_);
  EXPECT_EQ(j["approval_type"], "Standard");
  EXPECT_TRUE(j["emergency_justification"].is_null());
}

}  // namespace
}  // namespace rollgate
