// Maintenance windows and change freezes (playbook §2.3 "verify no maintenance windows
// conflict", §3.3 "maintenance window confirmed").
//
// A recurring window opens on each listed weekday (every day when none is listed) at its local
// start time and closes at its local end time; an end at or before the start wraps past
// midnight into the next day (equal times make a 24-hour window). A one-off window and a freeze
// cover [from, until). A window or freeze with no environments applies to all. Pure functions,
// thread-safe; returned pointers point into the Config.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "domain/config.h"

namespace rollgate {

// True when `window` applies to `environment` (its list is empty or names it).
bool WindowAppliesTo(const MaintenanceWindow& window, std::string_view environment);
bool FreezeAppliesTo(const Freeze& freeze, std::string_view environment);

// True when `t` lies inside `window` (ignoring which environments it applies to).
bool WindowContains(const MaintenanceWindow& window, Timestamp t, const TimeZone& zone);

// The windows for `environment` that contain `t`; empty when none does.
std::vector<const MaintenanceWindow*> WindowsContaining(const Config& config,
                                                        std::string_view environment, Timestamp t,
                                                        const TimeZone& zone);
bool InMaintenanceWindow(const Config& config, std::string_view environment, Timestamp t,
                         const TimeZone& zone);

// The first instant at or after `from` (searching 14 days ahead) inside a window for
// `environment`, or nullopt when there is none in that span.
std::optional<Timestamp> NextWindowOpening(const Config& config, std::string_view environment,
                                           Timestamp from, const TimeZone& zone);

// The freezes for `environment` covering the instant `t`.
std::vector<const Freeze*> FreezesCovering(const Config& config, std::string_view environment,
                                           Timestamp t);
// The freezes for `environment` overlapping [from, until); an empty interval (until <= from)
// is treated as the instant `from`.
std::vector<const Freeze*> FreezesOverlapping(const Config& config, std::string_view environment,
                                              Timestamp from, Timestamp until);

// A stretch of time [start, end).
struct Interval {
  Timestamp start, end;
  bool operator==(const Interval&) const = default;
};

// The occurrences of `window` overlapping [from, until), in order (a one-off window once; a
// weekly one once per opening day, each clipped to nothing: whole openings are returned).
std::vector<Interval> WindowOccurrences(const MaintenanceWindow& window, Timestamp from,
                                        Timestamp until, const TimeZone& zone);
// The same for a freeze: a one-off freeze once; a yearly one from local midnight of its first
// day to local midnight after its last day, once per year (Dec 15 – Jan 5 crosses the new year);
// a weekly one like a weekly window.
std::vector<Interval> FreezeOccurrences(const Freeze& freeze, Timestamp from, Timestamp until,
                                        const TimeZone& zone);
// The freezes for `environment` overlapping [from, until) in `zone` (recurring ones included);
// an empty interval is treated as the instant `from`. The overloads without a zone above read
// recurring freezes in UTC.
std::vector<const Freeze*> FreezesOverlapping(const Config& config, std::string_view environment,
                                              Timestamp from, Timestamp until,
                                              const TimeZone& zone);

// "prod-sunday-night (Sun 02:00–06:00)", "release (2026-12-01 10:00 – 2026-12-01 12:00)".
std::string DescribeWindow(const MaintenanceWindow& window, const TimeZone& zone);
// "year-end (2026-12-20 00:00 – 2027-01-04 00:00: reason)"; recurring: "year-end (yearly
// 12-15 – 01-05: reason)", "friday-afternoons (Fri 12:00–24:00)".
std::string DescribeFreeze(const Freeze& freeze, const TimeZone& zone);

}  // namespace rollgate
