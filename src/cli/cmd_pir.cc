// pir list | show | close: the review of every PROD deployment (playbook §4.4 step 3) and the
// post-incident review (§5.4); docs/pir.md.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <tuple>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "domain/pir.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

// InvalidArgument for a malformed id, so a typo is bad input (2) rather than not found (3).
Status CheckCrId(const std::string& id) {
  std::string_view digits = std::string_view(id).substr(std::min<size_t>(3, id.size()));
  bool ok = StartsWith(id, "CR-") && !digits.empty() && digits.size() <= 18 && digits[0] != '0' &&
            digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (ok) return Status::Ok();
  std::string shown = id.size() > 40 ? id.substr(0, 40) + "..." : id;
  return InvalidArgument(fmt::format(
      "invalid change request id '{}': expected CR-<number>, e.g. CR-12", EscapeForDisplay(shown)));
}

Result<ChangeRequest> LoadCr(Store& store, const std::string& id) {
  ChangeRequest cr;
  RETURN_IF_ERROR(store.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(cr, tx.GetChangeRequest(id));
    return Status::Ok();
  }));
  return cr;
}

// The audit events the review reads: the CR's, its patch's and those of its runs.
Result<std::vector<AuditEvent>> ReviewEvents(Store& store, const ChangeRequest& cr) {
  ASSIGN_OR_RETURN(std::vector<AuditEvent> events, store.AuditEventsFor(cr.id));
  std::vector<std::string> objects;
  if (!cr.patch_id.empty()) objects.push_back(cr.patch_id);
  std::vector<RunSummary> runs;
  RETURN_IF_ERROR(store.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(runs, tx.ListRuns(std::nullopt));
    return Status::Ok();
  }));
  for (const RunSummary& run : runs) {
    if (run.change_request == cr.id) objects.push_back(run.id);
  }
  for (const std::string& object : objects) {
    ASSIGN_OR_RETURN(std::vector<AuditEvent> more, store.AuditEventsFor(object));
    events.insert(events.end(), more.begin(), more.end());
  }
  return events;
}

json StatusJson(const PirStatus& s) {
  json occasions = json::array();
  for (const PirOccasion& o : s.occasions) {
    occasions.push_back({{"at", FormatRfc3339Utc(o.at)},
                         {"environment", o.environment},
                         {"reason", o.reason},
                         {"run", o.run_id.empty() ? json(nullptr) : json(o.run_id)},
                         {"incident", o.incident}});
  }
  json closing = nullptr;
  if (s.closing) {
    closing = {{"at", FormatRfc3339Utc(s.closing->at)},
               {"by", s.closing->by},
               {"role", s.closing->role},
               {"summary", s.closing->summary},
               {"lessons", s.closing->lessons},
               {"late", s.closing->late}};
  }
  return {{"change_request", s.cr_id},
          {"title", s.title},
          {"system", s.system},
          {"kind", std::string(PirKindName(s.incident))},
          {"reason", s.reason},
          {"occasion", FormatRfc3339Utc(s.occasion)},
          {"occasions", occasions},
          {"due", FormatRfc3339Utc(s.due)},
          {"within_business_days", s.within_business_days},
          {"overdue", s.overdue},
          {"closed", s.closing.has_value()},
          {"closing", closing}};
}

Status RunList(Context& ctx, bool overdue_only, bool all) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  Timestamp now = ctx.clock().Now();
  std::vector<std::pair<int, PirStatus>> reviews;
  RETURN_IF_ERROR(store->Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(std::vector<ChangeRequestSummary> summaries,
                     tx.ListChangeRequests(ChangeRequestFilter{}));
    for (const ChangeRequestSummary& summary : summaries) {
      if (summary.state == CrState::kDraft) continue;  // nothing deployed yet
      ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(summary.id));
      Result<PirStatus> status = CurrentPir(cr, *config, ctx.zone(), now);
      if (!status.ok()) continue;  // no review was ever due
      if (status->closing && !all) continue;
      if (overdue_only && !status->overdue) continue;
      reviews.emplace_back(cr.number, std::move(*status));
    }
    return Status::Ok();
  }));
  std::stable_sort(reviews.begin(), reviews.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.due, a.first) < std::tie(b.second.due, b.first);
  });
  if (ctx.json()) {
    json list = json::array();
    for (const auto& [number, s] : reviews) list.push_back(StatusJson(s));
    PrintJson(ctx, list);
    return Status::Ok();
  }
  if (reviews.empty()) {
    ctx.out() << (overdue_only ? "no overdue reviews\n" : "no reviews due\n");
    return Status::Ok();
  }
  for (const auto& [number, s] : reviews) {
    std::string state =
        s.closing ? fmt::format("closed {} by {}{}", FormatLocalMinutes(s.closing->at, ctx.zone()),
                                s.closing->by, s.closing->late ? " (late)" : "")
        : s.overdue ? "OVERDUE"
                    : "due";
    ctx.out() << fmt::format("{:<8} {:<26} due {}  {}: {} ({})  {}: {}\n", s.cr_id,
                             PirKindName(s.incident), FormatLocalMinutes(s.due, ctx.zone()), state,
                             s.reason, FormatLocalMinutes(s.occasion, ctx.zone()), s.system,
                             s.title);
  }
  return Status::Ok();
}

Status RunShow(Context& ctx, const std::string& cr_id) {
  RETURN_IF_ERROR(CheckCrId(cr_id));
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(ChangeRequest cr, LoadCr(*store, cr_id));
  ASSIGN_OR_RETURN(std::vector<AuditEvent> events, ReviewEvents(*store, cr));
  ASSIGN_OR_RETURN(PirDocument pir, BuildPir(cr, events, *config, ctx.zone(), ctx.clock().Now()));
  if (!ctx.json()) {
    ctx.out() << RenderPir(pir, ctx.zone());
    return Status::Ok();
  }
  json timeline = json::array();
  for (const PirTimelineEntry& t : pir.timeline) {
    timeline.push_back({{"at", FormatRfc3339Utc(t.at)},
                        {"category", t.category},
                        {"environment", t.environment},
                        {"actor", t.actor},
                        {"summary", t.summary}});
  }
  json results = json::array();
  for (const PirEnvironmentResult& r : pir.results) {
    results.push_back({{"environment", r.environment}, {"outcome", r.outcome}, {"lines", r.lines}});
  }
  json sections = json::array();
  for (const PirSection& s : pir.sections) {
    sections.push_back({{"title", s.title},
                        {"lines", s.lines},
                        {"to_be_completed", s.to_be_completed},
                        {"written", s.written}});
  }
  json attendees = json::array();
  for (const PirAttendeeGroup& g : pir.attendees) {
    attendees.push_back({{"group", g.group}, {"roles", g.roles}, {"people", g.people}});
  }
  json doc = StatusJson(pir.status);
  doc["classification"] = pir.classification;
  doc["emergency"] = pir.emergency;
  doc["rolled_back"] = pir.rolled_back;
  doc["timeline"] = timeline;
  doc["results"] = results;
  doc["sections"] = sections;
  doc["attendees"] = attendees;
  PrintJson(ctx, doc);
  return Status::Ok();
}

// Reads the lessons-learned file: a regular file of UTF-8 text no larger than the review keeps.
Result<std::string> ReadLessons(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument(
        fmt::format("--lessons {}: not a readable file", EscapeForDisplay(path)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(
        fmt::format("--lessons {}: cannot open the file", EscapeForDisplay(path)));
  }
  std::string content;
  content.resize(kPirMaxLessonsBytes + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > kPirMaxLessonsBytes) {
    return InvalidArgument(fmt::format("--lessons {}: larger than {} KiB", EscapeForDisplay(path),
                                       kPirMaxLessonsBytes / 1024));
  }
  if (!IsValidUtf8(content)) {
    return InvalidArgument(fmt::format("--lessons {}: not UTF-8 text", EscapeForDisplay(path)));
  }
  return content;
}

struct CloseArgs {
  std::string cr;
  std::string lessons_file;
  std::optional<std::string> lessons_text;
  std::string summary;
};

Status RunClose(Context& ctx, const CloseArgs& a) {
  if (a.lessons_file.empty() == !a.lessons_text.has_value()) {
    return InvalidArgument(
        "give the lessons learned with exactly one of --lessons FILE or --lessons-text TEXT");
  }
  PirClosingDraft draft;
  draft.summary = a.summary;
  if (a.lessons_text) {
    draft.lessons = *a.lessons_text;
  } else {
    ASSIGN_OR_RETURN(draft.lessons, ReadLessons(a.lessons_file));
  }
  if (!IsValidUtf8(draft.lessons)) return InvalidArgument("--lessons-text is not valid UTF-8");
  if (!IsValidUtf8(draft.summary)) return InvalidArgument("--summary is not valid UTF-8");
  RETURN_IF_ERROR(CheckCrId(a.cr));
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(ChangeRequest before, LoadCr(*store, a.cr));
  ASSIGN_OR_RETURN(std::vector<AuditEvent> events, ReviewEvents(*store, before));
  ChangeRequest closed;
  RETURN_IF_ERROR(store->Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(a.cr));
    Timestamp now = ctx.clock().Now();
    ASSIGN_OR_RETURN(CrTransition t, ClosePir(cr, events, *config, ctx.zone(), actor, draft, now));
    RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
    RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
    closed = std::move(t.cr);
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(PirStatus status, CurrentPir(closed, *config, ctx.zone(), ctx.clock().Now()));
  if (ctx.json()) {
    PrintJson(ctx, StatusJson(status));
    return Status::Ok();
  }
  ctx.out() << fmt::format("{}: {} of the {} closed by {} ({}){}\n", closed.id,
                           PirKindName(status.incident), status.reason, status.closing->by,
                           status.closing->role,
                           status.closing->late ? ", after its due date" : "");
  return Status::Ok();
}

}  // namespace

void RegisterPirCommands(CLI::App& app, Action& slot) {
  auto* pir = app.add_subcommand(
      "pir",
      "post-implementation reviews of PROD deployments and post-incident reviews (4.4, 5.4)");
  pir->require_subcommand(1);

  auto* list = pir->add_subcommand("list", "the reviews due and overdue, soonest due first");
  auto overdue = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  list->add_flag("--overdue", *overdue, "only the reviews past their due date");
  list->add_flag("--all", *all, "closed reviews too");
  OnRun(list, slot, [overdue, all](Context& ctx) { return RunList(ctx, *overdue, *all); });

  auto* show = pir->add_subcommand(
      "show", "the review of a CR: timeline, results, deviations, watch issues, lessons learned");
  auto cr = std::make_shared<std::string>();
  show->add_option("CR", *cr, "change request id")->required();
  OnRun(show, slot, [cr](Context& ctx) { return RunShow(ctx, *cr); });

  auto* close = pir->add_subcommand(
      "close", "record the closing of a CR's review with its lessons learned (audited)");
  auto args = std::make_shared<CloseArgs>();
  close->add_option("CR", args->cr, "change request id")->required();
  close->add_option("--lessons", args->lessons_file,
                    "a file with the lessons learned (Markdown; '## Root cause', "
                    "'## Recommendations' ... headings fill those sections)");
  close->add_option("--lessons-text", args->lessons_text, "the lessons learned, inline");
  close->add_option("--summary", args->summary, "one line: what the review concluded");
  OnRun(close, slot, [args](Context& ctx) { return RunClose(ctx, *args); });
}

}  // namespace rollgate::cli
