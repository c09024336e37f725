// page | page ack | page list | page show | page tick: pages with escalation along the paths of
// playbook §9.2; docs/oncall.md. Every page command first escalates the pages that are due.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "domain/oncall.h"
#include "service/page_service.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

constexpr const char* kEscalationActor = "system";

struct OpenArgs {
  std::string path;
  std::string subject;
  std::string message;
  std::string cr;
  std::string env;
};

Status CheckPageId(const std::string& id) {
  std::string_view digits = std::string_view(id).substr(std::min<size_t>(5, id.size()));
  bool ok = StartsWith(id, "PAGE-") && !digits.empty() && digits.size() <= 18 && digits[0] != '0' &&
            digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (ok) return Status::Ok();
  std::string shown = id.size() > 40 ? id.substr(0, 40) + "..." : id;
  return InvalidArgument(fmt::format("invalid page id '{}': expected PAGE-<number>, e.g. PAGE-3",
                                     EscapeForDisplay(shown)));
}

// The service, after escalating whatever is due now (so every page command sees current state).
Result<PageService> Service(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  PageService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
  RETURN_IF_ERROR(service.EscalateDuePages(ctx.clock().Now(), kEscalationActor).status());
  return service;
}

std::string Local(Context& ctx, Timestamp t) { return FormatLocalMinutes(t, ctx.zone()); }

std::string Line(Context& ctx, const Page& page) {
  std::string state(PageStateName(page.state));
  std::string when = page.state == PageState::kAcknowledged
                         ? fmt::format("by {} at {}", page.acknowledged_by,
                                       Local(ctx, page.acknowledged_at.value_or(page.opened_at)))
                         : fmt::format("level {} due {}", page.level, Local(ctx, page.deadline));
  return fmt::format("{}  {:<12}  {:<10}  {}  {}", page.id, state, page.path, when,
                     EscapeForDisplay(page.subject));
}

void PrintPage(Context& ctx, const Page& page) {
  ctx.out() << fmt::format("{}: {}\n", page.id, EscapeForDisplay(page.subject));
  if (!page.message.empty()) ctx.out() << EscapeForDisplay(page.message) << "\n";
  ctx.out() << fmt::format("path {}, level {}, {}", page.path, page.level,
                           PageStateName(page.state));
  if (page.state == PageState::kAcknowledged) {
    ctx.out() << fmt::format(" by {}", page.acknowledged_by);
  } else {
    ctx.out() << fmt::format(", respond by {}", Local(ctx, page.deadline));
  }
  ctx.out() << "\n";
  if (!page.change_request.empty()) ctx.out() << "change request " << page.change_request << "\n";
  if (!page.environment.empty()) ctx.out() << "environment " << page.environment << "\n";
  for (const PageEvent& e : page.events) {
    ctx.out() << fmt::format("  {}  {:<12} L{}  {}\n", Local(ctx, e.at), e.kind, e.level,
                             EscapeForDisplay(e.detail));
  }
}

Status RunOpen(Context& ctx, const OpenArgs& a) {
  if (a.path.empty()) {
    return InvalidArgument("page needs --path (standard, production or security) and --subject");
  }
  if (a.subject.empty()) return InvalidArgument("page needs --subject");
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(PageService service, Service(ctx));
  ASSIGN_OR_RETURN(Page page, service.Open({a.path, a.subject, a.message, a.cr, a.env}, actor));
  if (ctx.json()) {
    PrintJson(ctx, PageToJson(page));
    return Status::Ok();
  }
  ctx.out() << fmt::format("{} opened on the {} path; level 1 to respond by {}\n", page.id,
                           page.path, Local(ctx, page.deadline));
  for (const PageEvent& e : page.events) {
    if (e.kind == "notified") ctx.out() << "  " << EscapeForDisplay(e.detail) << "\n";
  }
  return Status::Ok();
}

// The options of `page` itself open a page; with a subcommand they would be ignored silently.
Status NoOpenOptions(const OpenArgs& a) {
  if (a.path.empty() && a.subject.empty() && a.message.empty() && a.cr.empty() && a.env.empty()) {
    return Status::Ok();
  }
  return InvalidArgument(
      "--path, --subject, --message, --cr and --env open a page: use them without a subcommand");
}

Status RunAck(Context& ctx, const std::string& id) {
  RETURN_IF_ERROR(CheckPageId(id));
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(PageService service, Service(ctx));
  ASSIGN_OR_RETURN(Page page, service.Acknowledge(id, actor));
  if (ctx.json()) {
    PrintJson(ctx, PageToJson(page));
    return Status::Ok();
  }
  ctx.out() << fmt::format("{} acknowledged by {} at level {}\n", page.id, page.acknowledged_by,
                           page.level);
  return Status::Ok();
}

Status RunList(Context& ctx, bool open_only) {
  ASSIGN_OR_RETURN(PageService service, Service(ctx));
  ASSIGN_OR_RETURN(std::vector<Page> pages, service.List(open_only));
  if (ctx.json()) {
    json out = json::array();
    for (const Page& page : pages) out.push_back(PageToJson(page));
    PrintJson(ctx, out);
    return Status::Ok();
  }
  if (pages.empty()) ctx.out() << (open_only ? "no open pages\n" : "no pages\n");
  for (const Page& page : pages) ctx.out() << Line(ctx, page) << "\n";
  return Status::Ok();
}

Status RunShow(Context& ctx, const std::string& id) {
  RETURN_IF_ERROR(CheckPageId(id));
  ASSIGN_OR_RETURN(PageService service, Service(ctx));
  ASSIGN_OR_RETURN(Page page, service.Get(id));
  if (ctx.json()) {
    PrintJson(ctx, PageToJson(page));
    return Status::Ok();
  }
  PrintPage(ctx, page);
  return Status::Ok();
}

Status RunTick(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  PageService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
  ASSIGN_OR_RETURN(std::vector<Page> changed,
                   service.EscalateDuePages(ctx.clock().Now(), kEscalationActor));
  if (ctx.json()) {
    json out = json::array();
    for (const Page& page : changed) out.push_back(PageToJson(page));
    PrintJson(ctx, {{"escalated", out}});
    return Status::Ok();
  }
  if (changed.empty()) ctx.out() << "no page is due\n";
  for (const Page& page : changed) ctx.out() << Line(ctx, page) << "\n";
  return Status::Ok();
}

}  // namespace

void RegisterPageCommands(CLI::App& app, Action& slot) {
  auto* page = app.add_subcommand(
      "page",
      "page the on-call people along an escalation path (9.2); escalates when not acknowledged");
  page->require_subcommand(0, 1);
  auto args = std::make_shared<OpenArgs>();
  page->add_option("--path", args->path, "escalation path: standard, production or security");
  page->add_option("--subject", args->subject, "what is wrong, in one line");
  page->add_option("--message", args->message, "more detail for the people paged");
  page->add_option("--cr", args->cr, "the change request it concerns");
  page->add_option("--env", args->env, "the environment it concerns");
  // The open runs only when no subcommand was given (CLI11 calls the parent's callback after the
  // subcommand's).
  page->callback([&slot, page, args] {
    if (!page->get_subcommands().empty()) return;
    slot = [args](Context& ctx) {
      Status status = RunOpen(ctx, *args);
      if (status.ok()) return 0;
      if (status.message().empty()) return ExitCodeFor(status);
      return ReportError(ctx, status);
    };
  });

  auto* ack = page->add_subcommand("ack", "acknowledge a page: it stops escalating");
  auto ack_id = std::make_shared<std::string>();
  ack->add_option("ID", *ack_id, "page id (PAGE-3)")->required();
  OnRun(ack, slot, [ack_id, args](Context& ctx) {
    RETURN_IF_ERROR(NoOpenOptions(*args));
    return RunAck(ctx, *ack_id);
  });

  auto* list = page->add_subcommand("list", "pages, oldest first");
  auto open_only = std::make_shared<bool>(false);
  list->add_flag("--open", *open_only, "only pages not acknowledged yet");
  OnRun(list, slot, [open_only, args](Context& ctx) {
    RETURN_IF_ERROR(NoOpenOptions(*args));
    return RunList(ctx, *open_only);
  });

  auto* show = page->add_subcommand(
      "show", "a page with every step: opened, notifications, escalations, acknowledgement");
  auto show_id = std::make_shared<std::string>();
  show->add_option("ID", *show_id, "page id (PAGE-3)")->required();
  OnRun(show, slot, [show_id, args](Context& ctx) {
    RETURN_IF_ERROR(NoOpenOptions(*args));
    return RunShow(ctx, *show_id);
  });

  auto* tick = page->add_subcommand(
      "tick", "escalate every page whose level did not respond in time (run it from a timer)");
  OnRun(tick, slot, [args](Context& ctx) {
    RETURN_IF_ERROR(NoOpenOptions(*args));
    return RunTick(ctx);
  });
}

}  // namespace rollgate::cli
