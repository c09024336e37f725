// Deployments with their rollback triggers, and rollbacks (playbook §3.3, §6): the part of
// `deploy` and `rollback` that runs plans, shared by the CLI and the enhanced-monitoring watch.
//
// Deploy: gates, plan, run; then the run's triggers (TriggersFromRun) and, when the system names
// a Prometheus Alertmanager, its critical alerts (evidence "alerts", trigger critical-alerts) are
// recorded on the run's CR; an immediate trigger rolls the changed hosts back at once, without
// authorisation (the record says so); an evaluate trigger pages the on-call contact and waits for
// `decide` until its deadline, then applies the default. Rollback: authorised jointly by the
// environment's rollback roles (§6.1 step 3) unless a trigger fired it; messages at the start (§6.4
// step 1, within 5 minutes), every 15 minutes while it lasts (step 2), and at completion (step 3),
// each recorded on the CR.
//
// Thread-safety: one runner per command or watch cycle; not shared between threads.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "domain/run.h"
#include "domain/triggers.h"
#include "engine/executor.h"
#include "engine/plan.h"
#include "engine/progress.h"
#include "engine/step_type.h"
#include "service/alertmanager_query.h"
#include "service/deploy_service.h"
#include "service/diagnostics.h"
#include "store/store.h"
#include "transport/transport.h"

namespace rollgate {

// The triggers a finished deployment run fired (pure): a failed rollout step on a changed node
// (deployment-failed), failed node-health/health (health), smoke, integrity (data-integrity),
// the metrics step's flagged degradation (response-time), the observe step's availability and
// error share (availability, users-affected). Steps of phases before the rollout changed nothing
// and fire nothing. kOff policies fire nothing.
std::vector<TriggerFiring> TriggersFromRun(const Plan& plan, const Run& run,
                                           const std::vector<StepExecution>& steps,
                                           const std::vector<TriggerPolicy>& policies,
                                           const Thresholds& thresholds);

struct RunnerOptions {
  std::string transport = "ssh";  // recorded on runs, for resume
  int concurrency = 10;
  std::vector<std::string> hosts;  // deploy: only these of the environment's hosts
  // How long `deploy` waits for a decision on an evaluate trigger before the default applies
  // (the policy's deadline; tests shorten it). Polls the store every `decision_poll`.
  Seconds decision_poll = std::chrono::seconds(2);
  Seconds progress_every = std::chrono::minutes(15);  // §6.4 step 2
  ExecutorOptions executor;                           // the owner recorded on runs
  // Wraps every Executor::Execute (the CLI turns SIGINT/SIGTERM into a cancel); default: none.
  std::function<Result<Run>(Executor&, const std::function<Result<Run>()>&)> execute_wrapper;
  // Called with each run id once the run exists (the CLI prints it).
  std::function<void(const std::string&)> created;
  // Called once a deployment to the last environment succeeded (the watch starts there) and when
  // a post-incident review becomes due; may be empty.
  std::function<Status(const std::string& cr, const std::string& env, const Run& run)> on_deployed;
  // Asks the system's Alertmanager after a successful deployment (System::alertmanager, §4.2);
  // empty: the real one (service/alertmanager_query.h).
  AlertmanagerCheck alertmanager;
  // Called when `deploy` starts waiting for a decision on an evaluate trigger.
  std::function<void(Timestamp deadline, const std::string& triggers)> paused;
};

// What a deploy or rollback did, for the CLI to print.
// Forwards progress to `next` and calls `send` (the §6.4 step 2 update) at the first event after
// `every` has passed since the start or the last update, with the step under way and the
// failures seen so far ("; "-joined). Nothing is sent once the run finished: the completion
// message follows instead.
class RollbackProgress final : public ProgressSink {
 public:
  RollbackProgress(ProgressSink* next, const Clock& clock, Seconds every,
                   std::function<void(const std::string& step, const std::string& issues)> send);
  void OnEvent(const ProgressEvent& event) override;

 private:
  ProgressSink* next_;
  const Clock& clock_;
  Seconds every_;
  std::function<void(const std::string&, const std::string&)> send_;
  Timestamp last_;
  std::string step_;
  std::vector<std::string> issues_;
};

struct RunnerOutcome {
  Run run;                            // the deployment run (or the rollback run for rollback)
  std::vector<Evidence> evidence;     // recorded on the CR by this call, in order
  std::vector<TriggerFiring> fired;   // triggers of the deployment run
  std::optional<Run> rollback;        // the rollback run, when one ran
  std::string decision;               // "rollback", "continue" (evaluate), or empty
  std::vector<std::string> awaiting;  // rollback: roles whose authorisation is still missing
  std::optional<DiagnosticReport> diagnosis;  // §7: when the deployment failed or fired triggers
};

class RollbackRunner {
 public:
  RollbackRunner(const Config& config, Store& store, const Clock& clock, const TimeZone& zone,
                 std::filesystem::path packages_dir, Transport& transport,
                 const StepTypeTable& types, Sleeper& sleeper, ProgressSink* progress,
                 RunnerOptions options);

  // `deploy CR --env ENV [--emergency]`: RefusedByGate when a gate fails; otherwise runs the
  // procedure, records its evidence and triggers, diagnoses a failure (playbook §7: the table of
  // its class on the affected hosts, stored with the run, "diagnosis" evidence on the CR, the
  // table's escalation paged) before acting on the triggers; a data-integrity concern is rolled
  // back at once whatever the trigger's policy (§7.4).
  Result<RunnerOutcome> Deploy(const std::string& cr_id, const std::string& environment,
                               bool emergency, const std::string& actor);

  // `rollback CR --env ENV`: records `actor`'s authorisation; runs the rollback once every role of
  // the environment's rollback_approver_roles has authorised it (distinct people), otherwise
  // returns with `awaiting` naming the roles still missing. PermissionDenied when `actor` holds
  // none of the roles (or only roles already given by someone else). With `database_only`, the
  // database restore a rollback held (writes since the backup) is carried out.
  Result<RunnerOutcome> AuthorisedRollback(const std::string& cr_id, const std::string& environment,
                                           const std::string& actor, const std::string& reason,
                                           bool database_only = false);

  // Rolls `environment` back at once because `firings` fired (immediate action, or an evaluate
  // trigger decided or defaulted to rollback): no authorisation; the record says which trigger
  // fired, with its measurement. Used by Deploy and by the watch. `decided_by` names the person
  // who decided an evaluate trigger, empty for an immediate one or a deadline's default.
  Result<RunnerOutcome> AutomaticRollback(const std::string& cr_id, const std::string& environment,
                                          const std::vector<TriggerFiring>& firings,
                                          const std::string& decided_by = "");

  // `decide CR --env ENV rollback|continue`: a person's decision on the evaluate triggers pending
  // there (recorded as trigger-decision evidence); "rollback" then rolls back at once.
  // PermissionDenied unless `actor` holds one of the environment's rollback roles or is the
  // on-call contact's primary or backup; NotFound when no decision is pending.
  Result<RunnerOutcome> Decide(const std::string& cr_id, const std::string& environment,
                               const std::string& actor, const std::string& decision,
                               const std::string& reason);

  // Pages for a decision on the evaluate triggers pending for `run_id` in `environment` (recorded
  // by the watch or `patch import`): the [DECISION NEEDED] message with their deadline.
  Result<std::vector<Evidence>> PageForDecision(const std::string& cr_id,
                                                const std::string& environment,
                                                const std::string& run_id);

  // Applies the default of every pending evaluate trigger whose deadline has passed (the watch
  // and `deploy` call it). Returns what it did, one outcome per (CR, environment).
  Result<std::vector<RunnerOutcome>> ApplyDueDecisions();

  // `rollback CR --env ENV --rehearse` (DEV or TEST): deploys the CR, rolls it back at once and
  // records how long the rollback took (evidence rollback-tested, value = seconds), which the
  // gate "rollback plan documented and tested" of PROD and the emergency path read.
  Result<RunnerOutcome> Rehearse(const std::string& cr_id, const std::string& environment,
                                 const std::string& actor);

 private:
  Result<Run> ExecutePlan(const Plan& plan, const ChangeRequest& cr, const std::string& environment,
                          const std::string& actor,
                          const std::function<Status(const std::string&)>& created,
                          ProgressSink* sink);
  // Runs and records the §7 diagnostics of a failed deployment run; pages the table's escalation.
  Result<DiagnosticReport> DiagnoseDeployment(const DeploymentPreparation& prep, const Run& run,
                                              const std::vector<StepExecution>& steps,
                                              const std::vector<TriggerFiring>& fired,
                                              std::vector<Evidence>& evidence);
  Result<RunnerOutcome> AwaitDecision(const DeploymentPreparation& prep, const Run& run,
                                      DeploymentFacts facts);
  Result<RunnerOutcome> RunRollback(const DeploymentPreparation& prep, const std::string& actor,
                                    const std::string& reason, const std::string& approved_by,
                                    const std::map<std::string, std::string>& fields);

  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
  std::filesystem::path packages_dir_;
  Transport& transport_;
  const StepTypeTable& types_;
  Sleeper& sleeper_;
  ProgressSink* progress_;
  RunnerOptions options_;
};

}  // namespace rollgate
