#include "service/page_service.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "domain/approvals.h"
#include "service/deploy_service.h"

namespace rollgate {

namespace {

using nlohmann::json;

Status Audit(Transaction& tx, Timestamp now, const std::string& actor, const char* action,
             const Page& page, json details) {
  details["path"] = page.path;
  details["state"] = std::string(PageStateName(page.state));
  details["level"] = page.level;
  details["deadline"] = FormatRfc3339Utc(page.deadline);
  return tx.AppendAudit({now, actor, action, page.id, details.dump()}).status();
}

// The channels a page goes out through (Config::page_channels).
NotificationRule PageRule(const Config& config, const std::string& environment) {
  NotificationRule rule;
  if (!config.page_channels.empty()) {
    rule.channels = config.page_channels;
  } else if (const Environment* env = config.FindEnvironment(environment)) {
    rule.channels = env->notification.channels;
  } else {
    for (const Channel& channel : config.channels) rule.channels.push_back(channel.name);
  }
  return rule;
}

Message PageMessage(const Page& page, int level_number, const EscalationLevel& level,
                    const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("[{} {} level {}] {}", page.id, page.path, level_number, page.subject);
  std::string about;
  if (!page.change_request.empty()) about += "Change request: " + page.change_request + "\n";
  if (!page.environment.empty()) about += "Environment: " + page.environment + "\n";
  m.body = fmt::format(
      "{}\n\n{}Escalation path: {} (level {}: {})\nOpened by {} at {}\nRespond by: {}\n\n"
      "Acknowledge with: rollgate page ack {}\n",
      page.message.empty() ? page.subject : page.message, about, page.path, level_number,
      level.contact, page.opened_by, FormatLocalMinutes(page.opened_at, zone),
      level.response_time == Seconds(0) ? "immediately" : FormatLocalMinutes(page.deadline, zone),
      page.id);
  return m;
}

}  // namespace

std::string AutomaticPagePath(const Config& config, const ChangeRequest& cr,
                              const std::string& environment, bool security_trigger) {
  if (security_trigger || cr.classification == Priority::kP1Critical) return "security";
  const Environment* env = config.FindEnvironment(environment);
  return env != nullptr && IsProductionEnvironment(config, *env) ? "production" : "standard";
}

Result<Page> PageService::Open(const PageRequest& request, const std::string& actor) {
  const EscalationPath* path = FindEscalationPath(config_, request.path);
  if (path == nullptr) {
    std::vector<std::string> names;
    for (const EscalationPath& p : config_.escalation) names.push_back(p.name);
    return InvalidArgument(fmt::format("unknown escalation path '{}': expected {}",
                                       EscapeForDisplay(request.path), Join(names, ", ")));
  }
  for (const std::string* text : {&request.subject, &request.message}) {
    if (!IsValidUtf8(*text)) return InvalidArgument("--subject and --message must be UTF-8 text");
  }
  if (request.subject.size() > 500) return InvalidArgument("--subject is longer than 500 bytes");
  if (request.message.size() > 20000) {
    return InvalidArgument("--message is longer than 20000 bytes");
  }
  if (!request.environment.empty() && config_.FindEnvironment(request.environment) == nullptr) {
    return InvalidArgument(
        fmt::format("unknown environment '{}'", EscapeForDisplay(request.environment)));
  }
  Page page;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    if (!request.change_request.empty()) {
      RETURN_IF_ERROR(tx.GetChangeRequest(request.change_request).status());
    }
    ASSIGN_OR_RETURN(int number, tx.NextNumber("PAGE"));
    Timestamp now = clock_.Now();
    ASSIGN_OR_RETURN(
        page, OpenPage(*path, fmt::format("PAGE-{}", number), request.subject, request.message,
                       request.change_request, request.environment, actor, now));
    RETURN_IF_ERROR(tx.PutPage(page));
    return Audit(tx, now, actor, "page.open", page,
                 {{"subject", page.subject},
                  {"change_request", page.change_request},
                  {"environment", page.environment}});
  }));
  RETURN_IF_ERROR(NotifyLevel(page, 1, actor));
  return page;
}

Status PageService::NotifyLevel(Page& page, int level_number, const std::string& actor) {
  const EscalationPath* path = FindEscalationPath(config_, page.path);
  if (path == nullptr || level_number < 1 || level_number > static_cast<int>(path->levels.size())) {
    return Status::Ok();
  }
  const EscalationLevel& level = path->levels[static_cast<size_t>(level_number - 1)];
  std::vector<PageRecipient> people = ResolveLevel(config_, level);
  std::vector<PageEvent> events;
  Timestamp now = clock_.Now();
  if (people.empty()) {
    events.push_back({now, "notified", level_number, "",
                      fmt::format("nobody to notify at level {}: {} resolves to no person",
                                  level_number, level.contact),
                      false});
  } else {
    std::vector<NotificationRecipient> recipients;
    for (const PageRecipient& r : people) {
      const Person* person = config_.FindPerson(r.person);
      recipients.push_back({r.person, person ? person->full_name : "", person ? person->email : "",
                            person ? person->phone : "", r.reason});
    }
    DeployService service(config_, store_, clock_, zone_, packages_dir_);
    ASSIGN_OR_RETURN(
        std::vector<Evidence> sent,
        service.Notify(
            page.change_request, page.environment, PageRule(config_, page.environment),
            PageMessage(page, level_number, level, zone_), "", actor, recipients,
            {{"audience", "page"}, {"page", page.id}, {"level", std::to_string(level_number)}}));
    for (const PageRecipient& r : people) {
      bool delivered = false;
      std::vector<std::string> details;
      for (const Evidence& e : sent) {
        auto person = e.fields.find("person");
        if (person == e.fields.end() || person->second != r.person) continue;
        delivered = delivered || e.passed.value_or(false);
        details.push_back(e.detail);
      }
      if (details.empty()) details.push_back("no channel configured for pages");
      events.push_back({now, "notified", level_number, r.person,
                        fmt::format("{} ({}): {}", r.person, r.reason, Join(details, "; ")),
                        delivered});
    }
  }
  return store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Page stored, tx.GetPage(page.id));
    for (const PageEvent& e : events) {
      stored.events.push_back(e);
      RETURN_IF_ERROR(tx.PutPage(stored));
      RETURN_IF_ERROR(Audit(tx, now, actor, "page.notify", stored,
                            {{"notified_level", e.level},
                             {"person", e.person},
                             {"delivered", e.delivered.value_or(false)},
                             {"detail", e.detail}}));
    }
    page = std::move(stored);
    return Status::Ok();
  });
}

Result<Page> PageService::Acknowledge(const std::string& id, const std::string& actor) {
  Page page;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(page, tx.GetPage(id));
    const EscalationPath* path = FindEscalationPath(config_, page.path);
    if (path == nullptr) {
      return InvalidArgument(
          fmt::format("{} is on the escalation path {}, which the "
                      "configuration no longer has",
                      page.id, page.path));
    }
    if (!MayAcknowledge(page, config_, *path, actor)) {
      return PermissionDenied(fmt::format(
          "{} may not acknowledge {}: only the people paged or reached by a level of the {} "
          "path may",
          EscapeForDisplay(actor), page.id, page.path));
    }
    Timestamp now = clock_.Now();
    RETURN_IF_ERROR(rollgate::Acknowledge(page, actor, now));
    RETURN_IF_ERROR(tx.PutPage(page));
    return Audit(tx, now, actor, "page.ack", page, {{"by", actor}});
  }));
  return page;
}

Result<Page> PageService::Get(const std::string& id) {
  Page page;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(page, tx.GetPage(id));
    return Status::Ok();
  }));
  return page;
}

Result<std::vector<Page>> PageService::List(bool open_only) {
  std::vector<Page> pages;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(pages, tx.ListPages(open_only));
    return Status::Ok();
  }));
  return pages;
}

Result<std::vector<Page>> PageService::EscalateDuePages(Timestamp now, const std::string& actor) {
  std::vector<Page> open;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(open, tx.ListPages(true));
    return Status::Ok();
  }));
  std::vector<Page> changed;
  for (const Page& candidate : open) {
    if (candidate.state != PageState::kOpen || candidate.deadline > now) continue;
    Page page;
    std::vector<int> reached;
    bool updated = false;
    RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
      // Re-read inside the transaction: another process may have escalated or acknowledged it.
      ASSIGN_OR_RETURN(page, tx.GetPage(candidate.id));
      const EscalationPath* path = FindEscalationPath(config_, page.path);
      if (path == nullptr) return Status::Ok();
      size_t before = page.events.size();
      reached = EscalateDue(page, *path, now);
      if (page.events.size() == before) return Status::Ok();
      updated = true;
      RETURN_IF_ERROR(tx.PutPage(page));
      for (size_t i = before; i < page.events.size(); ++i) {
        const PageEvent& e = page.events[i];
        RETURN_IF_ERROR(Audit(
            tx, now, actor, e.kind == "exhausted" ? "page.exhausted" : "page.escalate", page,
            {{"reached_level", e.level}, {"due", FormatRfc3339Utc(e.at)}, {"detail", e.detail}}));
      }
      return Status::Ok();
    }));
    if (!updated) continue;
    for (int level : reached) RETURN_IF_ERROR(NotifyLevel(page, level, actor));
    changed.push_back(page);
  }
  return changed;
}

}  // namespace rollgate
