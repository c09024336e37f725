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
#include "views/views.h"

namespace rollgate::cli {

namespace {

struct CalendarArgs {
  std::string from;
  std::string to;
  std::string env;
};

Status RunCalendar(Context& ctx, const CalendarArgs& a) {
  std::string field;
  ASSIGN_OR_RETURN(CalendarRange range, ResolveCalendarRange(a.from, a.to, ctx.clock().Now(),
                                                             ctx.zone(), "--from", "--to", field));
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  CalendarService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(CalendarView view, service.Calendar(range.from, range.until, a.env));
  if (ctx.json()) {
    PrintJson(ctx,
              CalendarJson(view.from, view.until, view.environment, view.entries, view.conflicts));
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
