#include "domain/pir.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "domain/business_calendar.h"

namespace rollgate {

namespace {

using nlohmann::json;

json ParseDetails(const std::string& text) {
  json details = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return details.is_object() ? details : json::object();
}

std::string Text(const json& details, const char* key) {
  auto it = details.find(key);
  if (it == details.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string DurationText(std::optional<double> seconds) {
  if (!seconds) return "unknown";
  return FormatDuration(Seconds(static_cast<int64_t>(*seconds)));
}

// The audit events the timeline reads (evidence has its own entries, from the CR).
std::optional<PirTimelineEntry> FromAudit(const AuditEvent& event) {
  json d = ParseDetails(event.details);
  PirTimelineEntry entry;
  entry.at = event.at;
  entry.actor = event.actor;
  entry.environment = Text(d, "environment");
  const std::string& a = event.action;
  if (a == "patch.add" || a == "patch.import") {
    entry.category = "detection";
    entry.summary =
        fmt::format("{} {} ({})", event.object,
                    a == "patch.import" ? "imported from an advisory" : "added", event.actor);
  } else if (a == "patch.reclassify") {
    entry.category = "detection";
    entry.summary = fmt::format("{} reclassified", event.object);
  } else if (a == "cr.create") {
    entry.category = "detection";
    entry.summary = fmt::format("{} created", event.object);
  } else if (a == "cr.submit") {
    entry.category = "approval";
    entry.summary = "submitted for approval";
  } else if (a == "cr.approve") {
    entry.category = "approval";
    entry.summary = fmt::format("approved for {} by {} ({})", entry.environment,
                                Text(d, "approver"), Text(d, "role"));
  } else if (a == "cr.approve_verbal") {
    entry.category = "approval";
    entry.summary = fmt::format(
        "VERBAL approval for {} by {} ({}), recorded by {}; written confirmation due {}",
        entry.environment, Text(d, "approver"), Text(d, "role"), Text(d, "recorded_by"),
        Text(d, "confirmation_due"));
  } else if (a == "cr.confirm") {
    entry.category = "approval";
    entry.summary =
        fmt::format("verbal approval for {} confirmed in writing by {}{}", entry.environment,
                    Text(d, "approver"), Text(d, "late") == "true" ? " (late)" : "");
  } else if (a == "cr.reject") {
    entry.category = "approval";
    entry.summary = fmt::format("rejected for {}: {}", entry.environment, Text(d, "reason"));
  } else if (a == "cr.signoff") {
    entry.category = "approval";
    entry.summary = fmt::format("{} sign-off for {}", Text(d, "kind"), entry.environment);
  } else if (StartsWith(a, "watch.")) {
    entry.category = "monitoring";
    std::string what = a.substr(6);
    entry.summary = fmt::format("enhanced monitoring {} (run {}){}", what, Text(d, "run"),
                                Text(d, "reason").empty() ? "" : ": " + Text(d, "reason"));
    if (what == "fire") return std::nullopt;  // the trigger evidence says it, with figures
  } else {
    return std::nullopt;  // evidence (cr.evidence) is read from the CR itself
  }
  return entry;
}

std::optional<PirTimelineEntry> FromEvidence(const Evidence& e) {
  PirTimelineEntry entry;
  entry.at = e.at;
  entry.actor = e.recorded_by;
  entry.environment = e.environment;
  std::string outcome = !e.passed ? "" : (*e.passed ? "passed: " : "FAILED: ");
  if (e.kind == kEvidenceDeployment) {
    entry.category = "deployment";
    entry.summary = fmt::format("deployment {}{}",
                                e.passed.value_or(false) ? "succeeded: " : "failed: ", e.detail);
  } else if (e.kind == kEvidenceRiskAcceptance) {
    entry.category = "deployment";
    entry.summary = "risk accepted: " + e.detail;
  } else if (e.kind == kEvidenceTrigger) {
    entry.category = "trigger";
    auto field = [&](const char* key) {
      auto it = e.fields.find(key);
      return it == e.fields.end() ? std::string() : it->second;
    };
    entry.summary = fmt::format("trigger {} fired{}: {} (measured {}{}, threshold {}{}; action {})",
                                field("kind"), field("host").empty() ? "" : " on " + field("host"),
                                e.detail, field("measurement"), field("unit"), field("threshold"),
                                field("unit"), field("action"));
  } else if (e.kind == kEvidenceTriggerDecision) {
    entry.category = "rollback";
    entry.summary = "decision on a trigger: " + e.detail;
  } else if (e.kind == kEvidenceRollbackAuthorisation) {
    entry.category = "rollback";
    entry.summary = "rollback authorised: " + e.detail;
  } else if (e.kind == kEvidenceRollback) {
    entry.category = "rollback";
    entry.summary = fmt::format("rollback {}{} (took {})",
                                e.passed.value_or(false) ? "completed: " : "FAILED: ", e.detail,
                                DurationText(e.value));
  } else if (e.kind == kEvidenceNotification) {
    entry.category = "notification";
    entry.summary = "notification " + outcome + e.detail;
  } else if (e.kind == kEvidenceWatchCheckin || e.kind == kEvidenceMonitoring) {
    entry.category = "monitoring";
    entry.summary = (e.kind == kEvidenceMonitoring ? "monitoring " : "") + outcome + e.detail;
  } else {
    return std::nullopt;
  }
  return entry;
}

std::vector<std::string> PeopleWith(const Config& config, const std::vector<std::string>& roles) {
  std::vector<std::string> people;
  for (const Person& p : config.people) {
    for (const std::string& role : roles) {
      if (std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end()) {
        people.push_back(p.name);
        break;
      }
    }
  }
  return people;
}

}  // namespace

Timestamp PirDueDate(const Config& config, const TimeZone& zone, Timestamp at) {
  return DueAfterBusinessDays(at, kPirBusinessDays, config, zone);
}

Result<PirDocument> BuildPir(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                             const Config& config, const TimeZone& zone, Timestamp now) {
  const Evidence* emergency_deployment = nullptr;
  const Evidence* first_rollback = nullptr;
  auto order = [&](const std::string& environment) {
    const Environment* env = config.FindEnvironment(environment);
    return env ? env->order : -1;
  };
  for (const Evidence& e : cr.evidence) {
    // The emergency deployment is the one to the furthest environment reached (PROD), the first
    // one there.
    if (cr.emergency && e.kind == kEvidenceDeployment && e.passed.value_or(false) &&
        (!emergency_deployment || order(e.environment) > order(emergency_deployment->environment) ||
         (order(e.environment) == order(emergency_deployment->environment) &&
          e.at < emergency_deployment->at))) {
      emergency_deployment = &e;
    }
    if (e.kind == kEvidenceRollback && (!first_rollback || e.at < first_rollback->at)) {
      first_rollback = &e;
    }
  }
  if (!emergency_deployment && !first_rollback) {
    return NotFound(fmt::format(
        "no post-incident review is due: {} had neither an emergency deployment nor a rollback",
        cr.id));
  }
  PirDocument pir;
  pir.cr_id = cr.id;
  pir.title = cr.title;
  pir.system = cr.system;
  pir.classification = std::string(PriorityName(cr.classification));
  pir.emergency = emergency_deployment != nullptr;
  pir.rolled_back = first_rollback != nullptr;
  std::vector<std::string> reasons;
  if (emergency_deployment) {
    reasons.push_back("emergency deployment to " + emergency_deployment->environment);
  }
  if (first_rollback) reasons.push_back("rollback in " + first_rollback->environment);
  pir.reason = Join(reasons, " and ");
  pir.occasion = emergency_deployment ? emergency_deployment->at : first_rollback->at;
  pir.due = PirDueDate(config, zone, pir.occasion);
  pir.overdue = now >= pir.due;

  for (const AuditEvent& event : events) {
    if (auto entry = FromAudit(event)) pir.timeline.push_back(std::move(*entry));
  }
  for (const Evidence& e : cr.evidence) {
    if (auto entry = FromEvidence(e)) pir.timeline.push_back(std::move(*entry));
  }
  std::stable_sort(
      pir.timeline.begin(), pir.timeline.end(),
      [](const PirTimelineEntry& a, const PirTimelineEntry& b) { return a.at < b.at; });

  // §5.4 step 2: timeline of the emergency response.
  PirSection response{"Timeline of emergency response", {}, false};
  auto first_of = [&](const std::string& category) -> const PirTimelineEntry* {
    for (const PirTimelineEntry& t : pir.timeline) {
      if (t.category == category) return &t;
    }
    return nullptr;
  };
  const PirTimelineEntry* detection = first_of("detection");
  const PirTimelineEntry* approval = first_of("approval");
  if (detection) {
    response.lines.push_back(fmt::format(
        "detected: {} ({})", FormatLocalMinutes(detection->at, zone), detection->summary));
  }
  if (detection && approval) {
    response.lines.push_back(fmt::format("detection to first approval step: {}",
                                         FormatDuration(approval->at - detection->at)));
  }
  if (detection && emergency_deployment) {
    response.lines.push_back(fmt::format("detection to emergency deployment in {}: {}",
                                         emergency_deployment->environment,
                                         FormatDuration(emergency_deployment->at - detection->at)));
  }
  for (const PirTimelineEntry& t : pir.timeline) {
    if (t.category == "trigger" || t.category == "rollback") {
      response.lines.push_back(
          fmt::format("{} {}: {}", FormatLocalMinutes(t.at, zone), t.environment, t.summary));
    }
  }
  if (response.lines.empty()) response.lines.push_back("see the timeline");
  pir.sections.push_back(std::move(response));

  // Effectiveness of emergency procedures (what can be measured).
  PirSection effectiveness{"Effectiveness of emergency procedures", {}, false};
  int rollbacks = 0;
  int failed_rollbacks = 0;
  for (const Evidence& e : cr.evidence) {
    if (e.kind != kEvidenceRollback) continue;
    ++rollbacks;
    if (!e.passed.value_or(false)) ++failed_rollbacks;
    effectiveness.lines.push_back(fmt::format("rollback in {} took {} ({})", e.environment,
                                              DurationText(e.value),
                                              e.passed.value_or(false) ? "restored" : "FAILED"));
  }
  int triggers = 0;
  for (const Evidence& e : cr.evidence) triggers += e.kind == kEvidenceTrigger;
  effectiveness.lines.push_back(fmt::format("{} trigger(s) fired, {} rollback(s), {} failed",
                                            triggers, rollbacks, failed_rollbacks));
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceRollbackTested && e.value) {
      effectiveness.lines.push_back(
          fmt::format("rollback rehearsal in {} took {}", e.environment, DurationText(e.value)));
    }
    if (e.kind == kEvidenceMonitoring) {
      effectiveness.lines.push_back(
          fmt::format("enhanced monitoring in {}: {}", e.environment, e.detail));
    }
  }
  pir.sections.push_back(std::move(effectiveness));

  // §5.4 step 3: process deviations taken.
  PirSection deviations{"Process deviations taken", {}, false};
  std::set<std::string> deployed;
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceDeployment && e.passed.value_or(false)) deployed.insert(e.environment);
  }
  std::string furthest;
  int furthest_order = -1;
  for (const Environment& env : config.environments) {
    if (deployed.count(env.name) && env.order > furthest_order) {
      furthest = env.name;
      furthest_order = env.order;
    }
  }
  for (const Environment& env : config.environments) {
    if (env.order < furthest_order && !deployed.count(env.name)) {
      deviations.lines.push_back(
          fmt::format("environment {} skipped on the way to {}", env.name, furthest));
    }
  }
  for (const Approval& a : cr.approvals) {
    if (a.verbal) {
      deviations.lines.push_back(fmt::format(
          "verbal approval for {} by {} ({}){}{}", a.environment, a.approver, a.role,
          a.conditions.empty() ? "" : ", conditions: " + a.conditions,
          a.confirmed_at ? ", confirmed in writing " + FormatLocalMinutes(*a.confirmed_at, zone)
                         : ", NOT confirmed in writing"));
    } else if (a.emergency) {
      deviations.lines.push_back(
          fmt::format("emergency approval for {} by {} ({})", a.environment, a.approver, a.role));
    }
  }
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceRiskAcceptance) {
      deviations.lines.push_back(fmt::format("risk accepted for {}: {}", e.environment, e.detail));
    }
  }
  if (cr.emergency) {
    deviations.lines.push_back(
        "gates passed on the emergency path: emergency lead times, smoke and targeted tests only");
  }
  if (deviations.lines.empty()) deviations.lines.push_back("none recorded");
  pir.sections.push_back(std::move(deviations));

  for (const char* title :
       {"Root cause", "Response effectiveness", "Recommendations", "Lessons learned"}) {
    pir.sections.push_back({title, {kPirToBeCompleted}, true});
  }

  pir.attendees = {
      {"Security", {kRoleSecurityLead, kRoleCiso}, {}},
      {"Operations", {kRoleItOperationsManager}, {}},
      {"Development", {kRoleDevelopmentLead}, {}},
      {"CAB", {kRoleCabChair, kRoleCabMember}, {}},
  };
  for (PirAttendeeGroup& group : pir.attendees) group.people = PeopleWith(config, group.roles);
  return pir;
}

std::string RenderPir(const PirDocument& pir, const TimeZone& zone) {
  std::string out;
  out += fmt::format("# Post-incident review: {}\n\n", pir.cr_id);
  out += fmt::format("- Change: {}\n", pir.title);
  out += fmt::format("- System: {}\n", pir.system);
  out += fmt::format("- Classification: {}\n", pir.classification);
  out += fmt::format("- Occasion: {} ({})\n", pir.reason, FormatLocalMinutes(pir.occasion, zone));
  out += fmt::format("- Due: before {} (within {} business days){}\n",
                     FormatLocalMinutes(pir.due, zone), kPirBusinessDays,
                     pir.overdue ? " — OVERDUE" : "");
  out += "\n## Attendees to invite\n\n";
  for (const PirAttendeeGroup& g : pir.attendees) {
    out += fmt::format("- {}: {}\n", g.group,
                       g.people.empty() ? "nobody configured (" + Join(g.roles, ", ") + ")"
                                        : Join(g.people, ", "));
  }
  out += "\n## Timeline\n\n";
  for (const PirTimelineEntry& t : pir.timeline) {
    out += fmt::format("- {} [{}]{} {}{}\n", FormatLocalMinutes(t.at, zone), t.category,
                       t.environment.empty() ? "" : " " + t.environment, t.summary,
                       t.actor.empty() ? "" : " — " + t.actor);
  }
  for (const PirSection& s : pir.sections) {
    out += fmt::format("\n## {}\n\n", s.title);
    for (const std::string& line : s.lines) {
      out += s.to_be_completed ? fmt::format("_{}_\n", line) : fmt::format("- {}\n", line);
    }
  }
  return out;
}

}  // namespace rollgate
