#include "service/calendar_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "domain/gates.h"

namespace rollgate {

bool ScheduledChangeDone(const ChangeRequest& cr, const ScheduledChange& change) {
  // A deployment up to a day before the planned start is that change made early (DEV and TEST
  // allow same-day work); one further back belongs to an earlier attempt.
  return std::any_of(cr.evidence.begin(), cr.evidence.end(), [&](const Evidence& e) {
    return e.kind == kEvidenceDeployment && e.environment == change.environment &&
           e.at >= change.start - kEarlyDeployment;
  });
}

Result<std::vector<ScheduledChange>> ListScheduledChanges(Transaction& tx, const Config& config,
                                                          std::string_view except_cr) {
  std::vector<ScheduledChange> out;
  ASSIGN_OR_RETURN(std::vector<ChangeRequestSummary> summaries,
                   tx.ListChangeRequests(ChangeRequestFilter{}));
  for (const ChangeRequestSummary& summary : summaries) {
    if (summary.id == except_cr) continue;
    if (summary.state != CrState::kDraft && summary.state != CrState::kSubmitted &&
        summary.state != CrState::kInProgress) {
      continue;
    }
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(summary.id));
    for (ScheduledChange& change : ScheduledChangesOf(cr, config)) {
      if (!ScheduledChangeDone(cr, change)) out.push_back(std::move(change));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ScheduledChange& a, const ScheduledChange& b) {
    return a.start < b.start;
  });
  return out;
}

namespace {

// Local midnight at the start of the day `text` names, or InvalidArgument naming `name`.
Result<Timestamp> LocalMidnight(std::string_view text, const TimeZone& zone, std::string_view name,
                                std::string& field) {
  Result<std::chrono::year_month_day> date = ParseDate(text);
  if (!date.ok()) {
    field = std::string(name);
    return InvalidArgument(fmt::format("{} must be a date such as 2026-12-01, got '{}'", name,
                                       EscapeForDisplay(text.substr(0, 40))));
  }
  return zone.FromLocal({*date, Seconds(0)});
}

// Local midnight `days` days after the local day of `t`.
Timestamp MidnightAfter(Timestamp t, int days, const TimeZone& zone) {
  LocalDateTime local = zone.ToLocal(t);
  return zone.FromLocal(
      {std::chrono::year_month_day{std::chrono::sys_days(local.date) + std::chrono::days(days)},
       Seconds(0)});
}

}  // namespace

Result<CalendarRange> ResolveCalendarRange(std::string_view from, std::string_view to,
                                           Timestamp now, const TimeZone& zone,
                                           std::string_view from_name, std::string_view to_name,
                                           std::string& field) {
  CalendarRange range;
  if (from.empty()) {
    range.from = MidnightAfter(now, 0, zone);
  } else {
    ASSIGN_OR_RETURN(range.from, LocalMidnight(from, zone, from_name, field));
  }
  if (to.empty()) {
    range.until = MidnightAfter(range.from, 14, zone);
  } else {
    // `to` names the last day shown.
    ASSIGN_OR_RETURN(Timestamp last, LocalMidnight(to, zone, to_name, field));
    range.until = MidnightAfter(last, 1, zone);
  }
  return range;
}

Result<CalendarView> CalendarService::Calendar(Timestamp from, Timestamp until,
                                               const std::string& environment) {
  if (until <= from) return InvalidArgument("--to must be after --from");
  if (until - from > std::chrono::days(366)) {
    return InvalidArgument("the calendar covers at most 366 days at a time");
  }
  if (!environment.empty() && config_.FindEnvironment(environment) == nullptr) {
    return InvalidArgument(fmt::format("unknown environment '{}'", EscapeForDisplay(environment)));
  }
  std::vector<ScheduledChange> changes;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(changes, ListScheduledChanges(tx, config_));
    return Status::Ok();
  }));
  CalendarView view;
  view.from = from;
  view.until = until;
  view.environment = environment;
  view.entries = ExpandCalendar(config_, changes, from, until, environment, zone_);
  for (CalendarConflict& c : FindConflicts(changes, config_, zone_)) {
    if (!environment.empty() && c.environment != environment) continue;
    if (!(c.start < until && c.end > from)) continue;
    view.conflicts.push_back(std::move(c));
  }
  return view;
}

Result<std::vector<CalendarConflict>> CalendarService::ConflictsIfScheduled(
    const std::string& cr_id, const std::string& environment, Timestamp at) {
  std::vector<CalendarConflict> conflicts;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(cr_id));
    ASSIGN_OR_RETURN(std::vector<ScheduledChange> others, ListScheduledChanges(tx, config_, cr_id));
    cr.scheduled[environment] = at;
    for (const ScheduledChange& mine : ScheduledChangesOf(cr, config_)) {
      if (mine.environment != environment) continue;
      conflicts = ConflictsOf(mine, others, config_, zone_);
    }
    return Status::Ok();
  }));
  return conflicts;
}

Result<std::vector<CalendarConflict>> CalendarService::CheckSchedule(const std::string& cr_id,
                                                                     const std::string& environment,
                                                                     Timestamp at) {
  const Environment* env = config_.FindEnvironment(environment);
  if (env == nullptr) return std::vector<CalendarConflict>{};  // CrService::Schedule says so
  ASSIGN_OR_RETURN(std::vector<CalendarConflict> conflicts,
                   ConflictsIfScheduled(cr_id, environment, at));
  std::vector<std::string> refusing;
  std::vector<CalendarConflict> warnings;
  for (CalendarConflict& c : conflicts) {
    if (env->requires_maintenance_window && c.kind == "overlap") {
      refusing.push_back(c.detail);
    } else {
      warnings.push_back(std::move(c));
    }
  }
  if (!refusing.empty()) {
    return RefusedByGate(fmt::format("{} cannot be scheduled in {} at {}: {}", cr_id, environment,
                                     FormatLocalMinutes(at, zone_), Join(refusing, "; ")));
  }
  return warnings;
}

Result<ChangeRequest> CalendarService::OverrideFreeze(const std::string& cr_id,
                                                      const std::string& environment,
                                                      const std::string& actor,
                                                      const std::string& reason) {
  if (!IsValidUtf8(reason) || reason.size() > 2000) {
    return InvalidArgument("--reason must be UTF-8 text of at most 2000 bytes");
  }
  ChangeRequest result;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(cr_id));
    Timestamp now = clock_.Now();
    ASSIGN_OR_RETURN(CrTransition t,
                     RecordFreezeOverride(cr, config_, environment, actor, reason, now, zone_));
    RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
    RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
    result = std::move(t.cr);
    return Status::Ok();
  }));
  return result;
}

}  // namespace rollgate
