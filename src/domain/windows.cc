#include "domain/windows.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace rollgate {

namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::weekday;

bool Applies(const std::vector<std::string>& environments, std::string_view environment) {
  return environments.empty() ||
         std::find(environments.begin(), environments.end(), environment) != environments.end();
}

bool OpensOn(const MaintenanceWindow& window, weekday day) {
  return window.days.empty() ||
         std::find(window.days.begin(), window.days.end(), day) != window.days.end();
}

bool RecurringContains(const MaintenanceWindow& window, const LocalDateTime& local) {
  weekday today{sys_days(local.date)};
  weekday yesterday{sys_days(local.date) - days(1)};
  Seconds t = local.time_of_day;
  if (window.end_time > window.start_time) {
    return OpensOn(window, today) && t >= window.start_time && t < window.end_time;
  }
  // Wraps past midnight: the part after the start today, or the part before the end that
  // belongs to yesterday's opening.
  return (OpensOn(window, today) && t >= window.start_time) ||
         (OpensOn(window, yesterday) && t < window.end_time);
}

// The openings of a weekly schedule (days, local start and end; an end at or before the start
// wraps into the next day) overlapping [from, until).
std::vector<Interval> WeeklyOccurrences(const std::vector<weekday>& days_open, Seconds start_time,
                                        Seconds end_time, Timestamp from, Timestamp until,
                                        const TimeZone& zone) {
  std::vector<Interval> out;
  sys_days first = sys_days(zone.ToLocal(from).date) - days(1);
  sys_days last = sys_days(zone.ToLocal(until).date);
  for (sys_days day = first; day <= last; day += days(1)) {
    if (!days_open.empty() &&
        std::find(days_open.begin(), days_open.end(), weekday{day}) == days_open.end()) {
      continue;
    }
    Timestamp start = zone.FromLocal({std::chrono::year_month_day{day}, start_time});
    sys_days end_date = end_time > start_time ? day : day + days(1);
    Timestamp end = zone.FromLocal({std::chrono::year_month_day{end_date}, end_time});
    if (start < until && end > from) out.push_back({start, end});
  }
  return out;
}

bool IsOneOff(const MaintenanceWindow& window) {
  return window.from.has_value() || window.until.has_value();
}

std::string FormatTimeOfDay(Seconds s) {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(s).count();
  return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60);
}

std::string DayNames(const std::vector<weekday>& days_open) {
  static constexpr const char* kNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  if (days_open.empty()) return "daily";
  std::vector<std::string> names;
  names.reserve(days_open.size());
  for (weekday d : days_open) names.push_back(kNames[d.c_encoding()]);
  return Join(names, ",");
}

}  // namespace

bool WindowAppliesTo(const MaintenanceWindow& window, std::string_view environment) {
  return Applies(window.environments, environment);
}

bool FreezeAppliesTo(const Freeze& freeze, std::string_view environment) {
  return Applies(freeze.environments, environment);
}

bool WindowContains(const MaintenanceWindow& window, Timestamp t, const TimeZone& zone) {
  if (IsOneOff(window)) {
    return (!window.from || t >= *window.from) && (!window.until || t < *window.until);
  }
  return RecurringContains(window, zone.ToLocal(t));
}

std::vector<const MaintenanceWindow*> WindowsContaining(const Config& config,
                                                        std::string_view environment, Timestamp t,
                                                        const TimeZone& zone) {
  std::vector<const MaintenanceWindow*> found;
  for (const auto& w : config.windows) {
    if (WindowAppliesTo(w, environment) && WindowContains(w, t, zone)) found.push_back(&w);
  }
  return found;
}

bool InMaintenanceWindow(const Config& config, std::string_view environment, Timestamp t,
                         const TimeZone& zone) {
  return !WindowsContaining(config, environment, t, zone).empty();
}

std::optional<Timestamp> NextWindowOpening(const Config& config, std::string_view environment,
                                           Timestamp from, const TimeZone& zone) {
  // Windows open on minute boundaries; scanning minute by minute over 14 days is 20160 probes.
  constexpr int kMinutesAhead = 14 * 24 * 60;
  Timestamp t = from;
  for (int i = 0; i <= kMinutesAhead; ++i) {
    if (InMaintenanceWindow(config, environment, t, zone)) return t;
    t = std::chrono::floor<std::chrono::minutes>(t) + std::chrono::minutes(1);
  }
  return std::nullopt;
}

std::vector<const Freeze*> FreezesCovering(const Config& config, std::string_view environment,
                                           Timestamp t) {
  return FreezesOverlapping(config, environment, t, t);
}

std::vector<const Freeze*> FreezesOverlapping(const Config& config, std::string_view environment,
                                              Timestamp from, Timestamp until) {
  return FreezesOverlapping(config, environment, from, until, FixedOffsetZone(Seconds(0)));
}

std::vector<const Freeze*> FreezesOverlapping(const Config& config, std::string_view environment,
                                              Timestamp from, Timestamp until,
                                              const TimeZone& zone) {
  std::vector<const Freeze*> found;
  Timestamp end = until <= from ? from + Seconds(1) : until;
  for (const auto& f : config.freezes) {
    if (!FreezeAppliesTo(f, environment)) continue;
    if (!FreezeOccurrences(f, from, end, zone).empty()) found.push_back(&f);
  }
  return found;
}

std::vector<Interval> WindowOccurrences(const MaintenanceWindow& window, Timestamp from,
                                        Timestamp until, const TimeZone& zone) {
  std::vector<Interval> out;
  if (until <= from) return out;
  if (IsOneOff(window)) {
    Timestamp start = window.from.value_or(from);
    Timestamp end = window.until.value_or(until);
    if (start < until && end > from) out.push_back({start, end});
    return out;
  }
  return WeeklyOccurrences(window.days, window.start_time, window.end_time, from, until, zone);
}

std::vector<Interval> FreezeOccurrences(const Freeze& freeze, Timestamp from, Timestamp until,
                                        const TimeZone& zone) {
  std::vector<Interval> out;
  if (until <= from) return out;
  switch (freeze.recurrence) {
    case Freeze::Recurrence::kOnce:
      if (freeze.from < until && freeze.until > from) out.push_back({freeze.from, freeze.until});
      return out;
    case Freeze::Recurrence::kWeekly:
      return WeeklyOccurrences(freeze.days, freeze.start_time, freeze.end_time, from, until, zone);
    case Freeze::Recurrence::kYearly:
      break;
  }
  // A yearly freeze that began last year may still run; one starting next year is past `until`.
  int first = static_cast<int>(zone.ToLocal(from).date.year()) - 1;
  int last = static_cast<int>(zone.ToLocal(until).date.year());
  for (int year = first; year <= last; ++year) {
    std::chrono::year y{year};
    std::chrono::year_month_day start_day = y / freeze.yearly_from;
    bool wraps = freeze.yearly_until < freeze.yearly_from;
    std::chrono::year_month_day end_day =
        (wraps ? y + std::chrono::years(1) : y) / freeze.yearly_until;
    // Feb 29 in a common year is taken as Mar 1 (sys_days normalises it).
    Timestamp start = zone.FromLocal({sys_days(start_day), Seconds(0)});
    Timestamp end = zone.FromLocal({sys_days(end_day) + days(1), Seconds(0)});
    if (start < until && end > from) out.push_back({start, end});
  }
  return out;
}

std::string DescribeWindow(const MaintenanceWindow& window, const TimeZone& zone) {
  if (IsOneOff(window)) {
    return fmt::format("{} ({} – {})", window.name,
                       window.from ? FormatLocalMinutes(*window.from, zone) : "always",
                       window.until ? FormatLocalMinutes(*window.until, zone) : "open-ended");
  }
  return fmt::format("{} ({} {}–{})", window.name, DayNames(window.days),
                     FormatTimeOfDay(window.start_time), FormatTimeOfDay(window.end_time));
}

std::string DescribeFreeze(const Freeze& freeze, const TimeZone& zone) {
  std::string reason = freeze.reason.empty() ? "" : ": " + freeze.reason;
  if (freeze.recurrence == Freeze::Recurrence::kYearly) {
    return fmt::format("{} (yearly {:02}-{:02} – {:02}-{:02}{})", freeze.name,
                       static_cast<unsigned>(freeze.yearly_from.month()),
                       static_cast<unsigned>(freeze.yearly_from.day()),
                       static_cast<unsigned>(freeze.yearly_until.month()),
                       static_cast<unsigned>(freeze.yearly_until.day()), reason);
  }
  if (freeze.recurrence == Freeze::Recurrence::kWeekly) {
    return fmt::format("{} ({} {}–{}{})", freeze.name, DayNames(freeze.days),
                       FormatTimeOfDay(freeze.start_time), FormatTimeOfDay(freeze.end_time),
                       reason);
  }
  return fmt::format("{} ({} – {}{}{})", freeze.name, FormatLocalMinutes(freeze.from, zone),
                     FormatLocalMinutes(freeze.until, zone), freeze.reason.empty() ? "" : ": ",
                     freeze.reason);
}

}  // namespace rollgate
