// Deployments with their rollback triggers, and rollbacks (playbook §3.3, §6): the part of
// `deploy` and `rollback` that runs plans, shared by the CLI and the enhanced-monitoring watch.
//
// Deploy: gates, plan, run; then the run's triggers (TriggersFromRun) are recorded on the run's
// CR; an immediate trigger rolls the changed hosts back at once, without authorisation (the
// record says so); an evaluate trigger pages the on-call contact and waits for `decide` until
// its deadline, then applies the default.
// Rollback: authorised jointly by the environment's rollback roles (§6.1 step 3) unless a
// trigger fired it; messages at the start (§6.4 step 1, within 5 minutes), every 15 minutes
// while it lasts (step 2), and at completion (step 3), each recorded on the CR.
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
};

// What a deploy or rollback did, for the CLI to print.
struct RunnerOutcome {
  Run run;                            // the deployment run (or the rollback run for rollback)
  std::vector<Evidence> evidence;     // recorded on the CR by this call, in order
  std::vector<TriggerFiring> fired;   // triggers of the deployment run
  std::optional<Run> rollback;        // the rollback run, when one ran
  std::string decision;               // "rollback", "continue" (evaluate), or empty
  std::vector<std::string> awaiting;  // rollback: roles whose authorisation is still missing
};

class RollbackRunner {
 public:
  RollbackRunner(const Config& config, Store& store, const Clock& clock, const TimeZone& zone,
                 std::filesystem::path packages_dir, Transport& transport,
                 const StepTypeTable& types, Sleeper& sleeper, ProgressSink* progress,
                 RunnerOptions options);

  // `deploy CR --env ENV [--emergency]`: RefusedByGate when a gate fails; otherwise runs the
  // procedure, records its evidence and triggers, and acts on them. `created` is called with the
  // run id once the run exists (the CLI prints it and arranges interrupts).
  Result<RunnerOutcome> Deploy(const std::string& cr_id, const std::string& environment,
                               bool emergency, const std::string& actor,
                               const std::function<void(Executor&, const std::string&)>& created);

  // `rollback CR --env ENV`: records `actor`'s authorisation; runs the rollback once every role of
  // the environment's rollback_approver_roles has authorised it (distinct people), otherwise
  // returns with `awaiting` naming the roles still missing. PermissionDenied when `actor` holds
  // none of the roles (or only roles already given by someone else).
  Result<RunnerOutcome> AuthorisedRollback(
      const std::string& cr_id, const std::string& environment, const std::string& actor,
      const std::string& reason, const std::function<void(Executor&, const std::string&)>& created);

  // Rolls `environment` back at once because `firings` fired (immediate action, or an evaluate
  // trigger decided or defaulted to rollback): no authorisation; the record says which trigger
  // fired, with its measurement. Used by Deploy and by the watch.
  Result<RunnerOutcome> AutomaticRollback(const std::string& cr_id, const std::string& environment,
                                          const std::vector<TriggerFiring>& firings);

 private:
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
