#include "common/time.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

using namespace std::chrono;

TEST(TimeTest, ParsesRfc3339AndLocalForms) {
  FixedOffsetZone cet(hours(1));
  Timestamp utc9 = sys_days(year(2026) / December / 1) + hours(9);
  EXPECT_EQ(*ParseTime("2026-12-01T09:00:00Z", cet), utc9);
  EXPECT_EQ(*ParseTime("2026-12-01T10:00:00+01:00", cet), utc9);
  EXPECT_EQ(*ParseTime("2026-12-01T09:00:00.250Z", cet), utc9);
  EXPECT_EQ(*ParseTime("2026-12-01 10:00", cet), utc9);
  EXPECT_EQ(*ParseTime("2026-12-01T10:00", cet), utc9);
  for (const char* bad :
       {"", "2026-13-01 10:00", "2026-02-30 10:00", "2026-12-01", "2026-12-01 25:00",
        "2026-12-01 10:00 extra", "2026-12-01T10:00+1", "tomorrow"}) {
    EXPECT_FALSE(ParseTime(bad, cet).ok()) << bad;
  }
}

TEST(TimeTest, FormatsUtcAndLocal) {
  Timestamp t = sys_days(year(2026) / November / 29) + hours(16) + minutes(1) + seconds(23);
  EXPECT_EQ(FormatRfc3339Utc(t), "2026-11-29T16:01:23Z");
  EXPECT_EQ(FormatLocalMinutes(t, FixedOffsetZone(hours(-5))), "2026-11-29 11:01");
  EXPECT_EQ(FormatLocalMinutes(t, FixedOffsetZone(hours(9))), "2026-11-30 01:01");
}

TEST(TimeTest, Durations) {
  EXPECT_EQ(*ParseDuration("24h"), hours(24));
  EXPECT_EQ(*ParseDuration("4h30m"), minutes(270));
  EXPECT_EQ(*ParseDuration("5d"), hours(120));
  EXPECT_EQ(*ParseDuration("0s", true), seconds(0));
  EXPECT_FALSE(ParseDuration("0s").ok());
  for (const char* bad : {"", "h", "24", "24x", "-1h", "1.5h", "99999999999d"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDuration(minutes(270)), "4h30m");
  EXPECT_EQ(FormatDuration(hours(48)), "2d");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
}

TEST(TimeTest, DatesAndTimesOfDay) {
  EXPECT_TRUE(ParseDate("2028-02-29").ok());
  EXPECT_FALSE(ParseDate("2027-02-29").ok());
  EXPECT_EQ(*ParseTimeOfDay("22:30"), hours(22) + minutes(30));
  EXPECT_EQ(*ParseTimeOfDay("24:00"), hours(24));
  EXPECT_FALSE(ParseTimeOfDay("24:01").ok());
  EXPECT_FALSE(ParseTimeOfDay("7:00").ok());
}

TEST(TimeTest, SystemZoneRoundTrips) {
  SystemTimeZone zone;
  Timestamp t = sys_days(year(2026) / July / 14) + hours(12);
  EXPECT_EQ(zone.FromLocal(zone.ToLocal(t)), t);
}

}  // namespace
}  // namespace rollgate
