#include "domain/business_calendar.h"

#include <algorithm>

namespace rollgate {

namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year_month_day;

year_month_day NextDay(year_month_day date) { return year_month_day(sys_days(date) + days(1)); }

// A configuration whose weekend covers every day has no business days; the cap keeps such a
// calendar from looping forever (it then behaves as calendar days).
constexpr int kMaxDaysScanned = 366 * 100;

year_month_day AddBusinessDaysToDate(year_month_day date, int n, const Config& config) {
  year_month_day start = date;
  int scanned = 0;
  for (int counted = 0; counted < n; ++scanned) {
    if (scanned > kMaxDaysScanned) return year_month_day(sys_days(start) + days(n));
    date = NextDay(date);
    if (IsBusinessDay(date, config)) ++counted;
  }
  return date;
}

int CountBusinessDays(year_month_day from, year_month_day to, const Config& config) {
  int count = 0;
  for (year_month_day d = NextDay(from); sys_days(d) <= sys_days(to); d = NextDay(d)) {
    if (IsBusinessDay(d, config)) ++count;
  }
  return count;
}

}  // namespace

bool IsBusinessDay(year_month_day date, const Config& config) {
  weekday day{sys_days(date)};
  if (std::find(config.weekend.begin(), config.weekend.end(), day) != config.weekend.end()) {
    return false;
  }
  return std::find(config.holidays.begin(), config.holidays.end(), date) == config.holidays.end();
}

Timestamp AddBusinessDays(Timestamp from, int n, const Config& config, const TimeZone& zone) {
  if (n <= 0) return from;
  LocalDateTime local = zone.ToLocal(from);
  local.date = AddBusinessDaysToDate(local.date, n, config);
  return zone.FromLocal(local);
}

int BusinessDaysBetween(Timestamp from, Timestamp to, const Config& config, const TimeZone& zone) {
  year_month_day a = zone.ToLocal(from).date;
  year_month_day b = zone.ToLocal(to).date;
  if (sys_days(b) < sys_days(a)) return -CountBusinessDays(b, a, config);
  return CountBusinessDays(a, b, config);
}

Timestamp EarliestStart(const LeadTime& lead_time, Timestamp submitted, const Config& config,
                        const TimeZone& zone) {
  switch (lead_time.kind) {
    case LeadTime::Kind::kSameDay:
      return zone.FromLocal(LocalDateTime{zone.ToLocal(submitted).date, Seconds(0)});
    case LeadTime::Kind::kHours:
      return submitted + lead_time.duration;
    case LeadTime::Kind::kBusinessDays:
      return AddBusinessDays(submitted, lead_time.business_days, config, zone);
  }
  return submitted;
}

Timestamp DueAfterBusinessDays(Timestamp from, int n, const Config& config, const TimeZone& zone) {
  year_month_day last = AddBusinessDaysToDate(zone.ToLocal(from).date, std::max(n, 0), config);
  return zone.FromLocal(LocalDateTime{NextDay(last), Seconds(0)});
}

}  // namespace rollgate
