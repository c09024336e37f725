#include "domain/evidence_queries.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;

Evidence Make(std::string env, std::string kind, std::optional<bool> passed, Timestamp at,
              std::string detail = "") {
  return {std::move(env), std::move(kind), passed, {}, std::move(detail), {}, "eve", at, ""};
}

TEST(EvidenceQueriesTest, LatestByTimeThenByOrder) {
  ChangeRequest cr;
  Timestamp t = MondayMorning();
  cr.evidence = {Make("DEV", kEvidenceSmoke, true, t + minutes(5), "later"),
                 Make("DEV", kEvidenceSmoke, false, t, "earlier"),
                 Make("DEV", kEvidenceSmoke, true, t + minutes(5), "same time, recorded last"),
                 Make("", kEvidenceBackup, true, t)};
  EXPECT_EQ(LatestEvidence(cr, kEvidenceSmoke, "DEV")->detail, "same time, recorded last");
  EXPECT_EQ(LatestEvidence(cr, kEvidenceSmoke, "TEST"), nullptr);
  EXPECT_EQ(LatestEvidence(cr, kEvidenceBackup, "DEV"), nullptr);
  EXPECT_NE(LatestEvidenceOrCrWide(cr, kEvidenceBackup, "DEV"), nullptr);
  EXPECT_EQ(LatestEvidenceAnywhere(cr, kEvidenceSmoke)->detail, "same time, recorded last");
}

TEST(EvidenceQueriesTest, PassedAndNotFailed) {
  Evidence unset = Make("DEV", kEvidenceLogs, std::nullopt, MondayMorning());
  Evidence failed = Make("DEV", kEvidenceLogs, false, MondayMorning());
  EXPECT_TRUE(NotFailed(&unset));
  EXPECT_FALSE(Passed(&unset));
  EXPECT_FALSE(NotFailed(&failed));
  EXPECT_FALSE(NotFailed(nullptr));
  EXPECT_FALSE(Passed(nullptr));
}

TEST(EvidenceQueriesTest, DeploymentOutcome) {
  ChangeRequest cr;
  Timestamp t = MondayMorning();
  EXPECT_EQ(OutcomeIn(cr, "PROD"), DeploymentOutcome::kNone);
  cr.evidence.push_back(Make("PROD", kEvidenceDeployment, false, t));
  EXPECT_EQ(OutcomeIn(cr, "PROD"), DeploymentOutcome::kFailed);
  cr.evidence.push_back(Make("PROD", kEvidenceDeployment, true, t + hours(1)));
  EXPECT_EQ(OutcomeIn(cr, "PROD"), DeploymentOutcome::kSucceeded);
  cr.evidence.push_back(Make("PROD", kEvidenceRollback, true, t + hours(2)));
  EXPECT_EQ(OutcomeIn(cr, "PROD"), DeploymentOutcome::kRolledBack);
  EXPECT_EQ(DeploymentOutcomeName(OutcomeIn(cr, "PROD")), "rolled-back");
  cr.evidence.push_back(Make("PROD", kEvidenceDeployment, true, t + hours(3)));
  EXPECT_EQ(OutcomeIn(cr, "PROD"), DeploymentOutcome::kSucceeded);
}

TEST(EvidenceQueriesTest, SignoffsOfTheCurrentRevisionAndAttachments) {
  ChangeRequest cr;
  cr.revision = 2;
  cr.signoffs = {{"TEST", "uat", "bea", "business-analyst", MondayMorning(), 1},
                 {"TEST", "uat", "bea", "business-analyst", MondayMorning(), 2}};
  EXPECT_EQ(CurrentSignoffs(cr, "TEST", "uat").size(), 1u);
  EXPECT_TRUE(CurrentSignoffs(cr, "DEV", "uat").empty());
  cr.attachments = {{"release-notes", "a.txt", "", 0, "eve", MondayMorning()},
                    {"release-notes", "b.txt", "", 0, "eve", MondayMorning()}};
  EXPECT_EQ(FindAttachment(cr, "release-notes")->file_name, "b.txt");
  EXPECT_EQ(FindAttachment(cr, "rollback-procedure"), nullptr);
}

TEST(EvidenceQueriesTest, EvidenceWithField) {
  ChangeRequest cr;
  Evidence e = Make("PROD", kEvidenceNotification, true, MondayMorning());
  e.fields["audience"] = "on-call";
  cr.evidence = {e, Make("PROD", kEvidenceNotification, true, MondayMorning())};
  EXPECT_EQ(EvidenceWithField(cr, kEvidenceNotification, "PROD", "audience", "on-call").size(), 1u);
  EXPECT_EQ(EvidenceWithField(cr, kEvidenceNotification, "", "audience", "on-call").size(), 1u);
  EXPECT_TRUE(EvidenceWithField(cr, kEvidenceNotification, "DEV", "audience", "on-call").empty());
}

}  // namespace
}  // namespace rollgate
