#include "service/deploy_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>

#include "common/strings.h"
#include "domain/triggers.h"
#include "engine/steps/script_step.h"
#include "intake/archive_inspector.h"
#include "service/cr_service.h"
#include "transport/local_transport.h"

namespace rollgate {

namespace {

std::optional<double> Number(const std::map<std::string, std::string>& facts,
                             const std::string& key) {
  auto it = facts.find(key);
  if (it == facts.end() || it->second.empty()) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

// The latest execution of each (phase, step, host).
std::vector<const StepExecution*> Latest(const std::vector<StepExecution>& steps) {
  std::map<std::tuple<int, int, std::string>, const StepExecution*> latest;
  for (const StepExecution& e : steps) {
    auto& slot = latest[{e.phase, e.step, e.host}];
    if (slot == nullptr || e.attempt >= slot->attempt) slot = &e;
  }
  std::vector<const StepExecution*> out;
  out.reserve(latest.size());
  for (const auto& [key, e] : latest) out.push_back(e);
  return out;
}

bool HasPhase(const Plan& plan, std::string_view name) {
  return std::any_of(plan.phases.begin(), plan.phases.end(),
                     [&](const Phase& p) { return p.name == name; });
}

// Whether the evidence of deployment run `run_id` is on `cr` already.
bool RecordedFor(const ChangeRequest& cr, const std::string& run_id) {
  return std::any_of(cr.evidence.begin(), cr.evidence.end(), [&](const Evidence& e) {
    return e.run_id == run_id && e.kind == kEvidenceDeployment;
  });
}

// What deployment run `run` leaves as evidence on `cr`, read in `txn`.
Result<std::vector<Evidence>> RunEvidence(Transaction& txn, const Run& run,
                                          const ChangeRequest& cr) {
  ASSIGN_OR_RETURN(Plan plan, PlanFromJson(run.plan_json));
  ASSIGN_OR_RETURN(std::vector<StepExecution> steps, txn.ListStepExecutions(run.id));
  ASSIGN_OR_RETURN(Patch patch, txn.GetPatch(cr.patch_id));
  return EvidenceFromRun(plan, run, steps, run.environment, patch.version);
}

// Recording each of `evidence` on `cr` in turn, by `actor` at `now`: the transitions, the last
// one holding the CR with all of it. Nothing is written; a refusal is the domain's.
Result<std::vector<CrTransition>> EvidenceTransitions(const Config& config, const ChangeRequest& cr,
                                                      std::vector<Evidence>& evidence,
                                                      const std::string& actor, Timestamp now) {
  std::vector<CrTransition> out;
  out.reserve(evidence.size());
  const ChangeRequest* current = &cr;
  for (Evidence& e : evidence) {
    e.recorded_by = actor;
    e.at = now;
    ASSIGN_OR_RETURN(CrTransition t, RecordEvidence(*current, config, e, now));
    out.push_back(std::move(t));
    current = &out.back().cr;
  }
  return out;
}

// Writes `transitions` (EvidenceTransitions): the CR as the last left it, an audit event each.
Status Apply(Transaction& txn, const std::vector<CrTransition>& transitions,
             const std::string& actor, Timestamp now) {
  if (transitions.empty()) return Status::Ok();
  for (const CrTransition& t : transitions) {
    RETURN_IF_ERROR(txn.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
  }
  return txn.PutChangeRequest(transitions.back().cr);
}

}  // namespace

std::vector<Evidence> EvidenceFromRun(const Plan& plan, const Run& run,
                                      const std::vector<StepExecution>& steps,
                                      const std::string& environment, const std::string& version) {
  std::vector<Evidence> out;
  auto make = [&](const char* kind) {
    Evidence e;
    e.environment = environment;
    e.kind = kind;
    e.run_id = run.id;
    e.at = run.finished_at.value_or(run.created_at);
    return e;
  };
  // Per step name: every host's latest execution.
  std::map<std::string, std::vector<const StepExecution*>> by_step;
  for (const StepExecution* e : Latest(steps)) {
    if (e->phase < 0 || e->phase >= static_cast<int>(plan.phases.size())) continue;
    const Phase& phase = plan.phases[e->phase];
    if (e->step < 0 || e->step >= static_cast<int>(phase.steps.size())) continue;
    by_step[phase.steps[e->step].name].push_back(e);
  }
  auto all_succeeded = [&](const std::vector<const StepExecution*>& list) {
    return !list.empty() && std::all_of(list.begin(), list.end(), [](const StepExecution* e) {
      return e->state == StepState::kSucceeded;
    });
  };
  auto first_failure = [&](const std::vector<const StepExecution*>& list) -> std::string {
    for (const StepExecution* e : list) {
      if (e->state == StepState::kSucceeded) continue;
      std::string tail = e->output_tail;
      // The last line that is not a fact says what went wrong.
      std::string reason;
      for (const std::string& line : Split(tail, '\n')) {
        if (!line.empty() && !StartsWith(line, "rollgate-fact ")) reason = line;
      }
      return fmt::format("{} on {}: {}{}", e->step_name, e->host, StepStateName(e->state),
                         reason.empty() ? "" : " (" + reason + ")");
    }
    return "";
  };

  // Readiness (§2.3): every step of the readiness phase on every host.
  if (!plan.phases.empty() && plan.phases.front().name == "readiness") {
    std::vector<const StepExecution*> list;
    for (const StepSpec& step : plan.phases.front().steps) {
      for (const StepExecution* e : by_step[step.name]) list.push_back(e);
    }
    if (!list.empty()) {
      Evidence e = make(kEvidenceReadiness);
      e.passed = all_succeeded(list) &&
                 list.size() == plan.phases.front().steps.size() * plan.hosts.size();
      e.detail = *e.passed ? fmt::format("reachable, disk, dependencies: {} hosts ready",
                                         plan.hosts.size())
                           : first_failure(list);
      out.push_back(std::move(e));
    }
  }
  if (auto it = by_step.find("upload"); it != by_step.end()) {
    Evidence e = make(kEvidencePackageVerified);
    e.passed = all_succeeded(it->second);
    e.detail = *e.passed ? "SHA-256 checked on every host" : first_failure(it->second);
    out.push_back(std::move(e));
  }
  // Backups (§2.4): one item per backup taken, with where, how big and when.
  for (const char* name : {"backup-database", "backup-app", "backup-config"}) {
    auto it = by_step.find(name);
    if (it == by_step.end()) continue;
    for (const StepExecution* s : it->second) {
      if (s->state != StepState::kSucceeded) continue;
      auto facts = ParseFacts(s->output_tail);
      Evidence e = make(kEvidenceBackup);
      e.passed = true;
      e.fields = facts;
      e.fields["host"] = s->host;
      e.fields["step"] = name;
      e.value = Number(facts, "size_bytes");
      e.detail = fmt::format("{} on {}: {} ({} bytes)", name, s->host, facts["location"],
                             facts["size_bytes"]);
      out.push_back(std::move(e));
    }
  }
  if (auto it = by_step.find("smoke"); it != by_step.end()) {
    Evidence e = make(kEvidenceSmoke);
    e.passed = all_succeeded(it->second) && it->second.size() == plan.hosts.size();
    double rate = 100;
    for (const StepExecution* s : it->second) {
      auto facts = ParseFacts(s->output_tail);
      double host_rate = Number(facts, "pass_rate").value_or(s->exit_code == 0 ? 100.0 : 0.0);
      rate = std::min(rate, host_rate);
    }
    e.value = rate;
    e.detail = *e.passed ? fmt::format("smoke tests passed on {} hosts", it->second.size())
                         : first_failure(it->second);
    out.push_back(std::move(e));
  }
  {
    std::vector<const StepExecution*> list;
    for (const char* name : {"node-health", "health"}) {
      for (const StepExecution* s : by_step[name]) list.push_back(s);
    }
    if (!list.empty()) {
      Evidence e = make(kEvidenceHealth);
      e.passed = all_succeeded(list);
      e.detail = *e.passed ? "health, ready and metrics endpoints answer on every host"
                           : first_failure(list);
      out.push_back(std::move(e));
    }
  }
  if (auto it = by_step.find("logs"); it != by_step.end()) {
    Evidence e = make(kEvidenceLogs);
    e.passed = all_succeeded(it->second);
    double matches = 0;
    std::string first;
    for (const StepExecution* s : it->second) {
      auto facts = ParseFacts(s->output_tail);
      matches += Number(facts, "matches").value_or(0);
      if (first.empty() && !facts["first_match"].empty()) first = facts["first_match"];
    }
    e.value = matches;
    e.detail = matches == 0 ? "no error patterns written since the deployment began"
                            : fmt::format("{} error lines, first: {}", matches, first);
    out.push_back(std::move(e));
  }
  if (auto it = by_step.find("metrics"); it != by_step.end()) {
    Evidence e = make(kEvidenceMetrics);
    e.passed = all_succeeded(it->second);
    double worst = 0;
    bool flagged = false;
    for (const StepExecution* s : it->second) {
      auto facts = ParseFacts(s->output_tail);
      worst = std::max(worst, Number(facts, "degradation_percent").value_or(0));
      flagged = flagged || facts["flagged"] == "yes";
      for (const auto& [key, value] : facts) e.fields[s->host + "." + key] = value;
    }
    e.value = worst;
    if (flagged) e.passed = false;
    e.detail = flagged
                   ? fmt::format(
                         "FLAGGED: response time {:.1f} % worse than the baseline "
                         "(more than the threshold)",
                         worst)
                   : fmt::format("response time at most {:.1f} % worse than the baseline", worst);
    out.push_back(std::move(e));
  }
  if (auto it = by_step.find("integrity"); it != by_step.end()) {
    Evidence e = make(kEvidenceDataIntegrity);
    e.passed = all_succeeded(it->second);
    if (!it->second.empty()) e.fields = ParseFacts(it->second.front()->output_tail);
    e.detail =
        *e.passed ? "record counts kept; no unvalidated constraints" : first_failure(it->second);
    out.push_back(std::move(e));
  }
  if (auto it = by_step.find("regression"); it != by_step.end() && !it->second.empty()) {
    const StepExecution* s = it->second.front();
    auto facts = ParseFacts(s->output_tail);
    Evidence e = make(kEvidenceRegression);
    e.passed = s->state == StepState::kSucceeded;
    e.value = Number(facts, "pass_rate").value_or(0);
    e.fields = facts;
    double tests = Number(facts, "tests").value_or(0);
    double failed = Number(facts, "failures").value_or(0) + Number(facts, "errors").value_or(0);
    double skipped = Number(facts, "skipped").value_or(0);
    e.detail = fmt::format("{} of {} passed ({} skipped)", tests - failed - skipped,
                           tests - skipped, skipped);
    out.push_back(std::move(e));
  }
  // The deployment itself (§3.1 step 8): succeeded only when the whole run did.
  Evidence deployment = make(kEvidenceDeployment);
  deployment.passed = run.state == RunState::kSucceeded;
  if (run.started_at && run.finished_at) {
    deployment.value = static_cast<double>(
        std::chrono::duration_cast<Seconds>(*run.finished_at - *run.started_at).count());
  }
  deployment.fields = {{"run", run.id},
                       {"state", std::string(RunStateName(run.state))},
                       {"version", version},
                       {"hosts", Join(plan.hosts, " ")}};
  std::vector<const StepExecution*> everything = Latest(steps);
  deployment.detail =
      run.state == RunState::kSucceeded
          ? fmt::format("{} deployed to {} hosts by {}", version, plan.hosts.size(), run.id)
          : fmt::format(
                "{} {}: {}", run.id, RunStateName(run.state),
                first_failure(everything).empty() ? run.message : first_failure(everything));
  out.push_back(std::move(deployment));
  return out;
}

Result<DeploymentPreparation> DeployService::Prepare(const std::string& cr_id,
                                                     const std::string& environment, bool emergency,
                                                     std::vector<std::string> hosts) {
  DeploymentPreparation prep;
  prep.environment = config_.FindEnvironment(environment);
  if (prep.environment == nullptr) {
    std::vector<std::string> names;
    for (const auto& env : config_.environments) names.push_back(env.name);
    return NotFound(fmt::format("unknown environment '{}'{}", EscapeForDisplay(environment),
                                DidYouMean(environment, names)));
  }
  CrService crs(config_, store_, clock_, zone_);
  ASSIGN_OR_RETURN(prep.gates, crs.CheckGates(cr_id, environment, emergency));
  ASSIGN_OR_RETURN(prep.cr, crs.Get(cr_id));
  if (!prep.gates.passed) {
    return RefusedByGate(fmt::format("{} may not be deployed to {}: {}", cr_id, environment,
                                     Join(prep.gates.Missing(), "; ")));
  }
  prep.system = config_.FindSystem(prep.cr.system);
  if (prep.system == nullptr) {
    return NotFound(fmt::format("{}: system {} is not in the configuration", cr_id,
                                EscapeForDisplay(prep.cr.system)));
  }
  Patch patch;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(patch, txn.GetPatch(prep.cr.patch_id));
    return Status::Ok();
  }));
  if (!patch.package) {
    return NotFound(
        fmt::format("{} has no package to deploy: add one with `rollgate patch add --package FILE` "
                    "(or import it with its advisory)",
                    patch.id));
  }
  std::filesystem::path file =
      std::filesystem::absolute(packages_dir_ / (patch.package->sha256 + ".pkg"));
  ArchiveLimits limits;
  limits.max_total_bytes = config_.packages.max_bytes;
  Result<ArchiveReport> report = ScanArchive(file, limits);
  if (!report.ok()) return report.error().WithContext(fmt::format("{} package", patch.id));
  if (!report->clean()) {
    return InvalidArgument(
        fmt::format("{} package refused: {}", patch.id, DescribeRefusals(report->refused)));
  }
  if (report->paths_truncated) {
    return InvalidArgument(fmt::format("{} package has too many entries to lay out", patch.id));
  }
  prep.package = LayoutFromPaths(report->paths);
  prep.package.local_path = file.string();
  prep.package.sha256 = patch.package->sha256;
  prep.package.version = patch.version;
  // --hosts narrows the environment's hosts; it never adds one.
  const SystemHost* configured = prep.system->HostsIn(environment);
  for (const std::string& host : hosts) {
    bool known = configured != nullptr &&
                 std::find(configured->hosts.begin(), configured->hosts.end(), host) !=
                     configured->hosts.end();
    if (!known) {
      return InvalidArgument(fmt::format("host '{}' is not one of {}'s hosts in {}",
                                         EscapeForDisplay(host), prep.system->name, environment));
    }
  }
  DeploymentRequest request;
  request.change_request = cr_id;
  request.system = prep.system;
  request.environment = prep.environment;
  request.package = prep.package;
  request.hosts = std::move(hosts);
  request.run_regression = config_.PreviousEnvironment(environment) != nullptr &&
                           config_.NextEnvironment(environment) != nullptr;
  // The availability and users-affected triggers measure over a window at the end (§6.1).
  const Thresholds& thresholds = prep.environment->thresholds;
  std::vector<TriggerPolicy> policies =
      TriggerPoliciesFor(config_, *prep.system, *prep.environment);
  bool observed = false;
  for (TriggerKind kind : {TriggerKind::kAvailability, TriggerKind::kUsersAffected}) {
    const TriggerPolicy* policy = FindPolicy(policies, kind);
    observed = observed || (policy != nullptr && policy->action != TriggerAction::kOff);
  }
  if (observed && thresholds.observe_window > Seconds(0) && prep.system->port > 0 &&
      !prep.system->endpoints.empty()) {
    request.observe_window = thresholds.observe_window;
    request.observe_interval =
        std::clamp<Seconds>(thresholds.observe_window / 10, Seconds(1), Seconds(30));
  }
  request.emergency = emergency;
  ASSIGN_OR_RETURN(prep.plan, BuildDeploymentPlan(request));
  return prep;
}

Result<std::vector<Evidence>> DeployService::RecordRunEvidence(const std::string& run_id,
                                                               const std::string& actor) {
  std::vector<Evidence> evidence;
  RETURN_IF_ERROR(store_.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(Run run, txn.GetRun(run_id));
    if (run.change_request.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest(run.change_request));
    ASSIGN_OR_RETURN(evidence, RunEvidence(txn, run, cr));
    if (RecordedFor(cr, run.id)) {
      // Recorded when the run ended: what was recorded then.
      std::set<std::string> kinds;
      for (const Evidence& e : evidence) kinds.insert(e.kind);
      evidence.clear();
      for (const Evidence& e : cr.evidence) {
        if (e.run_id == run.id && kinds.contains(e.kind)) evidence.push_back(e);
      }
      return Status::Ok();
    }
    Timestamp now = clock_.Now();
    ASSIGN_OR_RETURN(std::vector<CrTransition> steps,
                     EvidenceTransitions(config_, cr, evidence, actor, now));
    return Apply(txn, steps, actor, now);
  }));
  return evidence;
}

std::function<Status(Transaction&, const Run&)> DeployService::RunEvidenceOnFinish(
    const std::string& actor) const {
  return [&config = config_, actor](Transaction& txn, const Run& run) -> Status {
    if (run.change_request.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(Plan plan, PlanFromJson(run.plan_json));
    if (!HasPhase(plan, "rollout")) return Status::Ok();
    ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest(run.change_request));
    if (RecordedFor(cr, run.id)) return Status::Ok();
    ASSIGN_OR_RETURN(std::vector<Evidence> evidence, RunEvidence(txn, run, cr));
    Timestamp now = run.finished_at.value_or(run.created_at);
    Result<std::vector<CrTransition>> steps = EvidenceTransitions(config, cr, evidence, actor, now);
    // The CR refuses evidence (closed, cancelled): RecordRunEvidence afterwards says why; the
    // run's end is recorded all the same.
    if (!steps.ok()) return Status::Ok();
    return Apply(txn, *steps, actor, now);
  };
}

Result<DeployService::DeploymentRecord> DeployService::LatestDeployment(
    const std::string& cr_id, const std::string& environment) {
  DeploymentRecord record;
  bool found = false;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(std::vector<RunSummary> runs, txn.ListRuns(std::nullopt));
    for (const RunSummary& summary : runs) {  // newest first
      if (summary.change_request != cr_id || summary.environment != environment) continue;
      ASSIGN_OR_RETURN(Run run, txn.GetRun(summary.id));
      Result<Plan> run_plan = PlanFromJson(run.plan_json);
      if (!run_plan.ok() || !HasPhase(*run_plan, "rollout")) continue;
      record.run = std::move(run);
      record.plan = std::move(run_plan).value();
      ASSIGN_OR_RETURN(record.steps, txn.ListStepExecutions(summary.id));
      found = true;
      break;
    }
    return Status::Ok();
  }));
  if (!found) {
    return NotFound(
        fmt::format("{} was never deployed to {}: nothing to roll back", cr_id, environment));
  }
  return record;
}

Result<DeploymentPreparation> DeployService::PrepareRollback(const std::string& cr_id,
                                                             const std::string& environment,
                                                             const std::string& actor) {
  const Environment* env = config_.FindEnvironment(environment);
  if (env == nullptr) {
    return NotFound(fmt::format("unknown environment '{}'", EscapeForDisplay(environment)));
  }
  const auto& roles = env->rollback_approver_roles;
  bool allowed = roles.empty() || std::any_of(roles.begin(), roles.end(), [&](const auto& role) {
                   return config_.PersonHasRole(actor, role);
                 });
  if (!allowed) {
    return PermissionDenied(
        fmt::format("{} may not roll back {}: it takes {} (playbook 6.1 step 3)", actor,
                    environment, Join(roles, " and ")));
  }
  return PrepareRollbackPlan(cr_id, environment);
}

Result<DeploymentPreparation> DeployService::PrepareRollbackPlan(const std::string& cr_id,
                                                                 const std::string& environment,
                                                                 bool database_only) {
  DeploymentPreparation prep;
  prep.environment = config_.FindEnvironment(environment);
  if (prep.environment == nullptr) {
    return NotFound(fmt::format("unknown environment '{}'", EscapeForDisplay(environment)));
  }
  CrService crs(config_, store_, clock_, zone_);
  ASSIGN_OR_RETURN(prep.cr, crs.Get(cr_id));
  prep.system = config_.FindSystem(prep.cr.system);
  if (prep.system == nullptr) {
    return NotFound(fmt::format("{}: system {} is not in the configuration", cr_id,
                                EscapeForDisplay(prep.cr.system)));
  }
  ASSIGN_OR_RETURN(DeploymentRecord deployment, LatestDeployment(cr_id, environment));
  const Plan& plan = deployment.plan;
  RollbackSource source;
  // As the deployment's steps knew their run (ROLLGATE_RUN): the id and the plan's instance.
  source.deployment_run =
      plan.instance.empty() ? deployment.run.id : deployment.run.id + "-" + plan.instance;
  std::set<std::string> changed;
  for (const StepExecution* e : Latest(deployment.steps)) {
    const StepSpec& spec = plan.phases.at(e->phase).steps.at(e->step);
    auto facts = ParseFacts(e->output_tail);
    if (spec.name == "backup-app" && e->state == StepState::kSucceeded) {
      changed.insert(e->host);
      source.app_archive = facts["location"];
    } else if (spec.name == "backup-config" && e->state == StepState::kSucceeded) {
      source.config_archive = facts["location"];
    } else if (spec.name == "backup-database" && e->state == StepState::kSucceeded) {
      source.database_dump = facts["location"];
      source.database_sha256 = facts["sha256"];
      source.database_info = facts["info"];
      if (facts.contains("schema_version")) source.schema_version = facts["schema_version"];
    } else if (spec.name == "migrate" && !facts["applied"].empty()) {
      source.restore_database = true;
    } else if (spec.name == "integrity-before" && e->state == StepState::kSucceeded) {
      auto param = [&](const char* key) {
        auto it = spec.params.find(key);
        return it == spec.params.end() ? std::string() : it->second;
      };
      source.counts_state_dir = param("state_dir");
      source.counts_label = param("label");
      for (const std::string& table : Split(param("tables"), '\n')) {
        if (!Trim(table).empty()) source.counts_tables.emplace_back(Trim(table));
      }
    }
  }
  for (const std::string& host : plan.hosts) {
    if (changed.contains(host)) source.hosts.push_back(host);
  }
  if (database_only && !source.restore_database) {
    return InvalidArgument(fmt::format(
        "{}'s deployment {} to {} did not change the database: there is no database to restore",
        cr_id, deployment.run.id, environment));
  }
  RollbackRequest request;
  request.change_request = cr_id;
  request.system = prep.system;
  request.environment = prep.environment;
  request.source = std::move(source);
  // A person decided to restore a held database: restore it, the writes are in the saved dump.
  request.on_writes = database_only ? "restore" : prep.system->on_writes_since_backup;
  request.database_only = database_only;
  ASSIGN_OR_RETURN(prep.plan, BuildRollbackPlan(request));
  return prep;
}

Result<Evidence> DeployService::RecordRollbackEvidence(
    const std::string& run_id, const std::string& reason, const std::string& actor,
    const std::map<std::string, std::string>& fields) {
  Run run;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(run, txn.GetRun(run_id));
    return Status::Ok();
  }));
  Evidence e;
  e.environment = run.environment;
  e.kind = kEvidenceRollback;
  e.run_id = run.id;
  e.at = run.finished_at.value_or(clock_.Now());
  e.passed = run.state == RunState::kSucceeded;
  if (run.started_at && run.finished_at) {
    e.value = static_cast<double>(
        std::chrono::duration_cast<Seconds>(*run.finished_at - *run.started_at).count());
  }
  e.detail = fmt::format("{} {}: {}{}", run.id, RunStateName(run.state), run.message,
                         reason.empty() ? "" : "; reason: " + reason);
  e.fields = {{"run", run.id}, {"reason", reason}};
  e.fields.insert(fields.begin(), fields.end());
  // The deployment this rollback undid: the latest one of the CR in the environment.
  if (Result<DeploymentRecord> undone = LatestDeployment(run.change_request, run.environment);
      undone.ok()) {
    e.fields["deployment_run"] = undone->run.id;
  }
  // Who ordered it, or that nobody had to (an immediate trigger): in the line people read.
  if (auto it = e.fields.find("authorisation"); it != e.fields.end() && !it->second.empty()) {
    e.detail += "; authorisation: " + it->second;
  }
  if (e.fields.contains("database") && e.fields.at("database") == "held") {
    e.detail +=
        fmt::format("; DATABASE RESTORE HELD: {} writes since the backup, current data saved to {}",
                    e.fields.at("writes_since_backup"), e.fields["current_dump"]);
  }
  e.recorded_by = actor;
  CrService crs(config_, store_, clock_, zone_);
  RETURN_IF_ERROR(crs.RecordEvidence(run.change_request, e, actor).status());
  return e;
}

Result<std::vector<Evidence>> DeployService::Notify(const std::string& cr_id,
                                                    const std::string& environment,
                                                    const Message& message,
                                                    const std::string& run_id,
                                                    const std::string& actor) {
  const Environment* env = config_.FindEnvironment(environment);
  if (env == nullptr) return std::vector<Evidence>{};
  return Notify(cr_id, environment, env->notification, message, run_id, actor, {}, {});
}

Result<std::vector<Evidence>> DeployService::Notify(
    const std::string& cr_id, const std::string& environment, const NotificationRule& rule,
    const Message& message, const std::string& run_id, const std::string& actor,
    const std::vector<NotificationRecipient>& recipients,
    const std::map<std::string, std::string>& fields) {
  NotificationService notifications(config_, store_, clock_, zone_);
  return notifications.Send(cr_id, environment, rule, message, run_id, actor, recipients, fields);
}

Result<std::vector<Evidence>> DeployService::RecordFinishedRun(const std::string& run_id,
                                                               const std::string& actor) {
  Run run;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(run, txn.GetRun(run_id));
    return Status::Ok();
  }));
  if (run.change_request.empty() || !IsFinal(run.state) ||
      run.state == RunState::kPausedForPerson) {
    return std::vector<Evidence>{};
  }
  ASSIGN_OR_RETURN(Plan plan, PlanFromJson(run.plan_json));
  if (HasPhase(plan, "rollout")) return RecordRunEvidence(run_id, actor);
  if (HasPhase(plan, "restore")) {
    ASSIGN_OR_RETURN(Evidence e, RecordRollbackEvidence(run_id, "resumed by " + actor, actor));
    return std::vector<Evidence>{e};
  }
  return std::vector<Evidence>{};
}

}  // namespace rollgate
