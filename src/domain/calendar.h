// The change calendar (playbook §2.3 "check deployment calendar for overlapping changes",
// "verify no maintenance windows conflict"; §2.5; §3.3): what is planned when, and what clashes.
//
// A scheduled change is a CR's planned start in one environment (`cr schedule`) with its expected
// duration (the CR's expected duration, else its expected downtime, else
// Config::calendar_default_duration), its system and the system's hosts there. Two changes
// conflict when their times overlap (adjacent is not overlapping: one may start the second the
// other ends) in the same environment and they touch the same system or share a host. A change
// also conflicts with the calendar when it starts outside every maintenance window of an
// environment that requires one, or when it overlaps a freeze of its environment.
//
// Pure: time and the zone are passed in; no I/O. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"

namespace rollgate {

struct ScheduledChange {
  std::string change_request;
  std::string title;
  std::string environment;
  std::string system;
  std::vector<std::string> hosts;
  Timestamp start;
  Seconds duration{0};
  Timestamp End() const { return start + duration; }
};

// One thing on the calendar. kind: "window", "freeze", "holiday", "change".
struct CalendarEntry {
  std::string kind;
  std::string name;  // window or freeze name, "holiday", or the CR id
  Timestamp start, end;
  std::vector<std::string> environments;  // empty: every environment
  std::string system;                     // change only
  std::vector<std::string> hosts;         // change only
  std::string detail;
};

// kind: "overlap" (two changes), "outside-window", "freeze".
struct CalendarConflict {
  std::string kind;
  std::string environment;
  std::vector<std::string> change_requests;  // one, or the two that overlap
  Timestamp start, end;                      // the clash (overlap) or the change's time
  std::string detail;                        // a sentence naming what clashes
};

// The expected duration of `cr` on the calendar (see the header comment).
Seconds ExpectedDuration(const ChangeRequest& cr, const Config& config);
// `cr`'s scheduled changes (one per environment it is scheduled in, in promotion order).
std::vector<ScheduledChange> ScheduledChangesOf(const ChangeRequest& cr, const Config& config);

// The window and freeze occurrences and holidays overlapping [from, until) for `environment`
// (empty: every environment), plus `changes` overlapping it, in time order (then kind, name).
std::vector<CalendarEntry> ExpandCalendar(const Config& config,
                                          const std::vector<ScheduledChange>& changes,
                                          Timestamp from, Timestamp until,
                                          std::string_view environment, const TimeZone& zone);

// The conflicts of `change` with `others` (the change itself, by CR and environment, skipped)
// and with the calendar of its environment.
std::vector<CalendarConflict> ConflictsOf(const ScheduledChange& change,
                                          const std::vector<ScheduledChange>& others,
                                          const Config& config, const TimeZone& zone);
// Every conflict among `changes` (each overlapping pair once) and with the calendar, in order of
// start time.
std::vector<CalendarConflict> FindConflicts(const std::vector<ScheduledChange>& changes,
                                            const Config& config, const TimeZone& zone);

nlohmann::json CalendarEntryToJson(const CalendarEntry& entry);
nlohmann::json CalendarConflictToJson(const CalendarConflict& conflict);

}  // namespace rollgate
