// calendar: maintenance windows, freezes, holidays and scheduled changes in time order, with the
// conflicts among them (playbook §2.3; docs/calendar.md).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "domain/calendar.h"
#include "service/calendar_service.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

struct CalendarArgs {
  std::string from;
  std::string to;
  std::string env;
};

Result<Timestamp> LocalMidnight(Context& ctx, const std::string& flag, const std::string& text) {
  Result<std::chrono::year_month_day> date = ParseDate(text);
  if (!date.ok()) {
    return InvalidArgument(fmt::format("{} must be a date such as 2026-12-01, got '{}'", flag,
                                       EscapeForDisplay(text.substr(0, 40))));
  }
  return ctx.zone().FromLocal({*date, Seconds(0)});
}

Status RunCalendar(Context& ctx, const CalendarArgs& a) {
  Timestamp from, until;
  if (a.from.empty()) {
    LocalDateTime today = ctx.zone().ToLocal(ctx.clock().Now());
    from = ctx.zone().FromLocal({today.date, Seconds(0)});
  } else {
    ASSIGN_OR_RETURN(from, LocalMidnight(ctx, "--from", a.from));
  }
  if (a.to.empty()) {
    LocalDateTime start = ctx.zone().ToLocal(from);
    until = ctx.zone().FromLocal(
        {std::chrono::year_month_day{std::chrono::sys_days(start.date) + std::chrono::days(14)},
         Seconds(0)});
  } else {
    // --to names the last day shown.
    ASSIGN_OR_RETURN(Timestamp last, LocalMidnight(ctx, "--to", a.to));
    LocalDateTime day = ctx.zone().ToLocal(last);
    until = ctx.zone().FromLocal(
        {std::chrono::year_month_day{std::chrono::sys_days(day.date) + std::chrono::days(1)},
         Seconds(0)});
  }
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  CalendarService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(CalendarView view, service.Calendar(from, until, a.env));
  if (ctx.json()) {
    json entries = json::array();
    for (const CalendarEntry& e : view.entries) entries.push_back(CalendarEntryToJson(e));
    json conflicts = json::array();
    for (const CalendarConflict& c : view.conflicts) {
      conflicts.push_back(CalendarConflictToJson(c));
    }
    PrintJson(ctx,
              {{"from", FormatRfc3339Utc(view.from)},
               {"to", FormatRfc3339Utc(view.until)},
               {"environment", view.environment.empty() ? json(nullptr) : json(view.environment)},
               {"entries", entries},
               {"conflicts", conflicts}});
    return Status::Ok();
  }
  ctx.out() << fmt::format("calendar {} – {}{}\n", FormatLocalMinutes(view.from, ctx.zone()),
                           FormatLocalMinutes(view.until, ctx.zone()),
                           view.environment.empty() ? "" : " for " + view.environment);
  if (view.entries.empty()) ctx.out() << "nothing planned\n";
  for (const CalendarEntry& e : view.entries) {
    std::string where = e.environments.empty() ? "all" : Join(e.environments, ",");
    std::string what =
        e.kind == "change"
            ? fmt::format("{} {} on {}{}", e.name, EscapeForDisplay(e.detail), e.system,
                          e.hosts.empty() ? "" : " (" + Join(e.hosts, ", ") + ")")
            : EscapeForDisplay(e.detail);
    ctx.out() << fmt::format("{} – {}  {:<8} {:<10} {}\n", FormatLocalMinutes(e.start, ctx.zone()),
                             FormatLocalMinutes(e.end, ctx.zone()), e.kind, where, what);
  }
  if (!view.conflicts.empty()) {
    ctx.out() << fmt::format("{} conflict{}:\n", view.conflicts.size(),
                             view.conflicts.size() == 1 ? "" : "s");
    for (const CalendarConflict& c : view.conflicts) {
      ctx.out() << fmt::format("  {}: {}\n", c.kind, EscapeForDisplay(c.detail));
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterCalendarCommand(CLI::App& app, Action& slot) {
  auto* calendar = app.add_subcommand(
      "calendar",
      "maintenance windows, freezes, holidays and scheduled changes, with their conflicts (2.3)");
  auto args = std::make_shared<CalendarArgs>();
  calendar->add_option("--from", args->from, "first day (YYYY-MM-DD, local; default today)");
  calendar->add_option("--to", args->to, "last day (YYYY-MM-DD, local; default 14 days on)");
  calendar->add_option("--env", args->env, "only this environment");
  OnRun(calendar, slot, [args](Context& ctx) { return RunCalendar(ctx, *args); });
}

}  // namespace rollgate::cli
