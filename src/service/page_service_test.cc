#include "service/page_service.h"

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
using ::testing::HasSubstr;

class PageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-page-service");
    auto store = OpenSqliteStore(dir_ / "state.db");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    config_.channels.push_back({"pages", "file", {{"path", (dir_ / "pages.log").string()}}});
    config_.page_channels = {"pages"};
    Patch patch = SamplePatch(7.5, false);
    ChangeRequest cr = SampleChangeRequest(config_, patch);
    cr.state = CrState::kSubmitted;
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> Status {
                      RETURN_IF_ERROR(tx.PutPatch(patch));
                      return tx.PutChangeRequest(cr);
                    })
                    .ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  PageService Service() { return PageService(config_, *store_, clock_, utc_, dir_); }
  std::string Log() {
    std::ifstream in(dir_ / "pages.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::vector<std::string> Actions() {
    std::vector<std::string> out;
    auto events = store_->AuditEventsFor("PAGE-1");
    if (events.ok()) {
      for (const AuditEvent& e : *events) out.push_back(e.action);
    }
    return out;
  }

  std::filesystem::path dir_;
  Config config_ = SampleConfig();
  std::unique_ptr<Store> store_;
  FakeClock clock_{MondayMorning()};
  FixedOffsetZone utc_{Seconds(0)};
};

TEST_F(PageServiceTest, OpenNotifiesLevelOneAndAuditsEachStep) {
  Result<Page> page = Service().Open({"production", "billing down", "5xx", "CR-1", "PROD"}, "ed");
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  EXPECT_EQ(page->id, "PAGE-1");
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[1].person, "eve");
  EXPECT_EQ(page->events[1].delivered, true);
  EXPECT_THAT(Log(), HasSubstr("To: Eve Engineer"));
  EXPECT_THAT(Log(), HasSubstr("[PAGE-1 production level 1] billing down"));
  EXPECT_EQ(Actions(), (std::vector<std::string>{"page.open", "page.notify"}));
  EXPECT_TRUE(store_->VerifyAudit().value().ok);
}

TEST_F(PageServiceTest, EscalatesOnceWhenTheResponseTimeRunsOut) {
  ASSERT_TRUE(Service().Open({"production", "billing down", "", "CR-1", "PROD"}, "ed").ok());
  clock_.Advance(std::chrono::minutes(14));
  EXPECT_TRUE(Service().EscalateDuePages(clock_.Now(), "system").value().empty());
  clock_.Advance(std::chrono::minutes(1));
  Result<std::vector<Page>> changed = Service().EscalateDuePages(clock_.Now(), "system");
  ASSERT_TRUE(changed.ok()) << changed.error().ToString();
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].level, 2);
  EXPECT_EQ((*changed)[0].events.back().person, "opal");  // the IT operations manager
  // A second tick at the same time (another process) finds nothing to do.
  EXPECT_TRUE(Service().EscalateDuePages(clock_.Now(), "system").value().empty());
  EXPECT_THAT(Log(), HasSubstr("[PAGE-1 production level 2] billing down"));
  EXPECT_EQ(Actions(),
            (std::vector<std::string>{"page.open", "page.notify", "page.escalate", "page.notify"}));
}

TEST_F(PageServiceTest, AcknowledgeChecksWhoAndIsRecorded) {
  ASSERT_TRUE(Service().Open({"standard", "TEST stuck", "", "CR-1", "TEST"}, "ed").ok());
  EXPECT_EQ(Service().Acknowledge("PAGE-1", "hal").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Service().Acknowledge("PAGE-7", "eve").status().code(), StatusCode::kNotFound);
  Result<Page> acked = Service().Acknowledge("PAGE-1", "dana");  // level 2, development lead
  ASSERT_TRUE(acked.ok()) << acked.error().ToString();
  EXPECT_EQ(acked->state, PageState::kAcknowledged);
  clock_.Advance(std::chrono::hours(3));
  EXPECT_TRUE(Service().EscalateDuePages(clock_.Now(), "system").value().empty());
  EXPECT_EQ(Service().List(true).value().size(), 0u);
  EXPECT_EQ(Actions().back(), "page.ack");
}

TEST_F(PageServiceTest, UnknownPathOrCrChangesNothing) {
  EXPECT_EQ(Service().Open({"urgent", "x", "", "", ""}, "ed").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Service().Open({"standard", "x", "", "CR-9", ""}, "ed").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Service().Open({"standard", "x", "", "", "QA"}, "ed").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Service().List(false).value().empty());
}

TEST_F(PageServiceTest, AutomaticPagePath) {
  ChangeRequest cr;
  cr.classification = Priority::kP2High;
  EXPECT_EQ(AutomaticPagePath(config_, cr, "PROD", false), "production");
  EXPECT_EQ(AutomaticPagePath(config_, cr, "TEST", false), "standard");
  EXPECT_EQ(AutomaticPagePath(config_, cr, "DEV", true), "security");
  cr.classification = Priority::kP1Critical;
  EXPECT_EQ(AutomaticPagePath(config_, cr, "PROD", false), "security");
}

}  // namespace
}  // namespace rollgate
