// What the API asks of whoever executes runs for `rollgate serve` (cli/serve_runs.h assembles
// the transports and the rollback runner; the API only validates, authorises and answers).
//
// Start* return once the run exists (its id), or once the request was refused or decided
// without a run (a rollback still awaiting a joint authorisation); the run itself goes on in the
// background, in the server's process, and is resumed by the next start of the server if it
// stopped. Every method is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "domain/triggers.h"

namespace rollgate::server {

struct RunStarted {
  std::string run_id;                 // empty when no run was started (see awaiting)
  std::vector<std::string> awaiting;  // rollback: roles whose authorisation is still missing
};

class RunControl {
 public:
  virtual ~RunControl() = default;

  // `deploy CR --env ENV [--emergency]` for `actor`: RefusedByGate, PermissionDenied, NotFound,
  // Conflict (the system is being changed in that environment) as the CLI reports them;
  // Unavailable once the server is stopping.
  virtual Result<RunStarted> StartDeployment(const std::string& cr, const std::string& environment,
                                             bool emergency, const std::string& actor) = 0;
  // `rollback CR --env ENV --reason R` for `actor` (the runner checks the rollback roles and
  // the joint authorisation).
  virtual Result<RunStarted> StartRollback(const std::string& cr, const std::string& environment,
                                           const std::string& reason, const std::string& actor) = 0;
  // Asks the run to stop: at once when this server executes it, else as `run cancel` does, in the
  // background. NotFound for an unknown run; Conflict for a finished one.
  virtual Status Cancel(const std::string& run_id, const std::string& actor) = 0;
  // `decide CR --env ENV rollback|continue --reason R` for `actor` (playbook §6.1, evaluate):
  // the rollback run for "rollback" (or the roles still awaited), no run for "continue".
  // NotFound when no decision is pending; PermissionDenied as the runner decides.
  virtual Result<RunStarted> Decide(const std::string& cr, const std::string& environment,
                                    const std::string& decision, const std::string& reason,
                                    const std::string& actor) = 0;
  // Acts on the triggers an imported advisory fired on a deployment (`patch import`): a rollback
  // at once for action rollback (its run), a page for a decision for evaluate (no run).
  virtual Result<RunStarted> RespondToFirings(const std::string& cr, const std::string& environment,
                                              const std::vector<TriggerFiring>& firings,
                                              const std::string& actor) = 0;
};

}  // namespace rollgate::server
