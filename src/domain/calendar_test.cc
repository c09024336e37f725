#include "domain/calendar.h"

#include <gtest/gtest.h>

#include "domain/gates.h"
#include "domain/windows.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::SampleConfig;

Timestamp At(year_month_day date, int hour, int minute = 0) {
  return sys_days(date) + hours(hour) + minutes(minute);
}

ScheduledChange Change(std::string cr, std::string env, std::string system,
                       std::vector<std::string> hosts, Timestamp start, Seconds duration) {
  ScheduledChange c;
  c.change_request = std::move(cr);
  c.environment = std::move(env);
  c.system = std::move(system);
  c.hosts = std::move(hosts);
  c.start = start;
  c.duration = duration;
  return c;
}

Freeze Yearly(std::string name, month_day from, month_day until) {
  Freeze f;
  f.name = std::move(name);
  f.recurrence = Freeze::Recurrence::kYearly;
  f.yearly_from = from;
  f.yearly_until = until;
  return f;
}

class CalendarTest : public ::testing::Test {
 protected:
  Config config_ = SampleConfig();
  FixedOffsetZone utc_{Seconds(0)};
};

TEST_F(CalendarTest, WeeklyWindowOccursOncePerWeekAcrossWeeks) {
  // prod-sunday-night: Sundays 02:00-06:00. Dec 1 (Tue) .. Dec 22: Sundays 6, 13, 20.
  std::vector<Interval> got = WindowOccurrences(config_.windows[0], At(2026y / December / 1, 0),
                                                At(2026y / December / 22, 0), utc_);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (Interval{At(2026y / December / 6, 2), At(2026y / December / 6, 6)}));
  EXPECT_EQ(got[2], (Interval{At(2026y / December / 20, 2), At(2026y / December / 20, 6)}));
}

TEST_F(CalendarTest, WrappingWindowOpenedTheDayBeforeIsIncluded) {
  // nightly: every day 22:00-06:00; the range starts at 03:00 inside last night's opening.
  std::vector<Interval> got = WindowOccurrences(config_.windows[1], At(2026y / December / 2, 3),
                                                At(2026y / December / 2, 23), utc_);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (Interval{At(2026y / December / 1, 22), At(2026y / December / 2, 6)}));
  EXPECT_EQ(got[1], (Interval{At(2026y / December / 2, 22), At(2026y / December / 3, 6)}));
}

TEST_F(CalendarTest, YearlyFreezeCrossesTheNewYear) {
  Freeze f = Yearly("year-end", December / 15, January / 5);
  std::vector<Interval> got =
      FreezeOccurrences(f, At(2026y / November / 1, 0), At(2027y / February / 1, 0), utc_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].start, At(2026y / December / 15, 0));
  EXPECT_EQ(got[0].end, At(2027y / January / 6, 0));  // Jan 5 included, whole day
  // Seen from January, the freeze that began the previous December.
  got = FreezeOccurrences(f, At(2027y / January / 3, 12), At(2027y / January / 4, 0), utc_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].start, At(2026y / December / 15, 0));
  // Two winters in a long range.
  got = FreezeOccurrences(f, At(2026y / January / 1, 0), At(2027y / January / 1, 0), utc_);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(FreezeOccurrences(f, At(2026y / June / 1, 0), At(2026y / July / 1, 0), utc_).empty());
}

TEST_F(CalendarTest, YearlyFreezeIsLocalToTheZone) {
  Freeze f = Yearly("q-end", March / 30, March / 31);
  FixedOffsetZone plus_two(hours(2));
  std::vector<Interval> got =
      FreezeOccurrences(f, At(2026y / March / 1, 0), At(2026y / April / 30, 0), plus_two);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].start, At(2026y / March / 29, 22));
  EXPECT_EQ(got[0].end, At(2026y / March / 31, 22));
}

TEST_F(CalendarTest, WeeklyFreezeAndTheFreezeGateSeeRecurringFreezes) {
  Freeze friday;
  friday.name = "friday-afternoon";
  friday.recurrence = Freeze::Recurrence::kWeekly;
  friday.days = {Friday};
  friday.start_time = hours(12);
  friday.end_time = hours(24);
  friday.environments = {"PROD"};
  config_.freezes = {friday, Yearly("year-end", December / 15, January / 5)};
  // Friday Dec 4 2026 14:00 is in the weekly freeze; Thursday is not.
  EXPECT_EQ(FreezesOverlapping(config_, "PROD", At(2026y / December / 4, 14),
                               At(2026y / December / 4, 15), utc_)
                .size(),
            1u);
  EXPECT_TRUE(FreezesOverlapping(config_, "PROD", At(2026y / December / 3, 14),
                                 At(2026y / December / 3, 15), utc_)
                  .empty());
  EXPECT_TRUE(FreezesOverlapping(config_, "TEST", At(2026y / December / 4, 14),
                                 At(2026y / December / 4, 15), utc_)
                  .empty());
  // Jan 2 2027 is in the yearly freeze, for every environment.
  EXPECT_EQ(FreezesCovering(config_, "TEST", At(2027y / January / 2, 10)).size(), 1u);
  EXPECT_NE(DescribeFreeze(config_.freezes[1], utc_).find("yearly 12-15 – 01-05"),
            std::string::npos);
}

TEST_F(CalendarTest, OverlapOnTheSameSystemIsAConflict) {
  auto a =
      Change("CR-1", "PROD", "billing", {"prod-billing-1"}, At(2026y / December / 6, 2), hours(2));
  auto b =
      Change("CR-2", "PROD", "billing", {"prod-billing-2"}, At(2026y / December / 6, 3), hours(2));
  std::vector<CalendarConflict> got = ConflictsOf(a, {a, b}, config_, utc_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, "overlap");
  EXPECT_EQ(got[0].change_requests, (std::vector<std::string>{"CR-1", "CR-2"}));
  EXPECT_EQ(got[0].start, At(2026y / December / 6, 3));
  EXPECT_EQ(got[0].end, At(2026y / December / 6, 4));
  EXPECT_NE(got[0].detail.find("same system billing"), std::string::npos);
}

TEST_F(CalendarTest, OverlapOnASharedHostIsAConflict) {
  auto a = Change("CR-1", "PROD", "billing", {"prod-1", "prod-2"}, At(2026y / December / 6, 2),
                  hours(2));
  auto b = Change("CR-2", "PROD", "payments", {"prod-2"}, At(2026y / December / 6, 3), hours(1));
  auto c = Change("CR-3", "PROD", "search", {"prod-9"}, At(2026y / December / 6, 3), hours(1));
  std::vector<CalendarConflict> got = FindConflicts({a, b, c}, config_, utc_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].detail.find("shared host prod-2"), std::string::npos);
}

TEST_F(CalendarTest, AdjacentChangesDoNotConflict) {
  auto a = Change("CR-1", "PROD", "billing", {}, At(2026y / December / 6, 2), hours(1));
  auto b = Change("CR-2", "PROD", "billing", {}, At(2026y / December / 6, 3), hours(1));
  EXPECT_TRUE(FindConflicts({a, b}, config_, utc_).empty());
}

TEST_F(CalendarTest, OtherEnvironmentsDoNotConflict) {
  auto a = Change("CR-1", "TEST", "billing", {}, At(2026y / December / 6, 2), hours(2));
  auto b = Change("CR-2", "PROD", "billing", {}, At(2026y / December / 6, 2), hours(2));
  EXPECT_TRUE(FindConflicts({a, b}, config_, utc_).empty());
}

TEST_F(CalendarTest, OutsideTheRequiredWindowAndInsideAFreeze) {
  config_.freezes = {Yearly("year-end", December / 15, January / 5)};
  // PROD requires a window (Sunday 02:00-06:00): Monday 10:00 is outside it.
  auto monday = Change("CR-1", "PROD", "billing", {}, At(2026y / December / 7, 10), hours(1));
  std::vector<CalendarConflict> got = ConflictsOf(monday, {}, config_, utc_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, "outside-window");
  // Sunday Dec 20 03:00 is inside the window but inside the freeze.
  auto frozen = Change("CR-1", "PROD", "billing", {}, At(2026y / December / 20, 3), hours(1));
  got = ConflictsOf(frozen, {}, config_, utc_);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, "freeze");
  EXPECT_NE(got[0].detail.find("year-end"), std::string::npos);
}

TEST_F(CalendarTest, ExpandListsEverythingInTimeOrder) {
  config_.freezes = {Yearly("year-end", December / 24, December / 26)};
  auto change =
      Change("CR-7", "PROD", "billing", {"prod-billing-1"}, At(2026y / December / 20, 3), hours(1));
  std::vector<CalendarEntry> got = ExpandCalendar(config_, {change}, At(2026y / December / 19, 0),
                                                  At(2026y / December / 27, 0), "PROD", utc_);
  std::vector<std::string> kinds;
  for (const CalendarEntry& e : got) kinds.push_back(e.kind + ":" + e.name);
  // The nightly window is DEV and TEST only; Christmas holidays Dec 25 and 26.
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"window:prod-sunday-night", "change:CR-7", "freeze:year-end",
                                      "holiday:holiday", "holiday:holiday"}));
  EXPECT_EQ(got[1].hosts, std::vector<std::string>{"prod-billing-1"});
}

TEST_F(CalendarTest, ExpectedDurationFallsBackToDowntimeThenDefault) {
  ChangeRequest cr;
  cr.id = "CR-1";
  cr.system = "billing";
  cr.scheduled["PROD"] = At(2026y / December / 6, 2);
  cr.scheduled["DEV"] = At(2026y / December / 1, 22);
  config_.calendar_default_duration = minutes(45);
  EXPECT_EQ(ExpectedDuration(cr, config_), minutes(45));
  cr.expected_downtime = minutes(20);
  EXPECT_EQ(ExpectedDuration(cr, config_), minutes(20));
  cr.expected_duration = hours(2);
  EXPECT_EQ(ExpectedDuration(cr, config_), hours(2));
  std::vector<ScheduledChange> changes = ScheduledChangesOf(cr, config_);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].environment, "DEV");  // promotion order
  EXPECT_EQ(changes[1].hosts, (std::vector<std::string>{"prod-billing-1", "prod-billing-2"}));
}

TEST_F(CalendarTest, FreezeOverrideNeedsReasonAndRole) {
  ChangeRequest cr;
  cr.id = "CR-1";
  cr.state = CrState::kInProgress;
  cr.scheduled["PROD"] = At(2026y / December / 20, 3);
  Timestamp now = At(2026y / December / 18, 9);
  EXPECT_EQ(RecordFreezeOverride(cr, config_, "PROD", "chris", "", now, utc_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordFreezeOverride(cr, config_, "PROD", "eve", "fix", now, utc_).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(RecordFreezeOverride(cr, config_, "NOPE", "chris", "fix", now, utc_).status().code(),
            StatusCode::kInvalidArgument);
  config_.freezes = {Yearly("year-end", December / 15, January / 5)};
  Result<CrTransition> t =
      RecordFreezeOverride(cr, config_, "PROD", "opal", "payroll outage", now, utc_);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->action, "cr.freeze-override");
  ASSERT_EQ(t->cr.evidence.size(), 1u);
  EXPECT_EQ(t->cr.evidence[0].kind, kEvidenceFreezeOverride);
  EXPECT_EQ(t->cr.evidence[0].fields.at("role"), kRoleItOperationsManager);
  EXPECT_EQ(t->cr.evidence[0].fields.at("freezes"), "year-end");
}

TEST_F(CalendarTest, FreezeGateAcceptsTheOverrideForItsEnvironmentOnly) {
  config_.freezes = {Yearly("year-end", December / 15, January / 5)};
  ChangeRequest cr;
  cr.id = "CR-1";
  cr.state = CrState::kInProgress;
  cr.scheduled["PROD"] = At(2026y / December / 20, 3);
  cr.scheduled["TEST"] = At(2026y / December / 19, 23);
  Timestamp now = At(2026y / December / 18, 9);
  GateReport before = CheckGates(cr, config_, "PROD", now, utc_, false);
  ASSERT_NE(before.Find("freeze"), nullptr);
  EXPECT_FALSE(before.Find("freeze")->passed);
  EXPECT_NE(before.Find("freeze")->missing.find("--override-freeze"), std::string::npos);
  Result<CrTransition> t = RecordFreezeOverride(cr, config_, "PROD", "chris", "fix", now, utc_);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(CheckGates(t->cr, config_, "PROD", now, utc_, false).Find("freeze")->passed);
  EXPECT_FALSE(CheckGates(t->cr, config_, "TEST", now, utc_, false).Find("freeze")->passed);
}

TEST_F(CalendarTest, OverlapGateNamesTheOtherChange) {
  ChangeRequest cr;
  cr.id = "CR-1";
  cr.system = "billing";
  cr.expected_duration = hours(2);
  cr.scheduled["PROD"] = At(2026y / December / 6, 2);
  Timestamp now = At(2026y / December / 1, 9);
  EXPECT_EQ(CheckGates(cr, config_, "PROD", now, utc_, false).Find("no-overlapping-changes"),
            nullptr);
  std::vector<ScheduledChange> others = {
      Change("CR-2", "PROD", "billing", {}, At(2026y / December / 6, 3), hours(1))};
  GateReport report = CheckGates(cr, config_, "PROD", now, utc_, false, nullptr, &others);
  const Gate* gate = report.Find("no-overlapping-changes");
  ASSERT_NE(gate, nullptr);
  EXPECT_FALSE(gate->passed);
  EXPECT_NE(gate->missing.find("CR-2"), std::string::npos);
  others[0].start = At(2026y / December / 6, 4);  // adjacent
  report = CheckGates(cr, config_, "PROD", now, utc_, false, nullptr, &others);
  EXPECT_TRUE(report.Find("no-overlapping-changes")->passed);
}

}  // namespace
}  // namespace rollgate
