#include "domain/approvals.h"

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
using ::testing::ElementsAre;

class ApprovalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cr_ = SampleChangeRequest(config_, SamplePatch(9.8, true));
    cr_.state = CrState::kSubmitted;
  }

  Approval Written(std::string env, std::string who, std::string role, int revision = 1) {
    return {std::move(env), std::move(who), std::move(role), now_, revision, false, "", "", {},
            false};
  }
  Approval Verbal(std::string env, std::string who, std::string role) {
    return {std::move(env), std::move(who), std::move(role), now_, 1, true, "eve", "", {}, true};
  }

  const Environment& Env(std::string_view name) { return *config_.FindEnvironment(name); }

  Config config_ = SampleConfig();
  Timestamp now_ = MondayMorning();
  ChangeRequest cr_;
};

TEST_F(ApprovalsTest, ProductionIsTheLastEnvironment) {
  EXPECT_FALSE(IsProductionEnvironment(config_, Env("DEV")));
  EXPECT_FALSE(IsProductionEnvironment(config_, Env("TEST")));
  EXPECT_TRUE(IsProductionEnvironment(config_, Env("PROD")));
}

TEST_F(ApprovalsTest, VerbalApproverRolesPerPlaybook) {
  EXPECT_THAT(VerbalApproverRoles(config_, Env("PROD")),
              ElementsAre("cab-chair", "security-lead", "it-operations-manager"));
  EXPECT_THAT(VerbalApproverRoles(config_, Env("TEST")), ElementsAre("test-manager"));
}

TEST_F(ApprovalsTest, RoleAmongNamesTheRoles) {
  EXPECT_EQ(*RoleAmong(config_, "chris", {"cab-member", "cab-chair"}, "approve PROD"),
            "cab-member");
  auto refused = RoleAmong(config_, "eve", {"cab-member", "cab-chair"}, "approve PROD");
  EXPECT_EQ(refused.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message(),
            "eve may not approve PROD: it needs the role cab-member or cab-chair");
  EXPECT_EQ(RoleAmong(config_, "zed", {"cab-member"}, "approve PROD").error().code(),
            StatusCode::kNotFound);
}

TEST_F(ApprovalsTest, CheckMayApprove) {
  EXPECT_EQ(*CheckMayApprove(cr_, config_, "PROD", "carl", false), "cab-member");
  EXPECT_EQ(*CheckMayApprove(cr_, config_, "PROD", "opal", true), "it-operations-manager");
  EXPECT_EQ(CheckMayApprove(cr_, config_, "PROD", "opal", false).error().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckMayApprove(cr_, config_, "UAT", "carl", false).error().code(),
            StatusCode::kNotFound);
  cr_.approvals.push_back(Written("PROD", "carl", "cab-member"));
  EXPECT_EQ(CheckMayApprove(cr_, config_, "PROD", "carl", false).error().code(),
            StatusCode::kConflict);
  EXPECT_EQ(*CheckMayApprove(cr_, config_, "PROD", "cora", false), "cab-member");
  cr_.revision = 2;
  EXPECT_TRUE(CheckMayApprove(cr_, config_, "PROD", "carl", false).ok());
  cr_.emergency = false;
  EXPECT_EQ(CheckMayApprove(cr_, config_, "PROD", "opal", true).error().code(),
            StatusCode::kRefusedByGate);
}

TEST_F(ApprovalsTest, SeparationOfDutiesIsConfigurable) {
  EXPECT_EQ(CheckSeparationOfDuties(cr_, config_, "eve", "approve").code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckSeparationOfDuties(cr_, config_, "dana", "approve").ok());
  config_.separation_of_duties = false;
  EXPECT_TRUE(CheckSeparationOfDuties(cr_, config_, "eve", "approve").ok());
}

TEST_F(ApprovalsTest, TallySortsEveryApprovalIntoItsBucket) {
  config_.environments[2].approval.quorum = 3;
  cr_.revision = 2;
  cr_.approvals = {
      Written("PROD", "carl", "cab-member", 2), Written("PROD", "carl", "cab-member", 2),
      Written("PROD", "cora", "cab-member", 1), Verbal("PROD", "sam", "security-lead"),
      Written("PROD", "dana", "cab-member", 2), Written("DEV", "chris", "cab-chair", 2)};
  cr_.approvals[3].cr_revision = 2;
  ApprovalTally standard = TallyApprovals(cr_, config_, Env("PROD"), now_, false);
  EXPECT_EQ(standard.counted.size(), 1u);        // carl once
  EXPECT_EQ(standard.voided.size(), 1u);         // cora, revision 1
  EXPECT_EQ(standard.not_emergency.size(), 1u);  // sam, verbal
  EXPECT_EQ(standard.not_entitled.size(), 1u);   // dana holds no CAB role
  EXPECT_EQ(standard.missing(), 2);
  ApprovalTally emergency = TallyApprovals(cr_, config_, Env("PROD"), now_, true);
  EXPECT_EQ(emergency.counted.size(), 2u);
  ApprovalTally late = TallyApprovals(cr_, config_, Env("PROD"), now_ + hours(24), true);
  EXPECT_EQ(late.overdue.size(), 1u);
  EXPECT_EQ(late.counted.size(), 1u);
}

TEST_F(ApprovalsTest, ConfirmationDueFollowsTheEnvironment) {
  Approval v = Verbal("PROD", "sam", "security-lead");
  EXPECT_EQ(ConfirmationDue(v, config_), now_ + hours(24));
  config_.environments[2].approval.verbal_confirmation_within = hours(8);
  EXPECT_EQ(ConfirmationDue(v, config_), now_ + hours(8));
  EXPECT_FALSE(IsConfirmationOverdue(v, config_, now_ + hours(8) - seconds(1)));
  EXPECT_TRUE(IsConfirmationOverdue(v, config_, now_ + hours(8)));
  v.confirmed_at = now_ + hours(9);
  EXPECT_FALSE(IsConfirmationOverdue(v, config_, now_ + hours(10)));
  EXPECT_FALSE(
      IsConfirmationOverdue(Written("PROD", "carl", "cab-member"), config_, now_ + days(9)));
}

TEST_F(ApprovalsTest, OverdueAndUnconfirmedLists) {
  cr_.approvals = {Verbal("PROD", "sam", "security-lead"),
                   Verbal("PROD", "opal", "it-operations-manager"),
                   Written("DEV", "dana", "development-lead")};
  cr_.approvals[1].at = now_ + hours(12);
  EXPECT_EQ(UnconfirmedVerbalApprovals(cr_).size(), 2u);
  auto overdue = OverdueConfirmations(cr_, config_, now_ + hours(30));
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0].approver, "sam");
  EXPECT_EQ(overdue[0].recorded_by, "eve");
  EXPECT_EQ(overdue[0].overdue_by, hours(6));
  EXPECT_EQ(OverdueConfirmations(cr_, config_, now_ + hours(36)).size(), 2u);
  EXPECT_EQ(NextConfirmationDue(cr_, config_), now_ + hours(24));
  cr_.approvals[0].confirmed_at = now_;
  EXPECT_EQ(NextConfirmationDue(cr_, config_), now_ + hours(36));
  cr_.approvals[1].confirmed_at = now_;
  EXPECT_EQ(NextConfirmationDue(cr_, config_), std::nullopt);
}

TEST(EmergencyApproversTest, EveryHolderOfAnEmergencyApproverRoleOnce) {
  Config config = SampleConfig();
  std::vector<std::string> seen;
  for (const EmergencyApprover& a : EmergencyApprovers(config)) {
    seen.push_back(a.person->name + " " + a.role);
  }
  EXPECT_THAT(seen,
              ElementsAre("chris cab-chair", "sam security-lead", "opal it-operations-manager"));
  // A person holding two of the roles is asked once, under the first role listed.
  config.people[7].roles.push_back(kRoleCabChair);  // sam
  config.emergency_approver_roles = {kRoleSecurityLead, kRoleCabChair};
  seen.clear();
  for (const EmergencyApprover& a : EmergencyApprovers(config)) {
    seen.push_back(a.person->name + " " + a.role);
  }
  EXPECT_THAT(seen, ElementsAre("sam security-lead", "chris cab-chair"));
  config.emergency_approver_roles.clear();
  EXPECT_TRUE(EmergencyApprovers(config).empty());
}

}  // namespace
}  // namespace rollgate
