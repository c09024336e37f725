#include "domain/classification.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rollgate {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Patch Scored(double score, std::string version = "3.1") {
  Patch p;
  p.id = "PATCH-1";
  p.cves = {"CVE-2026-12345"};
  p.cvss.push_back({version, "CVSS:3.1/AV:N", score, ""});
  return p;
}

TEST(ClassifyTest, BoundariesOfTheFourPriorities) {
  EXPECT_EQ(Classify(Scored(10.0)).priority, Priority::kP1Critical);
  EXPECT_EQ(Classify(Scored(9.0)).priority, Priority::kP1Critical);
  EXPECT_EQ(Classify(Scored(8.9)).priority, Priority::kP2High);
  EXPECT_EQ(Classify(Scored(7.0)).priority, Priority::kP2High);
  EXPECT_EQ(Classify(Scored(6.9)).priority, Priority::kP3Moderate);
  EXPECT_EQ(Classify(Scored(4.0)).priority, Priority::kP3Moderate);
  EXPECT_EQ(Classify(Scored(3.9)).priority, Priority::kP4Low);
  EXPECT_EQ(Classify(Scored(0.0)).priority, Priority::kP4Low);
}

TEST(ClassifyTest, ReasonsAreWords) {
  EXPECT_THAT(Classify(Scored(9.8)).reasons, ElementsAre("CVSS 3.1 base score 9.8 ≥ 9.0"));
  EXPECT_THAT(Classify(Scored(7.5)).reasons, ElementsAre("CVSS 3.1 base score 7.5 in 7.0–8.9"));
  EXPECT_THAT(Classify(Scored(4.0)).reasons, ElementsAre("CVSS 3.1 base score 4.0 in 4.0–6.9"));
  EXPECT_THAT(Classify(Scored(3.9)).reasons,
              ElementsAre("CVSS 3.1 base score 3.9 < 4.0: minimal impact"));
}

TEST(ClassifyTest, ExploitedWithLowScoreIsP1AndEmergency) {
  Patch p = Scored(3.1);
  p.exploited = true;
  Classification c = Classify(p);
  EXPECT_EQ(c.priority, Priority::kP1Critical);
  EXPECT_THAT(c.reasons,
              ElementsAre("active exploitation confirmed", "CVSS 3.1 base score 3.1 < 4.0"));
  EXPECT_TRUE(c.emergency);
  EXPECT_THAT(c.emergency_criteria, ElementsAre(EmergencyCriterion::kActiveExploitation));
  EXPECT_THAT(c.emergency_reasons, ElementsAre("active exploitation confirmed in the wild"));
}

TEST(ClassifyTest, ExploitedWithoutScoreIsP1) {
  Patch p;
  p.exploited = true;
  EXPECT_EQ(Classify(p).priority, Priority::kP1Critical);
}

TEST(ClassifyTest, NonSecurityPatchIsP4WithoutEmergency) {
  Patch p;
  Classification c = Classify(p);
  EXPECT_EQ(c.priority, Priority::kP4Low);
  EXPECT_THAT(c.reasons, ElementsAre("non-security patch: no CVSS score and no exploitation"));
  EXPECT_FALSE(c.emergency);
  EXPECT_TRUE(c.emergency_reasons.empty());
}

TEST(ClassifyTest, CveWithoutScoreSaysSo) {
  Patch p;
  p.cves = {"CVE-2026-0001"};
  EXPECT_THAT(Classify(p).reasons,
              ElementsAre("no CVSS score recorded for CVE-2026-0001: classified P4 until scored"));
}

TEST(ClassifyTest, CriticalScoreIsAnEmergencyCriterion) {
  Classification c = Classify(Scored(9.8));
  EXPECT_TRUE(c.emergency);
  EXPECT_THAT(c.emergency_criteria, ElementsAre(EmergencyCriterion::kCvssCritical));
  EXPECT_THAT(c.emergency_reasons, ElementsAre("CVSS 3.1 base score 9.8 ≥ 9.0 (critical)"));
  EXPECT_FALSE(Classify(Scored(8.9)).emergency);
}

TEST(ClassifyTest, PrefersCvss4Score) {
  Patch p = Scored(6.0);
  p.cvss.push_back({"4.0", "CVSS:4.0/AV:N", 9.3, ""});
  Classification c = Classify(p);
  EXPECT_EQ(c.priority, Priority::kP1Critical);
  EXPECT_THAT(c.reasons, ElementsAre("CVSS 4.0 base score 9.3 ≥ 9.0"));
}

TEST(ClassifyTest, DeclaredCriteriaMakeAnEmergencyWithoutChangingPriority) {
  Patch p = Scored(5.0);
  p.declared_criteria = {
      EmergencyCriterion::kRegulatoryDirective, EmergencyCriterion::kServiceAvailability,
      EmergencyCriterion::kBusinessImpact, EmergencyCriterion::kRegulatoryDirective};
  Classification c = Classify(p);
  EXPECT_EQ(c.priority, Priority::kP3Moderate);
  EXPECT_TRUE(c.emergency);
  EXPECT_THAT(c.emergency_reasons,
              ElementsAre("regulatory directive requires immediate action (declared)",
                          "service availability at immediate risk (declared)",
                          "business impact: complete system outage potential (declared)"));
}

TEST(ClassifyTest, ExploitedAndCriticalListBothCriteriaOnce) {
  Patch p = Scored(9.8);
  p.exploited = true;
  p.declared_criteria = {EmergencyCriterion::kActiveExploitation};
  Classification c = Classify(p);
  EXPECT_THAT(c.emergency_criteria, ElementsAre(EmergencyCriterion::kActiveExploitation,
                                                EmergencyCriterion::kCvssCritical));
}

TEST(OverrideClassificationTest, KeepsComputedPriorityAndJustification) {
  auto result = OverrideClassification(Classify(Scored(5.0)), Priority::kP2High,
                                       "  customer-facing payment path  ", "sam");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->priority, Priority::kP2High);
  EXPECT_EQ(result->computed_priority, Priority::kP3Moderate);
  EXPECT_TRUE(result->overridden);
  EXPECT_EQ(result->override_justification, "customer-facing payment path");
  EXPECT_EQ(result->overridden_by, "sam");
  EXPECT_THAT(result->reasons,
              Contains("overridden to P2-High by sam: customer-facing payment path"));

  auto again = OverrideClassification(*result, Priority::kP1Critical, "worse than thought", "sam");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->computed_priority, Priority::kP3Moderate);
}

TEST(OverrideClassificationTest, RefusesBlankJustificationOrPerson) {
  auto blank = OverrideClassification(Classify(Scored(5.0)), Priority::kP1Critical, " \t\n", "sam");
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(blank.error().message(), HasSubstr("justification"));
  auto nobody = OverrideClassification(Classify(Scored(5.0)), Priority::kP1Critical, "why", "");
  EXPECT_FALSE(nobody.ok());
}

TEST(MissingEmergencyCriteriaTest, NamesWhatThePatchIsWhenNoCriterionApplies) {
  Patch p = Scored(5.3);
  p.id = "PATCH-4";
  p.classification = Classify(p);
  EXPECT_EQ(MissingEmergencyCriteria(p),
            "PATCH-4 is P3-Moderate with CVSS 5.3 and no exploitation: none of §5.1's criteria "
            "(active exploitation, CVSS ≥ 9.0, or a declared service-availability, "
            "regulatory-directive or business-impact criterion)");
  Patch unscored;
  unscored.id = "PATCH-5";
  unscored.classification = Classify(unscored);
  EXPECT_THAT(MissingEmergencyCriteria(unscored),
              HasSubstr("PATCH-5 is P4-Low with no CVSS score and no exploitation"));
}

TEST(MissingEmergencyCriteriaTest, EmptyWhenAnyCriterionApplies) {
  Patch critical = Scored(9.0);
  critical.classification = Classify(critical);
  EXPECT_EQ(MissingEmergencyCriteria(critical), "");
  Patch exploited = Scored(3.1);
  exploited.exploited = true;
  exploited.classification = Classify(exploited);
  EXPECT_EQ(MissingEmergencyCriteria(exploited), "");
  Patch declared = Scored(5.3);
  declared.declared_criteria = {EmergencyCriterion::kRegulatoryDirective};
  declared.classification = Classify(declared);
  EXPECT_EQ(MissingEmergencyCriteria(declared), "");
  // The stored classification decides, not a recomputation.
  Patch stored = Scored(9.8);
  EXPECT_NE(MissingEmergencyCriteria(stored), "");
}

TEST(CvssSourceTest, AdvisoryOrVectorOrNothing) {
  Patch p = Scored(9.8);
  EXPECT_EQ(CvssSource(p), "CVSS 3.1 vector CVSS:3.1/AV:N recorded on PATCH-1");
  p.advisory_format = "osv";
  p.advisory_id = "GHSA-1234";
  EXPECT_EQ(CvssSource(p), "OSV advisory GHSA-1234 (CVSS 3.1)");
  EXPECT_EQ(CvssSource(Patch{}), "");
}

}  // namespace
}  // namespace rollgate
