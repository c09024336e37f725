#include "service/rollback_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "common/strings.h"
#include "domain/oncall.h"
#include "domain/rollback_messages.h"
#include "engine/steps/script_step.h"
#include "service/alertmanager_query.h"
#include "service/cr_service.h"
#include "service/deploy_service.h"
#include "service/page_service.h"

namespace rollgate {

namespace {

std::optional<double> Number(const std::map<std::string, std::string>& facts,
                             const std::string& key) {
  auto it = facts.find(key);
  if (it == facts.end() || it->second.empty()) return std::nullopt;
  double value = 0;
  const std::string& text = it->second;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Steps of the rollout that change a node; a failure there leaves it half-way.
bool ChangesTheNode(const std::string& step) {
  static const std::set<std::string> kChanging = {"install", "configure", "migrate", "start",
                                                  "maintenance-off"};
  return kChanging.contains(step);
}

// "health on host3 (0 < 1); availability ..." for messages and reasons.
std::string Describe(const std::vector<TriggerFiring>& firings) {
  std::vector<std::string> lines;
  for (const TriggerFiring& f : firings) lines.push_back(f.detail);
  return Join(lines, "; ");
}

std::string KindList(const std::vector<TriggerFiring>& firings) {
  std::vector<std::string> kinds;
  for (const TriggerFiring& f : firings) {
    std::string name(TriggerKindName(f.kind));
    if (std::find(kinds.begin(), kinds.end(), name) == kinds.end()) kinds.push_back(name);
  }
  return Join(kinds, ", ");
}

// The pending evaluate triggers of `environment` on `cr`: trigger evidence with action
// evaluate whose run has no decision recorded yet, grouped by run (oldest run first).
struct Pending {
  std::string run;
  std::vector<TriggerFiring> firings;
  Timestamp deadline{};
  DecisionDefault on_deadline = DecisionDefault::kRollback;
};

// An evaluate trigger's deadline: the one recorded with it, else its time plus the policy's
// decision deadline (triggers recorded by the watch or `patch import`).
std::vector<Pending> PendingDecisions(const ChangeRequest& cr, const std::string& environment,
                                      const TimeZone& zone, const Config& config) {
  const Environment* env = config.FindEnvironment(environment);
  const System* system = config.FindSystem(cr.system);
  std::vector<TriggerPolicy> policies;
  if (env != nullptr && system != nullptr) policies = TriggerPoliciesFor(config, *system, *env);
  std::set<std::string> decided;
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceTriggerDecision && e.environment == environment)
      decided.insert(e.run_id);
    // A rollback settles every trigger of the deployment it undid.
    if (e.kind == kEvidenceRollback && e.environment == environment) {
      auto it = e.fields.find("deployment_run");
      if (it != e.fields.end()) decided.insert(it->second);
    }
  }
  std::map<std::string, Pending> by_run;
  std::vector<std::string> order;
  for (const Evidence& e : cr.evidence) {
    if (e.kind != kEvidenceTrigger || e.environment != environment) continue;
    if (decided.contains(e.run_id)) continue;
    Result<TriggerFiring> firing = TriggerFromEvidence(e);
    if (!firing.ok() || firing->action != TriggerAction::kEvaluate) continue;
    const TriggerPolicy* policy = FindPolicy(policies, firing->kind);
    auto deadline = e.fields.find("deadline");
    Result<Timestamp> at =
        deadline != e.fields.end()
            ? ParseTime(deadline->second, zone)
            : Result<Timestamp>(e.at + (policy != nullptr ? policy->decision_deadline
                                                          : Seconds(std::chrono::minutes(30))));
    if (!at.ok()) continue;
    auto [it, inserted] = by_run.try_emplace(e.run_id);
    Pending& p = it->second;
    if (inserted) {
      order.push_back(e.run_id);
      p.run = e.run_id;
      p.deadline = *at;
    }
    p.deadline = std::min(p.deadline, *at);
    auto on_deadline = e.fields.find("on_deadline");
    DecisionDefault this_default =
        policy != nullptr ? policy->on_deadline : DecisionDefault::kRollback;
    if (on_deadline != e.fields.end()) {
      Result<DecisionDefault> d = ParseDecisionDefault(on_deadline->second);
      if (d.ok()) this_default = *d;
    }
    // The stricter default wins: one trigger defaulting to rollback makes the group roll back.
    if (inserted || this_default == DecisionDefault::kRollback) p.on_deadline = this_default;
    p.firings.push_back(*firing);
  }
  std::vector<Pending> out;
  for (const std::string& run : order) out.push_back(by_run[run]);
  return out;
}

// Who opens automatic pages (docs/oncall.md).
constexpr const char* kPageActor = "system";

// Opens a page for a decision the runner waits on, so it escalates along its path until someone
// acknowledges it (or decides). Nothing when the configuration has no such path.
Status OpenAutomaticPage(const Config& config, Store& store, const Clock& clock,
                         const TimeZone& zone, const std::filesystem::path& packages_dir,
                         const ChangeRequest& cr, const std::string& environment,
                         const std::vector<TriggerFiring>& firings, const Message& message) {
  bool security = std::any_of(firings.begin(), firings.end(), [](const TriggerFiring& f) {
    return f.kind == TriggerKind::kSecurity;
  });
  std::string path = AutomaticPagePath(config, cr, environment, security);
  if (FindEscalationPath(config, path) == nullptr) return Status::Ok();
  PageService pages(config, store, clock, zone, packages_dir);
  return pages.Open({path, message.subject, message.body, cr.id, environment}, kPageActor).status();
}

}  // namespace

RollbackProgress::RollbackProgress(
    ProgressSink* next, const Clock& clock, Seconds every,
    std::function<void(const std::string& step, const std::string& issues)> send)
    : next_(next), clock_(clock), every_(every), send_(std::move(send)), last_(clock.Now()) {}

void RollbackProgress::OnEvent(const ProgressEvent& event) {
  if (next_ != nullptr) next_->OnEvent(event);
  if (!event.step.empty()) step_ = event.step;
  if (event.kind == ProgressEvent::Kind::kStepFinished && event.state != StepState::kSucceeded &&
      event.state != StepState::kSkipped) {
    issues_.push_back(
        fmt::format("{} on {}: {}", event.step, event.host, StepStateName(event.state)));
  }
  if (event.kind == ProgressEvent::Kind::kRunFinished) return;
  Timestamp now = clock_.Now();
  if (now - last_ >= every_) {
    last_ = now;
    send_(step_, Join(issues_, "; "));
  }
}

std::vector<TriggerFiring> TriggersFromRun(const Plan& plan, const Run& run,
                                           const std::vector<StepExecution>& steps,
                                           const std::vector<TriggerPolicy>& policies,
                                           const Thresholds& thresholds) {
  std::vector<TriggerFiring> out;
  // The latest attempt of each (phase, step, host).
  std::map<std::tuple<int, int, std::string>, const StepExecution*> latest;
  for (const StepExecution& e : steps) {
    auto& slot = latest[{e.phase, e.step, e.host}];
    if (slot == nullptr || e.attempt >= slot->attempt) slot = &e;
  }
  // Hosts whose application the rollout touched (their app backup exists).
  std::set<std::string> changed;
  for (const auto& [key, e] : latest) {
    const auto& [phase, step, host] = key;
    if (phase < 0 || phase >= static_cast<int>(plan.phases.size())) continue;
    const Phase& p = plan.phases[phase];
    if (step < 0 || step >= static_cast<int>(p.steps.size())) continue;
    if (p.steps[step].name == "backup-app" && e->state == StepState::kSucceeded) {
      changed.insert(host);
    }
  }
  for (const auto& [key, e] : latest) {
    const auto& [phase_index, step_index, host] = key;
    if (phase_index < 0 || phase_index >= static_cast<int>(plan.phases.size())) continue;
    const Phase& phase = plan.phases[phase_index];
    if (step_index < 0 || step_index >= static_cast<int>(phase.steps.size())) continue;
    const std::string& name = phase.steps[step_index].name;
    // Before the rollout nothing changed: a failure there is a failed deployment, not a reason
    // to roll anything back.
    if (phase.name == "readiness" || phase.name == "transfer" || phase.name == "database-backup") {
      continue;
    }
    bool failed = e->state == StepState::kFailed;
    auto facts = ParseFacts(e->output_tail);
    Measurements m;
    m.host = host;
    m.source = fmt::format("step {}", e->step_name);
    m.at = e->finished_at.value_or(run.finished_at.value_or(run.created_at));
    if (name == "node-health" || name == "health") {
      if (failed) m.health_ok = false;
    } else if (name == "smoke") {
      if (failed) m.smoke_ok = false;
    } else if (name == "integrity") {
      if (failed) {
        m.data_integrity_ok = false;
        std::string reason;
        for (const std::string& line : Split(e->output_tail, '\n')) {
          if (!line.empty() && !StartsWith(line, "rollgate-fact ")) reason = line;
        }
        m.data_integrity_detail = reason;
      }
    } else if (name == "metrics") {
      // A flagged or failed comparison: the measured slowdown decides.
      if (auto degradation = Number(facts, "degradation_percent")) {
        m.degradation_percent = *degradation;
      }
    } else if (name == "observe") {
      m.availability_percent = Number(facts, "availability_percent");
      m.error_percent = Number(facts, "error_percent");
    } else if (phase.name == "rollout" && ChangesTheNode(name) && changed.contains(host) &&
               failed) {
      const TriggerPolicy* policy = FindPolicy(policies, TriggerKind::kDeploymentFailed);
      if (policy != nullptr && policy->action != TriggerAction::kOff) {
        TriggerFiring f;
        f.kind = TriggerKind::kDeploymentFailed;
        f.action = policy->action;
        f.measurement = 0;
        f.threshold = 1;
        f.host = host;
        f.source = m.source;
        f.at = m.at;
        std::string reason;
        for (const std::string& line : Split(e->output_tail, '\n')) {
          if (!line.empty() && !StartsWith(line, "rollgate-fact ")) reason = line;
        }
        f.detail = fmt::format("{} failed on {}, which the rollout had already changed{}",
                               e->step_name, host, reason.empty() ? "" : ": " + reason);
        out.push_back(std::move(f));
      }
      continue;
    } else {
      continue;
    }
    for (TriggerFiring& f : EvaluateMeasurements(m, policies, thresholds)) {
      out.push_back(std::move(f));
    }
  }
  return out;
}

RollbackRunner::RollbackRunner(const Config& config, Store& store, const Clock& clock,
                               const TimeZone& zone, std::filesystem::path packages_dir,
                               Transport& transport, const StepTypeTable& types, Sleeper& sleeper,
                               ProgressSink* progress, RunnerOptions options)
    : config_(config),
      store_(store),
      clock_(clock),
      zone_(zone),
      packages_dir_(std::move(packages_dir)),
      transport_(transport),
      types_(types),
      sleeper_(sleeper),
      progress_(progress),
      options_(std::move(options)) {}

Result<Run> RollbackRunner::ExecutePlan(const Plan& plan, const ChangeRequest& cr,
                                        const std::string& environment, const std::string& actor,
                                        const std::function<Status(const std::string&)>& created,
                                        ProgressSink* sink) {
  ExecutorOptions executor_options = options_.executor;
  executor_options.actor = actor;
  // A deployment's evidence lands on the CR in the commit that records the run's end.
  executor_options.on_finish =
      DeployService(config_, store_, clock_, zone_, packages_dir_).RunEvidenceOnFinish(actor);
  Executor executor(store_, transport_, types_, clock_, sleeper_, executor_options,
                    sink != nullptr ? sink : progress_);
  RunTarget target{cr.id, cr.system, environment, options_.transport};
  ASSIGN_OR_RETURN(std::string id, executor.Create(plan, target));
  if (options_.created) options_.created(id);
  RETURN_IF_ERROR(created(id));
  auto body = [&] { return executor.Execute(id); };
  if (options_.execute_wrapper) return options_.execute_wrapper(executor, body);
  return body();
}

Result<RunnerOutcome> RollbackRunner::Deploy(const std::string& cr_id,
                                             const std::string& environment, bool emergency,
                                             const std::string& actor) {
  DeployService service(config_, store_, clock_, zone_, packages_dir_);
  ASSIGN_OR_RETURN(DeploymentPreparation prep,
                   service.Prepare(cr_id, environment, emergency, options_.hosts));
  prep.plan.concurrency = std::clamp(options_.concurrency, 1, 1024);
  RETURN_IF_ERROR(ValidatePlan(prep.plan, types_));
  DeploymentFacts facts;
  facts.system = prep.system->name;
  facts.environment = environment;
  facts.change_request = prep.cr.id;
  facts.patch = fmt::format("{} {}", prep.cr.patch_id, prep.package.version);
  facts.started = clock_.Now();
  facts.expected_duration = prep.cr.expected_duration;
  RunnerOutcome outcome;
  ASSIGN_OR_RETURN(outcome.run, ExecutePlan(
                                    prep.plan, prep.cr, environment, actor,
                                    [&](const std::string& id) -> Status {
                                      facts.run = id;
                                      return service
                                          .Notify(prep.cr.id, environment,
                                                  DeploymentStartMessage(facts, zone_), id, actor)
                                          .status();
                                    },
                                    nullptr));
  const Run& run = outcome.run;
  ASSIGN_OR_RETURN(outcome.evidence, service.RecordRunEvidence(run.id, actor));
  facts.finished = run.finished_at.value_or(clock_.Now());
  facts.outcome = run.state == RunState::kSucceeded ? "SUCCESS" : "FAILED";
  facts.smoke = "not run";
  facts.errors = "None";
  for (const Evidence& e : outcome.evidence) {
    if (e.kind == kEvidenceSmoke) facts.smoke = e.passed.value_or(false) ? "Pass" : "Fail";
    if (e.kind == kEvidenceDeployment && !e.passed.value_or(false)) facts.errors = e.detail;
  }
  ASSIGN_OR_RETURN(std::vector<Evidence> sent,
                   service.Notify(prep.cr.id, environment, DeploymentCompleteMessage(facts, zone_),
                                  run.id, actor));
  outcome.evidence.insert(outcome.evidence.end(), sent.begin(), sent.end());

  // The triggers (§6.1), recorded on the CR with their measurements before anything acts on them.
  std::vector<StepExecution> steps;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(steps, txn.ListStepExecutions(run.id));
    return Status::Ok();
  }));
  std::vector<TriggerPolicy> policies =
      TriggerPoliciesFor(config_, *prep.system, *prep.environment);
  outcome.fired = TriggersFromRun(prep.plan, run, steps, policies, prep.environment->thresholds);
  CrService crs(config_, store_, clock_, zone_);
  // §4.2: alerting verified after the deployment, when the system names its Alertmanager. A check
  // that could not be made is recorded as failed and fires nothing.
  const System::AlertmanagerSource& alertmanager = prep.system->alertmanager;
  if (!alertmanager.url.empty() && run.state == RunState::kSucceeded) {
    AlertmanagerCheck check =
        options_.alertmanager ? options_.alertmanager : RealAlertmanagerCheck();
    Result<std::vector<FiringAlert>> alerts = check(alertmanager, environment);
    Evidence e = AlertsEvidence(alerts, AlertmanagerShownUrl(alertmanager.url),
                                ExpandedMatchers(alertmanager, environment),
                                alertmanager.severities, environment, run.id);
    RETURN_IF_ERROR(crs.RecordEvidence(prep.cr.id, e, options_.executor.actor).status());
    outcome.evidence.push_back(e);
    if (alerts.ok()) {
      Measurements m;
      m.source = "alertmanager " + AlertmanagerShownUrl(alertmanager.url);
      m.at = clock_.Now();
      m.critical_alerts = static_cast<int>(alerts->size());
      m.critical_alerts_detail = DescribeAlerts(*alerts);
      for (TriggerFiring& f : EvaluateMeasurements(m, policies, prep.environment->thresholds)) {
        outcome.fired.push_back(std::move(f));
      }
    }
  }
  for (const TriggerFiring& firing : outcome.fired) {
    Evidence e = TriggerEvidence(firing, environment, run.id);
    e.recorded_by = options_.executor.actor;
    if (firing.action == TriggerAction::kEvaluate) {
      const TriggerPolicy* policy = FindPolicy(policies, firing.kind);
      Seconds deadline = policy != nullptr ? policy->decision_deadline : std::chrono::minutes(30);
      DecisionDefault on_deadline =
          policy != nullptr ? policy->on_deadline : DecisionDefault::kRollback;
      e.fields["deadline"] = FormatRfc3339Utc(clock_.Now() + deadline);
      e.fields["on_deadline"] = std::string(DecisionDefaultName(on_deadline));
    }
    RETURN_IF_ERROR(crs.RecordEvidence(prep.cr.id, e, options_.executor.actor).status());
    outcome.evidence.push_back(e);
  }

  // §7: what a person would check first, before anything acts on the failure.
  if (run.state != RunState::kSucceeded || !outcome.fired.empty()) {
    ASSIGN_OR_RETURN(outcome.diagnosis,
                     DiagnoseDeployment(prep, run, steps, outcome.fired, outcome.evidence));
    // §7.4: a data-integrity concern is rolled back immediately, whatever the trigger's policy.
    if (outcome.diagnosis->failure == FailureClass::kDataIntegrity &&
        outcome.diagnosis->resolution == ResolutionName(Resolution::kHaltRollbackEscalate) &&
        StrongestAction(outcome.fired) != TriggerAction::kRollback &&
        FailureFactsFromRun(prep.plan, steps, outcome.fired).changed) {
      std::vector<TriggerFiring> integrity;
      for (TriggerFiring f : outcome.fired) {
        if (f.kind != TriggerKind::kDataIntegrity) continue;
        f.action = TriggerAction::kRollback;
        integrity.push_back(std::move(f));
      }
      if (integrity.empty()) {
        TriggerFiring f;
        f.kind = TriggerKind::kDataIntegrity;
        f.action = TriggerAction::kRollback;
        f.threshold = 1;
        f.source = "diagnostics " + run.id;
        f.detail = "data inconsistency found by the diagnostics (playbook 7.4): " +
                   outcome.diagnosis->reason;
        f.at = clock_.Now();
        integrity.push_back(std::move(f));
      }
      ASSIGN_OR_RETURN(RunnerOutcome rolled, AutomaticRollback(cr_id, environment, integrity));
      outcome.rollback = rolled.rollback;
      outcome.decision = "rollback";
      outcome.evidence.insert(outcome.evidence.end(), rolled.evidence.begin(),
                              rolled.evidence.end());
      return outcome;
    }
  }

  switch (StrongestAction(outcome.fired)) {
    case TriggerAction::kRollback: {
      std::vector<TriggerFiring> immediate;
      for (const TriggerFiring& f : outcome.fired) {
        if (f.action == TriggerAction::kRollback) immediate.push_back(f);
      }
      ASSIGN_OR_RETURN(RunnerOutcome rolled, AutomaticRollback(cr_id, environment, immediate));
      outcome.rollback = rolled.rollback;
      outcome.decision = "rollback";
      outcome.evidence.insert(outcome.evidence.end(), rolled.evidence.begin(),
                              rolled.evidence.end());
      break;
    }
    case TriggerAction::kEvaluate: {
      ASSIGN_OR_RETURN(RunnerOutcome decided, AwaitDecision(prep, run, facts));
      outcome.rollback = decided.rollback;
      outcome.decision = decided.decision;
      outcome.evidence.insert(outcome.evidence.end(), decided.evidence.begin(),
                              decided.evidence.end());
      break;
    }
    case TriggerAction::kOff:
      if (run.state == RunState::kSucceeded && options_.on_deployed) {
        RETURN_IF_ERROR(options_.on_deployed(cr_id, environment, run));
      }
      break;
  }
  return outcome;
}

Result<DiagnosticReport> RollbackRunner::DiagnoseDeployment(const DeploymentPreparation& prep,
                                                            const Run& run,
                                                            const std::vector<StepExecution>& steps,
                                                            const std::vector<TriggerFiring>& fired,
                                                            std::vector<Evidence>& evidence) {
  const std::string& environment = prep.environment->name;
  DiagnoseRequest request;
  request.system = prep.system;
  request.environment = prep.environment;
  request.requested_by = kDiagnosticsActor;
  request.automatic = true;
  request.fired = fired;
  ASSIGN_OR_RETURN(DiagnosticReport report,
                   Diagnostician(transport_, clock_).Diagnose(run, prep.plan, steps, request));
  ASSIGN_OR_RETURN(report.id, StoreDiagnosticReport(store_, report));
  Evidence e = DiagnosisEvidence(report, environment);
  CrService crs(config_, store_, clock_, zone_);
  RETURN_IF_ERROR(crs.RecordEvidence(prep.cr.id, e, kDiagnosticsActor).status());
  evidence.push_back(e);
  // The table's escalation (§7.2 development, §7.4 DBA Lead), through the environment's channels.
  const DiagnosticTable& table = TableFor(report.failure);
  if (!table.escalate_to.empty()) {
    std::vector<NotificationRecipient> recipients;
    for (const Person& person : config_.people) {
      if (std::find(person.roles.begin(), person.roles.end(), table.escalate_to) ==
          person.roles.end()) {
        continue;
      }
      recipients.push_back(
          {person.name, person.full_name, person.email, person.phone, table.escalate_to});
    }
    DeployService service(config_, store_, clock_, zone_, packages_dir_);
    ASSIGN_OR_RETURN(std::vector<Evidence> sent,
                     service.Notify(prep.cr.id, environment, prep.environment->notification,
                                    DiagnosisMessage(report, prep.cr.id, environment), run.id,
                                    kDiagnosticsActor, recipients, {{"audience", "escalation"}}));
    evidence.insert(evidence.end(), sent.begin(), sent.end());
  }
  return report;
}

Result<RunnerOutcome> RollbackRunner::AwaitDecision(const DeploymentPreparation& prep,
                                                    const Run& run, DeploymentFacts facts) {
  DeployService service(config_, store_, clock_, zone_, packages_dir_);
  CrService crs(config_, store_, clock_, zone_);
  const std::string& environment = prep.environment->name;
  RunnerOutcome outcome;
  ASSIGN_OR_RETURN(ChangeRequest cr, crs.Get(prep.cr.id));
  // The decision of this run, once someone (`decide`) has recorded it.
  auto recorded_decision = [&](const ChangeRequest& record) -> const Evidence* {
    const Evidence* found = nullptr;
    for (const Evidence& e : record.evidence) {
      if (e.kind == kEvidenceTriggerDecision && e.environment == environment &&
          e.run_id == run.id) {
        found = &e;
      }
    }
    return found;
  };
  auto decided = [&](const Evidence& decision) {
    auto it = decision.fields.find("decision");
    outcome.decision = it == decision.fields.end() ? "" : it->second;
    // `decide ... rollback` rolls back itself; nothing more to do here.
    return outcome;
  };
  // Someone may have decided already, while the diagnostics ran.
  if (const Evidence* early = recorded_decision(cr)) return decided(*early);
  std::vector<Pending> pending = PendingDecisions(cr, environment, zone_, config_);
  auto mine = std::find_if(pending.begin(), pending.end(),
                           [&](const Pending& p) { return p.run == run.id; });
  if (mine == pending.end()) return outcome;
  Pending wait = *mine;
  // Page: the environment's channels carry the request for a decision (§6.1 evaluate).
  std::vector<std::string> lines;
  for (const TriggerFiring& f : wait.firings) lines.push_back("- " + f.detail);
  Message needed = DecisionNeededMessage(facts, Join(lines, "\n"), wait.deadline,
                                         std::string(DecisionDefaultName(wait.on_deadline)), zone_);
  ASSIGN_OR_RETURN(std::vector<Evidence> paged, service.Notify(prep.cr.id, environment, needed,
                                                               run.id, options_.executor.actor));
  outcome.evidence = paged;
  RETURN_IF_ERROR(OpenAutomaticPage(config_, store_, clock_, zone_, packages_dir_, cr, environment,
                                    wait.firings, needed));
  PageService pages(config_, store_, clock_, zone_, packages_dir_);
  if (options_.paused) options_.paused(wait.deadline, Describe(wait.firings));
  while (true) {
    ASSIGN_OR_RETURN(cr, crs.Get(prep.cr.id));
    if (const Evidence* decision = recorded_decision(cr)) return decided(*decision);
    if (clock_.Now() >= wait.deadline) break;
    RETURN_IF_ERROR(pages.EscalateDuePages(clock_.Now(), kPageActor).status());
    sleeper_.SleepFor(std::min<Seconds>(
        options_.decision_poll, std::max<Seconds>(Seconds(1), std::chrono::duration_cast<Seconds>(
                                                                  wait.deadline - clock_.Now()))));
  }
  ASSIGN_OR_RETURN(std::vector<RunnerOutcome> applied, ApplyDueDecisions());
  for (RunnerOutcome& o : applied) {
    if (o.run.id != run.id && !(o.rollback && o.decision == "rollback")) continue;
    outcome.decision = o.decision;
    outcome.rollback = o.rollback;
    outcome.evidence.insert(outcome.evidence.end(), o.evidence.begin(), o.evidence.end());
  }
  return outcome;
}

Result<std::vector<Evidence>> RollbackRunner::PageForDecision(const std::string& cr_id,
                                                              const std::string& environment,
                                                              const std::string& run_id) {
  CrService crs(config_, store_, clock_, zone_);
  ASSIGN_OR_RETURN(ChangeRequest cr, crs.Get(cr_id));
  std::vector<Pending> pending = PendingDecisions(cr, environment, zone_, config_);
  auto mine = std::find_if(pending.begin(), pending.end(),
                           [&](const Pending& p) { return p.run == run_id; });
  if (mine == pending.end()) return std::vector<Evidence>{};
  DeploymentFacts facts;
  facts.system = cr.system;
  facts.environment = environment;
  facts.change_request = cr.id;
  facts.patch = cr.patch_id;
  facts.run = run_id;
  std::vector<std::string> lines;
  for (const TriggerFiring& f : mine->firings) lines.push_back("- " + f.detail);
  DeployService service(config_, store_, clock_, zone_, packages_dir_);
  Message needed =
      DecisionNeededMessage(facts, Join(lines, "\n"), mine->deadline,
                            std::string(DecisionDefaultName(mine->on_deadline)), zone_);
  ASSIGN_OR_RETURN(std::vector<Evidence> paged,
                   service.Notify(cr.id, environment, needed, run_id, options_.executor.actor));
  RETURN_IF_ERROR(OpenAutomaticPage(config_, store_, clock_, zone_, packages_dir_, cr, environment,
                                    mine->firings, needed));
  return paged;
}

Result<RunnerOutcome> RollbackRunner::Decide(const std::string& cr_id,
                                             const std::string& environment,
                                             const std::string& actor, const std::string& decision,
                                             const std::string& reason) {
  if (decision != "rollback" && decision != "continue") {
    return InvalidArgument(fmt::format("decision must be rollback or continue (got '{}')",
                                       EscapeForDisplay(decision)));
  }
  const Environment* env = config_.FindEnvironment(environment);
  if (env == nullptr) {
    return NotFound(fmt::format("unknown environment '{}'", EscapeForDisplay(environment)));
  }
  // Who decides: a holder of one of the environment's rollback roles, or the on-call person.
  bool allowed =
      std::any_of(env->rollback_approver_roles.begin(), env->rollback_approver_roles.end(),
                  [&](const std::string& role) { return config_.PersonHasRole(actor, role); });
  for (const Contact& contact : config_.contacts) {
    if (contact.name.find("on-call") != std::string::npos &&
        (contact.primary == actor || contact.backup == actor)) {
      allowed = true;
    }
  }
  if (!allowed) {
    return PermissionDenied(
        fmt::format("{} may not decide a rollback in {}: it takes one of {} or the on-call person",
                    actor, environment, Join(env->rollback_approver_roles, ", ")));
  }
  CrService crs(config_, store_, clock_, zone_);
  ASSIGN_OR_RETURN(ChangeRequest cr, crs.Get(cr_id));
  std::vector<Pending> pending = PendingDecisions(cr, environment, zone_, config_);
  if (pending.empty()) {
    return NotFound(
        fmt::format("no rollback decision is pending for {} in {}", cr_id, environment));
  }
  RunnerOutcome outcome;
  outcome.decision = decision;
  std::vector<TriggerFiring> firings;
  for (const Pending& p : pending) {
    Evidence e;
    e.environment = environment;
    e.kind = kEvidenceTriggerDecision;
    e.run_id = p.run;
    e.at = clock_.Now();
    e.recorded_by = actor;
    e.passed = decision == "continue";
    e.fields = {{"decision", decision},
                {"decided_by", actor},
                {"reason", reason},
                {"triggers", KindList(p.firings)},
                {"deadline", FormatRfc3339Utc(p.deadline)}};
    e.detail = fmt::format("{} decided to {} after {}{}", actor,
                           decision == "rollback" ? "roll back" : "continue", Describe(p.firings),
                           reason.empty() ? "" : ": " + reason);
    RETURN_IF_ERROR(crs.RecordEvidence(cr_id, e, actor).status());
    outcome.evidence.push_back(e);
    firings.insert(firings.end(), p.firings.begin(), p.firings.end());
  }
  // A decision answers the automatic pages that asked for it, where the decider may acknowledge.
  PageService pages(config_, store_, clock_, zone_, packages_dir_);
  ASSIGN_OR_RETURN(std::vector<Page> open, pages.List(true));
  for (const Page& page : open) {
    if (page.change_request != cr_id || page.environment != environment ||
        page.opened_by != kPageActor) {
      continue;
    }
    Result<Page> acked = pages.Acknowledge(page.id, actor);
    if (!acked.ok() && acked.error().code() != StatusCode::kPermissionDenied) {
      return acked.error();
    }
  }
  if (decision == "rollback") {
    ASSIGN_OR_RETURN(RunnerOutcome rolled, AutomaticRollback(cr_id, environment, firings, actor));
    outcome.rollback = rolled.rollback;
    outcome.evidence.insert(outcome.evidence.end(), rolled.evidence.begin(), rolled.evidence.end());
  }
  return outcome;
}

Result<std::vector<RunnerOutcome>> RollbackRunner::ApplyDueDecisions() {
  std::vector<RunnerOutcome> out;
  std::vector<ChangeRequestSummary> summaries;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(summaries, txn.ListChangeRequests({}));
    return Status::Ok();
  }));
  CrService crs(config_, store_, clock_, zone_);
  for (const ChangeRequestSummary& summary : summaries) {
    ASSIGN_OR_RETURN(ChangeRequest cr, crs.Get(summary.id));
    for (const Environment& env : config_.environments) {
      for (const Pending& p : PendingDecisions(cr, env.name, zone_, config_)) {
        if (clock_.Now() < p.deadline) continue;
        std::string decision =
            p.on_deadline == DecisionDefault::kRollback ? "rollback" : "continue";
        Evidence e;
        e.environment = env.name;
        e.kind = kEvidenceTriggerDecision;
        e.run_id = p.run;
        e.at = clock_.Now();
        e.recorded_by = options_.executor.actor;
        e.passed = decision == "continue";
        e.fields = {{"decision", decision},
                    {"decided_by", "default at the deadline"},
                    {"triggers", KindList(p.firings)},
                    {"deadline", FormatRfc3339Utc(p.deadline)}};
        e.detail = fmt::format("no decision by {}: the configured default applies ({})",
                               FormatLocalMinutes(p.deadline, zone_), decision);
        RETURN_IF_ERROR(crs.RecordEvidence(cr.id, e, options_.executor.actor).status());
        RunnerOutcome outcome;
        outcome.run.id = p.run;
        outcome.decision = decision;
        outcome.evidence.push_back(e);
        if (decision == "rollback") {
          ASSIGN_OR_RETURN(RunnerOutcome rolled, AutomaticRollback(cr.id, env.name, p.firings));
          outcome.rollback = rolled.rollback;
          outcome.evidence.insert(outcome.evidence.end(), rolled.evidence.begin(),
                                  rolled.evidence.end());
        }
        out.push_back(std::move(outcome));
      }
    }
  }
  return out;
}

Result<RunnerOutcome> RollbackRunner::AutomaticRollback(const std::string& cr_id,
                                                        const std::string& environment,
                                                        const std::vector<TriggerFiring>& firings,
                                                        const std::string& decided_by) {
  DeployService service(config_, store_, clock_, zone_, packages_dir_);
  ASSIGN_OR_RETURN(DeploymentPreparation prep, service.PrepareRollbackPlan(cr_id, environment));
  std::string approval =
      decided_by.empty()
          ? fmt::format("none needed: automatic rollback for {} (playbook 6.1, immediate)",
                        KindList(firings))
          : fmt::format("{} decided on {} (playbook 6.1, evaluate and decide)", decided_by,
                        KindList(firings));
  std::map<std::string, std::string> fields = {{"automatic", decided_by.empty() ? "yes" : "no"},
                                               {"triggers", KindList(firings)},
                                               {"authorisation", approval}};
  return RunRollback(prep, options_.executor.actor, "trigger: " + Describe(firings), approval,
                     fields);
}

Result<RunnerOutcome> RollbackRunner::AuthorisedRollback(const std::string& cr_id,
                                                         const std::string& environment,
                                                         const std::string& actor,
                                                         const std::string& reason,
                                                         bool database_only) {
  const Environment* env = config_.FindEnvironment(environment);
  if (env == nullptr) {
    return NotFound(fmt::format("unknown environment '{}'", EscapeForDisplay(environment)));
  }
  DeployService service(config_, store_, clock_, zone_, packages_dir_);
  ASSIGN_OR_RETURN(DeployService::DeploymentRecord deployment,
                   service.LatestDeployment(cr_id, environment));
  // A rollback that cannot be carried out (no backup to restore) is refused before anyone's
  // authorisation is recorded: a refused request changes nothing. After the role check, so that
  // who may not authorise is told that first.
  std::optional<DeploymentPreparation> prep;
  auto prepare = [&]() -> Status {
    if (prep) return Status::Ok();
    ASSIGN_OR_RETURN(prep, service.PrepareRollbackPlan(cr_id, environment, database_only));
    return Status::Ok();
  };
  CrService crs(config_, store_, clock_, zone_);
  ASSIGN_OR_RETURN(ChangeRequest cr, crs.Get(cr_id));
  const std::vector<std::string>& roles = env->rollback_approver_roles;
  // Who has authorised this deployment's rollback so far, under which role (§6.1 step 3: joint).
  // A person counts once: the role they recorded.
  std::map<std::string, std::string> by_role;  // role -> person
  std::set<std::string> people;
  std::string scope = deployment.run.id + (database_only ? "/database" : "");
  for (const Evidence& e : cr.evidence) {
    if (e.kind != kEvidenceRollbackAuthorisation || e.environment != environment) continue;
    auto run = e.fields.find("scope");
    auto role = e.fields.find("role");
    if (run == e.fields.end() || run->second != scope || role == e.fields.end()) continue;
    if (!by_role.contains(role->second)) by_role[role->second] = e.recorded_by;
    people.insert(e.recorded_by);
  }
  RunnerOutcome outcome;
  if (!people.contains(actor)) {
    std::string role;
    for (const std::string& r : roles) {
      if (!by_role.contains(r) && config_.PersonHasRole(actor, r)) {
        role = r;
        break;
      }
    }
    if (role.empty()) {
      std::vector<std::string> missing;
      for (const std::string& r : roles) {
        if (!by_role.contains(r)) missing.push_back(r);
      }
      return PermissionDenied(fmt::format(
          "{} may not authorise the rollback of {} in {}: it takes {} jointly (playbook 6.1 "
          "step 3){}",
          actor, cr_id, environment, Join(roles, " and "),
          missing.empty() ? "" : "; still missing: " + Join(missing, ", ")));
    }
    RETURN_IF_ERROR(prepare());
    Evidence e;
    e.environment = environment;
    e.kind = kEvidenceRollbackAuthorisation;
    e.run_id = deployment.run.id;
    e.at = clock_.Now();
    e.recorded_by = actor;
    e.passed = true;
    e.fields = {{"role", role}, {"scope", scope}, {"reason", reason}};
    e.detail = fmt::format("{} ({}) authorised the {}rollback of {}{}", actor, role,
                           database_only ? "database " : "", deployment.run.id,
                           reason.empty() ? "" : ": " + reason);
    RETURN_IF_ERROR(crs.RecordEvidence(cr_id, e, actor).status());
    outcome.evidence.push_back(e);
    by_role[role] = actor;
    people.insert(actor);
  }
  for (const std::string& r : roles) {
    if (!by_role.contains(r)) outcome.awaiting.push_back(r);
  }
  if (!outcome.awaiting.empty()) return outcome;
  std::vector<std::string> names;
  for (const std::string& r : roles) names.push_back(fmt::format("{} ({})", by_role[r], r));
  std::string approval = names.empty() ? actor : Join(names, " and ");
  RETURN_IF_ERROR(prepare());
  ASSIGN_OR_RETURN(RunnerOutcome rolled,
                   RunRollback(*prep, actor, reason, approval,
                               {{"automatic", "no"},
                                {"authorisation", approval},
                                {"database_only", database_only ? "yes" : "no"}}));
  rolled.evidence.insert(rolled.evidence.begin(), outcome.evidence.begin(), outcome.evidence.end());
  return rolled;
}

Result<RunnerOutcome> RollbackRunner::RunRollback(
    const DeploymentPreparation& prep, const std::string& actor, const std::string& reason,
    const std::string& approved_by, const std::map<std::string, std::string>& fields) {
  RETURN_IF_ERROR(ValidatePlan(prep.plan, types_));
  DeployService service(config_, store_, clock_, zone_, packages_dir_);
  const std::string& environment = prep.environment->name;
  DeploymentFacts facts;
  facts.system = prep.system->name;
  facts.environment = environment;
  facts.change_request = prep.cr.id;
  facts.started = clock_.Now();
  facts.reason = reason;
  facts.approved_by = approved_by;
  facts.expected_duration = prep.environment->thresholds.max_rollback_duration;
  RunnerOutcome outcome;
  // §6.4 step 2: an update every 15 minutes while it lasts, through the same channels.
  Status progress_status = Status::Ok();
  RollbackProgress progress(
      progress_, clock_, options_.progress_every,
      [&](const std::string& step, const std::string& issues) {
        Result<std::vector<Evidence>> sent = service.Notify(
            prep.cr.id, environment,
            RollbackProgressMessage(facts, step, "in progress", issues, clock_.Now(), zone_),
            facts.run, options_.executor.actor);
        if (!sent.ok()) {
          progress_status = sent.status();
          return;
        }
        outcome.evidence.insert(outcome.evidence.end(), sent->begin(), sent->end());
      });
  ASSIGN_OR_RETURN(
      Run run, ExecutePlan(
                   prep.plan, prep.cr, environment, actor,
                   [&](const std::string& id) -> Status {
                     facts.run = id;
                     // §6.4 step 1: the first notification, before anything is touched.
                     ASSIGN_OR_RETURN(
                         std::vector<Evidence> sent,
                         service.Notify(prep.cr.id, environment, RollbackStartMessage(facts, zone_),
                                        id, options_.executor.actor));
                     outcome.evidence.insert(outcome.evidence.end(), sent.begin(), sent.end());
                     return Status::Ok();
                   },
                   &progress));
  RETURN_IF_ERROR(progress_status);
  // What the rollback itself found: a database restore held for a person's decision.
  std::vector<StepExecution> steps;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(steps, txn.ListStepExecutions(run.id));
    return Status::Ok();
  }));
  std::map<std::string, std::string> held;
  for (const StepExecution& e : steps) {
    if (e.step_name.find("restore-database") == std::string::npos) continue;
    auto facts_of_step = ParseFacts(e.output_tail);
    if (facts_of_step["held"] == "yes") held = facts_of_step;
  }
  std::map<std::string, std::string> extra = fields;
  if (!held.empty()) {
    extra["database"] = "held";
    extra["current_dump"] = held["current_dump"];
    extra["writes_since_backup"] = held["writes_since_backup"];
  }
  ASSIGN_OR_RETURN(Evidence recorded, service.RecordRollbackEvidence(run.id, reason, actor, extra));
  outcome.evidence.push_back(recorded);
  facts.finished = run.finished_at.value_or(clock_.Now());
  facts.outcome = run.state == RunState::kSucceeded ? "SUCCESS" : "FAILED";
  ASSIGN_OR_RETURN(std::vector<Evidence> done,
                   service.Notify(prep.cr.id, environment, RollbackCompleteMessage(facts, zone_),
                                  run.id, options_.executor.actor));
  outcome.evidence.insert(outcome.evidence.end(), done.begin(), done.end());
  if (!held.empty()) {
    ASSIGN_OR_RETURN(std::vector<Evidence> paged,
                     service.Notify(prep.cr.id, environment,
                                    DatabaseHeldMessage(facts,
                                                        held["writes_since_backup"] +
                                                            " writes to " + held["tables_written"],
                                                        held["current_dump"], zone_),
                                    run.id, options_.executor.actor));
    outcome.evidence.insert(outcome.evidence.end(), paged.begin(), paged.end());
  }
  outcome.run = run;
  outcome.rollback = run;
  return outcome;
}

Result<RunnerOutcome> RollbackRunner::Rehearse(const std::string& cr_id,
                                               const std::string& environment,
                                               const std::string& actor) {
  const Environment* env = config_.FindEnvironment(environment);
  if (env == nullptr) {
    return NotFound(fmt::format("unknown environment '{}'", EscapeForDisplay(environment)));
  }
  if (config_.NextEnvironment(environment) == nullptr) {
    return InvalidArgument(
        fmt::format("a rollback is rehearsed before production, in an earlier environment (not {})",
                    environment));
  }
  ASSIGN_OR_RETURN(RunnerOutcome outcome, Deploy(cr_id, environment, false, actor));
  if (!outcome.rollback) {
    if (outcome.run.state != RunState::kSucceeded) {
      return Failed(fmt::format("the rehearsal's deployment {} {}: nothing was rolled back ({})",
                                outcome.run.id, RunStateName(outcome.run.state),
                                outcome.run.message));
    }
    DeployService service(config_, store_, clock_, zone_, packages_dir_);
    ASSIGN_OR_RETURN(DeploymentPreparation prep, service.PrepareRollbackPlan(cr_id, environment));
    std::string approval = fmt::format("{} (rehearsal in {})", actor, environment);
    ASSIGN_OR_RETURN(
        RunnerOutcome rolled,
        RunRollback(prep, actor, "rollback rehearsal", approval,
                    {{"automatic", "no"}, {"rehearsal", "yes"}, {"authorisation", approval}}));
    outcome.rollback = rolled.rollback;
    outcome.evidence.insert(outcome.evidence.end(), rolled.evidence.begin(), rolled.evidence.end());
  }
  const Run& rollback = *outcome.rollback;
  Evidence e;
  e.environment = environment;
  e.kind = kEvidenceRollbackTested;
  e.run_id = rollback.id;
  e.at = rollback.finished_at.value_or(clock_.Now());
  e.recorded_by = actor;
  e.passed = rollback.state == RunState::kSucceeded;
  double seconds = 0;
  if (rollback.started_at && rollback.finished_at) {
    seconds = static_cast<double>(
        std::chrono::duration_cast<Seconds>(*rollback.finished_at - *rollback.started_at).count());
  }
  e.value = seconds;
  e.fields = {{"deployment_run", outcome.run.id},
              {"rollback_run", rollback.id},
              {"seconds", fmt::format("{}", seconds)}};
  e.detail =
      fmt::format("rollback rehearsed in {}: {} deployed, {} rolled back {} in {}", environment,
                  outcome.run.id, rollback.id, *e.passed ? "successfully" : "UNSUCCESSFULLY",
                  FormatDuration(Seconds(static_cast<int64_t>(seconds))));
  CrService crs(config_, store_, clock_, zone_);
  RETURN_IF_ERROR(crs.RecordEvidence(cr_id, e, actor).status());
  outcome.evidence.push_back(e);
  return outcome;
}

}  // namespace rollgate
