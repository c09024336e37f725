// Runs and step executions: the records of one execution of a plan over hosts (DESIGN.md "Run").
//
// A Run is stored with its plan (JSON, engine/plan.h) and its owner; every step on every host is a
// StepExecution row, written as an intent before the remote action and updated with its result
// after it (engine/executor.h). A RunLock allows one run per (system, environment). These are
// plain values: copyable, no shared state; the functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"

namespace rollgate {

enum class RunState {
  kPending,          // created, not started
  kRunning,          // an owner process executes it (or died doing so: see the lease)
  kSucceeded,        // every step on every host succeeded
  kFailed,           // a step failed; later batches did not start
  kCancelled,        // cancelled; every remote process it started is gone
  kPausedForPerson,  // an outcome nothing could decide: `attention` says what to check
};

enum class StepState {
  kPending,
  kIntent,  // about to run: recorded before the transport is called
  kRunning,
  kSucceeded,
  kFailed,
  kUnknown,  // the outcome could not be decided; `evidence` says why
  kSkipped,
  kCancelled,  // stopped by a cancel (or never started because of it)
};

std::string_view RunStateName(RunState state);  // "pending", "paused-for-person" ...
Result<RunState> ParseRunState(std::string_view name);
std::string_view StepStateName(StepState state);  // "intent", "succeeded" ...
Result<StepState> ParseStepState(std::string_view name);
// Succeeded, failed, cancelled, paused-for-person: the run is not executing. (Paused runs may be
// resumed; the others are final.)
bool IsFinal(RunState state);
// Succeeded, failed, unknown, skipped, cancelled.
bool IsFinal(StepState state);

struct Run {
  std::string id;              // "RUN-7"
  std::string change_request;  // "CR-12"; empty for developer runs (`run exec`)
  std::string environment;     // "PROD"
  std::string system;          // "billing"
  RunState state = RunState::kPending;
  std::string plan_json;   // engine/plan.h, PlanToJson
  std::string transport;   // "local", "ssh", "simulated": how resume reaches the hosts
  std::string created_by;  // the person who started it
  Timestamp created_at{};
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  // The process executing the run: pid, host name and a token unique to that process start.
  int64_t owner_pid = 0;
  std::string owner_host;
  std::string owner_token;
  // Fencing: increments every time a process takes the run over; writes carrying an older value
  // are refused.
  int64_t fencing_token = 0;
  std::optional<Timestamp> heartbeat_at;
  std::optional<Timestamp> lease_expires_at;
  bool cancel_requested = false;
  std::string message;    // why it failed or stopped, in words
  std::string attention;  // paused-for-person: exactly what a person must check
};

// The columns `run list` shows.
struct RunSummary {
  std::string id;
  std::string change_request;
  std::string environment;
  std::string system;
  RunState state = RunState::kPending;
  Timestamp created_at{};
  std::optional<Timestamp> finished_at;
};

struct StepExecution {
  std::string run_id;
  int phase = 0;          // index in the plan's phases
  int step = 0;           // index in the phase's steps
  std::string step_name;  // "phase/step", for people
  std::string host;       // HostAddress::ToString()
  int attempt = 1;        // 1, 2 ... (retries and re-runs after resume)
  StepState state = StepState::kPending;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  std::optional<int> exit_code;
  std::string output_tail;             // capped, secrets redacted
  std::string status_file;             // on the host; unique per run/step/host/attempt
  std::optional<int> probe_exit_code;  // the probe's verdict when one ran
  std::string evidence;  // how the outcome was decided ("exit-status file", "probe" ...)
};

// One row per (system, environment) while a run holds it.
struct RunLock {
  std::string system;
  std::string environment;
  std::string run_id;
  int64_t owner_pid = 0;
  std::string owner_host;
  std::string owner_token;
  int64_t fencing_token = 0;  // never decreases for a (system, environment)
  Timestamp acquired_at{};
  Timestamp lease_expires_at{};
};

}  // namespace rollgate
