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
  std::vector<const Freeze*> found;
  for (const auto& f : config.freezes) {
    if (!FreezeAppliesTo(f, environment)) continue;
    bool overlaps =
        until <= from ? (from >= f.from && from < f.until) : (from < f.until && until > f.from);
    if (overlaps) found.push_back(&f);
  }
  return found;
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
  return fmt::format("{} ({} – {}{}{})", freeze.name, FormatLocalMinutes(freeze.from, zone),
                     FormatLocalMinutes(freeze.until, zone), freeze.reason.empty() ? "" : ": ",
                     freeze.reason);
}

}  // namespace rollgate
