#include "service/notification_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "domain/advance_notice.h"
#include "domain/message_templates.h"
#include "service/cr_service.h"

namespace rollgate {

namespace {

// What a notification's audit events are about: its CR, else what the caller named in its fields
// (a page without a CR: the page), else the notification itself.
std::string AuditObject(const std::string& cr_id, const std::map<std::string, std::string>& fields,
                        int64_t id) {
  if (!cr_id.empty()) return cr_id;
  auto page = fields.find("page");
  if (page != fields.end() && !page->second.empty()) return page->second;
  return fmt::format("notification-{}", id);
}

// Who records what no person did (cr_lifecycle.h: evidence "by a person or system").
constexpr const char* kSystemActor = "system";

const Channel* FindChannel(const Config& config, const std::string& name) {
  for (const Channel& c : config.channels) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

notify::OutgoingMessage Outgoing(const Notification& n) {
  notify::OutgoingMessage m;
  m.id = n.id;
  m.subject = n.subject;
  m.body = n.body;
  m.change_request = n.change_request;
  m.environment = n.environment;
  m.run = n.run_id;
  m.person = n.person;
  m.recipient_name = n.recipient_name;
  m.recipient_email = n.recipient_email;
  m.recipient_phone = n.recipient_phone;
  m.role = n.role;
  return m;
}

// The e-mail addresses of the rule's contact groups, ','-separated (the audience of a message
// sent without named recipients).
std::string GroupEmails(const Config& config, const NotificationRule& rule) {
  std::vector<std::string> emails;
  for (const std::string& name : rule.notify) {
    for (const ContactGroup& group : config.groups) {
      if (group.name == name && !group.email.empty()) emails.push_back(group.email);
    }
  }
  return Join(emails, ",");
}

}  // namespace

NotificationService::NotificationService(const Config& config, Store& store, const Clock& clock,
                                         const TimeZone& zone, DeliverFunction deliver,
                                         notify::EnvironmentReader environment)
    : config_(config),
      store_(store),
      clock_(clock),
      zone_(zone),
      deliver_(std::move(deliver)),
      environment_(std::move(environment)) {}

Result<std::optional<Evidence>> NotificationService::Attempt(Notification& n,
                                                             const std::string& actor,
                                                             bool first_attempt) {
  Timestamp now = clock_.Now();
  Result<std::string> outcome = Internal("not attempted");
  if (const Channel* channel = FindChannel(config_, n.channel); channel == nullptr) {
    outcome =
        InvalidArgument(fmt::format("channel {} is not in the configuration any more", n.channel));
  } else {
    notify::DeliveryContext context;
    context.now = now;
    context.base_dir = config_.source_file.empty()
                           ? std::filesystem::current_path()
                           : std::filesystem::absolute(config_.source_file).parent_path();
    context.clock = &clock_;
    context.environment = environment_;
    notify::OutgoingMessage message = Outgoing(n);
    if (channel->type == "alertmanager" && !n.change_request.empty()) {
      // The alert's `system` label: the CR's system (a CR that cannot be read leaves it out).
      Status read = store_.Read([&](Transaction& txn) -> Status {
        ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest(n.change_request));
        message.system = cr.system;
        return Status::Ok();
      });
      (void)read;
    }
    outcome = deliver_(*channel, message, context);
  }
  n.attempts += 1;
  std::string action;
  if (outcome.ok()) {
    n.state = NotificationState::kSent;
    n.sent_at = now;
    n.next_attempt.reset();
    n.last_error.clear();
    action = "notification.sent";
  } else {
    n.last_error = outcome.error().message();
    std::optional<Seconds> delay =
        RetryDelay(config_.notification_backoff, config_.notification_max_attempts, n.attempts);
    if (delay) {
      n.state = NotificationState::kPending;
      n.next_attempt = now + *delay;
      action = "notification.attempt-failed";
    } else {
      n.state = NotificationState::kFailed;
      n.next_attempt.reset();
      action = "notification.failed";
    }
  }
  nlohmann::json details = {{"notification", n.id},  {"channel", n.channel},
                            {"type", n.type},        {"person", n.person},
                            {"attempt", n.attempts}, {"state", NotificationStateName(n.state)},
                            {"subject", n.subject}};
  if (!outcome.ok()) details["error"] = n.last_error;
  if (n.next_attempt) details["next_attempt"] = FormatRfc3339Utc(*n.next_attempt);
  RETURN_IF_ERROR(store_.Write([&](Transaction& txn) -> Status {
    RETURN_IF_ERROR(txn.UpdateNotification(n));
    return txn
        .AppendAudit({now, actor, action, AuditObject(n.change_request, n.fields, n.id),
                      details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)})
        .status();
  }));

  // The CR shows the first attempt's outcome, a later delivery and a final failure.
  if (!first_attempt && n.state == NotificationState::kPending) return std::optional<Evidence>();
  Evidence e;
  e.environment = n.environment;
  e.kind = kEvidenceNotification;
  e.run_id = n.run_id;
  e.at = now;
  // A timer's flush is nobody's: the CR records it as the system's.
  e.recorded_by = config_.FindPerson(actor) != nullptr ? actor : std::string(kSystemActor);
  e.fields = n.fields;
  e.fields["channel"] = n.channel;
  e.fields["subject"] = n.subject;
  e.fields["type"] = n.type;
  e.fields["notification"] = std::to_string(n.id);
  e.fields["state"] = std::string(NotificationStateName(n.state));
  std::string addressee;
  if (!n.person.empty()) {
    e.fields["person"] = n.person;
    if (!n.role.empty()) e.fields["role"] = n.role;
    addressee = " for " + n.person;
  }
  e.passed = outcome.ok();
  if (outcome.ok()) {
    e.detail = fmt::format("sent through {}{}: {} ({})", n.channel, addressee, n.subject, *outcome);
  } else {
    e.fields["error"] = n.last_error;
    e.detail =
        fmt::format("NOT sent through {}{}: {}: {}", n.channel, addressee, n.subject, n.last_error);
    if (n.next_attempt) {
      e.detail += fmt::format(" (notification {} retried from {})", n.id,
                              FormatRfc3339Utc(*n.next_attempt));
    } else {
      e.detail += fmt::format(" (notification {} failed after {} attempts)", n.id, n.attempts);
    }
  }
  return std::optional<Evidence>(std::move(e));
}

Result<std::vector<Evidence>> NotificationService::Send(
    const std::string& cr_id, const std::string& environment, const NotificationRule& rule,
    const Message& original, const std::string& run_id, const std::string& actor,
    const std::vector<NotificationRecipient>& recipients,
    const std::map<std::string, std::string>& fields) {
  // What was due before this message goes first (a down server that came back).
  RETURN_IF_ERROR(Flush(actor, kFlushBeforeSend).status());

  Message message = ApplyTemplateOverride(config_, original);
  Timestamp now = clock_.Now();
  std::vector<Notification> queued;
  std::string group_emails = GroupEmails(config_, rule);
  for (const std::string& name : rule.channels) {
    const Channel* channel = FindChannel(config_, name);
    if (channel == nullptr) continue;
    auto queue = [&](const NotificationRecipient* to) {
      Notification n;
      n.change_request = cr_id;
      n.environment = environment;
      n.run_id = run_id;
      n.channel = name;
      n.type = channel->type;
      if (to != nullptr) {
        n.person = to->person;
        n.role = to->role;
        n.recipient_name = to->full_name;
        n.recipient_email = to->email;
        n.recipient_phone = to->phone;
      } else {
        n.recipient_email = group_emails;
      }
      n.subject = message.subject;
      n.body = message.body;
      n.fields = fields;
      n.actor = actor;
      n.state = NotificationState::kPending;
      n.next_attempt = now;
      n.created = now;
      queued.push_back(std::move(n));
    };
    if (recipients.empty()) queue(nullptr);
    for (const NotificationRecipient& r : recipients) queue(&r);
  }
  if (queued.empty()) return std::vector<Evidence>{};
  RETURN_IF_ERROR(store_.Write([&](Transaction& txn) -> Status {
    for (Notification& n : queued) {
      ASSIGN_OR_RETURN(n.id, txn.AddNotification(n));
      nlohmann::json details = {{"notification", n.id}, {"channel", n.channel},
                                {"type", n.type},       {"person", n.person},
                                {"subject", n.subject}, {"environment", n.environment}};
      RETURN_IF_ERROR(
          txn.AppendAudit({now, actor, "notification.queued", AuditObject(cr_id, n.fields, n.id),
                           details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)})
              .status());
    }
    return Status::Ok();
  }));

  std::vector<Evidence> out;
  for (Notification& n : queued) {
    ASSIGN_OR_RETURN(std::optional<Evidence> e, Attempt(n, actor, true));
    if (e) out.push_back(std::move(*e));
  }
  // A message without a CR (a page about an incident) has no record to add evidence to: its
  // outcome is in the notification and its audit events.
  if (cr_id.empty()) return out;
  CrService crs(config_, store_, clock_, zone_);
  for (const Evidence& e : out) {
    RETURN_IF_ERROR(crs.RecordEvidence(cr_id, e, e.recorded_by).status());
  }
  return out;
}

Result<std::vector<std::string>> NotificationService::SendDueAdvanceNotices(
    const std::string& actor) {
  Timestamp now = clock_.Now();
  std::vector<ChangeRequest> crs;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    for (CrState state : {CrState::kSubmitted, CrState::kInProgress}) {
      ChangeRequestFilter filter;
      filter.state = state;
      ASSIGN_OR_RETURN(std::vector<ChangeRequestSummary> rows, tx.ListChangeRequests(filter));
      for (const ChangeRequestSummary& row : rows) {
        ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(row.id));
        if (!cr.scheduled.empty()) crs.push_back(std::move(cr));
      }
    }
    return Status::Ok();
  }));
  std::vector<std::string> sent;
  for (const ChangeRequest& cr : crs) {
    for (const auto& [environment, planned] : cr.scheduled) {
      std::optional<NoticeTiming> due = DueAdvanceNotice(cr, config_, environment, planned, now);
      if (!due) continue;
      const NotificationRule* rule = AdvanceNoticeRule(cr, config_, environment);
      Message message = AdvanceNoticeMessage(cr, config_, environment, planned, due->late, zone_);
      std::string at = FormatRfc3339Utc(planned);
      ASSIGN_OR_RETURN(std::vector<Evidence> recorded,
                       Send(cr.id, environment, *rule, message, "", actor, {},
                            {{"audience", "stakeholders"},
                             {kFieldNotice, kNoticeAdvance},
                             {kFieldPlanned, at},
                             {kFieldLate, due->late ? "yes" : "no"}}));
      if (recorded.empty()) continue;  // none of the rule's channels is configured
      sent.push_back(fmt::format("{} {} {}{}", cr.id, environment, at, due->late ? " (late)" : ""));
    }
  }
  return sent;
}

Result<NotificationService::FlushReport> NotificationService::Flush(const std::string& actor,
                                                                    int limit) {
  FlushReport report;
  NotificationFilter filter;
  filter.due_by = clock_.Now();
  filter.limit = std::max(limit, 0);
  std::vector<Notification> due;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(due, txn.ListNotifications(filter));
    return Status::Ok();
  }));
  CrService crs(config_, store_, clock_, zone_);
  for (Notification& n : due) {
    ASSIGN_OR_RETURN(std::optional<Evidence> e, Attempt(n, actor, false));
    if (n.state == NotificationState::kSent) ++report.sent;
    if (n.state == NotificationState::kFailed) ++report.failed;
    if (n.state == NotificationState::kPending) ++report.still_pending;
    if (e && !n.change_request.empty()) {
      Status recorded = crs.RecordEvidence(n.change_request, *e, e->recorded_by).status();
      // A CR that takes no evidence any more (closed, cancelled, gone) does not stop the flush:
      // the attempt itself is stored and audited. The store failing does.
      if (!recorded.ok() && (recorded.code() == StatusCode::kUnavailable ||
                             recorded.code() == StatusCode::kCorruption ||
                             recorded.code() == StatusCode::kInternal)) {
        return recorded;
      }
    }
    report.attempted.push_back(std::move(n));
  }
  return report;
}

Result<Notification> NotificationService::Retry(int64_t id, const std::string& actor) {
  Notification n;
  Timestamp now = clock_.Now();
  RETURN_IF_ERROR(store_.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(n, txn.GetNotification(id));
    if (n.state == NotificationState::kSent) {
      return Conflict(fmt::format("notification {} was already sent", id));
    }
    std::string before(NotificationStateName(n.state));
    n.state = NotificationState::kPending;
    n.attempts = 0;
    n.next_attempt = now;
    RETURN_IF_ERROR(txn.UpdateNotification(n));
    nlohmann::json details = {{"notification", id}, {"from", before}, {"channel", n.channel}};
    return txn
        .AppendAudit({now, actor, "notification.retry",
                      AuditObject(n.change_request, n.fields, n.id), details.dump()})
        .status();
  }));
  return n;
}

Result<std::vector<Notification>> NotificationService::List(const NotificationFilter& filter) {
  std::vector<Notification> out;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(out, txn.ListNotifications(filter));
    return Status::Ok();
  }));
  return out;
}

Result<Notification> NotificationService::Get(int64_t id) {
  Notification n;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(n, txn.GetNotification(id));
    return Status::Ok();
  }));
  return n;
}

}  // namespace rollgate
