#include "domain/advance_notice.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "domain/calendar.h"
#include "domain/evidence_queries.h"

namespace rollgate {

NoticeTiming AdvanceNoticeTiming(const NotificationRule& rule, Timestamp planned, Timestamp now) {
  NoticeTiming timing;
  timing.send_at = rule.before_max <= Seconds(0) ? now : std::max(now, planned - rule.before_max);
  timing.late = rule.before_min > Seconds(0) && planned - now < rule.before_min;
  return timing;
}

const NotificationRule* AdvanceNoticeRule(const ChangeRequest& cr, const Config& config,
                                          std::string_view environment) {
  const Environment* env = config.FindEnvironment(environment);
  if (env == nullptr) return nullptr;
  return cr.emergency ? &config.emergency_notification : &env->notification;
}

bool AdvanceNoticeRecorded(const ChangeRequest& cr, std::string_view environment,
                           Timestamp planned) {
  std::string at = FormatRfc3339Utc(planned);
  for (const Evidence& e : cr.evidence) {
    if (e.kind != kEvidenceNotification || e.environment != environment) continue;
    auto notice = e.fields.find(kFieldNotice);
    auto when = e.fields.find(kFieldPlanned);
    if (notice != e.fields.end() && notice->second == kNoticeAdvance && when != e.fields.end() &&
        when->second == at) {
      return true;
    }
  }
  return false;
}

std::optional<NoticeTiming> DueAdvanceNotice(const ChangeRequest& cr, const Config& config,
                                             std::string_view environment, Timestamp planned,
                                             Timestamp now) {
  if (cr.state != CrState::kSubmitted && cr.state != CrState::kInProgress) return std::nullopt;
  // An emergency is told at once by its approval request (§5.2 step 2, through the emergency
  // rule): no second notice.
  if (cr.emergency) return std::nullopt;
  if (planned <= now) return std::nullopt;  // under way or past: the start message tells
  const NotificationRule* rule = AdvanceNoticeRule(cr, config, environment);
  if (rule == nullptr || rule->channels.empty()) return std::nullopt;
  NoticeTiming timing = AdvanceNoticeTiming(*rule, planned, now);
  if (timing.send_at > now) return std::nullopt;
  if (AdvanceNoticeRecorded(cr, environment, planned)) return std::nullopt;
  return timing;
}

Message AdvanceNoticeMessage(const ChangeRequest& cr, const Config& config,
                             const std::string& environment, Timestamp planned, bool late,
                             const TimeZone& zone) {
  Seconds duration = ExpectedDuration(cr, config);
  std::vector<std::string> systems = {cr.system};
  for (const std::string& s : cr.affected_systems) {
    if (std::find(systems.begin(), systems.end(), s) == systems.end()) systems.push_back(s);
  }
  std::string rollback = "not on the change request";
  if (!Trim(cr.rollback_plan).empty()) {
    rollback = LatestEvidenceAnywhere(cr, kEvidenceRollbackTested) != nullptr
                   ? "documented and tested"
                   : "documented";
  }
  std::string contact;
  if (const Person* requester = config.FindPerson(cr.requester)) {
    contact = requester->full_name.empty() ? requester->name : requester->full_name;
    for (const std::string& way : {requester->email, requester->phone}) {
      if (!way.empty()) contact += ", " + way;
    }
  } else {
    contact = cr.requester;
  }
  for (const ContactGroup& group : config.groups) {
    if (group.name == "it-operations" && !group.email.empty()) {
      contact += fmt::format("; IT Operations: {}", group.email);
    }
  }
  Message m;
  m.subject = fmt::format("[PLANNED DEPLOYMENT] {} - {} - {}{}", cr.system, environment,
                          FormatLocalMinutes(planned, zone), late ? " (late notice)" : "");
  m.values = {{"cr", cr.id},
              {"title", cr.title},
              {"system", cr.system},
              {"environment", environment},
              {"planned", FormatLocalMinutes(planned, zone)},
              {"expected_duration", FormatDuration(duration)},
              {"expected_completion", FormatLocalMinutes(planned + duration, zone)},
              {"affected_systems", Join(systems, ", ")},
              {"rollback_plan", rollback},
              {"contact", contact},
              {"late", late ? "yes" : "no"}};
  m.body = fmt::format(
      "A deployment is planned.\n\nChange: {} - {}\nEnvironment: {}\nDate and time: {}\n"
      "Expected duration: {} (until {})\nAffected systems: {}\nRollback plan: {}\nContact: {}\n",
      cr.id, cr.title, environment, m.values["planned"], m.values["expected_duration"],
      m.values["expected_completion"], m.values["affected_systems"], rollback, contact);
  if (late) {
    m.body += fmt::format(
        "\nThis notice is late: the playbook asks for it {} before the deployment.\n",
        FormatDuration(cr.emergency
                           ? config.emergency_notification.before_min
                           : config.FindEnvironment(environment)->notification.before_min));
  }
  m.template_name = "advance-notice";
  return m;
}

}  // namespace rollgate
