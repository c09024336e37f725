#include "views/status_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "views/views.h"

namespace rollgate {

namespace {

using nlohmann::json;

// "billing" -> "Billing"; an empty system (a developer's `run exec`) -> "A deployment".
std::string SystemWords(const std::string& system) {
  if (system.empty()) return "A deployment";
  std::string out = system;
  out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// "22:00 UTC" today, "Tue 1 Dec 22:00 UTC" on another day; the zone's offset when not UTC.
std::string TimeWords(Timestamp t, Timestamp now, const TimeZone& zone) {
  LocalDateTime local = zone.ToLocal(t);
  LocalDateTime today = zone.ToLocal(now);
  // The zone's offset: the local wall-clock time read as UTC, less the instant.
  long minutes_east =
      static_cast<long>(std::chrono::duration_cast<std::chrono::minutes>(
                            (std::chrono::sys_days(local.date) + local.time_of_day) - t)
                            .count());
  std::string zone_name = "UTC";
  if (minutes_east != 0) {
    zone_name = fmt::format("UTC{}{:02}:{:02}", minutes_east > 0 ? '+' : '-',
                            std::abs(minutes_east) / 60, std::abs(minutes_east) % 60);
  }
  long seconds = static_cast<long>(local.time_of_day.count());
  std::string clock = fmt::format("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60);
  if (local.date == today.date) return fmt::format("{} {}", clock, zone_name);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::chrono::weekday weekday{std::chrono::sys_days(local.date)};
  return fmt::format("{} {} {} {} {}", kDays[weekday.c_encoding()],
                     static_cast<unsigned>(local.date.day()),
                     kMonths[static_cast<unsigned>(local.date.month()) - 1], clock, zone_name);
}

json Item(std::string text, const std::string& system, const std::string& environment,
          const std::string& cr, const std::string& run, const std::string& state,
          std::optional<Timestamp> start, std::optional<Timestamp> until) {
  return {{"text", std::move(text)},
          {"system", system},
          {"environment", environment},
          {"change_request", cr.empty() ? json(nullptr) : json(cr)},
          {"run", run.empty() ? json(nullptr) : json(run)},
          {"state", state},
          {"start", JsonTime(start)},
          {"until", JsonTime(until)}};
}

}  // namespace

json HelpDeskStatusJson(const HelpDeskInput& input, const Config& config, Timestamp now,
                        const TimeZone& zone) {
  json now_list = json::array(), next_list = json::array(), finished_list = json::array();
  std::vector<RunSummary> runs = input.runs;
  std::sort(runs.begin(), runs.end(),
            [](const RunSummary& a, const RunSummary& b) { return a.created_at < b.created_at; });
  std::vector<std::pair<std::string, std::string>> busy;  // (CR, environment) running now
  for (const RunSummary& run : runs) {
    std::string what =
        fmt::format("{} in {}", SystemWords(run.system),
                    run.environment.empty() ? "a test environment" : run.environment);
    std::string ref = run.change_request.empty() ? run.id : run.change_request;
    std::string state(RunStateName(run.state));
    if (!IsFinal(run.state) || run.state == RunState::kPausedForPerson) {
      busy.emplace_back(run.change_request, run.environment);
      // Until: the end of the CR's planned slot in that environment, when it has one.
      std::optional<Timestamp> until;
      auto cr = input.crs.find(run.change_request);
      if (cr != input.crs.end()) {
        for (const ScheduledChange& change : ScheduledChangesOf(cr->second, config)) {
          if (change.environment == run.environment) until = change.End();
        }
        if (!until) until = run.created_at + ExpectedDuration(cr->second, config);
      }
      std::string when =
          until ? fmt::format(", planned until {}", TimeWords(*until, now, zone)) : "";
      std::string text =
          run.state == RunState::kPausedForPerson
              ? fmt::format("{} is being patched, paused: an engineer is checking it ({}{})", what,
                            ref, when)
              : fmt::format("{} is being patched now ({}{})", what, ref, when);
      now_list.push_back(Item(text, run.system, run.environment, run.change_request, run.id, state,
                              run.created_at, until));
    } else if (run.finished_at && *run.finished_at + input.recent >= now) {
      std::string outcome = run.state == RunState::kSucceeded ? "was patched successfully"
                            : run.state == RunState::kFailed
                                ? "was not patched: the change failed"
                                : "was not patched: the change was stopped";
      std::string text = fmt::format("{} {} at {} ({})", what, outcome,
                                     TimeWords(*run.finished_at, now, zone), ref);
      finished_list.insert(finished_list.begin(),
                           Item(text, run.system, run.environment, run.change_request, run.id,
                                state, run.created_at, run.finished_at));
    }
  }
  for (const ScheduledChange& change : input.scheduled) {
    if (change.End() <= now || change.start >= now + input.ahead) continue;
    if (std::find(busy.begin(), busy.end(),
                  std::make_pair(change.change_request, change.environment)) != busy.end()) {
      continue;
    }
    std::string text = fmt::format("Next: {} in {} will be patched from {} until {} ({})",
                                   SystemWords(change.system), change.environment,
                                   TimeWords(change.start, now, zone),
                                   TimeWords(change.End(), now, zone), change.change_request);
    next_list.push_back(Item(text, change.system, change.environment, change.change_request, "",
                             "scheduled", change.start, change.End()));
  }
  std::string summary = now_list.empty()
                            ? "Nothing is being changed right now."
                            : fmt::format("{} change{} in progress right now.", now_list.size(),
                                          now_list.size() == 1 ? " is" : "s are");
  return {{"summary", summary},
          {"generated", FormatRfc3339Utc(now)},
          {"now", now_list},
          {"next", next_list},
          {"finished", finished_list}};
}

}  // namespace rollgate
