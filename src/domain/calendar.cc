#include "domain/calendar.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "common/strings.h"
#include "domain/windows.h"

namespace rollgate {

namespace {

using nlohmann::json;

std::vector<std::string> SharedHosts(const ScheduledChange& a, const ScheduledChange& b) {
  std::vector<std::string> shared;
  for (const std::string& host : a.hosts) {
    if (std::find(b.hosts.begin(), b.hosts.end(), host) != b.hosts.end() &&
        std::find(shared.begin(), shared.end(), host) == shared.end()) {
      shared.push_back(host);
    }
  }
  return shared;
}

bool SameChange(const ScheduledChange& a, const ScheduledChange& b) {
  return a.change_request == b.change_request && a.environment == b.environment;
}

std::optional<CalendarConflict> Overlap(const ScheduledChange& a, const ScheduledChange& b,
                                        const TimeZone& zone) {
  if (SameChange(a, b) || a.environment != b.environment) return std::nullopt;
  Timestamp start = std::max(a.start, b.start);
  Timestamp end = std::min(a.End(), b.End());
  if (start >= end) return std::nullopt;  // adjacent or apart
  std::string what;
  if (a.system == b.system) {
    what = fmt::format("the same system {}", a.system);
  } else {
    std::vector<std::string> shared = SharedHosts(a, b);
    if (shared.empty()) return std::nullopt;
    what = fmt::format("the shared host{} {}", shared.size() == 1 ? "" : "s", Join(shared, ", "));
  }
  CalendarConflict c;
  c.kind = "overlap";
  c.environment = a.environment;
  c.change_requests = {a.change_request, b.change_request};
  c.start = start;
  c.end = end;
  c.detail = fmt::format("{} ({} – {}) and {} ({} – {}) overlap in {} on {}", a.change_request,
                         FormatLocalMinutes(a.start, zone), FormatLocalMinutes(a.End(), zone),
                         b.change_request, FormatLocalMinutes(b.start, zone),
                         FormatLocalMinutes(b.End(), zone), a.environment, what);
  return c;
}

std::vector<CalendarConflict> CalendarConflictsOf(const ScheduledChange& change,
                                                  const Config& config, const TimeZone& zone) {
  std::vector<CalendarConflict> out;
  const Environment* env = config.FindEnvironment(change.environment);
  if (env != nullptr && env->requires_maintenance_window &&
      !InMaintenanceWindow(config, change.environment, change.start, zone)) {
    CalendarConflict c;
    c.kind = "outside-window";
    c.environment = change.environment;
    c.change_requests = {change.change_request};
    c.start = change.start;
    c.end = change.End();
    c.detail =
        fmt::format("{} starts {} outside every maintenance window for {}", change.change_request,
                    FormatLocalMinutes(change.start, zone), change.environment);
    out.push_back(std::move(c));
  }
  std::vector<std::string> freezes;
  for (const Freeze* f :
       FreezesOverlapping(config, change.environment, change.start, change.End(), zone)) {
    freezes.push_back(DescribeFreeze(*f, zone));
  }
  if (!freezes.empty()) {
    CalendarConflict c;
    c.kind = "freeze";
    c.environment = change.environment;
    c.change_requests = {change.change_request};
    c.start = change.start;
    c.end = change.End();
    c.detail = fmt::format("{} ({} – {}) falls in the freeze {}", change.change_request,
                           FormatLocalMinutes(change.start, zone),
                           FormatLocalMinutes(change.End(), zone), Join(freezes, ", "));
    out.push_back(std::move(c));
  }
  return out;
}

bool EntryBefore(const CalendarEntry& a, const CalendarEntry& b) {
  return std::tie(a.start, a.end, a.kind, a.name) < std::tie(b.start, b.end, b.kind, b.name);
}

bool AppliesTo(const std::vector<std::string>& environments, std::string_view environment) {
  return environment.empty() || environments.empty() ||
         std::find(environments.begin(), environments.end(), environment) != environments.end();
}

}  // namespace

Seconds ExpectedDuration(const ChangeRequest& cr, const Config& config) {
  if (cr.expected_duration > Seconds(0)) return cr.expected_duration;
  if (cr.expected_downtime > Seconds(0)) return cr.expected_downtime;
  return config.calendar_default_duration;
}

std::vector<ScheduledChange> ScheduledChangesOf(const ChangeRequest& cr, const Config& config) {
  std::vector<ScheduledChange> out;
  for (const auto& [environment, start] : cr.scheduled) {
    ScheduledChange change;
    change.change_request = cr.id;
    change.title = cr.title;
    change.environment = environment;
    change.system = cr.system;
    change.start = start;
    change.duration = ExpectedDuration(cr, config);
    if (const System* system = config.FindSystem(cr.system)) {
      for (const SystemHost& hosts : system->hosts) {
        if (hosts.environment == environment) change.hosts = hosts.hosts;
      }
    }
    out.push_back(std::move(change));
  }
  std::sort(out.begin(), out.end(), [&](const ScheduledChange& a, const ScheduledChange& b) {
    const Environment* ea = config.FindEnvironment(a.environment);
    const Environment* eb = config.FindEnvironment(b.environment);
    int oa = ea ? ea->order : 1 << 20;
    int ob = eb ? eb->order : 1 << 20;
    return std::tie(oa, a.environment) < std::tie(ob, b.environment);
  });
  return out;
}

std::vector<CalendarEntry> ExpandCalendar(const Config& config,
                                          const std::vector<ScheduledChange>& changes,
                                          Timestamp from, Timestamp until,
                                          std::string_view environment, const TimeZone& zone) {
  std::vector<CalendarEntry> out;
  for (const MaintenanceWindow& w : config.windows) {
    if (!AppliesTo(w.environments, environment)) continue;
    for (const Interval& i : WindowOccurrences(w, from, until, zone)) {
      out.push_back(
          {"window", w.name, i.start, i.end, w.environments, "", {}, DescribeWindow(w, zone)});
    }
  }
  for (const Freeze& f : config.freezes) {
    if (!AppliesTo(f.environments, environment)) continue;
    for (const Interval& i : FreezeOccurrences(f, from, until, zone)) {
      out.push_back(
          {"freeze", f.name, i.start, i.end, f.environments, "", {}, DescribeFreeze(f, zone)});
    }
  }
  for (const std::chrono::year_month_day& day : config.holidays) {
    Timestamp start = zone.FromLocal({day, Seconds(0)});
    Timestamp end = zone.FromLocal(
        {std::chrono::year_month_day{std::chrono::sys_days(day) + std::chrono::days(1)},
         Seconds(0)});
    if (start < until && end > from) {
      out.push_back({"holiday", "holiday", start, end, {}, "", {}, FormatDate(day)});
    }
  }
  for (const ScheduledChange& c : changes) {
    if (!environment.empty() && c.environment != environment) continue;
    if (!(c.start < until && c.End() > from)) continue;
    out.push_back({"change",
                   c.change_request,
                   c.start,
                   c.End(),
                   {c.environment},
                   c.system,
                   c.hosts,
                   c.title});
  }
  std::sort(out.begin(), out.end(), EntryBefore);
  return out;
}

std::vector<CalendarConflict> ConflictsOf(const ScheduledChange& change,
                                          const std::vector<ScheduledChange>& others,
                                          const Config& config, const TimeZone& zone) {
  std::vector<CalendarConflict> out;
  for (const ScheduledChange& other : others) {
    if (auto c = Overlap(change, other, zone)) out.push_back(std::move(*c));
  }
  for (CalendarConflict& c : CalendarConflictsOf(change, config, zone)) {
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<CalendarConflict> FindConflicts(const std::vector<ScheduledChange>& changes,
                                            const Config& config, const TimeZone& zone) {
  std::vector<CalendarConflict> out;
  for (size_t i = 0; i < changes.size(); ++i) {
    for (size_t k = i + 1; k < changes.size(); ++k) {
      if (auto c = Overlap(changes[i], changes[k], zone)) out.push_back(std::move(*c));
    }
    for (CalendarConflict& c : CalendarConflictsOf(changes[i], config, zone)) {
      out.push_back(std::move(c));
    }
  }
  std::stable_sort(
      out.begin(), out.end(),
      [](const CalendarConflict& a, const CalendarConflict& b) { return a.start < b.start; });
  return out;
}

json CalendarEntryToJson(const CalendarEntry& entry) {
  json out = {{"kind", entry.kind},
              {"name", entry.name},
              {"start", FormatRfc3339Utc(entry.start)},
              {"end", FormatRfc3339Utc(entry.end)},
              {"environments", entry.environments},
              {"detail", entry.detail}};
  if (entry.kind == "change") {
    out["system"] = entry.system;
    out["hosts"] = entry.hosts;
  }
  return out;
}

json CalendarConflictToJson(const CalendarConflict& conflict) {
  return {{"kind", conflict.kind},
          {"environment", conflict.environment},
          {"change_requests", conflict.change_requests},
          {"start", FormatRfc3339Utc(conflict.start)},
          {"end", FormatRfc3339Utc(conflict.end)},
          {"detail", conflict.detail}};
}

}  // namespace rollgate
