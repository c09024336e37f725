#include "domain/deployment_messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rollgate {
namespace {

using ::testing::HasSubstr;

TEST(DeploymentMessagesTest, ThePlaybooksTemplatesFilledFromTheRun) {
  FixedOffsetZone zone(std::chrono::hours(1));
  DeploymentFacts f;
  f.system = "billing";
  f.environment = "PROD";
  f.change_request = "CR-7";
  f.patch = "PATCH-3 2.0";
  f.run = "RUN-9";
  f.started = *ParseTime("2026-12-08T21:00:00Z", zone);
  f.finished = f.started + std::chrono::minutes(25);
  f.expected_duration = std::chrono::hours(1);
  f.outcome = "SUCCESS";
  f.smoke = "Pass";
  f.errors = "None";
  Message start = DeploymentStartMessage(f, zone);
  EXPECT_EQ(start.subject, "[DEPLOYMENT START] billing - PROD - 2026-12-08 22:00");
  EXPECT_THAT(start.body, HasSubstr("- 2026-12-08 23:00 - Expected completion"));
  Message done = DeploymentCompleteMessage(f, zone);
  EXPECT_EQ(done.subject, "[DEPLOYMENT COMPLETE] billing - PROD - SUCCESS");
  EXPECT_THAT(done.body, HasSubstr("Duration: 25m"));
  EXPECT_THAT(done.body, HasSubstr("72-hour enhanced monitoring active"));
  f.environment = "TEST";
  EXPECT_THAT(DeploymentCompleteMessage(f, zone).body, HasSubstr("QA Team,"));
  f.reason = "smoke test failed";
  f.approved_by = "erin";
  Message rollback = RollbackStartMessage(f, zone);
  EXPECT_THAT(rollback.subject, HasSubstr("[EMERGENCY] ROLLBACK INITIATED - billing"));
  EXPECT_THAT(rollback.body, HasSubstr("ROLLBACK TRIGGER: smoke test failed"));
  EXPECT_THAT(RollbackCompleteMessage(f, zone).body, HasSubstr("ROLLBACK STATUS: COMPLETED"));
}

TEST(DeploymentMessagesTest, EmergencyApprovalRequestInThePlaybooksLayout) {
  FixedOffsetZone zone(std::chrono::hours(1));
  Patch patch;
  patch.id = "PATCH-1";
  patch.cves = {"CVE-2026-44001"};
  patch.references = {"KB-5001"};
  ChangeRequest cr;
  cr.id = "CR-3";
  cr.system = "billing";
  cr.classification = Priority::kP1Critical;
  cr.risk_assessment = "Low: restart of billing only\nno schema change";
  cr.emergency_justification = EmergencyJustification{
      "CVE-2026-44001: remote code execution in the PDF renderer, exploited in the wild",
      "exploitation is under way; the CAB's 5 business days leave billing exposed",
      9.8,
      "OSV advisory GHSA-1234 (CVSS 3.1)",
      {"active exploitation confirmed in the wild", "CVSS 3.1 base score 9.8 ≥ 9.0 (critical)"},
      "heidi",
      {}};
  Timestamp now = *ParseTime("2026-11-30T09:00:00Z", zone);
  Message m = EmergencyApprovalRequestMessage(cr, patch, "PROD", "Heidi Hill (heidi)", now, zone);
  EXPECT_EQ(m.subject, "EMERGENCY PATCH APPROVAL REQUEST - CR-3 - billing - P1-Critical");
  EXPECT_EQ(m.body.substr(0, m.body.find("\nChange Request:")),
            "EMERGENCY PATCH APPROVAL REQUEST\n"
            "==================================\n"
            "Incident: CVE-2026-44001: remote code execution in the PDF renderer, exploited in "
            "the wild\n"
            "Classification: P1-Critical\n"
            "CVSS Score: 9.8 (source: OSV advisory GHSA-1234 (CVSS 3.1))\n"
            "Vendor Reference: CVE-2026-44001, KB-5001\n"
            "\n"
            "Risk Assessment:\n"
            "- Impact if not deployed: active exploitation confirmed in the wild; CVSS 3.1 base "
            "score 9.8 ≥ 9.0 (critical)\n"
            "- Risk if deployed: Low: restart of billing only\n"
            "  no schema change\n"
            "\n"
            "Recommended Action: Deploy\n"
            "\n"
            "Requestor: Heidi Hill (heidi)\n"
            "Time: 2026-11-30 10:00\n");
  EXPECT_THAT(m.body, HasSubstr("Change Request: CR-3 (PATCH-1, billing)\n"));
  EXPECT_THAT(m.body, HasSubstr("Why the normal process cannot be followed: exploitation is "
                                "under way; the CAB's 5 business days leave billing exposed\n"));
  EXPECT_THAT(m.body, HasSubstr("rollgate cr approve CR-3 --env PROD"));

  // Nothing recorded yet: the template says so instead of leaving a blank.
  cr.emergency_justification.reset();
  cr.risk_assessment.clear();
  patch.cves.clear();
  patch.references.clear();
  Message bare = EmergencyApprovalRequestMessage(cr, patch, "PROD", "", now, zone);
  EXPECT_THAT(bare.body, HasSubstr("Incident: [not recorded]\n"));
  EXPECT_THAT(bare.body, HasSubstr("CVSS Score: not scored\n"));
  EXPECT_THAT(bare.body, HasSubstr("Vendor Reference: none recorded\n"));
  EXPECT_THAT(bare.body, HasSubstr("- Risk if deployed: [not recorded]\n"));
  EXPECT_THAT(bare.body, HasSubstr("Requestor: [not recorded]\n"));
}

}  // namespace
}  // namespace rollgate
