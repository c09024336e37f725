#include "domain/oncall.h"

#include <gtest/gtest.h>

#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::SampleConfig;

const Timestamp kOpened = sys_days(2026y / December / 1) + hours(9);

class OncallTest : public ::testing::Test {
 protected:
  Page Open(const std::string& path_name) {
    const EscalationPath* path = FindEscalationPath(config_, path_name);
    EXPECT_NE(path, nullptr);
    Result<Page> page =
        OpenPage(*path, "PAGE-1", "billing down", "", "CR-1", "PROD", "eve", kOpened);
    EXPECT_TRUE(page.ok()) << page.error().message();
    return *page;
  }
  const EscalationPath& Path(const std::string& name) { return *FindEscalationPath(config_, name); }

  Config config_ = SampleConfig();
};

std::vector<std::string> People(const std::vector<PageRecipient>& recipients) {
  std::vector<std::string> out;
  for (const PageRecipient& r : recipients) out.push_back(r.person);
  return out;
}

TEST_F(OncallTest, LevelOneOfAnOnCallContactIsItsPrimary) {
  // production level 1: it-operations-on-call (primary eve, backup ed), 15 minutes.
  EXPECT_EQ(People(ResolveLevel(config_, Path("production").levels[0])),
            std::vector<std::string>{"eve"});
}

TEST_F(OncallTest, ImmediateLevelReachesPrimaryAndBackup) {
  // security level 1: security-on-call (sam, backup opal), immediate.
  EXPECT_EQ(People(ResolveLevel(config_, Path("security").levels[0])),
            (std::vector<std::string>{"sam", "opal"}));
}

TEST_F(OncallTest, BackupStandsInForAMissingPrimary) {
  config_.contacts[0].primary = "";
  EXPECT_EQ(People(ResolveLevel(config_, Path("production").levels[0])),
            std::vector<std::string>{"ed"});
}

TEST_F(OncallTest, RoleLevelReachesEveryHolder) {
  // production level 3: cab-chair.
  EXPECT_EQ(People(ResolveLevel(config_, Path("production").levels[2])),
            std::vector<std::string>{"chris"});
  EscalationLevel person{1, "dora", minutes(5)};
  EXPECT_EQ(People(ResolveLevel(config_, person)), std::vector<std::string>{"dora"});
  EscalationLevel nobody{1, kRoleItDirector, minutes(5)};
  EXPECT_TRUE(ResolveLevel(config_, nobody).empty());
}

TEST_F(OncallTest, OpenSetsLevelOneDeadline) {
  Page page = Open("production");
  EXPECT_EQ(page.level, 1);
  EXPECT_EQ(page.state, PageState::kOpen);
  EXPECT_EQ(page.deadline, kOpened + minutes(15));
  ASSERT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.events[0].kind, "opened");
}

TEST_F(OncallTest, NothingDueBeforeTheDeadline) {
  Page page = Open("production");
  EXPECT_TRUE(EscalateDue(page, Path("production"), kOpened + minutes(14) + seconds(59)).empty());
  EXPECT_EQ(page.level, 1);
}

TEST_F(OncallTest, EscalatesAtTheDeadlineWithTheNextLevelsResponseTime) {
  Page page = Open("production");
  EXPECT_EQ(EscalateDue(page, Path("production"), kOpened + minutes(15)), std::vector<int>{2});
  EXPECT_EQ(page.level, 2);
  EXPECT_EQ(page.deadline, kOpened + minutes(15) + minutes(30));
  EXPECT_EQ(page.events.back().kind, "escalated");
  EXPECT_EQ(page.events.back().at, kOpened + minutes(15));
  // Not again until level 2's 30 minutes have run out.
  EXPECT_TRUE(EscalateDue(page, Path("production"), kOpened + minutes(44)).empty());
  EXPECT_EQ(EscalateDue(page, Path("production"), kOpened + minutes(45)), std::vector<int>{3});
}

TEST_F(OncallTest, CatchesUpLevelByLevelAndIsExhaustedAfterTheLast) {
  Page page = Open("production");
  // 15 + 30 + 60 + 120 minutes: every level missed.
  Timestamp late = kOpened + minutes(15 + 30 + 60 + 120);
  EXPECT_EQ(EscalateDue(page, Path("production"), late), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(page.level, 4);
  EXPECT_EQ(page.state, PageState::kExhausted);
  EXPECT_EQ(page.events.back().kind, "exhausted");
  EXPECT_EQ(page.events.back().at, late);
  // An exhausted page never escalates again but may still be acknowledged.
  EXPECT_TRUE(EscalateDue(page, Path("production"), late + hours(10)).empty());
  EXPECT_TRUE(Acknowledge(page, "chris", late + hours(1)).ok());
  EXPECT_EQ(page.state, PageState::kAcknowledged);
}

TEST_F(OncallTest, OneLevelBeforeTheLastIsNotExhausted) {
  Page page = Open("production");
  EscalateDue(page, Path("production"), kOpened + minutes(15 + 30 + 60 + 119));
  EXPECT_EQ(page.level, 4);
  EXPECT_EQ(page.state, PageState::kOpen);
}

TEST_F(OncallTest, AcknowledgedBeforeTheDeadlineNeverEscalates) {
  Page page = Open("standard");
  ASSERT_TRUE(Acknowledge(page, "eve", kOpened + minutes(5)).ok());
  EXPECT_TRUE(EscalateDue(page, Path("standard"), kOpened + hours(5)).empty());
  EXPECT_EQ(page.level, 1);
  EXPECT_EQ(page.acknowledged_by, "eve");
  Status again = Acknowledge(page, "eve", kOpened + minutes(6));
  EXPECT_EQ(again.code(), StatusCode::kConflict);
}

TEST_F(OncallTest, AcknowledgedAfterEscalationKeepsTheLevelReached) {
  Page page = Open("standard");
  EscalateDue(page, Path("standard"), kOpened + minutes(16));
  ASSERT_TRUE(Acknowledge(page, "dana", kOpened + minutes(20)).ok());
  EXPECT_EQ(page.level, 2);
  EXPECT_EQ(page.events.back().kind, "acknowledged");
}

TEST_F(OncallTest, SecurityImmediateLevelIsDueAtOnce) {
  Page page = Open("security");
  EXPECT_EQ(page.deadline, kOpened);
  EXPECT_EQ(EscalateDue(page, Path("security"), kOpened), std::vector<int>{2});
  EXPECT_EQ(page.deadline, kOpened + minutes(15));
}

TEST_F(OncallTest, WhoMayAcknowledge) {
  Page page = Open("production");
  const EscalationPath& path = Path("production");
  EXPECT_TRUE(MayAcknowledge(page, config_, path, "eve"));    // level 1 primary
  EXPECT_TRUE(MayAcknowledge(page, config_, path, "opal"));   // level 2, higher
  EXPECT_TRUE(MayAcknowledge(page, config_, path, "chris"));  // level 3
  EXPECT_FALSE(MayAcknowledge(page, config_, path, "hal"));   // help desk: not on the path
  EXPECT_FALSE(MayAcknowledge(page, config_, path, ""));
  // Someone notified on the page may acknowledge even when not on the path.
  page.events.push_back({kOpened, "notified", 1, "hal", "", true});
  EXPECT_TRUE(MayAcknowledge(page, config_, path, "hal"));
}

TEST_F(OncallTest, OpenRefusesAnEmptySubjectOrPath) {
  EscalationPath empty{"empty", {}};
  EXPECT_EQ(OpenPage(empty, "PAGE-1", "x", "", "", "", "eve", kOpened).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenPage(Path("standard"), "PAGE-1", "", "", "", "", "eve", kOpened).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OncallTest, JsonRoundTrip) {
  Page page = Open("production");
  EscalateDue(page, Path("production"), kOpened + minutes(20));
  page.events.push_back({kOpened + minutes(20), "notified", 2, "opal", "written", true});
  ASSERT_TRUE(Acknowledge(page, "opal", kOpened + minutes(25)).ok());
  Result<Page> back = PageFromJson(PageToJson(page));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(PageToJson(*back), PageToJson(page));
  EXPECT_EQ(back->events.size(), page.events.size());
  EXPECT_EQ(back->acknowledged_at, page.acknowledged_at);
  EXPECT_FALSE(PageFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace rollgate
