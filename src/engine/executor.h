// The durable executor: runs a plan's steps on hosts and journals every remote action in the
// store, so that a run survives `kill -9` and is completed by Resume (DESIGN.md "Run").
//
// The journal (store.h, domain/run.h): for each step on each host an INTENT (state intent,
// attempt, a status file unique per run/step/host/attempt) is committed in a transaction BEFORE
// the transport is called, and the RESULT after. Intents of up to one chunk of hosts share a
// transaction, and results that arrive together share one (group commit); each transaction
// carries its audit events, the run's heartbeat and the fencing check.
//
// Order: phases in order; within a phase, batches of hosts in order; within a batch, step after
// step, the batch's hosts concurrently (at most plan.concurrency worker threads). A host whose step
// failed runs nothing more; once more hosts failed than the failure limit, later batches never
// start. Idempotent steps are retried (RetryPolicy) after a backoff waited on the injected Sleeper.
//
// Unknown outcomes (a crash, a lost connection, a timeout): the host's exit-status file is read
// first (waiting, bounded, for a command that may still run), then the command is stopped with
// Transport::Cancel (so it can never start or finish later) and the file read again; if nothing
// is there the step's probe decides; if nothing decides the step stays UNKNOWN and, when it is
// not idempotent, the run is PAUSED for a person with `attention` saying exactly what to check.
// Resume looks again, the same way, at every step left UNKNOWN that no person decided (a host
// that did not answer may answer now); one nothing decides keeps its record and the run pauses.
// A step that is not idempotent is never re-run blindly.
//
// Locks: one run per (system, environment). Start refuses (Conflict naming the run) while another
// run holds the lock, also one left by a dead process (resume or cancel that one first). Resume
// and Cancel take over a stale lock (lease expired, or owner pid not alive on this host) in one
// transaction and increment the fencing token; a process whose token is older stops at its next
// write (Conflict).
//
// Store errors (disk full, read-only, I/O error) stop the run: no new step starts, steps in flight
// end, and the store's Status is returned; nothing is reported (events) that was not committed.
//
// Thread-safety: one Executor drives one run at a time on the calling thread (plus its worker
// threads); RequestCancel may be called from any thread or a signal-safe context. Borrowed:
// store, transport, step types, clock, sleeper and sink must outlive the Executor.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/run.h"
#include "engine/plan.h"
#include "engine/progress.h"
#include "engine/step_type.h"
#include "store/store.h"
#include "transport/transport.h"

namespace rollgate {

// Waiting without reading the clock in tests (STYLE.md 8): retries' backoff, polling a status
// file. The real one sleeps; tests advance a FakeClock.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void SleepFor(Seconds duration) = 0;
};

class RealSleeper final : public Sleeper {
 public:
  void SleepFor(Seconds duration) override;
};

// Who executes: the owner recorded on the run and its lock.
struct ExecutorOptions {
  std::string actor = "rollgate";  // the person, for audit events
  int64_t owner_pid = 0;
  std::string owner_host;
  std::string owner_token;  // unique per process start
  // Whether a pid on this host is alive (stale-lock detection); by default kill(pid, 0).
  std::function<bool(int64_t)> pid_alive;
  Seconds lease{120};          // renewed at least every lease/3 while the run executes
  Seconds settle_wait{60};     // how long to wait for a command that may still run
  Seconds poll_interval{1};    // between exit-status reads while waiting
  Seconds cancel_timeout{30};  // Transport::Cancel's SIGKILL grace
  size_t output_limit = 4096;  // bytes of output tail kept per step execution
  int intent_chunk = 256;      // intents committed per transaction (at least concurrency)
  // Called inside the transaction that records the run's end (succeeded, failed or cancelled;
  // not paused), with the run as it ends: what must become visible together with the end (the
  // deployment's evidence on its CR), so no reader sees one without the other. Its error fails
  // that commit like a store error: the run stops unfinished, to be resumed.
  std::function<Status(Transaction&, const Run&)> on_finish;
};

// What a run is for.
struct RunTarget {
  std::string change_request;  // empty for developer runs
  std::string system;
  std::string environment;
  std::string transport;  // "local", "ssh", "simulated"
};

// A person's decision about an unknown step, given to Resume: "the effect is in place" (true:
// recorded succeeded) or "it is not" (false: recorded skipped, and the step runs again).
struct StepDecision {
  std::string step;  // "phase/step"
  std::string host;
  bool in_place = false;
};

class Executor {
 public:
  Executor(Store& store, Transport& transport, const StepTypeTable& types, const Clock& clock,
           Sleeper& sleeper, ExecutorOptions options, ProgressSink* sink = nullptr);

  // Validates the plan, creates the run ("RUN-N") and takes the lock in one transaction.
  // Success: the run id. Failure: InvalidArgument (plan), Conflict naming the run that holds the
  // (system, environment), or the store's Status.
  Result<std::string> Create(const Plan& plan, const RunTarget& target);

  // Executes a run created by Create until it ends. Success: the run as stored at the end
  // (succeeded, failed, cancelled or paused-for-person). Failure: the store's Status (the run
  // stopped; resume it later), Conflict when another process took the run over.
  Result<Run> Execute(const std::string& run_id);

  // Takes the run over (its lock must be free or stale), applies `decisions` to unknown steps,
  // settles every step whose intent has no result and every step still unknown (see above), and
  // executes the rest.
  // Success: the run at the end. A final run (succeeded, failed, cancelled) is returned
  // unchanged. Failure: NotFound, Conflict (a live process owns it), the store's Status.
  Result<Run> Resume(const std::string& run_id, const std::vector<StepDecision>& decisions = {});

  // Cancels a run this process does not execute. When a live process executes it, marks it
  // cancel-requested and waits (up to `wait`, polling) until that process reports it ended;
  // otherwise takes it over, stops every command it may have left running (Transport::Cancel)
  // and records the outcome. Success: the run at the end: cancelled once every remote process
  // is gone, paused-for-person when a host could not be reached to make sure. Failure:
  // NotFound, DeadlineExceeded (the owner did not end it in time), the store's Status.
  Result<Run> Cancel(const std::string& run_id, Seconds wait);

  // Asks the run this executor is executing to stop: no new step starts, commands in flight are
  // cancelled on their hosts, and the run ends cancelled. Thread-safe.
  void RequestCancel() { cancel_requested_.store(true); }

 private:
  struct Task;
  struct Settled;

  Status Claim(const std::string& run_id, bool takeover, Run* run);
  Status Commit(const std::function<Status(Transaction&)>& body);
  Result<Run> Drive();
  Status RunTasks(int phase, int step, std::vector<Task>& tasks);
  Settled Perform(Task& task);
  // Decides an unknown outcome (see the header comment). `rerun_if_not_in_place`: a probe saying
  // "not in place" makes the attempt skipped (the step runs again) instead of failed.
  Settled Settle(const Task& task, const std::string& why, bool may_wait, bool stop_without_probe,
                 bool rerun_if_not_in_place);
  // ROLLGATE_RUN, ROLLGATE_HOST (as in the plan), ROLLGATE_HOST_NAME (its name or address),
  // ROLLGATE_STEP, ROLLGATE_ATTEMPT for the step's commands.
  std::map<std::string, std::string> StepEnvironment(const Task& task) const;
  Status SettleInFlight(std::vector<StepExecution>& in_flight, bool cancelling);
  Result<Run> Finish(RunState state, std::string message, std::string attention);
  std::string StatusFileFor(int phase, int step, size_t host, int attempt) const;
  // "RUN-7-3fa9c2d1": the run id and its plan's instance, naming what it leaves on hosts.
  std::string RunKey() const;
  bool PidAlive(int64_t pid) const;
  bool LockIsStale(const RunLock& lock) const;
  void Emit(ProgressEvent event);
  bool StopRequested() const;

  Store& store_;
  Transport& transport_;
  const StepTypeTable& types_;
  const Clock& clock_;
  Sleeper& sleeper_;
  ExecutorOptions options_;
  ProgressSink* sink_;
  std::atomic<bool> cancel_requested_{false};

  // The run being executed (valid between Claim and the end of Drive).
  Run run_;
  Plan plan_;
  std::vector<HostAddress> hosts_;
  std::vector<std::string> host_names_;
  std::vector<StepExecution> journal_;  // loaded at Claim
  bool cancel_seen_in_store_ = false;
  Timestamp last_heartbeat_{};
  Timestamp last_event_{};  // when Emit last sent an event (kStepRunning after a silence)
};

}  // namespace rollgate
