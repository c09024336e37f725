#include "domain/windows.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::SampleConfig;

Timestamp At(year_month_day date, int hour, int minute = 0) {
  return sys_days(date) + hours(hour) + minutes(minute);
}

class WindowsTest : public ::testing::Test {
 protected:
  Config config_ = SampleConfig();
  FixedOffsetZone utc_{Seconds(0)};
};

TEST_F(WindowsTest, RecurringWeeklyWindowForProd) {
  // prod-sunday-night: Sunday 02:00-06:00.
  EXPECT_TRUE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 6, 2), utc_));
  EXPECT_TRUE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 6, 5, 59), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 6, 6), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 6, 1, 59), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 7, 3), utc_));
}

TEST_F(WindowsTest, WindowIsLocalToTheZone) {
  FixedOffsetZone plus_one(hours(1));
  // 01:30 UTC Sunday is 02:30 local.
  EXPECT_TRUE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 6, 1, 30), plus_one));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 6, 5, 30), plus_one));
}

TEST_F(WindowsTest, WrappingWindowPastMidnight) {
  // nightly (DEV, TEST): every day 22:00-06:00.
  EXPECT_TRUE(InMaintenanceWindow(config_, "DEV", At(2026y / December / 1, 23), utc_));
  EXPECT_TRUE(InMaintenanceWindow(config_, "DEV", At(2026y / December / 2, 5, 59), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "DEV", At(2026y / December / 2, 6), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "DEV", At(2026y / December / 2, 12), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 1, 23), utc_));
}

TEST_F(WindowsTest, WrappingWindowBelongsToTheDayItOpens) {
  MaintenanceWindow friday_night{"friday-night", {"PROD"}, {Friday}, hours(22), hours(4), {}, {}};
  config_.windows = {friday_night};
  EXPECT_TRUE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 4, 23), utc_));
  EXPECT_TRUE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 5, 3), utc_));   // Sat
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 4, 3), utc_));  // Fri
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 5, 23), utc_));
}

TEST_F(WindowsTest, OneOffWindow) {
  MaintenanceWindow release;
  release.name = "release";
  release.environments = {"PROD"};
  release.from = At(2026y / December / 2, 10);
  release.until = At(2026y / December / 2, 12);
  config_.windows = {release};
  EXPECT_TRUE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 2, 10), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 2, 12), utc_));
  EXPECT_FALSE(InMaintenanceWindow(config_, "PROD", At(2026y / December / 9, 11), utc_));
  EXPECT_EQ(DescribeWindow(release, utc_), "release (2026-12-02 10:00 – 2026-12-02 12:00)");
}

TEST_F(WindowsTest, NextWindowOpening) {
  EXPECT_EQ(NextWindowOpening(config_, "PROD", testing::MondayMorning(), utc_),
            At(2026y / December / 6, 2));
  EXPECT_EQ(NextWindowOpening(config_, "PROD", At(2026y / December / 6, 3), utc_),
            At(2026y / December / 6, 3));
  config_.windows.clear();
  EXPECT_EQ(NextWindowOpening(config_, "PROD", testing::MondayMorning(), utc_), std::nullopt);
}

TEST_F(WindowsTest, FreezesForInstantAndInterval) {
  config_.freezes = {
      {"year-end",
       {"PROD"},
       At(2026y / December / 20, 0),
       At(2027y / January / 4, 0),
       "year-end close"},
      {"all-hands", {}, At(2026y / December / 1, 9), At(2026y / December / 1, 10), ""}};
  EXPECT_EQ(FreezesCovering(config_, "PROD", At(2026y / December / 24, 12)).size(), 1u);
  EXPECT_TRUE(FreezesCovering(config_, "TEST", At(2026y / December / 24, 12)).empty());
  EXPECT_TRUE(FreezesCovering(config_, "PROD", At(2027y / January / 4, 0)).empty());
  EXPECT_EQ(FreezesCovering(config_, "DEV", At(2026y / December / 1, 9, 30)).size(), 1u);
  EXPECT_EQ(FreezesOverlapping(config_, "PROD", At(2026y / December / 19, 22),
                               At(2026y / December / 20, 1))
                .size(),
            1u);
  EXPECT_TRUE(FreezesOverlapping(config_, "PROD", At(2026y / December / 19, 22),
                                 At(2026y / December / 20, 0))
                  .empty());
  EXPECT_EQ(DescribeFreeze(config_.freezes[0], utc_),
            "year-end (2026-12-20 00:00 – 2027-01-04 00:00: year-end close)");
}

TEST_F(WindowsTest, DescribeRecurringWindow) {
  EXPECT_EQ(DescribeWindow(config_.windows[0], utc_), "prod-sunday-night (Sun 02:00–06:00)");
  EXPECT_EQ(DescribeWindow(config_.windows[1], utc_), "nightly (daily 22:00–06:00)");
}

}  // namespace
}  // namespace rollgate
