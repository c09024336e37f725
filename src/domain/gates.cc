#include "domain/gates.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/strings.h"
#include "domain/approvals.h"
#include "domain/business_calendar.h"
#include "domain/classification.h"
#include "domain/evidence_queries.h"
#include "domain/windows.h"

namespace rollgate {

namespace {

constexpr const char* kUat = "uat";

// Everything the individual gates need, computed once.
struct GateContext {
  const ChangeRequest& cr;
  const Config& config;
  const Environment& env;
  Timestamp now;
  const TimeZone& zone;
  bool emergency;
  bool production;
  const Environment* relied_on = nullptr;   // the previous environment actually deployed
  std::vector<const Environment*> skipped;  // skipped on the emergency path
  const Timestamp* start = nullptr;         // the scheduled start, if any
  const Patch* patch = nullptr;             // the CR's patch, when known
  const std::vector<ScheduledChange>* other_changes = nullptr;
};

Gate Pass(std::string name) { return Gate{std::move(name), true, ""}; }
Gate Fail(std::string name, std::string missing) {
  return Gate{std::move(name), false, std::move(missing)};
}
Gate Check(std::string name, bool passed, std::string missing) {
  return passed ? Pass(std::move(name)) : Fail(std::move(name), std::move(missing));
}

std::string Percent(double value) { return fmt::format("{:g} %", value); }

std::string Local(Timestamp t, const GateContext& c) { return FormatLocalMinutes(t, c.zone); }

std::string RolesText(const std::vector<std::string>& roles) {
  return roles.empty() ? "an approver" : fmt::format("a {}", Join(roles, " or "));
}

std::string NoSchedule(const GateContext& c) {
  return fmt::format("no start scheduled for {}", c.env.name);
}

Gate CrStateGate(const GateContext& c) {
  bool ok = c.cr.state == CrState::kSubmitted || c.cr.state == CrState::kInProgress;
  return Check("cr-state", ok,
               fmt::format("{} is {}: it must be submitted or in progress to deploy", c.cr.id,
                           CrStateName(c.cr.state)));
}

// "17m 10s": the units of FormatDuration, spaced for a sentence.
std::string SpacedDuration(Seconds d) {
  std::string text = FormatDuration(d);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    bool unit = text[i] == 'h' || text[i] == 'm' || text[i] == 's' || text[i] == 'd';
    if (unit && i + 1 < text.size()) out += ' ';
  }
  return out;
}

// §5.1: an emergency change whose patch meets a criterion, with the justification of step 1.
Gate EmergencyGate(const GateContext& c) {
  const char* name = "emergency-classification";
  std::string criteria = c.patch ? MissingEmergencyCriteria(*c.patch) : "";
  if (!c.cr.emergency || !criteria.empty()) {
    return Fail(
        name, !criteria.empty()
                  ? fmt::format("{}; the emergency path is not available for {}", criteria, c.cr.id)
                  : fmt::format("{} is not an emergency change (playbook §5.1): the "
                                "emergency path is not available",
                                c.cr.id));
  }
  return Check(name, c.cr.emergency_justification.has_value(),
               fmt::format("no emergency justification recorded (playbook §5.1 step 1): rollgate "
                           "cr justify {} --incident TEXT --why TEXT [--cvss-source TEXT]",
                           c.cr.id));
}

std::string NotCountedNotes(const ApprovalTally& t, const GateContext& c) {
  std::vector<std::string> notes;
  for (const Approval* a : t.voided) {
    notes.push_back(fmt::format("{} (approved revision {}, the CR is now revision {})", a->approver,
                                a->cr_revision, c.cr.revision));
  }
  for (const Approval* a : t.overdue) {
    notes.push_back(fmt::format("{} (verbal, written confirmation overdue since {})", a->approver,
                                Local(ConfirmationDue(*a, c.config), c)));
  }
  for (const Approval* a : t.not_emergency) {
    notes.push_back(fmt::format("{} (verbal, counts only on the emergency path)", a->approver));
  }
  for (const Approval* a : t.not_entitled) {
    notes.push_back(fmt::format("{} (may not approve {})", a->approver, c.env.name));
  }
  return notes.empty() ? "" : fmt::format("; not counted: {}", Join(notes, ", "));
}

Gate ApprovalGate(const GateContext& c) {
  ApprovalTally t = TallyApprovals(c.cr, c.config, c.env, c.now, c.emergency && c.cr.emergency);
  if (t.met()) return Pass("approval");
  std::vector<std::string> counted;
  for (const Approval* a : t.counted) counted.push_back(a->approver);
  std::string verbal;
  if (c.emergency && c.cr.emergency) {
    verbal = fmt::format(" (or, verbally, {})", RolesText(VerbalApproverRoles(c.config, c.env)));
  }
  return Fail("approval",
              fmt::format("{} needs {} more approval{} from {}{} (quorum {}, counted: {}){}",
                          c.env.name, t.missing(), t.missing() == 1 ? "" : "s",
                          RolesText(c.env.approval.approver_roles), verbal, t.quorum,
                          counted.empty() ? "none" : Join(counted, ", "), NotCountedNotes(t, c)));
}

// "24h" rather than "1d": the playbook speaks of a 24-hour lead time.
std::string LeadTimeText(const LeadTime& lead) {
  auto whole_hours = std::chrono::duration_cast<std::chrono::hours>(lead.duration);
  if (lead.kind == LeadTime::Kind::kHours && whole_hours == lead.duration) {
    return fmt::format("{}h", whole_hours.count());
  }
  return DescribeLeadTime(lead);
}

Gate LeadTimeGate(const GateContext& c) {
  if (!c.cr.submitted_at) {
    return Fail("lead-time", fmt::format("{} has not been submitted; lead time is measured from "
                                         "submission",
                                         c.cr.id));
  }
  if (!c.start) return Fail("lead-time", NoSchedule(c));
  // The emergency path never waits longer than the standard one (DEV stays "same day").
  const LeadTime& standard = c.env.approval.lead_time;
  const LeadTime& urgent = c.env.approval.emergency_lead_time;
  Timestamp earliest = EarliestStart(standard, *c.cr.submitted_at, c.config, c.zone);
  bool use_urgent = false;
  if (c.emergency) {
    Timestamp urgent_earliest = EarliestStart(urgent, *c.cr.submitted_at, c.config, c.zone);
    use_urgent = urgent_earliest < earliest;
    earliest = std::min(earliest, urgent_earliest);
  }
  return Check("lead-time", *c.start >= earliest,
               fmt::format("the {}lead time for {} is {} (submitted {}): earliest allowed start "
                           "{}, but scheduled {}",
                           use_urgent ? "emergency " : "", c.env.name,
                           LeadTimeText(use_urgent ? urgent : standard),
                           Local(*c.cr.submitted_at, c), Local(earliest, c), Local(*c.start, c)));
}

std::string SkippedNote(const GateContext& c) {
  std::vector<std::string> names;
  for (const Environment* e : c.skipped) names.push_back(e->name);
  return names.empty() ? "" : fmt::format(" ({} skipped on the emergency path)", Join(names, ", "));
}

Gate PreviousEnvironmentGate(const GateContext& c) {
  const std::string& prev = c.relied_on->name;
  switch (OutcomeIn(c.cr, prev)) {
    case DeploymentOutcome::kSucceeded:
      return Pass("previous-environment");
    case DeploymentOutcome::kNone:
      return Fail("previous-environment",
                  fmt::format("{} has no successful deployment recorded{}", prev, SkippedNote(c)));
    case DeploymentOutcome::kFailed:
      return Fail("previous-environment",
                  fmt::format("the last deployment to {} failed{}", prev, SkippedNote(c)));
    case DeploymentOutcome::kRolledBack:
      return Fail("previous-environment",
                  fmt::format("the deployment to {} was rolled back{}", prev, SkippedNote(c)));
  }
  return Fail("previous-environment", "unknown deployment outcome");
}

Gate ExitSignoffsGate(const GateContext& c) {
  std::vector<std::string> missing;
  for (const SignoffRequirement& req : c.relied_on->signoffs) {
    if (c.production && req.kind == kUat) continue;  // its own gate, or skipped in an emergency
    if (CurrentSignoffs(c.cr, c.relied_on->name, req.kind).empty()) {
      missing.push_back(fmt::format("{} (by {})", req.kind, RolesText(req.roles)));
    }
  }
  return Check("exit-signoffs", missing.empty(),
               fmt::format("{} exit sign-off{} missing: {}", c.relied_on->name,
                           missing.size() == 1 ? "" : "s", Join(missing, ", ")));
}

bool RiskAccepted(const GateContext& c) {
  if (NotFailed(LatestEvidenceOrCrWide(c.cr, kEvidenceRiskAcceptance, c.env.name))) return true;
  return std::any_of(c.skipped.begin(), c.skipped.end(), [&](const Environment* e) {
    return NotFailed(LatestEvidence(c.cr, kEvidenceRiskAcceptance, e->name));
  });
}

Gate RiskAcceptanceGate(const GateContext& c) {
  return Check("risk-acceptance", RiskAccepted(c),
               fmt::format("no risk acceptance recorded for the emergency path to {}{}; record "
                           "risk-acceptance evidence",
                           c.env.name, SkippedNote(c)));
}

Gate TestResultsApprovedGate(const GateContext& c) {
  const std::string& prev = c.relied_on->name;
  bool ok = NotFailed(LatestEvidence(c.cr, kEvidenceTestResultsApproved, prev)) ||
            !CurrentSignoffs(c.cr, prev, kRoleTestManager).empty();
  return Check("test-results-approved", ok,
               fmt::format("the test manager has not approved the {} results "
                           "(test-results-approved evidence or a test-manager sign-off for {})",
                           prev, prev));
}

Gate RegressionGate(const GateContext& c) {
  const std::string& prev = c.relied_on->name;
  double required = c.env.thresholds.regression_pass_rate_percent;
  const Evidence* e = LatestEvidence(c.cr, kEvidenceRegression, prev);
  if (!e) return Fail("regression", fmt::format("no regression results recorded for {}", prev));
  if (!e->value) {
    return Fail("regression",
                fmt::format("the regression results for {} carry no pass rate", prev));
  }
  return Check("regression", *e->value >= required,
               fmt::format("regression pass rate in {} is {}, at least {} required", prev,
                           Percent(*e->value), Percent(required)));
}

Gate SmokeGate(const GateContext& c) {
  const std::string& prev = c.relied_on->name;
  double required = c.env.thresholds.smoke_pass_rate_percent;
  const Evidence* e = LatestEvidence(c.cr, kEvidenceSmoke, prev);
  if (!e) return Fail("smoke", fmt::format("no smoke test results recorded for {}", prev));
  if (e->passed == false) return Fail("smoke", fmt::format("smoke tests in {} failed", prev));
  if (e->value && *e->value < required) {
    return Fail("smoke", fmt::format("smoke tests in {} passed {}, {} required", prev,
                                     Percent(*e->value), Percent(required)));
  }
  return Pass("smoke");
}

Gate UatSignoffGate(const GateContext& c) {
  const std::string& prev = c.relied_on->name;
  std::vector<std::string> roles = {kRoleBusinessAnalyst};
  for (const auto& req : c.relied_on->signoffs) {
    if (req.kind == kUat) roles = req.roles;
  }
  return Check("uat-signoff", !CurrentSignoffs(c.cr, prev, kUat).empty(),
               fmt::format("no UAT sign-off for {} (kind uat, by {})", prev, RolesText(roles)));
}

Gate RollbackPlanGate(const GateContext& c) {
  bool ok = !Trim(c.cr.rollback_plan).empty() || FindAttachment(c.cr, "rollback-procedure");
  return Check("rollback-plan", ok,
               "no rollback plan documented: fill in the rollback plan or attach a "
               "rollback-procedure document");
}

// The environments before production, where a rollback may be rehearsed.
std::vector<std::string> RehearsalEnvironments(const GateContext& c) {
  std::vector<std::string> names;
  for (const Environment* e = c.config.PreviousEnvironment(c.env.name); e;
       e = c.config.PreviousEnvironment(e->name)) {
    names.insert(names.begin(), e->name);
  }
  return names;
}

// The latest rollback-tested evidence recorded for one of `environments`.
const Evidence* LatestRehearsal(const ChangeRequest& cr,
                                const std::vector<std::string>& environments) {
  const Evidence* latest = nullptr;
  for (const Evidence& e : cr.evidence) {
    if (e.kind != kEvidenceRollbackTested) continue;
    if (std::find(environments.begin(), environments.end(), e.environment) == environments.end()) {
      continue;
    }
    if (!latest || e.at >= latest->at) latest = &e;
  }
  return latest;
}

// A measured duration: a finite, non-negative number of seconds (at most a year).
bool HasDuration(const Evidence& e) {
  return e.value && std::isfinite(*e.value) && *e.value >= 0 && *e.value <= 366.0 * 86400;
}

// The duration of `e` (HasDuration), rounded up to whole seconds: never shorter than measured.
Seconds EvidenceSeconds(const Evidence& e) {
  return Seconds(static_cast<int64_t>(std::ceil(*e.value)));
}

// §5.3 step 4 on the emergency path to production: the rollback rehearsed first, in an earlier
// environment, and measured within the production environment's max_rollback_duration.
Gate RollbackRehearsedGate(const GateContext& c) {
  const char* name = "rollback-tested";
  Seconds limit = c.env.thresholds.max_rollback_duration;
  std::vector<std::string> earlier = RehearsalEnvironments(c);
  std::string where = earlier.empty() ? "an earlier environment" : Join(earlier, " or ");
  const Evidence* e = LatestRehearsal(c.cr, earlier);
  if (!e) {
    return Fail(name, fmt::format("no rollback rehearsal recorded in {}: the emergency path to {} "
                                  "needs the rollback tested first (rollback --rehearse, or "
                                  "rollback-tested evidence with its duration in seconds)",
                                  where, c.env.name));
  }
  if (e->passed == false) {
    return Fail(name, fmt::format("the rollback rehearsal in {} failed: the emergency path to {} "
                                  "needs one that succeeded",
                                  e->environment, c.env.name));
  }
  if (!HasDuration(*e)) {
    return Fail(name, fmt::format("the rollback rehearsal in {} recorded no duration; the "
                                  "emergency path needs it measured at most {}",
                                  e->environment, SpacedDuration(limit)));
  }
  return Check(name, EvidenceSeconds(*e) <= limit,
               fmt::format("rollback rehearsal took {}; the emergency path needs at most {}",
                           SpacedDuration(EvidenceSeconds(*e)), SpacedDuration(limit)));
}

Gate RollbackTestedGate(const GateContext& c) {
  if (c.emergency && c.production) return RollbackRehearsedGate(c);
  const Evidence* e = LatestEvidenceAnywhere(c.cr, kEvidenceRollbackTested);
  if (!e) {
    return Fail("rollback-tested",
                "the rollback procedure has not been tested (record rollback-tested evidence)");
  }
  if (e->passed == false) {
    return Fail("rollback-tested", fmt::format("the rollback test in {} failed",
                                               e->environment.empty() ? "the CR" : e->environment));
  }
  Seconds limit = c.env.thresholds.max_rollback_duration;
  if (e->value && !HasDuration(*e)) {
    return Fail("rollback-tested",
                fmt::format("the rollback test in {} recorded {:g}, not a "
                            "duration in seconds",
                            e->environment.empty() ? "the CR" : e->environment, *e->value));
  }
  if (e->value && EvidenceSeconds(*e) > limit) {
    return Fail("rollback-tested",
                fmt::format("the tested rollback took {}, more than the {} "
                            "allowed",
                            SpacedDuration(EvidenceSeconds(*e)), SpacedDuration(limit)));
  }
  return Pass("rollback-tested");
}

Gate MaintenanceWindowGate(const GateContext& c) {
  if (NotFailed(LatestEvidence(c.cr, kEvidenceWindowConfirmed, c.env.name))) {
    return Pass("maintenance-window");
  }
  if (!c.start) {
    return Fail("maintenance-window",
                fmt::format("{} and no maintenance window confirmed", NoSchedule(c)));
  }
  if (InMaintenanceWindow(c.config, c.env.name, *c.start, c.zone))
    return Pass("maintenance-window");
  auto next = NextWindowOpening(c.config, c.env.name, *c.start, c.zone);
  std::string hint = next ? fmt::format("next window opens {}", Local(*next, c))
                          : fmt::format("no window configured for {}", c.env.name);
  return Fail("maintenance-window",
              fmt::format("the scheduled start {} is outside every maintenance window for {} ({}); "
                          "or record maintenance-window-confirmed evidence",
                          Local(*c.start, c), c.env.name, hint));
}

Gate FreezeGate(const GateContext& c) {
  if (!c.start) return Fail("freeze", NoSchedule(c));
  Timestamp end = *c.start + c.cr.expected_duration;
  std::vector<std::string> names;
  for (const Freeze* f : FreezesOverlapping(c.config, c.env.name, *c.start, end, c.zone)) {
    names.push_back(DescribeFreeze(*f, c.zone));
  }
  if (!names.empty() && LatestEvidence(c.cr, kEvidenceFreezeOverride, c.env.name) != nullptr) {
    return Pass("freeze");
  }
  return Check("freeze", names.empty(),
               fmt::format("the deployment scheduled at {} falls in the freeze {} (a {} may "
                           "override it: deploy --override-freeze --reason T)",
                           Local(*c.start, c), Join(names, ", "),
                           Join(c.config.freeze_override_roles, " or ")));
}

Gate OverlapGate(const GateContext& c, const std::vector<ScheduledChange>& others) {
  const char* name = "no-overlapping-changes";
  if (!c.start) return Pass(name);
  ScheduledChange mine;
  for (ScheduledChange& change : ScheduledChangesOf(c.cr, c.config)) {
    if (change.environment == c.env.name) mine = std::move(change);
  }
  std::vector<std::string> clashes;
  for (const CalendarConflict& conflict : ConflictsOf(mine, others, c.config, c.zone)) {
    if (conflict.kind == "overlap") clashes.push_back(conflict.detail);
  }
  return Check(name, clashes.empty(),
               fmt::format("overlapping changes on the calendar: {}; reschedule one of them "
                           "(cr schedule)",
                           Join(clashes, "; ")));
}

// The environment a deployment builds on: the previous one, or on the emergency path the first
// earlier one that was not skipped.
void FindReliedOn(GateContext& c) {
  const Environment* prev = c.config.PreviousEnvironment(c.env.name);
  while (c.emergency && prev && prev->allow_emergency_skip &&
         OutcomeIn(c.cr, prev->name) != DeploymentOutcome::kSucceeded &&
         c.config.PreviousEnvironment(prev->name)) {
    c.skipped.push_back(prev);
    prev = c.config.PreviousEnvironment(prev->name);
  }
  c.relied_on = prev;
}

std::vector<Gate> EvaluateGates(GateContext& c) {
  std::vector<Gate> gates = {CrStateGate(c)};
  if (c.emergency) gates.push_back(EmergencyGate(c));
  gates.push_back(ApprovalGate(c));
  gates.push_back(LeadTimeGate(c));
  if (c.relied_on) {
    gates.push_back(PreviousEnvironmentGate(c));
    gates.push_back(ExitSignoffsGate(c));
  }
  if (c.emergency && (c.production || !c.skipped.empty())) gates.push_back(RiskAcceptanceGate(c));
  if (c.production && c.relied_on) {
    if (!c.emergency) {
      gates.push_back(TestResultsApprovedGate(c));
      gates.push_back(RegressionGate(c));
      gates.push_back(UatSignoffGate(c));
    }
    gates.push_back(SmokeGate(c));
  }
  gates.push_back(RollbackPlanGate(c));
  if (c.env.requires_rollback_tested || (c.emergency && c.production)) {
    gates.push_back(RollbackTestedGate(c));
  }
  if (c.env.requires_maintenance_window) gates.push_back(MaintenanceWindowGate(c));
  gates.push_back(FreezeGate(c));
  if (c.other_changes) gates.push_back(OverlapGate(c, *c.other_changes));
  return gates;
}

}  // namespace

const Gate* GateReport::Find(std::string_view name) const {
  auto it = std::find_if(gates.begin(), gates.end(), [&](const Gate& g) { return g.name == name; });
  return it == gates.end() ? nullptr : &*it;
}

std::vector<std::string> GateReport::Missing() const {
  std::vector<std::string> missing;
  for (const auto& g : gates) {
    if (!g.passed) missing.push_back(g.missing);
  }
  return missing;
}

GateReport CheckGates(const ChangeRequest& cr, const Config& config, std::string_view environment,
                      Timestamp now, const TimeZone& zone, bool emergency, const Patch* patch,
                      const std::vector<ScheduledChange>* other_changes) {
  GateReport report;
  report.cr_id = cr.id;
  report.environment = std::string(environment);
  report.emergency = emergency;
  const Environment* env = config.FindEnvironment(environment);
  if (!env) {
    report.gates.push_back(Fail("environment", fmt::format("no environment named '{}' in the "
                                                           "configuration",
                                                           EscapeForDisplay(environment))));
    return report;
  }
  GateContext c{cr, config, *env, now, zone, emergency, IsProductionEnvironment(config, *env)};
  c.patch = patch;
  c.other_changes = other_changes;
  auto scheduled = cr.scheduled.find(env->name);
  if (scheduled != cr.scheduled.end()) c.start = &scheduled->second;
  FindReliedOn(c);
  report.gates = EvaluateGates(c);
  report.passed =
      std::all_of(report.gates.begin(), report.gates.end(), [](const Gate& g) { return g.passed; });
  return report;
}

nlohmann::json GateReportToJson(const GateReport& report) {
  nlohmann::json gates = nlohmann::json::array();
  for (const auto& g : report.gates) {
    gates.push_back({{"name", g.name}, {"passed", g.passed}, {"missing", g.missing}});
  }
  return {{"cr", report.cr_id},
          {"environment", report.environment},
          {"emergency", report.emergency},
          {"passed", report.passed},
          {"gates", gates}};
}

Result<CrTransition> RecordFreezeOverride(const ChangeRequest& cr, const Config& config,
                                          std::string_view environment, const std::string& actor,
                                          const std::string& reason, Timestamp now,
                                          const TimeZone& zone) {
  if (reason.empty()) {
    return InvalidArgument("overriding a freeze needs a reason (--reason T)");
  }
  const Environment* env = config.FindEnvironment(environment);
  if (env == nullptr) {
    return InvalidArgument(fmt::format("no environment named '{}' in the configuration",
                                       EscapeForDisplay(environment)));
  }
  std::string role;
  for (const std::string& r : config.freeze_override_roles) {
    if (role.empty() && config.PersonHasRole(actor, r)) role = r;
  }
  if (role.empty()) {
    return PermissionDenied(fmt::format("{} may not override a freeze: it takes a {}",
                                        EscapeForDisplay(actor),
                                        Join(config.freeze_override_roles, " or ")));
  }
  std::vector<std::string> freezes;
  auto start = cr.scheduled.find(env->name);
  if (start != cr.scheduled.end()) {
    for (const Freeze* f : FreezesOverlapping(config, env->name, start->second,
                                              start->second + cr.expected_duration, zone)) {
      freezes.push_back(f->name);
    }
  }
  Evidence e;
  e.environment = env->name;
  e.kind = kEvidenceFreezeOverride;
  e.passed = true;
  e.recorded_by = actor;
  e.at = now;
  e.fields = {{"reason", reason}, {"role", role}, {"freezes", Join(freezes, ",")}};
  e.detail =
      fmt::format("{} ({}) overrode the freeze{} for {} in {}: {}", actor, role,
                  freezes.empty() ? "" : " " + Join(freezes, ", "), cr.id, env->name, reason);
  RETURN_IF_ERROR(CheckActionAllowed(cr, "evidence"));
  ChangeRequest next = cr;
  next.evidence.push_back(e);
  next.updated_at = now;
  nlohmann::json details = {{"environment", env->name},
                            {"kind", kEvidenceFreezeOverride},
                            {"by", actor},
                            {"role", role},
                            {"reason", reason},
                            {"freezes", freezes},
                            {"detail", e.detail},
                            {"state", std::string(CrStateName(next.state))},
                            {"revision", next.revision}};
  return CrTransition{std::move(next), "cr.freeze-override", details.dump()};
}

}  // namespace rollgate
