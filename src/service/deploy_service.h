// Deployments of a change request (playbook §3): the gates first, then the procedure's plan for
// the CR's package, and afterwards the run's results recorded on the CR as evidence (§3.1 step 8,
// §4.3 step 1), so that the next environment's gates judge them.
//
// The run itself is executed by engine/executor (the caller owns the transport and the executor):
// Prepare -> Executor::Create/Execute -> RecordRunEvidence.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/deployment_messages.h"
#include "domain/gates.h"
#include "domain/run.h"
#include "engine/plan.h"
#include "engine/procedures.h"
#include "service/notification_service.h"
#include "store/store.h"

namespace rollgate {

struct DeploymentPreparation {
  ChangeRequest cr;
  const System* system = nullptr;
  const Environment* environment = nullptr;
  PackageLayout package;
  Plan plan;
  GateReport gates;
};

// What a finished run says, as evidence for the CR. Pure: reads the plan's step names (see
// engine/procedures.h) and the facts the steps printed.
std::vector<Evidence> EvidenceFromRun(const Plan& plan, const Run& run,
                                      const std::vector<StepExecution>& steps,
                                      const std::string& environment, const std::string& version);

class DeployService {
 public:
  DeployService(const Config& config, Store& store, const Clock& clock, const TimeZone& zone,
                std::filesystem::path packages_dir)
      : config_(config),
        store_(store),
        clock_(clock),
        zone_(zone),
        packages_dir_(std::move(packages_dir)) {}

  // Loads the CR, checks the gates of `environment` (RefusedByGate naming every missing item,
  // with the report in `*gates` when given), finds the CR's accepted package and builds the plan.
  // NotFound for an unknown CR, environment or package; InvalidArgument when the system cannot
  // be deployed (no hosts, no app/ in the package).
  Result<DeploymentPreparation> Prepare(const std::string& cr_id, const std::string& environment,
                                        bool emergency, std::vector<std::string> hosts = {});

  // The latest deployment run of `cr_id` in `environment` (a run whose plan has a rollout
  // phase), with its plan and step executions. NotFound when there is none.
  struct DeploymentRecord {
    Run run;
    Plan plan;
    std::vector<StepExecution> steps;
  };
  Result<DeploymentRecord> LatestDeployment(const std::string& cr_id,
                                            const std::string& environment);

  // The rollback of the latest deployment of `cr_id` to `environment`, from the backups that
  // deployment took (no authorisation check: see service/rollback_runner.h). With
  // `database_only`, only the database restore (one a rollback held) and its verification.
  // NotFound when the CR was never deployed there; InvalidArgument when the deployment left no
  // backup.
  Result<DeploymentPreparation> PrepareRollbackPlan(const std::string& cr_id,
                                                    const std::string& environment,
                                                    bool database_only = false);
  // PrepareRollbackPlan for `actor`: PermissionDenied unless `actor` holds one of the
  // environment's rollback roles (§6.1 step 3; the joint authorisation is the runner's).
  Result<DeploymentPreparation> PrepareRollback(const std::string& cr_id,
                                                const std::string& environment,
                                                const std::string& actor);
  // Records the rollback run's outcome on its CR (evidence "rollback", with the deployment run it
  // undid in field deployment_run and `fields` added).
  Result<Evidence> RecordRollbackEvidence(const std::string& run_id, const std::string& reason,
                                          const std::string& actor,
                                          const std::map<std::string, std::string>& fields = {});

  // Sends `message` through the channels of `environment`'s notification rule, durably
  // (service/notification_service.h): each message is queued in the store, attempted at once and
  // retried by `notify flush` until delivered. Each channel's first outcome is recorded on the
  // CR as "notification" evidence (passed only when delivered) and returned.
  Result<std::vector<Evidence>> Notify(const std::string& cr_id, const std::string& environment,
                                       const Message& message, const std::string& run_id,
                                       const std::string& actor);
  // The same through the channels of `rule`. With `recipients`, each channel delivers once per
  // recipient (one evidence each, with fields person and role); without, once (e-mail to the
  // rule's groups). `fields` are added to every evidence (e.g. audience). Unknown channel names
  // are skipped.
  Result<std::vector<Evidence>> Notify(const std::string& cr_id, const std::string& environment,
                                       const NotificationRule& rule, const Message& message,
                                       const std::string& run_id, const std::string& actor,
                                       const std::vector<NotificationRecipient>& recipients,
                                       const std::map<std::string, std::string>& fields);

  // For a run finished by `run resume`: records what a deployment (a plan with a rollout phase)
  // or a rollback (a restore phase) found, as deploy and rollback do. Nothing for other runs.
  Result<std::vector<Evidence>> RecordFinishedRun(const std::string& run_id,
                                                  const std::string& actor);

  // Records the evidence of `run_id` on its CR (one audit event per item), returns it. When the
  // run's end already recorded it (RunEvidenceOnFinish), returns what was recorded then.
  Result<std::vector<Evidence>> RecordRunEvidence(const std::string& run_id,
                                                  const std::string& actor);

  // For ExecutorOptions::on_finish: records a deployment run's evidence (a plan with a rollout
  // phase) on its CR in the transaction that records the run's end, so a reader never sees the
  // run finished and its CR without the outcome. A CR that refuses evidence (closed, cancelled)
  // is left as it is: RecordRunEvidence afterwards reports why. Store errors fail the commit.
  std::function<Status(Transaction&, const Run&)> RunEvidenceOnFinish(
      const std::string& actor) const;

 private:
  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
  std::filesystem::path packages_dir_;
};

}  // namespace rollgate
