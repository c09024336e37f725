#include "service/emergency_approval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"
#include "testing/test_store.h"

namespace rollgate {
namespace {

using rollgate::testing::FakeClock;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleChangeRequest;
using rollgate::testing::SampleConfig;
using rollgate::testing::SamplePatch;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EmergencyApprovalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-emergency-approval");
    auto store = OpenSqliteStore(dir_ / "state.db");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    config_.channels.push_back({"journal", "file", {{"path", (dir_ / "journal.log").string()}}});
    config_.emergency_notification.channels = {"journal", "teams"};
    Put(SamplePatch(9.8, true));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Stores `patch` and a submitted CR-1 for it, justified unless `justified` is false.
  void Put(const Patch& patch, bool justified = true) {
    ChangeRequest cr = SampleChangeRequest(config_, patch);
    cr.state = CrState::kSubmitted;
    if (justified) {
      cr.emergency_justification =
          EmergencyJustification{"CVE-2026-12345 exploited against billing",
                                 "a public exploit; 5 days is too long",
                                 9.8,
                                 "NVD",
                                 patch.classification.emergency_reasons,
                                 "eve",
                                 clock_.Now()};
    }
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> Status {
                      RETURN_IF_ERROR(tx.PutPatch(patch));
                      return tx.PutChangeRequest(cr);
                    })
                    .ok());
  }

  Result<EmergencyApprovalRequest> Request(const std::string& env = "") {
    return RequestEmergencyApproval(config_, *store_, clock_, utc_, "CR-1", env, "eve");
  }

  std::string Journal() const {
    std::ifstream in(dir_ / "journal.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::filesystem::path dir_;
  Config config_ = SampleConfig();
  FakeClock clock_{MondayMorning()};
  FixedOffsetZone utc_{Seconds(0)};
  std::unique_ptr<Store> store_;
};

TEST_F(EmergencyApprovalTest, EveryApproverThroughEveryChannelEachDeliveryRecorded) {
  Result<EmergencyApprovalRequest> request = Request();
  ASSERT_TRUE(request.ok()) << request.error().ToString();
  EXPECT_EQ(request->environment, "PROD");
  std::vector<std::string> approvers;
  for (const EmergencyApprover& a : request->approvers) approvers.push_back(a.person->name);
  EXPECT_THAT(approvers, ElementsAre("chris", "sam", "opal"));
  ASSERT_EQ(request->deliveries.size(), 6u);  // 3 people x (journal, teams)
  EXPECT_TRUE(request->reached_someone());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(request->deliveries[i].passed, true) << request->deliveries[i].detail;
    EXPECT_EQ(request->deliveries[i + 3].passed, false) << "a webhook needs the service";
  }
  const Evidence& first = request->deliveries[0];
  EXPECT_EQ(first.kind, kEvidenceNotification);
  EXPECT_EQ(first.environment, "PROD");
  EXPECT_EQ(first.fields.at("audience"), "emergency-approvers");
  EXPECT_EQ(first.fields.at("person"), "chris");
  EXPECT_EQ(first.fields.at("role"), "cab-chair");
  EXPECT_EQ(first.fields.at("channel"), "journal");
  EXPECT_THAT(Journal(), HasSubstr("To: Chris CAB-Chair <chris@example.com>\nSubject: EMERGENCY "
                                   "PATCH APPROVAL REQUEST - CR-1 - billing - P1-Critical\n\n"
                                   "EMERGENCY PATCH APPROVAL REQUEST\n"));
  EXPECT_THAT(Journal(), HasSubstr("To: Opal IT-Operations-Manager <opal@example.com>\n"));
  EXPECT_THAT(request->message.body, HasSubstr("Requestor: Eve Engineer (eve)\n"));

  ChangeRequest stored;
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& tx) -> Status {
                    ASSIGN_OR_RETURN(stored, tx.GetChangeRequest("CR-1"));
                    return Status::Ok();
                  })
                  .ok());
  int recorded = 0;
  for (const Evidence& e : stored.evidence) {
    if (e.kind == kEvidenceNotification) ++recorded;
  }
  EXPECT_EQ(recorded, 6);
}

TEST_F(EmergencyApprovalTest, RefusedWithoutJustificationOrForANonEmergencyChange) {
  Put(SamplePatch(9.8, true), /*justified=*/false);
  Result<EmergencyApprovalRequest> unjustified = Request();
  ASSERT_FALSE(unjustified.ok());
  EXPECT_EQ(unjustified.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(unjustified.error().message(), HasSubstr("rollgate cr justify CR-1"));

  Patch moderate = SamplePatch(5.3);
  Put(moderate);
  Result<EmergencyApprovalRequest> p3 = Request();
  ASSERT_FALSE(p3.ok());
  EXPECT_EQ(p3.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(p3.error().message(), HasSubstr("PATCH-1 is P3-Moderate with CVSS 5.3"));
  EXPECT_EQ(Journal(), "") << "nothing was sent";
  EXPECT_EQ(Request("STAGING").error().code(), StatusCode::kNotFound);
}

TEST_F(EmergencyApprovalTest, NothingDeliverableIsReportedNotHidden) {
  config_.emergency_notification.channels = {"teams"};
  Result<EmergencyApprovalRequest> request = Request("TEST");
  ASSERT_TRUE(request.ok()) << request.error().ToString();
  EXPECT_FALSE(request->reached_someone());
  ASSERT_EQ(request->deliveries.size(), 3u);
  EXPECT_EQ(request->deliveries[0].environment, "TEST");
  config_.emergency_notification.channels.clear();
  EXPECT_EQ(Request().error().code(), StatusCode::kRefusedByGate);
  config_.emergency_notification.channels = {"journal"};
  config_.emergency_approver_roles = {kRoleCiso};  // nobody holds it
  EXPECT_EQ(Request().error().code(), StatusCode::kRefusedByGate);
}

}  // namespace
}  // namespace rollgate
