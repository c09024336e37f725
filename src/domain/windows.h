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

// "prod-sunday-night (Sun 02:00–06:00)", "release (2026-12-01 10:00 – 2026-12-01 12:00)".
std::string DescribeWindow(const MaintenanceWindow& window, const TimeZone& zone);
// "year-end (2026-12-20 00:00 – 2027-01-04 00:00: reason)".
std::string DescribeFreeze(const Freeze& freeze, const TimeZone& zone);

}  // namespace rollgate
