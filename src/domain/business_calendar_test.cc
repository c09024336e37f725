#include "domain/business_calendar.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleConfig;

Timestamp At(year_month_day date, int hour, int minute = 0) {
  return sys_days(date) + hours(hour) + minutes(minute);
}

class BusinessCalendarTest : public ::testing::Test {
 protected:
  Config config_ = SampleConfig();
  FixedOffsetZone utc_{Seconds(0)};
};

TEST_F(BusinessCalendarTest, WeekendsAndHolidaysAreNotBusinessDays) {
  EXPECT_TRUE(IsBusinessDay(2026y / November / 30, config_));   // Monday
  EXPECT_FALSE(IsBusinessDay(2026y / November / 28, config_));  // Saturday
  EXPECT_FALSE(IsBusinessDay(2026y / November / 29, config_));  // Sunday
  EXPECT_FALSE(IsBusinessDay(2026y / December / 25, config_));  // holiday, a Friday
  EXPECT_TRUE(IsBusinessDay(2026y / December / 24, config_));
}

TEST_F(BusinessCalendarTest, ConfiguredWeekendIsHonoured) {
  config_.weekend = {Friday, Saturday};
  EXPECT_TRUE(IsBusinessDay(2026y / November / 29, config_));
  EXPECT_FALSE(IsBusinessDay(2026y / November / 27, config_));
}

TEST_F(BusinessCalendarTest, AddBusinessDaysKeepsTimeOfDayAndSkipsWeekend) {
  EXPECT_EQ(AddBusinessDays(MondayMorning(), 5, config_, utc_), At(2026y / December / 7, 9));
  EXPECT_EQ(AddBusinessDays(At(2026y / December / 4, 15, 30), 1, config_, utc_),
            At(2026y / December / 7, 15, 30));  // Friday + 1 = Monday
  EXPECT_EQ(AddBusinessDays(At(2026y / November / 28, 10), 1, config_, utc_),
            At(2026y / November / 30, 10));  // Saturday + 1 = Monday
  EXPECT_EQ(AddBusinessDays(MondayMorning(), 0, config_, utc_), MondayMorning());
}

TEST_F(BusinessCalendarTest, HolidayOnFridayBeforeWeekend) {
  // Thursday 24 December + 1: Friday 25 is a holiday, then the weekend: Monday 28.
  EXPECT_EQ(AddBusinessDays(At(2026y / December / 24, 9), 1, config_, utc_),
            At(2026y / December / 28, 9));
  EXPECT_EQ(BusinessDaysBetween(At(2026y / December / 24, 9), At(2026y / December / 28, 9), config_,
                                utc_),
            1);
}

TEST_F(BusinessCalendarTest, AcrossMonthAndYearEnd) {
  // Monday 28 December 2026 + 5: 29, 30, 31, (1 Jan holiday, 2-3 weekend), 4, 5 January 2027.
  EXPECT_EQ(AddBusinessDays(At(2026y / December / 28, 9), 5, config_, utc_),
            At(2027y / January / 5, 9));
  // Friday 27 November + 3 crosses into December.
  EXPECT_EQ(AddBusinessDays(At(2026y / November / 27, 9), 3, config_, utc_),
            At(2026y / December / 2, 9));
  EXPECT_EQ(
      BusinessDaysBetween(At(2026y / December / 28, 9), At(2027y / January / 5, 9), config_, utc_),
      5);
}

TEST_F(BusinessCalendarTest, BusinessDaysBetweenIsSignedAndInverseOfAdd) {
  Timestamp t = At(2026y / December / 18, 16);
  for (int n = 0; n < 20; ++n) {
    EXPECT_EQ(BusinessDaysBetween(t, AddBusinessDays(t, n, config_, utc_), config_, utc_), n) << n;
  }
  EXPECT_EQ(BusinessDaysBetween(At(2026y / December / 7, 9), MondayMorning(), config_, utc_), -5);
}

TEST_F(BusinessCalendarTest, LocalDateDecidesInTheZone) {
  // Thursday 23:30 UTC is Friday 01:30 in UTC+2, so + 1 lands on Monday 01:30 local, which is
  // Sunday 23:30 UTC.
  FixedOffsetZone plus_two(hours(2));
  Timestamp thursday_late = At(2026y / December / 3, 23, 30);
  EXPECT_EQ(AddBusinessDays(thursday_late, 1, config_, utc_), At(2026y / December / 4, 23, 30));
  EXPECT_EQ(AddBusinessDays(thursday_late, 1, config_, plus_two), At(2026y / December / 6, 23, 30));
}

TEST_F(BusinessCalendarTest, EarliestStartForEachLeadTime) {
  Timestamp submitted = MondayMorning() + hours(3);  // 12:00
  EXPECT_EQ(EarliestStart(LeadTime::SameDay(), submitted, config_, utc_),
            At(2026y / November / 30, 0));
  EXPECT_EQ(EarliestStart(LeadTime::Hours(hours(24)), submitted, config_, utc_),
            At(2026y / December / 1, 12));
  EXPECT_EQ(EarliestStart(LeadTime::BusinessDays(5), submitted, config_, utc_),
            At(2026y / December / 7, 12));
  FixedOffsetZone minus_five(-hours(5));
  EXPECT_EQ(EarliestStart(LeadTime::SameDay(), submitted, config_, minus_five),
            At(2026y / November / 30, 5));
}

TEST_F(BusinessCalendarTest, DueAfterBusinessDaysIsEndOfTheLastDay) {
  // Deployed Thursday 24 December: 5 business days are 28, 29, 30, 31 December and 4 January;
  // due at the start of 5 January.
  EXPECT_EQ(DueAfterBusinessDays(At(2026y / December / 24, 20), 5, config_, utc_),
            At(2027y / January / 5, 0));
  EXPECT_EQ(DueAfterBusinessDays(MondayMorning(), 0, config_, utc_), At(2026y / December / 1, 0));
}

TEST_F(BusinessCalendarTest, AllDaysWeekendDoesNotLoopForever) {
  config_.weekend = {Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday};
  EXPECT_EQ(AddBusinessDays(MondayMorning(), 2, config_, utc_), MondayMorning() + days(2));
}

}  // namespace
}  // namespace rollgate
