#include "service/calendar_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"
#include "testing/test_store.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleChangeRequest;
using rollgate::testing::SampleConfig;
using rollgate::testing::SamplePatch;

class CalendarServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-calendar-service");
    auto store = OpenSqliteStore(dir_ / "state.db");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutPatch(patch_); }).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Put(const std::string& id, CrState state, Timestamp dev_start,
           std::optional<Timestamp> deployed = std::nullopt) {
    ChangeRequest cr = SampleChangeRequest(config_, patch_);
    cr.id = id;
    cr.number = std::stoi(id.substr(3));
    cr.state = state;
    cr.scheduled["DEV"] = dev_start;
    if (deployed) {
      Evidence e;
      e.environment = "DEV";
      e.kind = kEvidenceDeployment;
      e.passed = true;
      e.at = *deployed;
      cr.evidence.push_back(e);
    }
    Status put = store_->Write([&](Transaction& tx) { return tx.PutChangeRequest(cr); });
    ASSERT_TRUE(put.ok()) << put.ToString();
  }

  std::vector<std::string> Planned(const std::string& except = "") {
    std::vector<std::string> out;
    EXPECT_TRUE(store_
                    ->Read([&](Transaction& tx) -> Status {
                      ASSIGN_OR_RETURN(std::vector<ScheduledChange> changes,
                                       ListScheduledChanges(tx, config_, except));
                      for (const ScheduledChange& c : changes) out.push_back(c.change_request);
                      return Status::Ok();
                    })
                    .ok());
    return out;
  }

  std::filesystem::path dir_;
  Config config_ = SampleConfig();
  Patch patch_ = SamplePatch(7.5, false);
  std::unique_ptr<Store> store_;
};

TEST_F(CalendarServiceTest, OnlyOpenCrsAndChangesNotDoneYetArePlanned) {
  Timestamp t = MondayMorning();
  Put("CR-1", CrState::kInProgress, t + hours(2));
  Put("CR-2", CrState::kInProgress, t + hours(1), t + hours(1) + minutes(5));  // deployed
  Put("CR-3", CrState::kCompleted, t + hours(3));
  Put("CR-4", CrState::kSubmitted, t + hours(4), t - hours(48));  // redeploy after a failure
  Put("CR-5", CrState::kCancelled, t + hours(5));
  Put("CR-6", CrState::kInProgress, t + hours(6), t + hours(5));  // deployed an hour early
  EXPECT_EQ(Planned(), (std::vector<std::string>{"CR-1", "CR-4"}));
  EXPECT_EQ(Planned("CR-1"), std::vector<std::string>{"CR-4"});
}

}  // namespace
}  // namespace rollgate
