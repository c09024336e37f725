// The playbook's deployment procedures (§3.1 DEV, §3.2 TEST, §3.3 PROD) as plans of step types.
//
// BuildDeploymentPlan composes the steps of engine/steps/ in the playbook's order:
//   readiness (§2.3)   every host: reachable, ≥ N % free disk, dependencies answer, the log mark
//                      and the response-time baseline;
//   transfer           every host: the package uploaded, its SHA-256 checked on the host, and the
//                      whole release unpacked beside the application (migrations, smoke test);
//   database-backup    one host: pg_dump -Fc verified with pg_restore --list, record counts (§2.4);
//                      with backup_verification: required, the dump restored into a scratch
//                      database and its counts compared (verify-database-backup, §2.4 step 3);
//   rollout            in batches (PROD: one node at a time, §3.3 step 4): stop, back up the app
//                      and config directories (with backup_verification: required, each archive
//                      restored into a scratch directory and compared with the directory it was
//                      taken of: verify-app-backup, verify-config-backup), switch the app
//                      directory to the new version,
//                      overlay the configuration, migrate (once: already-recorded versions are
//                      skipped), start, and verify this node's health and smoke test before the
//                      next batch starts;
//   verify             every host: every endpoint, log scan since the readiness mark, response
//                      time against the baseline (§4.1, §4.2); with an observation window,
//                      right after the health check, the availability and error share over that
//                      window (§6.1);
//   database-verify    one host: record counts and unvalidated constraints (§3.3);
//   regression         one host, in the environments between the first and the last (TEST,
//                      §3.2): the regression suite and its JUnit results; never on the
//                      emergency path;
//   targeted-tests     one host, on the emergency path only (§5.3 step 2: smoke test + targeted
//                      tests, no full regression): the system's targeted_tests command, run as a
//                      smoke-test step named "targeted-tests" (every test must pass).
// Step names are stable: the evidence recorder (service/deploy_service) reads results by them.
//
// Pure: no I/O; the package's layout is described by the caller (it inspects the archive).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/config.h"
#include "engine/plan.h"

namespace rollgate {

// What the deployment installs: the accepted package and what its archive holds.
struct PackageLayout {
  std::string local_path;  // the accepted package on this machine
  std::string sha256;
  std::string top;  // the archive's top directory ("demo-1.1.0"), empty when entries are at the top
  bool has_app = false;         // <top>/app/       -> the application directory
  bool has_config = false;      // <top>/config/    -> overlaid on the configuration directory
  bool has_migrations = false;  // <top>/migrations -> postgres-migrate
  std::string version;
};

// Reads a PackageLayout from an archive's entry paths (as ArchiveReport::paths lists them).
PackageLayout LayoutFromPaths(const std::vector<std::string>& paths);

struct DeploymentRequest {
  std::string change_request;
  const System* system = nullptr;
  const Environment* environment = nullptr;
  PackageLayout package;
  std::vector<std::string> hosts;  // default: the system's hosts in the environment
  int concurrency = 10;
  bool run_regression = false;  // the TEST procedure (§3.2)
  // When set, the verify phase has an `observe` step on every host, after `health` (§6.1
  // availability and users-affected triggers): the system's endpoints probed for this long, 1 s to
  // 24 h, every `observe_interval` (shortened to the window when longer), and the error share read
  // from the service's counters when System::metrics names them.
  std::optional<Seconds> observe_window;
  Seconds observe_interval = Seconds(5);
  // The emergency path (§5.3 step 2): targeted tests instead of the full regression.
  bool emergency = false;
};

// The plan of a deployment. InvalidArgument when the system has no hosts in the environment or
// lacks what a step needs (naming it).
Result<Plan> BuildDeploymentPlan(const DeploymentRequest& request);

// What a deployment left to roll back to (the facts and params of its steps; the service reads
// them from the deployment run).
struct RollbackSource {
  std::string deployment_run;
  std::vector<std::string> hosts;           // the hosts the rollout changed (their backups exist)
  std::string app_archive, config_archive;  // backup-files locations (the same on every host)
  std::string database_dump;                // backup-postgres location; empty: no database
  std::string database_sha256;              // backup-postgres sha256; empty: not checked
  // backup-postgres' .info file (its fact "info") and the schema version it recorded (its fact
  // "schema_version"; nullopt when the backup did not report one). With neither, the schema
  // version is read from "<database_dump minus .dump>.info" on the host.
  std::string database_info;
  std::optional<std::string> schema_version;
  bool restore_database = false;  // the deployment changed the database (migrations applied)
  // The record counts taken before the deployment (data-integrity "record", step
  // integrity-before: its params state_dir, label and tables); no tables: none were taken.
  std::string counts_state_dir, counts_label;
  std::vector<std::string> counts_tables;
};

struct RollbackRequest {
  std::string change_request;
  const System* system = nullptr;
  const Environment* environment = nullptr;
  RollbackSource source;
  // When the database was written to since the backup (restore-postgres on_writes): "hold" (the
  // current data is saved, the database is not restored; a person decides) or "restore" (saved,
  // then restored). From System::on_writes_since_backup.
  std::string on_writes = "hold";
  // Only the database: stop the changed nodes, restore and verify the database, start them
  // again. For restoring a database whose restore was held, once a person decided to (with
  // on_writes "restore").
  bool database_only = false;
};

// The rollback of §6.2: stop the changed nodes, restore the database (when the deployment
// changed it), restore the application and configuration directories, start and verify each
// node, then verify the restored database (§6.3: schema version, record counts, constraints).
// InvalidArgument when there is nothing to restore, or on_writes is neither hold nor restore.
Result<Plan> BuildRollbackPlan(const RollbackRequest& request);

// The release directory of a package on a host (without the host root prefix).
std::string ReleaseDirFor(const System& system, const std::string& sha256);

}  // namespace rollgate
