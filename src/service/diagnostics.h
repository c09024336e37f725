// Runs the playbook's §7 troubleshooting tables on the hosts of a failed run (domain/diagnostics.h
// decides which table; this file runs its checks).
//
// Every check is a fixed, read-only POSIX sh script (tail, ls, df, ldd, systemctl status,
// journalctl, ss, free, ps, top, iostat, pg_isready, psql SELECTs in a read-only transaction);
// its inputs (directories, ports, the database URL, table names, the configured configuration
// check) reach the host as RG_* environment variables, never pasted into the script, and the
// database password as the secret PGPASSWORD (on standard input, redacted from the output).
// Each check is bounded by the environment's `diagnostics_timeout` and its output to 16 KiB; no
// status file is written: diagnostics leave nothing on the host. Checks Rollgate answers from the
// run's own record (the failed step's output, the metrics baseline, the connection string) run no
// command.
//
// Thread-safety: a Diagnostician may be used from one thread; it runs the hosts of one report
// concurrently through the (thread-safe) Transport.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/diagnostics.h"
#include "domain/run.h"
#include "domain/triggers.h"
#include "engine/plan.h"
#include "store/store.h"
#include "transport/transport.h"

namespace rollgate {

// What ClassifyFailure needs, read from a run's record: the latest attempt of every step that
// failed or whose outcome is unknown, the triggers that fired, and whether the run changed a node
// (a rollout's backup-app succeeded somewhere; for plans without a rollout, any step succeeded).
FailureFacts FailureFactsFromRun(const Plan& plan, const std::vector<StepExecution>& steps,
                                 const std::vector<TriggerFiring>& fired);

// The ports a failure names ("bind 127.0.0.1:9099: Address already in use", "port 5432"), besides
// the service's own: the ports check looks at each.
std::vector<int> PortsNamedIn(std::string_view output);

struct DiagnoseRequest {
  const System* system = nullptr;
  const Environment* environment = nullptr;
  std::string requested_by;  // "system" for the automatic diagnosis, else the person
  bool automatic = true;
  std::optional<std::string> host;      // only this host (must be one of the plan's)
  std::optional<FailureClass> failure;  // this table instead of the classified one
  std::vector<TriggerFiring> fired;     // the run's triggers, when known
};

class Diagnostician {
 public:
  Diagnostician(Transport& transport, const Clock& clock) : transport_(transport), clock_(clock) {}

  // Classifies the failure of `run` and runs its table on the affected hosts (every host of the
  // plan when the record names none), in the table's order per host. InvalidArgument when
  // `request.host` is not one of the run's hosts or the request has no system/environment.
  // Failing checks are results, not errors: a host that cannot be reached gets one result per
  // check saying so.
  Result<DiagnosticReport> Diagnose(const Run& run, const Plan& plan,
                                    const std::vector<StepExecution>& steps,
                                    const DiagnoseRequest& request) const;

 private:
  Transport& transport_;
  const Clock& clock_;
};

// Who the automatic diagnosis is recorded as.
inline constexpr const char* kDiagnosticsActor = "system";

// Stores `report` with its audit event ("run.diagnosed" on the run: failure, resolution, hosts)
// in one transaction; returns the report's id.
Result<int64_t> StoreDiagnosticReport(Store& store, const DiagnosticReport& report);

// The "diagnosis" evidence of `report` for its CR: passed false, detail DiagnosisSummary, fields
// failure, resolution, run, report (id), hosts and highlights (the first few, "; "-joined).
Evidence DiagnosisEvidence(const DiagnosticReport& report, const std::string& environment);

// The check scripts by id, for --dry-run style listings and tests: the script as sent (without
// the prelude), or empty for checks answered from the record.
std::string DiagnosticScript(std::string_view check);

}  // namespace rollgate
