// pir show: the post-incident review document (playbook §5.4; docs/watch.md).
#include <fmt/format.h>

#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "domain/pir.h"

namespace rollgate::cli {

namespace {

Status RunShow(Context& ctx, const std::string& cr_id) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ChangeRequest cr;
  RETURN_IF_ERROR(store->Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(cr, tx.GetChangeRequest(cr_id));
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(std::vector<AuditEvent> events, store->AuditEventsFor(cr.id));
  if (!cr.patch_id.empty()) {
    ASSIGN_OR_RETURN(std::vector<AuditEvent> patch_events, store->AuditEventsFor(cr.patch_id));
    events.insert(events.end(), patch_events.begin(), patch_events.end());
  }
  ASSIGN_OR_RETURN(PirDocument pir, BuildPir(cr, events, *config, ctx.zone(), ctx.clock().Now()));
  if (!ctx.json()) {
    ctx.out() << RenderPir(pir, ctx.zone());
    return Status::Ok();
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (const PirTimelineEntry& t : pir.timeline) {
    timeline.push_back({{"at", FormatRfc3339Utc(t.at)},
                        {"category", t.category},
                        {"environment", t.environment},
                        {"actor", t.actor},
                        {"summary", t.summary}});
  }
  nlohmann::json sections = nlohmann::json::array();
  for (const PirSection& s : pir.sections) {
    sections.push_back(
        {{"title", s.title}, {"lines", s.lines}, {"to_be_completed", s.to_be_completed}});
  }
  nlohmann::json attendees = nlohmann::json::array();
  for (const PirAttendeeGroup& g : pir.attendees) {
    attendees.push_back({{"group", g.group}, {"roles", g.roles}, {"people", g.people}});
  }
  PrintJson(ctx, {{"change_request", pir.cr_id},
                  {"title", pir.title},
                  {"system", pir.system},
                  {"classification", pir.classification},
                  {"emergency", pir.emergency},
                  {"rolled_back", pir.rolled_back},
                  {"reason", pir.reason},
                  {"occasion", FormatRfc3339Utc(pir.occasion)},
                  {"due", FormatRfc3339Utc(pir.due)},
                  {"overdue", pir.overdue},
                  {"timeline", timeline},
                  {"sections", sections},
                  {"attendees", attendees}});
  return Status::Ok();
}

}  // namespace

void RegisterPirCommands(CLI::App& app, Action& slot) {
  auto* pir = app.add_subcommand("pir", "post-incident reviews (playbook 5.4)");
  pir->require_subcommand(1);
  auto* cmd = pir->add_subcommand(
      "show", "the review due after an emergency deployment or a rollback, with its timeline");
  auto cr = std::make_shared<std::string>();
  cmd->add_option("CR", *cr, "change request id")->required();
  OnRun(cmd, slot, [cr](Context& ctx) { return RunShow(ctx, *cr); });
}

}  // namespace rollgate::cli
