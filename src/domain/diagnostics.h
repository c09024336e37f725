// Diagnostics on failure (playbook §7): what an engineer does at 3 a.m. when a step fails, done
// by Rollgate before anyone is paged.
//
// A failed run (or a run whose rollback triggers fired) is classified into one of the §7 issues
// (ClassifyFailure); each issue has its table (TableFor): the read-only checks to run on the
// affected hosts, in the playbook's order, and the resolution it prescribes. The checks' scripts
// live in service/diagnostics.h; this file decides what to run, what matters in the output
// (Highlights) and what to do next (ResolutionFor).
//
// Pure: no I/O, thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "domain/deployment_messages.h"

namespace rollgate {

// The §7 issues.
enum class FailureClass {
  kDeploymentStep,      // 7.1 deployment script fails
  kServiceStart,        // 7.1 service won't start after patch
  kMigration,           // 7.1 database migration fails
  kApplicationErrors,   // 7.2 application errors after patch
  kDependencyConflict,  // 7.2 dependency conflicts
  kPerformance,         // 7.3 application slow after patch
  kHighMemory,          // 7.3 high memory usage
  kDataIntegrity,       // 7.4 data inconsistency after patch
  kDatabaseConnection,  // 7.4 database connection failures
};
// "deployment-step-failed", "service-wont-start", "migration-failed", "application-errors",
// "dependency-conflict", "performance-degradation", "high-memory", "data-integrity",
// "database-connection".
std::string_view FailureClassName(FailureClass c);
Result<FailureClass> ParseFailureClass(std::string_view name);
std::vector<FailureClass> AllFailureClasses();

// What the table prescribes once the checks are done.
enum class Resolution {
  // Transient failures (7.1 step 6, 7.4 connections) are retried by the engine while the run
  // goes on (idempotent steps, within the environment's `transient_retries` budget); what is
  // still failing afterwards gets one of these.
  kRollback,              // unresolvable: roll back the changed nodes (7.1, 7.2, 7.3)
  kHalt,                  // nothing was changed: stop here, the environment is as it was
  kHaltRollbackEscalate,  // 7.4 data inconsistency: halt, change nothing, roll back, DBA lead
};
// "rollback", "halt", "halt-rollback-escalate".
std::string_view ResolutionName(Resolution r);

// One read-only check of a table. `id` names the script (service/diagnostics.cc) or a check
// Rollgate answers from the run's own record ("step-output", "baseline", "connection-string").
struct DiagnosticCheck {
  std::string id;
  std::string title;  // the playbook's step in words: "Verify disk space (df -h)"
};

struct DiagnosticTable {
  FailureClass failure = FailureClass::kDeploymentStep;
  std::string section;  // "7.1"
  std::string issue;    // "Service won't start after patch"
  std::vector<DiagnosticCheck> checks;
  std::string resolution;   // the table's last steps, in words
  std::string escalate_to;  // a role to page once diagnosed ("dba-lead"), or empty
};

// The table of `failure`, as §7 lists it.
const DiagnosticTable& TableFor(FailureClass failure);

// A failed (or unknown) step execution, as the classifier sees it.
struct FailedStep {
  std::string phase;
  std::string step;  // the step's name in its phase ("start", "migrate")
  std::string type;  // its step type ("service", "postgres-migrate")
  std::string host;
  int exit_code = -1;
  bool timed_out = false;
  std::string output;         // the output tail
  int attempts = 1;           // attempts made
  bool changed_node = false;  // the step belongs to a phase that changes the node (rollout ...)
};

struct FailureFacts {
  std::vector<FailedStep> failed;          // in the order they ran
  std::vector<TriggerKind> fired;          // rollback triggers that fired
  std::vector<std::string> trigger_hosts;  // where they fired (may be empty)
  bool changed = false;                    // the run changed at least one node
};

struct Diagnosis {
  FailureClass failure = FailureClass::kDeploymentStep;
  std::string reason;              // why this class, in one sentence
  std::vector<std::string> hosts;  // the affected hosts, in order
  bool transient = false;          // the failure looks transient (connection reset ...)
  std::string transient_match;     // the text that made it look transient
  int attempts = 1;                // attempts of the failed step
};

// The §7 issue a run's failure belongs to. Data integrity first (§7.4 halts everything), then
// database connections, then what the failed step and its output say, then the triggers.
Diagnosis ClassifyFailure(const FailureFacts& facts);

// The output of a failed attempt looks transient: connection reset or refused by a peer that is
// restarting, a timeout, a lock held by someone else, a resource temporarily unavailable. When it
// does and `match` is given, the matching text is stored there.
bool LooksTransient(std::string_view output, std::string* match = nullptr);

// What the run does after diagnosing: a transient failure was retried (the engine retries
// idempotent steps within the environment's `transient_retries` budget) — if it still failed,
// the table's own resolution applies; nothing changed: halt; otherwise the table's resolution.
struct ResolutionDecision {
  Resolution resolution = Resolution::kRollback;
  std::string detail;  // in words, naming the playbook step
};
ResolutionDecision ResolutionFor(const Diagnosis& diagnosis, bool changed, int retry_budget);

// What one check found on one host.
struct DiagnosticResult {
  std::string host;
  std::string check;  // DiagnosticCheck::id
  std::string title;
  std::string command;           // what ran, for people ("df -hP /opt/demo ...")
  std::optional<int> exit_code;  // nullopt: answered from the record, or skipped
  bool timed_out = false;
  bool truncated = false;
  std::string output;
  std::vector<std::string> highlights;  // the lines that matter
  Timestamp started{};
  Timestamp finished{};
  bool operator==(const DiagnosticResult&) const = default;
};

// One diagnosis of a run, stored with the run (Store: diagnostics).
struct DiagnosticReport {
  int64_t id = 0;  // assigned by the store
  std::string run_id;
  FailureClass failure = FailureClass::kDeploymentStep;
  std::string reason;
  bool transient = false;
  std::string resolution;  // ResolutionName
  std::string resolution_detail;
  std::string requested_by;  // "system" when automatic, else the person (`diagnose`)
  bool automatic = true;
  Timestamp at{};
  std::vector<std::string> hosts;
  std::vector<DiagnosticResult> results;  // grouped by host, in table order
  bool operator==(const DiagnosticReport&) const = default;
};

// The report as a message to the people the table escalates to (and the environment's channels):
// "[DIAGNOSED] CR-7 PROD: Service won't start after patch (playbook 7.1)", with the resolution,
// and per host the highlighted lines.
Message DiagnosisMessage(const DiagnosticReport& report, const std::string& change_request,
                         const std::string& environment);

// One line for people: "playbook 7.1 Service won't start after patch on host3: resolution
// rollback".
std::string DiagnosisSummary(const DiagnosticReport& report);

// What the highlighter knows besides the output.
struct HighlightContext {
  std::vector<std::string> error_patterns;  // the system's (case-insensitive substrings)
  double min_free_disk_percent = 20.0;
  int port = 0;                                  // the service's
  std::map<std::string, int64_t> counts_before;  // critical table -> rows before the deployment
};

// The lines of a check's output a person should read first (at most 8), each as it appears in
// the output or as a sentence ("orders: 120 rows now, 150 before the deployment").
std::vector<std::string> Highlights(std::string_view check, std::string_view output,
                                    const HighlightContext& context);

}  // namespace rollgate
