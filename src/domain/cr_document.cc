#include "domain/cr_document.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "domain/approvals.h"
#include "domain/evidence_queries.h"

namespace rollgate {

namespace {

using nlohmann::json;

constexpr const char* kPending = "[pending]";
constexpr const char* kNotApplicable = "N/A";

std::string Or(const std::string& value, const char* fallback) {
  return Trim(value).empty() ? fallback : value;
}

std::string Capitalized(std::string_view word) {
  std::string s(word);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string Date(Timestamp t, const TimeZone& zone) { return FormatDate(zone.ToLocal(t).date); }

std::string ApprovalText(const Approval& a, const Config& config, Timestamp now,
                         const TimeZone& zone) {
  std::string text = fmt::format("{} {}", a.approver, Date(a.at, zone));
  if (!a.verbal) return text;
  if (a.confirmed_at) {
    return text + fmt::format(" (verbal, confirmed {})", FormatLocalMinutes(*a.confirmed_at, zone));
  }
  Timestamp due = ConfirmationDue(a, config);
  bool overdue = IsConfirmationOverdue(a, config, now);
  return text + fmt::format(" (verbal, written confirmation {} {})",
                            overdue ? "overdue since" : "due", FormatLocalMinutes(due, zone));
}

std::string EnvironmentApprovals(const ChangeRequest& cr, const Config& config,
                                 const Environment& env, Timestamp now, const TimeZone& zone) {
  std::vector<std::string> parts;
  for (const auto& a : cr.approvals) {
    if (a.environment == env.name && IsCurrent(a, cr)) {
      parts.push_back(ApprovalText(a, config, now, zone));
    }
  }
  for (const auto& r : cr.rejections) {
    if (r.environment == env.name) {
      parts.push_back(fmt::format("rejected by {} {}: {}", r.person, Date(r.at, zone), r.reason));
    }
  }
  return parts.empty() ? kPending : Join(parts, ", ");
}

std::vector<const Environment*> InOrder(const Config& config) {
  std::vector<const Environment*> envs;
  for (const auto& e : config.environments) envs.push_back(&e);
  std::stable_sort(envs.begin(), envs.end(),
                   [](const Environment* a, const Environment* b) { return a->order < b->order; });
  return envs;
}

// The environment after the furthest one deployed successfully (environments skipped on the
// emergency path stay behind); the first when none succeeded, the last when it succeeded.
const Environment* TargetEnvironment(const ChangeRequest& cr, const Config& config) {
  auto envs = InOrder(config);
  size_t next = 0;
  for (size_t i = 0; i < envs.size(); ++i) {
    if (OutcomeIn(cr, envs[i]->name) == DeploymentOutcome::kSucceeded) next = i + 1;
  }
  if (envs.empty()) return nullptr;
  return envs[std::min(next, envs.size() - 1)];
}

std::string CvssText(const Patch* patch) {
  if (!patch) return kPending;
  const CvssScore* s = patch->PreferredCvss();
  if (!s) return kNotApplicable;
  return fmt::format("{:.1f} (CVSS {}{}{})", s->base_score, s->version,
                     s->severity.empty() ? "" : ", ", s->severity);
}

DocumentSection HeaderSection(const ChangeRequest& cr) {
  return {"CHANGE REQUEST",
          {{"CR Number", Or(cr.id, kPending)}, {"Title", Or(cr.title, kPending)}}};
}

DocumentSection ClassificationSection(const ChangeRequest& cr, const Patch* patch) {
  std::string priority = std::string(PriorityName(cr.classification));
  if (cr.emergency) priority += " (emergency)";
  return {"CLASSIFICATION",
          {{"Type", Capitalized(ChangeTypeName(cr.type))},
           {"Priority", priority},
           {"CVSS Score", CvssText(patch)}}};
}

DocumentSection ApprovalsSection(const ChangeRequest& cr, const Config& config, Timestamp now,
                                 const TimeZone& zone) {
  DocumentSection s{"APPROVALS", {}};
  for (const Environment* e : InOrder(config)) {
    s.fields.emplace_back(e->name + " Approval", EnvironmentApprovals(cr, config, *e, now, zone));
  }
  return s;
}

DocumentSection DeploymentSection(const ChangeRequest& cr, const Config& config,
                                  const TimeZone& zone) {
  const Environment* target = TargetEnvironment(cr, config);
  std::string date = kPending, time = kPending;
  if (target && cr.scheduled.count(target->name)) {
    LocalDateTime local = zone.ToLocal(cr.scheduled.at(target->name));
    date = FormatDate(local.date);
    auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local.time_of_day).count();
    time = fmt::format("{:02}:{:02}", minutes / 60, minutes % 60);
  }
  std::string downtime = cr.expected_downtime > Seconds(0)
                             ? fmt::format("Yes ({})", FormatDuration(cr.expected_downtime))
                             : "No";
  return {"DEPLOYMENT DETAILS",
          {{"Target Environment", target ? target->name : kPending},
           {"Scheduled Date", date},
           {"Scheduled Time", time},
           {"Expected Duration",
            cr.expected_duration > Seconds(0) ? FormatDuration(cr.expected_duration) : kPending},
           {"Downtime Required", downtime}}};
}

std::string RollbackTriggers(const ChangeRequest& cr, const Config& config) {
  const Environment* target = TargetEnvironment(cr, config);
  Thresholds t = target ? target->thresholds : Thresholds{};
  return fmt::format(
      "availability < {:g} %; ≥ {:g} % of users affected by critical defects; any confirmed data "
      "integrity issue; security vulnerability CVSS ≥ {:g} discovered; smoke test failure in "
      "PROD; performance > {:g} % slower",
      t.min_availability_percent, t.max_users_affected_percent, t.rollback_security_cvss,
      t.max_performance_degradation_percent);
}

DocumentSection RollbackPlanSection(const ChangeRequest& cr, const Config& config) {
  std::string procedure = kPending;
  if (const Attachment* a = FindAttachment(cr, "rollback-procedure")) {
    procedure = fmt::format("{} (sha256 {})", a->file_name, a->sha256.substr(0, 12));
  } else if (!Trim(cr.rollback_plan).empty()) {
    procedure = "documented in this CR (Rollback Plan Details below)";
  }
  std::string duration = kPending;
  const Evidence* tested = LatestEvidenceAnywhere(cr, kEvidenceRollbackTested);
  if (tested && tested->value) {
    duration = fmt::format("{} (tested in {})",
                           FormatDuration(Seconds(static_cast<int64_t>(*tested->value))),
                           tested->environment.empty() ? "CR" : tested->environment);
  }
  return {"ROLLBACK PLAN",
          {{"Rollback Procedure", procedure},
           {"Rollback Duration", duration},
           {"Rollback Trigger", RollbackTriggers(cr, config)}}};
}

DocumentSection ValidationSection(const ChangeRequest& cr, const TimeZone& zone) {
  std::string smoke = kPending, regression = kPending, uat = kPending;
  if (const Evidence* e = LatestEvidenceAnywhere(cr, kEvidenceSmoke)) {
    smoke = fmt::format("{} ({}{})", NotFailed(e) ? "Pass" : "Fail", e->environment,
                        e->value ? fmt::format(", {:g} %", *e->value) : "");
  }
  if (const Evidence* e = LatestEvidenceAnywhere(cr, kEvidenceRegression); e && e->value) {
    regression = fmt::format("{:g}% ({})", *e->value, e->environment);
  }
  std::vector<std::string> uats;
  for (const auto& s : cr.signoffs) {
    if (s.kind == "uat" && s.cr_revision == cr.revision) {
      uats.push_back(fmt::format("{} {}", s.person, Date(s.at, zone)));
    }
  }
  if (!uats.empty()) uat = Join(uats, ", ");
  return {"VALIDATION",
          {{"Smoke Tests", smoke}, {"Regression", regression}, {"UAT Sign-off", uat}}};
}

DocumentSection PostDeploymentSection(const ChangeRequest& cr, const Config& config,
                                      const TimeZone& zone) {
  auto envs = InOrder(config);
  if (envs.empty())
    return {"POST-DEPLOYMENT",
            {{"Status", kPending}, {"Completed", kPending}, {"Issues", kPending}}};
  const std::string& last = envs.back()->name;
  DeploymentOutcome outcome = OutcomeIn(cr, last);
  if (outcome == DeploymentOutcome::kNone) {
    return {"POST-DEPLOYMENT",
            {{"Status", kPending}, {"Completed", kPending}, {"Issues", kPending}}};
  }
  const Evidence* deployment = LatestEvidence(cr, kEvidenceDeployment, last);
  const Evidence* finished = deployment;
  std::string status = outcome == DeploymentOutcome::kSucceeded ? "Success"
                       : outcome == DeploymentOutcome::kFailed  ? "Failed"
                                                                : "Rolled Back";
  if (outcome == DeploymentOutcome::kRolledBack)
    finished = LatestEvidence(cr, kEvidenceRollback, last);
  std::vector<std::string> issues;
  for (const auto& e : cr.evidence) {
    if (e.environment == last && e.passed == false &&
        e.at >= deployment->at - std::chrono::hours(24)) {
      issues.push_back(e.detail.empty() ? fmt::format("{} failed", e.kind)
                                        : fmt::format("{} failed: {}", e.kind, e.detail));
    }
  }
  return {"POST-DEPLOYMENT",
          {{"Status", status},
           {"Completed", FormatLocalMinutes(finished->at, zone)},
           {"Issues", issues.empty() ? "None" : Join(issues, "; ")}}};
}

// §5.1 step 1: the emergency justification.
DocumentSection EmergencyJustificationSection(const ChangeRequest& cr, const TimeZone& zone) {
  DocumentSection s{"EMERGENCY JUSTIFICATION", {}};
  if (!cr.emergency_justification) {
    s.fields.emplace_back(
        "Justification",
        fmt::format("{} (rollgate cr justify {} --incident TEXT --why TEXT)", kPending, cr.id));
    return s;
  }
  const EmergencyJustification& j = *cr.emergency_justification;
  s.fields = {
      {"Incident", Or(j.incident, kPending)},
      {"Criteria (5.1)", j.criteria.empty() ? kPending : Join(j.criteria, "; ")},
      {"CVSS Score", j.cvss_score ? fmt::format("{:.1f}", *j.cvss_score) : "not scored"},
      {"CVSS Source", Or(j.cvss_source, kNotApplicable)},
      {"Why Normal Process Cannot Be Followed", Or(j.why_not_normal, kPending)},
      {"Recorded", fmt::format("{} {}", j.recorded_by, FormatLocalMinutes(j.recorded_at, zone))}};
  return s;
}

// §5.2 step 4: the expedited approval as the CR documents it.
DocumentSection EmergencyApprovalSection(const ChangeRequest& cr, const Config& config,
                                         const TimeZone& zone) {
  std::vector<std::string> approvers, times, conditions;
  for (const Approval& a : cr.approvals) {
    if (!a.emergency || !IsCurrent(a, cr)) continue;
    approvers.push_back(fmt::format("{} ({}, {}{})", a.approver, a.role, a.environment,
                                    a.verbal ? ", verbal" : ""));
    std::string confirmed;
    if (a.verbal) {
      confirmed =
          a.confirmed_at
              ? fmt::format(" (confirmed in writing {})", FormatLocalMinutes(*a.confirmed_at, zone))
              : fmt::format(" (written confirmation due {})",
                            FormatLocalMinutes(ConfirmationDue(a, config), zone));
    }
    times.push_back(fmt::format("{} {}{}", a.approver, FormatLocalMinutes(a.at, zone), confirmed));
    if (!Trim(a.conditions).empty()) {
      conditions.push_back(fmt::format("{}: {}", a.approver, a.conditions));
    }
  }
  return {"EMERGENCY APPROVAL",
          {{"Approval type", "Emergency (Expedited)"},
           {"Approvers", approvers.empty() ? kPending : Join(approvers, ", ")},
           {"Approval time", times.empty() ? kPending : Join(times, ", ")},
           {"Conditions", approvers.empty()    ? kPending
                          : conditions.empty() ? "None"
                                               : Join(conditions, "; ")}}};
}

DocumentSection DetailsSection(const ChangeRequest& cr, const TimeZone& zone) {
  return {"CHANGE DETAILS",
          {{"State", fmt::format("{} (revision {})", CrStateName(cr.state), cr.revision)},
           {"Emergency", cr.emergency ? "Yes" : "No"},
           {"Patch", Or(cr.patch_id, kNotApplicable)},
           {"System", cr.system},
           {"Affected Systems", Join(cr.affected_systems, ", ")},
           {"Requester", cr.requester},
           {"Created", FormatLocalMinutes(cr.created_at, zone)},
           {"Submitted", cr.submitted_at ? FormatLocalMinutes(*cr.submitted_at, zone) : kPending},
           {"Rollback Complexity", std::string(RollbackComplexityName(cr.rollback_complexity))},
           {"Description", Or(cr.description, kPending)},
           {"Implementation Plan", Or(cr.implementation_plan, kPending)},
           {"Rollback Plan Details", Or(cr.rollback_plan, kPending)},
           {"Risk Assessment", Or(cr.risk_assessment, kPending)},
           {"Test Plan", Or(cr.test_plan, kPending)},
           {"Cancel Reason", Or(cr.cancel_reason, kNotApplicable)}}};
}

DocumentSection AttachmentsSection(const ChangeRequest& cr, const TimeZone& zone) {
  DocumentSection s{"ATTACHMENTS", {}};
  for (const auto& a : cr.attachments) {
    s.fields.emplace_back(
        a.kind, fmt::format("{} (sha256 {}, {} bytes) by {} {}", a.file_name, a.sha256,
                            a.size_bytes, a.added_by, FormatLocalMinutes(a.added_at, zone)));
  }
  if (s.fields.empty()) s.fields.emplace_back("Attachments", "None");
  return s;
}

DocumentSection SignoffsSection(const ChangeRequest& cr, const TimeZone& zone) {
  DocumentSection s{"SIGN-OFFS", {}};
  for (const auto& so : cr.signoffs) {
    s.fields.emplace_back(
        fmt::format("{} {}", so.environment, so.kind),
        fmt::format("{} ({}) {}{}", so.person, so.role, FormatLocalMinutes(so.at, zone),
                    so.cr_revision == cr.revision
                        ? ""
                        : fmt::format(" [revision {}, void]", so.cr_revision)));
  }
  if (s.fields.empty()) s.fields.emplace_back("Sign-offs", "None");
  return s;
}

DocumentSection EvidenceSection(const ChangeRequest& cr, const TimeZone& zone) {
  DocumentSection s{"EVIDENCE", {}};
  for (const auto& e : cr.evidence) {
    std::string value = e.passed ? (*e.passed ? "passed" : "failed") : "recorded";
    if (e.value) value += fmt::format(", {:g}", *e.value);
    if (!e.detail.empty()) value += ", " + e.detail;
    s.fields.emplace_back(
        fmt::format("{} {}", e.environment.empty() ? "CR" : e.environment, e.kind),
        fmt::format("{} by {} {}", value, e.recorded_by, FormatLocalMinutes(e.at, zone)));
  }
  if (s.fields.empty()) s.fields.emplace_back("Evidence", "None");
  return s;
}

DocumentSection OverdueSection(const ChangeRequest& cr, const Config& config, Timestamp now,
                               const TimeZone& zone) {
  DocumentSection s{"OVERDUE CONFIRMATIONS", {}};
  for (const auto& o : OverdueConfirmations(cr, config, now)) {
    s.fields.emplace_back(
        fmt::format("{} {}", o.environment, o.approver),
        fmt::format("verbal approval of {}, written confirmation due {}, overdue "
                    "by {}",
                    FormatLocalMinutes(o.approved_at, zone), FormatLocalMinutes(o.due, zone),
                    FormatDuration(o.overdue_by)));
  }
  if (s.fields.empty()) s.fields.emplace_back("Overdue", "None");
  return s;
}

// Lines of a value, each made safe to print.
std::vector<std::string> ValueLines(const std::string& value) {
  std::vector<std::string> lines;
  for (const auto& line : Split(value, '\n')) lines.push_back(EscapeForDisplay(line));
  return lines;
}

json EvidenceJson(const Evidence& e) {
  json j = {{"environment", e.environment},
            {"kind", e.kind},
            {"detail", e.detail},
            {"fields", e.fields},
            {"recorded_by", e.recorded_by},
            {"at", FormatRfc3339Utc(e.at)},
            {"run", e.run_id}};
  j["passed"] = e.passed ? json(*e.passed) : json(nullptr);
  j["value"] = e.value ? json(*e.value) : json(nullptr);
  return j;
}

json ApprovalsJson(const ChangeRequest& cr, const Config& config, Timestamp now) {
  json list = json::array();
  for (const auto& a : cr.approvals) {
    const Environment* env = config.FindEnvironment(a.environment);
    bool counts = false;
    if (env) {
      ApprovalTally t = TallyApprovals(cr, config, *env, now, cr.emergency);
      counts = std::find(t.counted.begin(), t.counted.end(), &a) != t.counted.end();
    }
    json j = {{"environment", a.environment}, {"approver", a.approver},    {"role", a.role},
              {"at", FormatRfc3339Utc(a.at)}, {"revision", a.cr_revision}, {"verbal", a.verbal},
              {"emergency", a.emergency},     {"counts", counts}};
    if (a.verbal) {
      j["recorded_by"] = a.recorded_by;
      j["conditions"] = a.conditions;
      j["confirmation_due"] = FormatRfc3339Utc(ConfirmationDue(a, config));
      j["confirmed_at"] = a.confirmed_at ? json(FormatRfc3339Utc(*a.confirmed_at)) : json(nullptr);
      j["confirmation_overdue"] = IsConfirmationOverdue(a, config, now);
    }
    list.push_back(j);
  }
  return list;
}

json CollectionsJson(const ChangeRequest& cr, const Config& config, Timestamp now) {
  json j;
  j["approvals"] = ApprovalsJson(cr, config, now);
  j["rejections"] = json::array();
  for (const auto& r : cr.rejections) {
    j["rejections"].push_back({{"environment", r.environment},
                               {"person", r.person},
                               {"at", FormatRfc3339Utc(r.at)},
                               {"reason", r.reason}});
  }
  j["signoffs"] = json::array();
  for (const auto& s : cr.signoffs) {
    j["signoffs"].push_back({{"environment", s.environment},
                             {"kind", s.kind},
                             {"person", s.person},
                             {"role", s.role},
                             {"at", FormatRfc3339Utc(s.at)},
                             {"revision", s.cr_revision},
                             {"counts", s.cr_revision == cr.revision}});
  }
  j["evidence"] = json::array();
  for (const auto& e : cr.evidence) j["evidence"].push_back(EvidenceJson(e));
  j["attachments"] = json::array();
  for (const auto& a : cr.attachments) {
    j["attachments"].push_back({{"kind", a.kind},
                                {"file_name", a.file_name},
                                {"sha256", a.sha256},
                                {"size", a.size_bytes},
                                {"added_by", a.added_by},
                                {"added_at", FormatRfc3339Utc(a.added_at)}});
  }
  j["overdue_confirmations"] = json::array();
  for (const auto& o : OverdueConfirmations(cr, config, now)) {
    j["overdue_confirmations"].push_back({{"environment", o.environment},
                                          {"approver", o.approver},
                                          {"recorded_by", o.recorded_by},
                                          {"approved_at", FormatRfc3339Utc(o.approved_at)},
                                          {"due", FormatRfc3339Utc(o.due)},
                                          {"overdue_seconds", o.overdue_by.count()}});
  }
  return j;
}

}  // namespace

std::vector<DocumentSection> BuildCrDocument(const ChangeRequest& cr, const Patch* patch,
                                             const Config& config, Timestamp now,
                                             const TimeZone& zone) {
  std::vector<DocumentSection> sections = {HeaderSection(cr),
                                           ClassificationSection(cr, patch),
                                           ApprovalsSection(cr, config, now, zone),
                                           DeploymentSection(cr, config, zone),
                                           RollbackPlanSection(cr, config),
                                           ValidationSection(cr, zone),
                                           PostDeploymentSection(cr, config, zone)};
  if (cr.emergency || cr.emergency_justification) {
    sections.push_back(EmergencyJustificationSection(cr, zone));
    sections.push_back(EmergencyApprovalSection(cr, config, zone));
  }
  sections.insert(sections.end(), {DetailsSection(cr, zone), AttachmentsSection(cr, zone),
                                   SignoffsSection(cr, zone), EvidenceSection(cr, zone),
                                   OverdueSection(cr, config, now, zone)});
  return sections;
}

std::string RenderCrText(const ChangeRequest& cr, const Patch* patch, const Config& config,
                         Timestamp now, const TimeZone& zone) {
  std::string out;
  for (const auto& section : BuildCrDocument(cr, patch, config, now, zone)) {
    if (!out.empty()) out += "\n";
    out += section.heading + "\n" + std::string(section.heading.size(), '=') + "\n";
    if (section.heading == "CHANGE REQUEST") out += "\n";
    for (const auto& [label, value] : section.fields) {
      std::vector<std::string> lines = ValueLines(value);
      out += fmt::format("{}: {}\n", EscapeForDisplay(label), lines.empty() ? "" : lines[0]);
      for (size_t i = 1; i < lines.size(); ++i) out += "  " + lines[i] + "\n";
    }
  }
  return out;
}

std::string RenderCrMarkdown(const ChangeRequest& cr, const Patch* patch, const Config& config,
                             Timestamp now, const TimeZone& zone) {
  std::string out;
  for (const auto& section : BuildCrDocument(cr, patch, config, now, zone)) {
    if (!out.empty()) out += "\n";
    out += (section.heading == "CHANGE REQUEST" ? "# " : "## ") + section.heading + "\n\n";
    for (const auto& [label, value] : section.fields) {
      std::vector<std::string> lines = ValueLines(value);
      out += fmt::format("- **{}:** {}\n", EscapeForDisplay(label), lines.empty() ? "" : lines[0]);
      for (size_t i = 1; i < lines.size(); ++i) out += "  " + lines[i] + "\n";
    }
  }
  return out;
}

json CrToJson(const ChangeRequest& cr, const Patch* patch, const Config& config, Timestamp now,
              const TimeZone& zone) {
  json j = CollectionsJson(cr, config, now);
  j["id"] = cr.id;
  j["number"] = cr.number;
  j["patch_id"] = cr.patch_id;
  j["title"] = cr.title;
  j["classification"] = std::string(PriorityShort(cr.classification));
  j["classification_name"] = std::string(PriorityName(cr.classification));
  j["priority"] = std::string(PriorityShort(cr.classification));
  j["emergency"] = cr.emergency;
  j["type"] = std::string(ChangeTypeName(cr.type));
  j["state"] = std::string(CrStateName(cr.state));
  j["revision"] = cr.revision;
  j["description"] = cr.description;
  j["system"] = cr.system;
  j["affected_systems"] = cr.affected_systems;
  j["implementation_plan"] = cr.implementation_plan;
  j["rollback_plan"] = cr.rollback_plan;
  j["risk_assessment"] = cr.risk_assessment;
  j["test_plan"] = cr.test_plan;
  j["expected_downtime_seconds"] = cr.expected_downtime.count();
  j["expected_duration_seconds"] = cr.expected_duration.count();
  j["rollback_complexity"] = std::string(RollbackComplexityName(cr.rollback_complexity));
  j["requester"] = cr.requester;
  j["created_at"] = FormatRfc3339Utc(cr.created_at);
  j["submitted_at"] = cr.submitted_at ? json(FormatRfc3339Utc(*cr.submitted_at)) : json(nullptr);
  j["updated_at"] = FormatRfc3339Utc(cr.updated_at);
  j["cancel_reason"] = cr.cancel_reason;
  j["approval_type"] = cr.emergency ? "Emergency (Expedited)" : "Standard";
  j["emergency_justification"] = nullptr;
  if (const auto& just = cr.emergency_justification) {
    j["emergency_justification"] = {
        {"incident", just->incident},
        {"why_not_normal", just->why_not_normal},
        {"cvss_score", just->cvss_score ? json(*just->cvss_score) : json(nullptr)},
        {"cvss_source", just->cvss_source},
        {"criteria", just->criteria},
        {"recorded_by", just->recorded_by},
        {"recorded_at", FormatRfc3339Utc(just->recorded_at)}};
  }
  j["scheduled"] = json::object();
  for (const auto& [env, at] : cr.scheduled) j["scheduled"][env] = FormatRfc3339Utc(at);
  const CvssScore* cvss = patch ? patch->PreferredCvss() : nullptr;
  j["cvss"] = cvss ? json{{"version", cvss->version},
                          {"vector", cvss->vector},
                          {"base_score", cvss->base_score},
                          {"severity", cvss->severity}}
                   : json(nullptr);
  j["outcomes"] = json::object();
  j["environments"] = json::array();  // the promotion order (a JSON object's keys have none)
  for (const auto& e : config.environments) {
    j["outcomes"][e.name] = std::string(DeploymentOutcomeName(OutcomeIn(cr, e.name)));
    j["environments"].push_back(e.name);
  }
  json sections = json::array();
  for (const auto& section : BuildCrDocument(cr, patch, config, now, zone)) {
    json fields = json::array();
    for (const auto& [label, value] : section.fields)
      fields.push_back({{"label", label}, {"value", value}});
    sections.push_back({{"heading", section.heading}, {"fields", fields}});
  }
  j["document"] = sections;
  return j;
}

}  // namespace rollgate
