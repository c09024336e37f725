#include "domain/checklists.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "domain/approvals.h"
#include "domain/business_calendar.h"
#include "domain/evidence_queries.h"
#include "domain/windows.h"

namespace rollgate {

namespace {

struct Outcome {
  bool done = false;
  std::string evidence;
};

struct Context {
  const ChangeRequest& cr;
  const Config& config;
  const Environment& env;
  Timestamp now;
  const TimeZone& zone;
  bool production;
};

Outcome Yes(std::string evidence) { return {true, std::move(evidence)}; }
Outcome No(std::string evidence) { return {false, std::move(evidence)}; }

std::string Describe(const Evidence& e, const Context& c) {
  std::string text =
      fmt::format("{} {}{} by {} at {}", e.environment.empty() ? "CR" : e.environment, e.kind,
                  e.passed ? (*e.passed ? " passed" : " failed") : "", e.recorded_by,
                  FormatLocalMinutes(e.at, c.zone));
  if (e.value) text += fmt::format(", value {:g}", *e.value);
  if (!e.detail.empty()) text += fmt::format(" ({})", e.detail);
  return text;
}

// Done when the latest `kind` evidence for the environment (or CR-wide) exists and did not fail.
Outcome FromEvidence(const Context& c, std::string_view kind) {
  const Evidence* e = LatestEvidenceOrCrWide(c.cr, kind, c.env.name);
  if (!e) return No(fmt::format("missing: no {} evidence for {}", kind, c.env.name));
  return {NotFailed(e), Describe(*e, c)};
}

// Done when a notification for `audience` was recorded for the environment.
Outcome Notified(const Context& c, std::string_view audience) {
  const Evidence* found = nullptr;
  for (const auto& e : c.cr.evidence) {
    if (e.kind != kEvidenceNotification || e.environment != c.env.name) continue;
    auto it = e.fields.find(kFieldAudience);
    std::string_view recorded =
        it == e.fields.end() ? "stakeholders" : std::string_view(it->second);
    if (recorded == audience && (!found || e.at >= found->at)) found = &e;
  }
  if (!found) {
    return No(fmt::format("missing: no notification to {} recorded for {}", audience, c.env.name));
  }
  return {NotFailed(found), Describe(*found, c)};
}

Outcome NotRequired(const Context& c, std::string_view why) {
  return Yes(fmt::format("not required for {}: {}", c.env.name, why));
}

Outcome Approved(const Context& c) {
  ApprovalTally t = TallyApprovals(c.cr, c.config, c.env, c.now, c.cr.emergency);
  std::vector<std::string> who;
  for (const Approval* a : t.counted) {
    who.push_back(fmt::format("{} ({}{}) {}", a->approver, a->role, a->verbal ? ", verbal" : "",
                              FormatLocalMinutes(a->at, c.zone)));
  }
  if (t.met()) return Yes("approved by " + Join(who, ", "));
  std::string text =
      fmt::format("missing: {} more approval{} from {}", t.missing(), t.missing() == 1 ? "" : "s",
                  Join(c.env.approval.approver_roles, " or "));
  for (const Approval* a : t.overdue) {
    text += fmt::format("; verbal approval by {} overdue for written confirmation", a->approver);
  }
  return No(text);
}

Outcome RollbackPlanDocumentedAndTested(const Context& c) {
  bool documented = !Trim(c.cr.rollback_plan).empty() || FindAttachment(c.cr, "rollback-procedure");
  const Evidence* tested = LatestEvidenceAnywhere(c.cr, kEvidenceRollbackTested);
  if (!documented) return No("missing: no rollback plan or rollback-procedure attachment");
  if (!tested) return No("rollback plan documented; missing: no rollback-tested evidence");
  return {NotFailed(tested), "rollback plan documented; " + Describe(*tested, c)};
}

Outcome WindowConfirmed(const Context& c) {
  if (NotFailed(LatestEvidence(c.cr, kEvidenceWindowConfirmed, c.env.name))) {
    return Yes(Describe(*LatestEvidence(c.cr, kEvidenceWindowConfirmed, c.env.name), c));
  }
  auto start = c.cr.scheduled.find(c.env.name);
  if (start != c.cr.scheduled.end()) {
    auto windows = WindowsContaining(c.config, c.env.name, start->second, c.zone);
    if (!windows.empty()) {
      return Yes(fmt::format("scheduled {} inside {}", FormatLocalMinutes(start->second, c.zone),
                             DescribeWindow(*windows.front(), c.zone)));
    }
  }
  if (!c.env.requires_maintenance_window) return NotRequired(c, "no maintenance window required");
  return No(
      fmt::format("missing: no scheduled start inside a {} window and no "
                  "maintenance-window-confirmed evidence",
                  c.env.name));
}

Outcome SmokePassed(const Context& c) {
  const Evidence* e = LatestEvidence(c.cr, kEvidenceSmoke, c.env.name);
  if (!e) return No(fmt::format("missing: no smoke test results for {}", c.env.name));
  bool rate_ok = !e->value || *e->value >= c.env.thresholds.smoke_pass_rate_percent;
  return {NotFailed(e) && rate_ok, Describe(*e, c)};
}

Outcome EnhancedMonitoring(const Context& c, bool need_full_duration) {
  auto enhanced = EvidenceWithField(c.cr, kEvidenceMonitoring, c.env.name, kFieldEnhanced, "true");
  if (enhanced.empty()) {
    return No(fmt::format("missing: no enhanced monitoring evidence for {}", c.env.name));
  }
  const Evidence* e = enhanced.back();
  double needed =
      std::chrono::duration<double, std::ratio<3600>>(c.env.thresholds.enhanced_monitoring).count();
  if (need_full_duration && (!e->value || *e->value < needed)) {
    return No(fmt::format("{}; missing: enhanced monitoring planned for at least {:g} hours",
                          Describe(*e, c), needed));
  }
  return Yes(Describe(*e, c));
}

Outcome DeploymentDocumented(const Context& c) {
  const Evidence* e = LatestEvidence(c.cr, kEvidenceDeployment, c.env.name);
  if (!e) return No(fmt::format("missing: no deployment result recorded for {}", c.env.name));
  return Yes(Describe(*e, c));
}

Outcome TestResultsArchived(const Context& c) {
  std::vector<std::string> found;
  for (const char* kind : {kEvidenceSmoke, kEvidenceRegression}) {
    if (const Evidence* e = LatestEvidence(c.cr, kind, c.env.name))
      found.push_back(Describe(*e, c));
  }
  if (found.empty()) return No(fmt::format("missing: no test results recorded for {}", c.env.name));
  return Yes(Join(found, "; "));
}

Outcome SignoffsObtained(const Context& c) {
  if (c.env.signoffs.empty()) return NotRequired(c, "no sign-offs configured");
  std::vector<std::string> have, missing;
  for (const auto& req : c.env.signoffs) {
    auto given = CurrentSignoffs(c.cr, c.env.name, req.kind);
    if (given.empty()) {
      missing.push_back(req.kind);
    } else {
      have.push_back(fmt::format("{} by {}", req.kind, given.front()->person));
    }
  }
  if (missing.empty()) return Yes(Join(have, ", "));
  return No(fmt::format("missing: {}", Join(missing, ", ")));
}

Outcome RollbackField(const Context& c, std::string_view key) {
  const Evidence* e = LatestEvidence(c.cr, kEvidenceRollback, c.env.name);
  auto it = e->fields.find(std::string(key));
  if (it == e->fields.end() || it->second.empty() || it->second == "false") {
    return No(fmt::format("missing: the rollback record has no {}", key));
  }
  return Yes(fmt::format("{}: {}", key, it->second));
}

// Evidence of `kind` recorded after the rollback.
Outcome AfterRollback(const Context& c, std::string_view kind) {
  const Evidence* rollback = LatestEvidence(c.cr, kEvidenceRollback, c.env.name);
  const Evidence* e = LatestEvidence(c.cr, kind, c.env.name);
  if (!e || e->at < rollback->at) {
    return No(fmt::format("missing: no {} evidence after the rollback", kind));
  }
  return {NotFailed(e), Describe(*e, c)};
}

Outcome PirScheduled(const Context& c) {
  const Evidence* pir = LatestEvidenceOrCrWide(c.cr, kEvidencePirScheduled, c.env.name);
  if (!pir) return No("missing: no pir-scheduled evidence");
  const Evidence* deployed = LatestEvidence(c.cr, kEvidenceDeployment, c.env.name);
  auto date = pir->fields.find("date");
  if (!deployed || date == pir->fields.end()) return Yes(Describe(*pir, c));
  auto parsed = ParseDate(date->second);
  Timestamp due = DueAfterBusinessDays(deployed->at, 5, c.config, c.zone);
  if (!parsed.ok()) return No(fmt::format("the PIR date '{}' is not a date", date->second));
  bool in_time = c.zone.FromLocal(LocalDateTime{*parsed, Seconds(0)}) < due;
  return {in_time,
          fmt::format("PIR on {} (due before {})", date->second, FormatLocalMinutes(due, c.zone))};
}

Outcome VerbalApprovalObtained(const Context& c) {
  std::vector<std::string> overdue, fine;
  for (const auto& a : c.cr.approvals) {
    if (!a.verbal || a.environment != c.env.name) continue;
    std::string who = fmt::format("{} at {}", a.approver, FormatLocalMinutes(a.at, c.zone));
    if (IsConfirmationOverdue(a, c.config, c.now)) {
      overdue.push_back(fmt::format("{}: written confirmation overdue since {}", who,
                                    FormatLocalMinutes(ConfirmationDue(a, c.config), c.zone)));
    } else {
      fine.push_back(fmt::format("{}{}", who, a.confirmed_at ? " (confirmed in writing)" : ""));
    }
  }
  if (!overdue.empty()) return No(Join(overdue, "; "));
  if (fine.empty())
    return No(fmt::format("missing: no verbal approval recorded for {}", c.env.name));
  return Yes(Join(fine, "; "));
}

Outcome DocumentationComplete(const Context& c) {
  std::vector<std::string> missing;
  if (Trim(c.cr.description).empty()) missing.push_back("description");
  if (Trim(c.cr.risk_assessment).empty()) missing.push_back("risk assessment");
  if (Trim(c.cr.rollback_plan).empty() && !FindAttachment(c.cr, "rollback-procedure")) {
    missing.push_back("rollback plan");
  }
  if (!LatestEvidence(c.cr, kEvidenceDeployment, c.env.name))
    missing.push_back("deployment result");
  if (missing.empty())
    return Yes("description, risk assessment, rollback plan and deployment result recorded");
  return No("missing: " + Join(missing, ", "));
}

std::string EnvironmentItem(const Environment& env) {
  if (env.name == "DEV") return "DEV: Development Lead approval obtained";
  if (env.name == "TEST") return "TEST: Test Manager approval obtained";
  if (env.name == "PROD") return "PROD: CAB approval obtained";
  return fmt::format("{}: approval obtained", env.name);
}

using Items = std::vector<ChecklistItem>;

void Add(Items& items, std::string section, std::string item, Outcome outcome) {
  items.push_back({std::move(section), std::move(item), outcome.done, std::move(outcome.evidence)});
}

void PreDeployment(Items& items, const Context& c) {
  const std::string general = "8.1 Pre-Deployment / General";
  const std::string notification = "8.1 Pre-Deployment / Notification";
  Add(items, general, "Change request created and approved", Approved(c));
  Add(items, general, "Patch package downloaded and verified (MD5/SHA256)",
      FromEvidence(c, kEvidencePackageVerified));
  Add(items, general, "Rollback plan documented and tested", RollbackPlanDocumentedAndTested(c));
  Add(items, general, "Backup completed and verified", FromEvidence(c, kEvidenceBackup));
  Add(items, general, "Environment readiness checks passed", FromEvidence(c, kEvidenceReadiness));
  Add(items, general, "Prerequisites met (dependencies, access)",
      FromEvidence(c, kEvidencePrerequisites));
  Add(items, general, "Maintenance window confirmed", WindowConfirmed(c));
  Add(items, notification, "Stakeholders notified per schedule", Notified(c, "stakeholders"));
  Add(items, notification, "On-call resources notified (PROD)",
      c.production ? Notified(c, "on-call") : NotRequired(c, "PROD only"));
  Add(items, notification, "Communication channels established",
      c.config.channels.empty()
          ? No("missing: no notification channel configured")
          : Yes(fmt::format("{} channel(s) configured", c.config.channels.size())));
  Add(items, "8.1 Pre-Deployment / Environment-Specific", EnvironmentItem(c.env), Approved(c));
}

void PostDeployment(Items& items, const Context& c) {
  const std::string validation = "8.2 Post-Deployment / Validation";
  const std::string monitoring = "8.2 Post-Deployment / Monitoring";
  const std::string documentation = "8.2 Post-Deployment / Documentation";
  const std::string communication = "8.2 Post-Deployment / Communication";
  Add(items, validation, "Smoke tests executed (100% pass required)", SmokePassed(c));
  Add(items, validation, "Health endpoints responding", FromEvidence(c, kEvidenceHealth));
  Add(items, validation, "Application logs reviewed (no errors)", FromEvidence(c, kEvidenceLogs));
  Add(items, validation, "Business critical functions verified",
      FromEvidence(c, kEvidenceBusinessFunctions));
  Add(items, monitoring, "Monitoring alerts verified operational",
      FromEvidence(c, kEvidenceMonitoring));
  Add(items, monitoring, "Metrics collection confirmed", FromEvidence(c, kEvidenceMetrics));
  Add(items, monitoring, "Enhanced monitoring enabled (PROD - 72 hours)",
      c.production ? EnhancedMonitoring(c, true) : NotRequired(c, "PROD only"));
  Add(items, documentation, "Deployment results documented in CR", DeploymentDocumented(c));
  Add(items, documentation, "Test results archived", TestResultsArchived(c));
  Add(items, documentation, "Sign-offs obtained", SignoffsObtained(c));
  Add(items, communication, "Deployment completion notification sent", Notified(c, "completion"));
  Add(items, communication, "Stakeholders notified", Notified(c, "stakeholders"));
  Add(items, communication, "Next steps communicated", Notified(c, "next-steps"));
}

void Rollback(Items& items, const Context& c) {
  const Evidence* rollback = LatestEvidence(c.cr, kEvidenceRollback, c.env.name);
  if (!rollback) return;
  const std::string decision = "8.3 Rollback / Decision";
  const std::string execution = "8.3 Rollback / Execution";
  const std::string communication = "8.3 Rollback / Communication";
  const std::string post = "8.3 Rollback / Post-Rollback";
  Add(items, decision, "Rollback trigger identified", RollbackField(c, "trigger"));
  Add(items, decision, "Authorization obtained (if required)", RollbackField(c, "authorized_by"));
  Add(items, decision, "Impact assessed", RollbackField(c, "impact"));
  Add(items, execution, "Services stopped", RollbackField(c, "services-stopped"));
  Add(items, execution, "Application files restored", RollbackField(c, "files-restored"));
  Add(items, execution, "Database restored", RollbackField(c, "database-restored"));
  Add(items, execution, "Services restarted", RollbackField(c, "services-restarted"));
  Add(items, execution, "Rollback verified",
      Passed(rollback) ? Yes(Describe(*rollback, c)) : No("missing: the rollback is not verified"));
  Add(items, communication, "Rollback initiation notification sent", Notified(c, "rollback-start"));
  Add(items, communication, "Progress updates sent", Notified(c, "rollback-progress"));
  Add(items, communication, "Completion notification sent", Notified(c, "rollback-complete"));
  Add(items, post, "Smoke tests passed", AfterRollback(c, kEvidenceSmoke));
  Add(items, post, "Data integrity verified", AfterRollback(c, kEvidenceDataIntegrity));
  Add(items, post, "Monitoring operational", AfterRollback(c, kEvidenceMonitoring));
  Add(items, post, "Root cause investigation initiated",
      RollbackField(c, "root-cause-investigation"));
  Add(items, post, "Post-incident review scheduled", PirScheduled(c));
}

void Emergency(Items& items, const Context& c) {
  if (!c.cr.emergency) return;
  const std::string detection = "8.4 Emergency Response / Incident Detection";
  const std::string activation = "8.4 Emergency Response / Activation";
  const std::string execution = "8.4 Emergency Response / Execution";
  const std::string follow_up = "8.4 Emergency Response / Follow-Up";
  Add(items, detection, "Issue identified and severity assessed",
      Trim(c.cr.risk_assessment).empty()
          ? No("missing: no risk assessment")
          : Yes(fmt::format("{}; risk assessment recorded", PriorityName(c.cr.classification))));
  Add(items, detection, "Emergency classification confirmed",
      Yes(fmt::format("{} is an emergency change ({})", c.cr.id,
                      PriorityName(c.cr.classification))));
  bool any_verbal = std::any_of(c.cr.approvals.begin(), c.cr.approvals.end(),
                                [&](const Approval& a) { return a.verbal; });
  Outcome contacted = Notified(c, "emergency-approvers");
  if (!contacted.done && any_verbal) contacted = Yes("verbal approval recorded");
  Add(items, activation, "Emergency approvers contacted", contacted);
  Add(items, activation, "Verbal approval obtained", VerbalApprovalObtained(c));
  Add(items, activation, "Emergency CR created/updated",
      Yes(fmt::format("{} revision {}", c.cr.id, c.cr.revision)));
  Outcome deployed = DeploymentDocumented(c);
  deployed.done = OutcomeIn(c.cr, c.env.name) == DeploymentOutcome::kSucceeded;
  Add(items, execution, "Deployment executed (compressed path)", deployed);
  Add(items, execution, "Enhanced monitoring enabled", EnhancedMonitoring(c, false));
  Add(items, execution, "72-hour monitoring active", EnhancedMonitoring(c, true));
  Add(items, follow_up, "Stakeholders notified", Notified(c, "stakeholders"));
  Add(items, follow_up, "Post-incident review scheduled (within 5 days)", PirScheduled(c));
  Add(items, follow_up, "Documentation complete", DocumentationComplete(c));
}

}  // namespace

std::vector<ChecklistItem> ComputeChecklist(const ChangeRequest& cr, const Config& config,
                                            std::string_view environment, Timestamp now,
                                            const TimeZone& zone) {
  const Environment* env = config.FindEnvironment(environment);
  if (!env) return {};
  Context c{cr, config, *env, now, zone, IsProductionEnvironment(config, *env)};
  Items items;
  PreDeployment(items, c);
  PostDeployment(items, c);
  Rollback(items, c);
  Emergency(items, c);
  return items;
}

nlohmann::json ChecklistToJson(const ChangeRequest& cr, std::string_view environment,
                               const std::vector<ChecklistItem>& items) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : items) {
    list.push_back(
        {{"section", i.section}, {"item", i.item}, {"done", i.done}, {"evidence", i.evidence}});
  }
  return {{"cr", cr.id}, {"environment", std::string(environment)}, {"items", list}};
}

}  // namespace rollgate
