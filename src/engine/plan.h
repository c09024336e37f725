// The plan of a run: ordered phases of per-host steps over hosts grouped in batches.
//
// Execution order (engine/executor.h): phases one after another; within a phase, the hosts in
// batches (a count such as "1" or a share such as "25%"), one batch after another; within a batch,
// each host runs the phase's steps in order, hosts concurrently up to `concurrency`. A host whose
// step failed runs nothing more. Once more hosts failed than `failure_limit` (a count or a share of
// all hosts), later batches never start. A step names its type (engine/step_type.h), its command
// or file, its timeout, whether it is idempotent (only idempotent steps are retried or re-run),
// and an optional probe: a command whose exit status decides whether the step's effect is in
// place when its outcome is unknown (0: in place, 1: not in place, anything else: cannot tell).
//
// Plans are stored with the run as JSON (PlanToJson/PlanFromJson, round-trip exact) and written by
// developers as JSON files for `rollgate run exec --plan FILE`. Plain values; the functions are
// pure and thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace rollgate {

// A number of hosts, absolute ("3") or a share of all hosts ("25%").
struct HostCount {
  int value = 0;
  bool percent = false;

  // "3" or "25%".
  std::string ToString() const;
  bool operator==(const HostCount&) const = default;
};

// Parses "N" (N >= 0) or "P%" (0 <= P <= 100). InvalidArgument naming the text otherwise.
Result<HostCount> ParseHostCount(std::string_view text);
// The batch size for `total` hosts: a share is rounded up; at least 1, at most total (when > 0).
int BatchSizeFor(const HostCount& batch, int total);
// The number of failed hosts tolerated among `total`: a share is rounded down.
int FailureLimitFor(const HostCount& limit, int total);

struct RetryPolicy {
  int attempts = 1;         // attempts in all, >= 1; > 1 only for idempotent steps
  Seconds backoff{1};       // before the 2nd attempt; doubled for each further one
  Seconds max_backoff{60};  // cap of the doubling
  // Further attempts after a failure whose output looks transient (domain/diagnostics.h
  // LooksTransient: connection reset, timeout, lock held ...): the retry budget of playbook §7.1
  // step 6. Only for idempotent steps.
  int transient_attempts = 0;

  // The wait before attempt `attempt` (2, 3, ...).
  Seconds BackoffBefore(int attempt) const;
  bool operator==(const RetryPolicy&) const = default;
};

struct ProbeSpec {
  std::vector<std::string> argv;  // exit 0: in place; 1: not in place; else: cannot tell
  Seconds timeout{30};
  bool operator==(const ProbeSpec&) const = default;
};

struct StepSpec {
  std::string name;  // unique within its phase; [A-Za-z0-9._-]
  std::string type;  // a name in the StepTypeTable: "command", "file-transfer"
  // command: the argument vector, or a shell script run as {"sh", "-c", script}.
  std::vector<std::string> argv;
  std::string script;
  // command: what undoes the step (optional).
  std::vector<std::string> undo_argv;
  std::map<std::string, std::string> env;
  // Playbook step types (engine/steps/): their inputs by name ("dir", "url", "threshold" ...),
  // checked by the type's Validate and handed to the host as environment variables, never
  // pasted into a command line.
  std::map<std::string, std::string> params;
  // Secret inputs: environment variable name -> secret reference ("env:NAME", "file:/path").
  // Only the reference is stored with the plan; the value is read when the step runs and sent
  // as CommandSpec::secret_env (never on a command line, redacted from output).
  std::map<std::string, std::string> secrets;
  // file-transfer: a local file and its absolute destination on the host.
  std::string source;
  std::string destination;
  Seconds timeout{300};
  bool idempotent = false;
  RetryPolicy retry;
  std::optional<ProbeSpec> probe;
  bool operator==(const StepSpec&) const = default;
};

struct Phase {
  std::string name;
  std::optional<HostCount> batch;  // overrides the plan's batch size for this phase
  std::vector<StepSpec> steps;
  // Runs on one host only: the first of the plan's hosts that has not failed (steps that act on
  // something the hosts share, such as the database).
  bool one_host = false;
  bool operator==(const Phase&) const = default;
};

struct Plan {
  std::string name;
  std::vector<std::string> hosts;  // "[user@]host[:port]", checked by ParseHostAddress
  HostCount batch{100, true};
  HostCount failure_limit{0, false};
  int concurrency = 10;  // hosts working at once, 1..1024
  // Absolute directory on each host for exit-status files ("<dir>/<run>/<file>.status").
  std::string status_dir = "/var/tmp/rollgate";
  // Set by Executor::Create (random hex) when empty: with the run id it names everything the run
  // leaves on hosts ("RUN-7-3fa9c2d1": exit-status files, backups, staging directories), so two
  // stores' RUN-7 never meet on a shared host.
  std::string instance;
  std::vector<Phase> phases;
  bool operator==(const Plan&) const = default;
};

// Parses a plan document. Durations are text ("30s", "5m"); batch sizes text ("1", "25%").
// InvalidArgument naming the field (e.g. "phases[0].steps[1].timeout: ...") on failure.
Result<Plan> PlanFromJson(std::string_view json);
// The canonical JSON of `plan` (PlanFromJson(PlanToJson(p)) == p).
std::string PlanToJson(const Plan& plan);

// "phase/step".
std::string StepDisplayName(const Plan& plan, int phase, int step);

}  // namespace rollgate
