// notify list | show | retry | flush: the durable notification queue (docs/notifications.md).
#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "service/notification_service.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

json NotificationJson(const Notification& n, bool with_body) {
  auto time = [](const std::optional<Timestamp>& t) {
    return t ? json(FormatRfc3339Utc(*t)) : json(nullptr);
  };
  json doc = {{"id", n.id},
              {"cr", n.change_request},
              {"environment", n.environment},
              {"run", n.run_id.empty() ? json(nullptr) : json(n.run_id)},
              {"channel", n.channel},
              {"type", n.type},
              {"person", n.person.empty() ? json(nullptr) : json(n.person)},
              {"role", n.role.empty() ? json(nullptr) : json(n.role)},
              {"subject", n.subject},
              {"state", std::string(NotificationStateName(n.state))},
              {"attempts", n.attempts},
              {"next_attempt", time(n.next_attempt)},
              {"last_error", n.last_error.empty() ? json(nullptr) : json(n.last_error)},
              {"created", FormatRfc3339Utc(n.created)},
              {"sent_at", time(n.sent_at)}};
  if (with_body) {
    doc["body"] = n.body;
    doc["fields"] = n.fields;
    doc["recipient"] = {
        {"name", n.recipient_name}, {"email", n.recipient_email}, {"phone", n.recipient_phone}};
  }
  return doc;
}

std::string Line(const Notification& n, const TimeZone& zone) {
  std::string when;
  if (n.state == NotificationState::kSent && n.sent_at) {
    when = "sent " + FormatLocalMinutes(*n.sent_at, zone);
  } else if (n.state == NotificationState::kPending && n.next_attempt) {
    when = "next attempt " + FormatLocalMinutes(*n.next_attempt, zone);
  } else if (n.state == NotificationState::kFailed) {
    when = fmt::format("FAILED after {} attempts", n.attempts);
  }
  std::string line =
      fmt::format("{:<5} {:<8} {:<7} {:<5} {:<10} {:<12} {}  {}", n.id, n.change_request,
                  NotificationStateName(n.state), n.environment, n.channel,
                  n.person.empty() ? "-" : n.person, when, EscapeForDisplay(n.subject));
  if (!n.last_error.empty() && n.state != NotificationState::kSent) {
    line += "\n      last error: " + EscapeForDisplay(n.last_error);
  }
  return line + "\n";
}

Result<int64_t> ParseId(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return InvalidArgument(fmt::format("invalid notification id '{}': expected a number",
                                       EscapeForDisplay(text.substr(0, 40))));
  }
  return id;
}

struct ListArgs {
  std::string cr;
  std::string state;
};

Status RunList(Context& ctx, const ListArgs& args) {
  NotificationFilter filter;
  if (!args.cr.empty()) filter.change_request = args.cr;
  if (!args.state.empty()) {
    filter.state = ParseNotificationState(args.state);
    if (!filter.state) {
      return InvalidArgument(fmt::format("invalid --state '{}': expected pending, sent or failed",
                                         EscapeForDisplay(args.state.substr(0, 40))));
    }
  }
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  NotificationService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(std::vector<Notification> list, service.List(filter));
  if (ctx.json()) {
    json out = json::array();
    for (const Notification& n : list) out.push_back(NotificationJson(n, false));
    PrintJson(ctx, out);
    return Status::Ok();
  }
  if (list.empty()) ctx.out() << "no notifications\n";
  for (const Notification& n : list) ctx.out() << Line(n, ctx.zone());
  return Status::Ok();
}

Status RunShow(Context& ctx, const std::string& id_text) {
  ASSIGN_OR_RETURN(int64_t id, ParseId(id_text));
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  NotificationService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(Notification n, service.Get(id));
  if (ctx.json()) {
    PrintJson(ctx, NotificationJson(n, true));
    return Status::Ok();
  }
  ctx.out() << Line(n, ctx.zone());
  ctx.out() << fmt::format("      to: {}\n", n.recipient_email.empty()
                                                 ? "(the channel's own audience)"
                                                 : EscapeForDisplay(n.recipient_email));
  ctx.out() << "\nSubject: " << EscapeForDisplay(n.subject) << "\n\n" << n.body << "\n";
  return Status::Ok();
}

Status RunRetry(Context& ctx, const std::string& id_text) {
  ASSIGN_OR_RETURN(int64_t id, ParseId(id_text));
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  NotificationService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(Notification n, service.Retry(id, actor));
  if (ctx.json()) {
    PrintJson(ctx, NotificationJson(n, false));
    return Status::Ok();
  }
  ctx.out() << fmt::format("notification {} is pending again; `rollgate notify flush` sends it\n",
                           n.id);
  return Status::Ok();
}

Status RunFlush(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  // A timer (cron, the server) may flush as a user that is no person: the attempts are then
  // recorded as the system's.
  Result<std::string> person = ctx.Actor();
  std::string actor = person.ok() ? *person : std::string("system");
  NotificationService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(NotificationService::FlushReport report, service.Flush(actor));
  // The §2.5 pre-deployment notices whose time has come go out too.
  ASSIGN_OR_RETURN(std::vector<std::string> notices, service.SendDueAdvanceNotices(actor));
  if (ctx.json()) {
    json attempted = json::array();
    for (const Notification& n : report.attempted) attempted.push_back(NotificationJson(n, false));
    PrintJson(ctx, {{"attempted", attempted},
                    {"sent", report.sent},
                    {"failed", report.failed},
                    {"pending", report.still_pending},
                    {"advance_notices", notices}});
    return Status::Ok();
  }
  for (const std::string& notice : notices) {
    ctx.out() << "pre-deployment notice: " << notice << "\n";
  }
  for (const Notification& n : report.attempted) ctx.out() << Line(n, ctx.zone());
  ctx.out() << fmt::format("{} attempted: {} sent, {} still pending, {} failed\n",
                           report.attempted.size(), report.sent, report.still_pending,
                           report.failed);
  return Status::Ok();
}

}  // namespace

void RegisterNotifyCommands(CLI::App& app, Action& slot) {
  auto* notify = app.add_subcommand(
      "notify", "the notification queue: what was sent, what is retried, what failed");
  notify->require_subcommand(1);

  auto* list = notify->add_subcommand("list", "notifications, oldest first");
  auto list_args = std::make_shared<ListArgs>();
  list->add_option("--cr", list_args->cr, "only those of this change request");
  list->add_option("--state", list_args->state, "pending, sent or failed");
  OnRun(list, slot, [list_args](Context& ctx) { return RunList(ctx, *list_args); });

  auto* show = notify->add_subcommand("show", "one notification with its text");
  auto show_id = std::make_shared<std::string>();
  show->add_option("ID", *show_id, "notification id")->required();
  OnRun(show, slot, [show_id](Context& ctx) { return RunShow(ctx, *show_id); });

  auto* retry = notify->add_subcommand("retry", "a failed notification back to pending (audited)");
  auto retry_id = std::make_shared<std::string>();
  retry->add_option("ID", *retry_id, "notification id")->required();
  OnRun(retry, slot, [retry_id](Context& ctx) { return RunRetry(ctx, *retry_id); });

  auto* flush = notify->add_subcommand("flush", "attempt every notification that is due now");
  OnRun(flush, slot, [](Context& ctx) { return RunFlush(ctx); });
}

}  // namespace rollgate::cli
