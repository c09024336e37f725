// Backups known to restore (playbook §2.4 step 3, "Test backup restoration ... Document restore
// time for RTO planning"): `rollgate backup verify CR --env ENV [--restore]`.
//
// The backups checked are those of the CR's latest deployment to the environment, where that
// deployment left them: the database dump on the host that took it, the application and
// configuration archives on every host it changed. A run of two step types
// (engine/steps/verify_backup_postgres.cc, verify_backup_files.cc) checks them there:
//   database  the dump's SHA-256 against the one recorded at backup time, `pg_restore --list`;
//             with restore, the dump restored into a scratch database on the same server
//             (`pg_restore --exit-on-error`), timed, the critical tables' rows counted there and
//             compared with the counts recorded at backup time, the scratch database dropped;
//   files     each archive's SHA-256 against the one recorded on its host, `tar -tzf`; with
//             restore, extracted into a scratch directory, timed, the directory removed.
// The result is recorded on the CR as evidence "backup-verified" (value: the RTO in seconds when
// restored, passed: the verdict) with one audit event.
//
// The RTO is the time a rollback would take to restore these backups: the database's restore
// plus, on the slowest host, its archives' extractions one after another (hosts restore at the
// same time). Only measured when every restore attempted succeeded.
//
// Whether an environment allows it is its setting `backup_verification` (domain/config.h): off
// refuses (RefusedByGate naming the setting); optional and required allow it. With required the
// deployment procedure itself verifies its backups (engine/procedures.h); ReportFromRun reads
// those steps too, so a deployment run can be judged the same way.
//
// Thread-safety: one BackupVerifier per command; not shared between threads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/run.h"
#include "engine/executor.h"
#include "engine/plan.h"
#include "engine/progress.h"
#include "engine/step_type.h"
#include "store/store.h"
#include "transport/transport.h"

namespace rollgate {

// The evidence recorded, kEvidenceBackupVerified (domain/change_request.h): passed = verified,
// value = RTO seconds (restore) or none (cheap check), fields: run, deployment_run, mode
// (restore | list), database, files, counts, checksums, database_restore_seconds,
// files_restore_seconds, rto_seconds, scratch_removed, failed_checks.

// The backups a deployment left (read from its steps' facts and params).
struct BackupSet {
  std::string deployment_run;  // the run's id
  std::string run_key;         // what its steps named files by: "<id>-<plan instance>"
  // backup-database (empty dump: the deployment took none).
  std::string database_host, database_dump, database_sha256;
  // integrity-before: the counts recorded at backup time (no tables: none were).
  std::vector<std::string> counts_tables;
  std::string counts_state_dir, counts_label;
  // backup-app, backup-config: one per host and archive.
  struct Archive {
    std::string label;  // "app", "config"
    std::string host;
    std::string location;
    std::string sha256;
  };
  std::vector<Archive> archives;
  // The hosts that hold a backup, in the deployment plan's order, the database's host first.
  std::vector<std::string> hosts;

  bool empty() const { return database_dump.empty() && archives.empty(); }
};

// What `run` (a deployment of `plan`) backed up: its backup steps that succeeded (latest attempt).
BackupSet BackupsOfDeployment(const Plan& plan, const Run& run,
                              const std::vector<StepExecution>& steps);

// The plan of a verification run: phase "verify-database" (one host, the dump's) with step
// "verify-database" (verify-backup-postgres: the dump, its recorded SHA-256, with `restore` the
// critical tables and the counts of the deployment's run), then phase "verify-files" on every
// host with one verify-backup-files step per archive ("verify-app", "verify-config"; each host
// checks the SHA-256 recorded on it). Every step has on_failure=report: a failed check is reported
// in its facts and the run goes on to check every other backup; every host is checked even when
// another one could not be reached.
// InvalidArgument when `backups` is empty.
Result<Plan> BuildBackupVerifyPlan(const std::string& change_request, const System& system,
                                   const Environment& environment, const BackupSet& backups,
                                   bool restore);

// One check the verification made, for people and for --output json.
struct BackupCheck {
  // database-backup, database-checksum, database-list, database-restore, record-counts,
  // scratch-database; files-backup, files-checksum, files-list, files-restore, files-compare,
  // scratch-directory.
  std::string name;
  std::string host;
  std::string target;  // the dump or archive (as configured)
  bool passed = false;
  std::string detail;
};

struct TableCount {
  std::string table;
  long long restored = 0;             // -1: missing from the restored copy
  std::optional<long long> recorded;  // at backup time; none when not recorded
};

struct BackupVerificationReport {
  std::string change_request, environment;
  std::string deployment_run;  // whose backups
  std::string run;             // the verification run (or the deployment, for its own steps)
  RunState run_state = RunState::kPending;
  std::string run_message;
  bool restore = false;  // restored into scratch copies, or the cheap check only
  bool verified = false;
  std::optional<double> rto_seconds;
  std::optional<double> database_restore_seconds;
  std::optional<double> files_restore_seconds;  // the slowest host's archives, one after another
  std::string database;                         // the dump checked (empty: none)
  std::vector<std::string> files;               // the archives checked (distinct locations)
  std::vector<TableCount> counts;
  std::vector<BackupCheck> checks;
  bool scratch_removed = true;  // every scratch database and directory made was removed
};

// Reads what the verify-backup-postgres and verify-backup-files steps of `run` found (their
// latest attempts; by step type, so a deployment with backup_verification: required is read the
// same way). Pure. verified: the run succeeded, at least one check was made and every check
// passed.
BackupVerificationReport ReportFromRun(const Plan& plan, const Run& run,
                                       const std::vector<StepExecution>& steps);

// The backup-verified evidence of `report` (environment, run, verdict, RTO, detail, fields).
Evidence BackupVerifiedEvidence(const BackupVerificationReport& report, Timestamp at);

class BackupVerifier {
 public:
  BackupVerifier(const Config& config, Store& store, const Clock& clock, const TimeZone& zone)
      : config_(config), store_(store), clock_(clock), zone_(zone) {}

  struct Preparation {
    ChangeRequest cr;
    const System* system = nullptr;
    const Environment* environment = nullptr;
    std::string transport;  // the one the deployment used ("ssh", "local" ...)
    BackupSet backups;
    Plan plan;
    bool restore = false;
  };

  // Finds the backups of `cr_id`'s latest deployment to `environment` and builds the plan.
  // NotFound: unknown environment or CR, the CR's system is not configured, the CR was never
  // deployed there or its deployment took no backup. RefusedByGate: the environment's
  // backup_verification is off (the message names the setting).
  Result<Preparation> Prepare(const std::string& cr_id, const std::string& environment,
                              bool restore);

  // What executing a verification takes (borrowed; they must outlive Execute).
  struct VerifyExecution {
    Transport* transport = nullptr;
    const StepTypeTable* types = nullptr;
    Sleeper* sleeper = nullptr;
    ExecutorOptions executor;  // the person (actor) and the process owning the run
    ProgressSink* progress = nullptr;
    // Called with the run id once the run exists; may be empty.
    std::function<void(const std::string&)> created;
    // Wraps Executor::Execute (the CLI turns SIGINT/SIGTERM into a cancel); may be empty.
    std::function<Result<Run>(Executor&, const std::function<Result<Run>()>&)> execute_wrapper;
  };

  // Runs `prep.plan` for the CR (the run is recorded like any other and holds the (system,
  // environment) lock while it runs), reads what it found, records the backup-verified evidence
  // on the CR, and returns the report, with the evidence in `*evidence` when given. A
  // verification that failed is a report with verified false, not an error. Failure:
  // InvalidArgument (plan), Conflict (another run holds the environment), the store's Status.
  Result<BackupVerificationReport> Execute(const Preparation& prep,
                                           const VerifyExecution& execution,
                                           Evidence* evidence = nullptr);

 private:
  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
};

}  // namespace rollgate
