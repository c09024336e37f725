#include "engine/executor.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <unordered_map>

#include "common/strings.h"
#include "domain/diagnostics.h"
#include "engine/fault_point.h"

namespace rollgate {

namespace {

using nlohmann::json;

bool IsFileNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Stored text must be valid UTF-8; output tails are arbitrary bytes.
std::string ValidUtf8(std::string text) {
  if (IsValidUtf8(text)) return text;
  for (char& c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return text;
}

uint64_t Key(int phase, int step, size_t host) {
  return (static_cast<uint64_t>(phase) << 48) | (static_cast<uint64_t>(step) << 32) |
         static_cast<uint64_t>(host);
}

std::string Details(const json& object) { return object.dump(); }

}  // namespace

void RealSleeper::SleepFor(Seconds duration) { std::this_thread::sleep_for(duration); }

// One execution of a step on a host (one attempt).
struct Executor::Task {
  int phase = 0;
  int step = 0;
  size_t host = 0;
  int attempt = 1;
  std::string status_file;
  Timestamp started{};
  // Set by the coordinator while cancelling: Transport::Cancel was called for this task.
  bool cancel_issued = false;
  Status cancel_status;
  // The outcome (filled when the task ended).
  StepState state = StepState::kPending;
  std::optional<int> exit_code;
  std::optional<int> probe_exit_code;
  std::string output_tail;
  std::string evidence;
  Timestamp finished{};
};

// A decided (or undecidable) outcome.
struct Executor::Settled {
  StepState state = StepState::kUnknown;
  std::optional<int> exit_code;
  std::optional<int> probe_exit_code;
  std::string output_tail;
  std::string evidence;
};

Executor::Executor(Store& store, Transport& transport, const StepTypeTable& types,
                   const Clock& clock, Sleeper& sleeper, ExecutorOptions options,
                   ProgressSink* sink)
    : store_(store),
      transport_(transport),
      types_(types),
      clock_(clock),
      sleeper_(sleeper),
      options_(std::move(options)),
      sink_(sink) {
  options_.intent_chunk = std::max(options_.intent_chunk, 1);
}

bool Executor::PidAlive(int64_t pid) const {
  if (options_.pid_alive) return options_.pid_alive(pid);
  if (pid <= 0) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

bool Executor::LockIsStale(const RunLock& lock) const {
  if (lock.lease_expires_at < clock_.Now()) return true;
  return lock.owner_host == options_.owner_host && !PidAlive(lock.owner_pid);
}

bool Executor::StopRequested() const { return cancel_requested_.load() || cancel_seen_in_store_; }

void Executor::Emit(ProgressEvent event) {
  if (sink_ == nullptr) return;
  event.run_id = run_.id;
  event.at = clock_.Now();
  last_event_ = event.at;
  sink_->OnEvent(event);
}

std::map<std::string, std::string> Executor::StepEnvironment(const Task& task) const {
  return {{"ROLLGATE_RUN", RunKey()},
          {"ROLLGATE_HOST", host_names_[task.host]},
          {"ROLLGATE_HOST_NAME", hosts_[task.host].name},
          {"ROLLGATE_STEP", StepDisplayName(plan_, task.phase, task.step)},
          {"ROLLGATE_ATTEMPT", std::to_string(task.attempt)}};
}

std::string Executor::RunKey() const {
  return plan_.instance.empty() ? run_.id : run_.id + "-" + plan_.instance;
}

std::string Executor::StatusFileFor(int phase, int step, size_t host, int attempt) const {
  std::string safe = host_names_[host];
  for (char& c : safe) {
    if (!IsFileNameCharacter(c)) c = '_';
  }
  return fmt::format("{}/{}/p{}s{}-h{}-{}-a{}.status", plan_.status_dir, RunKey(), phase, step,
                     host, safe, attempt);
}

Result<std::string> Executor::Create(const Plan& plan, const RunTarget& target) {
  RETURN_IF_ERROR(ValidatePlan(plan, types_));
  if (target.system.empty() || target.environment.empty()) {
    return InvalidArgument("a run needs a system and an environment");
  }
  std::string id;
  Status status = store_.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<RunLock> lock,
                     txn.GetRunLock(target.system, target.environment));
    int64_t fencing = 0;
    if (lock) {
      fencing = lock->fencing_token;
      if (!lock->run_id.empty()) {
        ASSIGN_OR_RETURN(Run holder, txn.GetRun(lock->run_id));
        if (!IsFinal(holder.state) || holder.state == RunState::kPausedForPerson) {
          bool stale = LockIsStale(*lock);
          return Conflict(fmt::format(
              "run {} is in progress for {} in {} ({}; owner pid {} on {}){}", holder.id,
              EscapeForDisplay(target.system), EscapeForDisplay(target.environment),
              RunStateName(holder.state), lock->owner_pid, EscapeForDisplay(lock->owner_host),
              stale ? fmt::format("; its owner is gone: resume it with `rollgate run resume {0}` "
                                  "or cancel it with `rollgate run cancel {0}`",
                                  holder.id)
                    : ""));
        }
      }
    }
    ASSIGN_OR_RETURN(int number, txn.NextNumber("RUN"));
    id = fmt::format("RUN-{}", number);
    Timestamp now = clock_.Now();
    Run run;
    run.id = id;
    run.change_request = target.change_request;
    run.environment = target.environment;
    run.system = target.system;
    run.state = RunState::kPending;
    Plan stored = plan;
    if (stored.instance.empty()) {
      std::random_device random;
      stored.instance = fmt::format("{:08x}", random());
    }
    run.plan_json = PlanToJson(stored);
    run.transport = target.transport;
    run.created_by = options_.actor;
    run.created_at = now;
    run.owner_pid = options_.owner_pid;
    run.owner_host = options_.owner_host;
    run.owner_token = options_.owner_token;
    run.fencing_token = fencing + 1;
    run.heartbeat_at = now;
    run.lease_expires_at = now + options_.lease;
    RETURN_IF_ERROR(txn.PutRun(run));
    RETURN_IF_ERROR(txn.PutRunLock(
        RunLock{target.system, target.environment, id, options_.owner_pid, options_.owner_host,
                options_.owner_token, fencing + 1, now, now + options_.lease}));
    return txn
        .AppendAudit({now, options_.actor, "run.created", id,
                      Details({{"change_request", target.change_request},
                               {"system", target.system},
                               {"environment", target.environment},
                               {"hosts", plan.hosts.size()},
                               {"transport", target.transport}})})
        .status();
  });
  RETURN_IF_ERROR(status);
  return id;
}

Status Executor::Claim(const std::string& run_id, bool takeover, Run* claimed) {
  cancel_seen_in_store_ = false;
  Status status = store_.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(Run run, txn.GetRun(run_id));
    ASSIGN_OR_RETURN(std::optional<RunLock> lock, txn.GetRunLock(run.system, run.environment));
    if (lock && !lock->run_id.empty() && lock->run_id != run.id) {
      return Conflict(fmt::format("run {} holds {} in {}; {} cannot run now", lock->run_id,
                                  EscapeForDisplay(run.system), EscapeForDisplay(run.environment),
                                  run.id));
    }
    bool ours = lock && lock->owner_token == options_.owner_token;
    if (lock && lock->run_id == run.id && !ours) {
      if (!takeover || !LockIsStale(*lock)) {
        return Conflict(fmt::format("run {} is being executed by pid {} on {} (lease until {})",
                                    run.id, lock->owner_pid, EscapeForDisplay(lock->owner_host),
                                    FormatRfc3339Utc(lock->lease_expires_at)));
      }
    }
    Timestamp now = clock_.Now();
    int64_t fencing = std::max(lock ? lock->fencing_token : 0, run.fencing_token) + 1;
    std::string previous_owner = fmt::format("pid {} on {}", run.owner_pid, run.owner_host);
    RETURN_IF_ERROR(txn.PutRunLock(RunLock{run.system, run.environment, run.id, options_.owner_pid,
                                           options_.owner_host, options_.owner_token, fencing, now,
                                           now + options_.lease}));
    bool was_pending = run.state == RunState::kPending;
    run.owner_pid = options_.owner_pid;
    run.owner_host = options_.owner_host;
    run.owner_token = options_.owner_token;
    run.fencing_token = fencing;
    run.state = RunState::kRunning;
    if (!run.started_at) run.started_at = now;
    run.finished_at.reset();
    run.heartbeat_at = now;
    run.lease_expires_at = now + options_.lease;
    run.message.clear();
    run.attention.clear();
    RETURN_IF_ERROR(txn.PutRun(run));
    RETURN_IF_ERROR(
        txn.AppendAudit(
               {now, options_.actor, was_pending ? "run.started" : "run.taken-over", run.id,
                Details({{"fencing_token", fencing},
                         {"owner",
                          fmt::format("pid {} on {}", options_.owner_pid, options_.owner_host)},
                         {"previous_owner", previous_owner}})})
            .status());
    ASSIGN_OR_RETURN(journal_, txn.ListStepExecutions(run.id));
    *claimed = std::move(run);
    return Status::Ok();
  });
  RETURN_IF_ERROR(status);
  run_ = *claimed;
  last_heartbeat_ = clock_.Now();
  ASSIGN_OR_RETURN(plan_, PlanFromJson(run_.plan_json));
  hosts_.clear();
  host_names_ = plan_.hosts;
  for (const std::string& name : plan_.hosts) {
    ASSIGN_OR_RETURN(HostAddress host, ParseHostAddress(name));
    hosts_.push_back(std::move(host));
  }
  RETURN_IF_ERROR(ValidatePlan(plan_, types_).WithContext("the stored plan of " + run_.id));
  return Status::Ok();
}

Status Executor::Commit(const std::function<Status(Transaction&)>& body) {
  return store_.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(Run stored, txn.GetRun(run_.id));
    if (stored.fencing_token != run_.fencing_token || stored.owner_token != run_.owner_token) {
      return Conflict(
          fmt::format("run {} was taken over by pid {} on {} (fencing token {} > {}); "
                      "this process stops",
                      run_.id, stored.owner_pid, EscapeForDisplay(stored.owner_host),
                      stored.fencing_token, run_.fencing_token));
    }
    if (stored.cancel_requested) {
      run_.cancel_requested = true;
      cancel_seen_in_store_ = true;
    }
    RETURN_IF_ERROR(body(txn));
    Timestamp now = clock_.Now();
    if (now - last_heartbeat_ >= options_.lease / 3) {
      run_.heartbeat_at = now;
      run_.lease_expires_at = now + options_.lease;
      RETURN_IF_ERROR(txn.PutRun(run_));
      RETURN_IF_ERROR(txn.PutRunLock(
          RunLock{run_.system, run_.environment, run_.id, options_.owner_pid, options_.owner_host,
                  options_.owner_token, run_.fencing_token, now, now + options_.lease}));
      last_heartbeat_ = now;
    }
    return Status::Ok();
  });
}

Executor::Settled Executor::Settle(const Task& task, const std::string& why, bool may_wait,
                                   bool stop_without_probe, bool rerun_if_not_in_place) {
  const HostAddress& host = hosts_[task.host];
  const StepSpec& spec = plan_.phases[task.phase].steps[task.step];
  Settled settled;
  auto decided_by_file = [&](int code, std::string_view how) {
    settled.state = code == 0 ? StepState::kSucceeded : StepState::kFailed;
    settled.exit_code = code;
    settled.evidence = fmt::format("{}; exit status {} read from {} on the host", why, code, how);
  };
  Result<std::optional<int>> read = transport_.ReadExitStatus(host, task.status_file);
  if (read.ok() && read->has_value()) {
    decided_by_file(**read, "the exit-status file");
    return settled;
  }
  if (may_wait) {
    auto deadline = clock_.Monotonic() + options_.settle_wait;
    while (clock_.Monotonic() < deadline && !cancel_requested_.load()) {
      sleeper_.SleepFor(options_.poll_interval);
      read = transport_.ReadExitStatus(host, task.status_file);
      if (read.ok() && read->has_value()) {
        decided_by_file(**read, "the exit-status file (after waiting)");
        return settled;
      }
    }
  }
  // Make sure the command is gone and can never start later, then look once more.
  Status cancelled = transport_.Cancel(host, task.status_file, options_.cancel_timeout);
  if (!cancelled.ok()) {
    settled.evidence =
        fmt::format("{}; could not make sure the command stopped: {}", why, cancelled.message());
    return settled;
  }
  read = transport_.ReadExitStatus(host, task.status_file);
  if (read.ok() && read->has_value()) {
    decided_by_file(**read, "the exit-status file (after stopping it)");
    return settled;
  }
  if (stop_without_probe) {
    settled.state = StepState::kCancelled;
    settled.evidence = fmt::format("{}; the command is not running on the host (stopped)", why);
    return settled;
  }
  const StepType* type = types_.Find(spec.type);
  StepRequest request{
      spec, host, task.status_file, transport_, options_.output_limit, StepEnvironment(task)};
  int probe_exit = kExitUnknown;
  Result<ProbeVerdict> verdict = type->Probe(request, &probe_exit);
  if (probe_exit != kExitUnknown) settled.probe_exit_code = probe_exit;
  if (!verdict.ok()) {
    settled.evidence = fmt::format("{}; no exit-status file; the probe could not run: {}", why,
                                   verdict.error().message());
  } else if (*verdict == ProbeVerdict::kInPlace) {
    settled.state = StepState::kSucceeded;
    settled.evidence =
        fmt::format("{}; no exit-status file; the probe says the effect is in place", why);
  } else if (*verdict == ProbeVerdict::kNotInPlace && rerun_if_not_in_place) {
    // The command is stopped for good (Cancel) and had no effect: it runs again.
    settled.state = StepState::kSkipped;
    settled.evidence = fmt::format(
        "{}; no exit-status file; the probe says the effect is not in place: it runs again", why);
  } else if (*verdict == ProbeVerdict::kNotInPlace) {
    settled.state = StepState::kFailed;
    settled.evidence =
        fmt::format("{}; no exit-status file; the probe says the effect is not in place", why);
  } else {
    settled.evidence = fmt::format(
        "{}; no exit-status file; {}", why,
        spec.probe ? "the probe could not decide" : "the step has no probe that could decide");
  }
  return settled;
}

Executor::Settled Executor::Perform(Task& task) {
  const StepSpec& spec = plan_.phases[task.phase].steps[task.step];
  const StepType* type = types_.Find(spec.type);
  StepRequest request{spec,       hosts_[task.host],     task.status_file,
                      transport_, options_.output_limit, StepEnvironment(task)};
  Result<CommandResult> result = type->Run(request);
  Settled settled;
  if (!result.ok()) {
    settled.state = StepState::kFailed;
    settled.evidence = fmt::format("not run: {}", result.error().message());
    return settled;
  }
  settled.output_tail = ValidUtf8(std::move(result->output_tail));
  if (StopRequested()) {
    // The coordinator decides once its Cancel returned (see RunTasks).
    if (result->exit_code != kExitUnknown) settled.exit_code = result->exit_code;
    settled.state = result->succeeded() ? StepState::kSucceeded : StepState::kCancelled;
    settled.evidence = result->succeeded() ? "exit status 0" : "stopped by cancel";
    return settled;
  }
  if (result->timed_out || result->connection_lost) {
    std::string why = result->timed_out
                          ? fmt::format("timed out after {}", FormatDuration(spec.timeout))
                          : std::string("the connection to the host was lost");
    Settled decided = Settle(task, why, /*may_wait=*/result->connection_lost,
                             /*stop_without_probe=*/false, /*rerun_if_not_in_place=*/false);
    decided.output_tail = std::move(settled.output_tail);
    return decided;
  }
  settled.exit_code = result->exit_code;
  settled.state = result->exit_code == 0 ? StepState::kSucceeded : StepState::kFailed;
  settled.evidence = fmt::format("exit status {}", result->exit_code);
  return settled;
}

Status Executor::RunTasks(int phase, int step, std::vector<Task>& tasks) {
  const StepSpec& spec = plan_.phases[phase].steps[step];
  const std::string step_name = StepDisplayName(plan_, phase, step);
  std::vector<size_t> pending(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) pending[i] = i;

  while (!pending.empty()) {
    // States: 0 released, not started; 1 running; 2 done; 3 withdrawn by cancel before starting.
    std::vector<std::atomic<int>> states(pending.size());
    std::mutex mutex;
    std::condition_variable work_ready;
    std::condition_variable work_done;
    size_t released = 0;
    size_t next = 0;
    std::atomic<size_t> started_count{0};
    bool closing = false;
    std::deque<std::pair<size_t, Settled>> completed;

    auto worker = [&] {
      std::unique_lock lock(mutex);
      while (true) {
        work_ready.wait(lock, [&] { return next < released || closing; });
        if (next >= released) return;
        size_t slot = next++;
        int expected = 0;
        if (!states[slot].compare_exchange_strong(expected, 1)) continue;
        started_count.fetch_add(1);
        lock.unlock();
        Settled settled = Perform(tasks[pending[slot]]);
        lock.lock();
        states[slot].store(2);
        completed.emplace_back(slot, std::move(settled));
        work_done.notify_one();
      }
    };
    size_t thread_count =
        std::min<size_t>(static_cast<size_t>(std::max(plan_.concurrency, 1)), pending.size());
    std::vector<std::thread> threads;
    threads.reserve(thread_count);
    for (size_t i = 0; i < thread_count; ++i) threads.emplace_back(worker);

    Status store_error;
    bool cancel_handled = false;
    size_t accounted = 0;
    auto release_more = [&]() -> bool {
      size_t end = std::min(
          pending.size(),
          released + static_cast<size_t>(std::max(options_.intent_chunk, plan_.concurrency)));
      Timestamp now = clock_.Now();
      for (size_t slot = released; slot < end; ++slot) {
        Task& task = tasks[pending[slot]];
        task.status_file = StatusFileFor(phase, step, task.host, task.attempt);
        task.started = now;
      }
      Status committed = Commit([&](Transaction& txn) -> Status {
        for (size_t slot = released; slot < end; ++slot) {
          const Task& task = tasks[pending[slot]];
          StepExecution e;
          e.run_id = run_.id;
          e.phase = phase;
          e.step = step;
          e.step_name = step_name;
          e.host = host_names_[task.host];
          e.attempt = task.attempt;
          e.state = StepState::kIntent;
          e.started_at = task.started;
          e.status_file = task.status_file;
          RETURN_IF_ERROR(txn.PutStepExecution(e));
        }
        return txn
            .AppendAudit({now, options_.actor, "run.steps-started", run_.id,
                          Details({{"step", step_name},
                                   {"attempt", tasks[pending[released]].attempt},
                                   {"hosts", end - released}})})
            .status();
      });
      if (!committed.ok()) {
        store_error = committed;
        return false;
      }
      FaultPoint(kFaultIntentCommitted);
      ProgressEvent event;
      event.kind = ProgressEvent::Kind::kStepStarted;
      event.step = step_name;
      event.attempt = tasks[pending[released]].attempt;
      event.hosts = static_cast<int>(end - released);
      Emit(event);
      {
        std::lock_guard lock(mutex);
        released = end;
      }
      work_ready.notify_all();
      return true;
    };
    auto handle_cancel = [&] {
      cancel_handled = true;
      std::vector<size_t> in_flight;
      {
        std::lock_guard lock(mutex);
        for (size_t slot = 0; slot < released; ++slot) {
          int expected = 0;
          if (states[slot].compare_exchange_strong(expected, 3)) {
            Settled never;
            never.state = StepState::kCancelled;
            never.evidence = "never started: the run was cancelled";
            completed.emplace_back(slot, std::move(never));
          } else if (expected == 1) {
            in_flight.push_back(slot);
          }
        }
      }
      for (size_t slot : in_flight) {
        Task& task = tasks[pending[slot]];
        task.cancel_status =
            transport_.Cancel(hosts_[task.host], task.status_file, options_.cancel_timeout);
        task.cancel_issued = true;
      }
      work_done.notify_one();
    };

    bool withdrawn = false;
    // After a store error nothing more starts: released tasks not yet started stay intents
    // (resume settles them) and are not waited for.
    auto withdraw_unstarted = [&] {
      withdrawn = true;
      std::lock_guard lock(mutex);
      for (size_t slot = 0; slot < released; ++slot) {
        int expected = 0;
        if (states[slot].compare_exchange_strong(expected, 3)) ++accounted;
      }
    };
    while (true) {
      if (!store_error.ok() && !withdrawn) withdraw_unstarted();
      if (!StopRequested() && store_error.ok() && released < pending.size()) {
        if (released - started_count.load() < static_cast<size_t>(plan_.concurrency) ||
            released == 0) {
          release_more();
        }
      }
      if (StopRequested() && !cancel_handled && store_error.ok()) handle_cancel();
      std::deque<std::pair<size_t, Settled>> batch;
      {
        std::unique_lock lock(mutex);
        work_done.wait_for(lock, std::chrono::milliseconds(200),
                           [&] { return !completed.empty(); });
        batch.swap(completed);
      }
      if (!batch.empty()) {
        FaultPoint(kFaultRemoteDone);
        Timestamp now = clock_.Now();
        for (auto& [slot, settled] : batch) {
          Task& task = tasks[pending[slot]];
          if (task.cancel_issued && settled.state != StepState::kSucceeded) {
            if (task.cancel_status.ok()) {
              settled.state = StepState::kCancelled;
              settled.evidence = "cancelled; the command is gone from the host";
            } else {
              settled.state = StepState::kUnknown;
              settled.evidence = fmt::format(
                  "cancelled, but the host could not confirm the "
                  "command is gone: {}",
                  task.cancel_status.message());
            }
          }
          task.state = settled.state;
          task.exit_code = settled.exit_code;
          task.probe_exit_code = settled.probe_exit_code;
          task.output_tail = std::move(settled.output_tail);
          task.evidence = std::move(settled.evidence);
          task.finished = now;
        }
        if (store_error.ok()) {
          Status committed = Commit([&](Transaction& txn) -> Status {
            for (const auto& entry : batch) {
              const Task& task = tasks[pending[entry.first]];
              StepExecution e;
              e.run_id = run_.id;
              e.phase = phase;
              e.step = step;
              e.step_name = step_name;
              e.host = host_names_[task.host];
              e.attempt = task.attempt;
              e.state = task.state;
              e.started_at = task.started;
              e.finished_at = task.finished;
              e.exit_code = task.exit_code;
              e.output_tail = task.output_tail;
              e.status_file = task.status_file;
              e.probe_exit_code = task.probe_exit_code;
              e.evidence = task.evidence;
              RETURN_IF_ERROR(txn.PutStepExecution(e));
              json details = {{"step", step_name},
                              {"host", e.host},
                              {"attempt", e.attempt},
                              {"evidence", e.evidence}};
              if (e.exit_code) details["exit_code"] = *e.exit_code;
              RETURN_IF_ERROR(txn.AppendAudit({now, options_.actor,
                                               fmt::format("step.{}", StepStateName(e.state)),
                                               run_.id, Details(details)})
                                  .status());
            }
            return Status::Ok();
          });
          if (committed.ok()) {
            FaultPoint(kFaultResultCommitted);
            for (const auto& entry : batch) {
              const Task& task = tasks[pending[entry.first]];
              ProgressEvent event;
              event.kind = ProgressEvent::Kind::kStepFinished;
              event.step = step_name;
              event.host = host_names_[task.host];
              event.attempt = task.attempt;
              event.state = task.state;
              event.exit_code = task.exit_code;
              event.message = task.evidence;
              Emit(event);
            }
          } else {
            store_error = committed;
          }
        }
        accounted += batch.size();
      } else if (store_error.ok() && !StopRequested()) {
        // Nothing finished for a while: renew the lease when due, look for a cancel from elsewhere.
        Status checked;
        if (clock_.Now() - last_heartbeat_ >= options_.lease / 3) {
          checked = Commit([](Transaction&) { return Status::Ok(); });
        } else {
          checked = store_.Read([&](Transaction& txn) -> Status {
            ASSIGN_OR_RETURN(Run stored, txn.GetRun(run_.id));
            if (stored.cancel_requested) cancel_seen_in_store_ = true;
            return Status::Ok();
          });
        }
        if (!checked.ok()) store_error = checked;
        if (clock_.Now() - last_event_ >= kStillRunningEvery) {
          ProgressEvent event;
          event.kind = ProgressEvent::Kind::kStepRunning;
          event.step = step_name;
          event.hosts = static_cast<int>(released - accounted);
          Emit(event);
        }
      }
      bool all_released = released == pending.size() || !store_error.ok() || StopRequested();
      if (all_released && accounted == released) break;
    }
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    work_ready.notify_all();
    for (std::thread& thread : threads) thread.join();
    if (!store_error.ok()) {
      return store_error.WithContext(fmt::format(
          "run {} stopped: the store could not record step {} (nothing more was started; "
          "steps in flight are settled by `rollgate run resume {}` once the store is writable)",
          run_.id, step_name, run_.id));
    }
    if (StopRequested()) return Status::Ok();

    // Retries of idempotent steps that did not succeed.
    std::vector<size_t> retry;
    Seconds wait{0};
    for (size_t index : pending) {
      Task& task = tasks[index];
      bool retryable = task.state == StepState::kFailed || task.state == StepState::kUnknown;
      // A transient failure (connection reset, timeout, lock held: playbook §7.1 step 6) may
      // use the step's transient budget on top of its ordinary attempts.
      int allowed = spec.retry.attempts;
      if (retryable && LooksTransient(task.output_tail + "\n" + task.evidence)) {
        allowed += spec.retry.transient_attempts;
      }
      if (retryable && spec.idempotent && task.attempt < allowed) {
        ++task.attempt;
        wait = std::max(wait, spec.retry.BackoffBefore(task.attempt));
        retry.push_back(index);
      }
    }
    pending = std::move(retry);
    if (!pending.empty()) sleeper_.SleepFor(wait);
  }
  return Status::Ok();
}

Status Executor::SettleInFlight(std::vector<StepExecution>& in_flight, bool cancelling) {
  if (in_flight.empty()) return Status::Ok();
  std::map<std::string, size_t> host_index;
  for (size_t i = 0; i < host_names_.size(); ++i) host_index[host_names_[i]] = i;
  std::vector<Task> tasks;
  for (const StepExecution& e : in_flight) {
    auto it = host_index.find(e.host);
    if (it == host_index.end() || e.phase >= static_cast<int>(plan_.phases.size()) ||
        e.step >= static_cast<int>(plan_.phases[e.phase].steps.size())) {
      return Corruption(fmt::format("run {}: step execution {} on {} is not in the run's plan",
                                    run_.id, EscapeForDisplay(e.step_name),
                                    EscapeForDisplay(e.host)));
    }
    Task task;
    task.phase = e.phase;
    task.step = e.step;
    task.host = it->second;
    task.attempt = e.attempt;
    task.status_file = e.status_file;
    task.started = e.started_at.value_or(clock_.Now());
    tasks.push_back(std::move(task));
  }
  const std::string in_flight_why = cancelling
                                        ? "cancelled after its process stopped"
                                        : "in flight when the process executing the run stopped";
  std::vector<std::string> whys;
  whys.reserve(in_flight.size());
  for (const StepExecution& e : in_flight) {
    whys.push_back(
        e.state == StepState::kUnknown
            ? fmt::format("unknown until checked again at resume (before: {})", e.evidence)
            : in_flight_why);
  }
  // First, what the hosts already know; then one shared, bounded wait for commands still running.
  std::vector<bool> decided(tasks.size(), false);
  std::vector<Settled> outcomes(tasks.size());
  auto read_all = [&](std::string_view how) {
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (decided[i]) continue;
      Result<std::optional<int>> read =
          transport_.ReadExitStatus(hosts_[tasks[i].host], tasks[i].status_file);
      if (read.ok() && read->has_value()) {
        decided[i] = true;
        outcomes[i].state = **read == 0 ? StepState::kSucceeded : StepState::kFailed;
        outcomes[i].exit_code = **read;
        outcomes[i].evidence =
            fmt::format("{}; exit status {} read from {} on the host", whys[i], **read, how);
      }
    }
  };
  read_all("the exit-status file");
  if (!cancelling) {
    // Wait no longer than the longest remaining step timeout (a command past its timeout is not
    // waited for) and never longer than settle_wait.
    Timestamp now = clock_.Now();
    Seconds longest{0};
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (decided[i]) continue;
      Seconds timeout = plan_.phases[tasks[i].phase].steps[tasks[i].step].timeout;
      longest =
          std::max(longest, std::chrono::duration_cast<Seconds>(tasks[i].started + timeout - now));
    }
    auto deadline = clock_.Monotonic() + std::min(longest, options_.settle_wait);
    while (clock_.Monotonic() < deadline &&
           std::find(decided.begin(), decided.end(), false) != decided.end()) {
      sleeper_.SleepFor(options_.poll_interval);
      read_all("the exit-status file (after waiting)");
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!decided[i]) {
      outcomes[i] = Settle(tasks[i], whys[i], /*may_wait=*/false,
                           /*stop_without_probe=*/cancelling, /*rerun_if_not_in_place=*/true);
    }
  }
  // A step that was unknown and still is keeps its record (and its evidence) as it was.
  std::vector<bool> unchanged(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    unchanged[i] =
        in_flight[i].state == StepState::kUnknown && outcomes[i].state == StepState::kUnknown;
  }
  Timestamp now = clock_.Now();
  RETURN_IF_ERROR(Commit([&](Transaction& txn) -> Status {
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (unchanged[i]) continue;
      StepExecution& e = in_flight[i];
      e.state = outcomes[i].state;
      e.exit_code = outcomes[i].exit_code;
      e.probe_exit_code = outcomes[i].probe_exit_code;
      e.evidence = outcomes[i].evidence;
      e.finished_at = now;
      RETURN_IF_ERROR(txn.PutStepExecution(e));
      json details = {{"step", e.step_name},
                      {"host", e.host},
                      {"attempt", e.attempt},
                      {"evidence", e.evidence}};
      if (e.exit_code) details["exit_code"] = *e.exit_code;
      if (e.probe_exit_code) details["probe_exit_code"] = *e.probe_exit_code;
      RETURN_IF_ERROR(
          txn.AppendAudit({now, options_.actor, fmt::format("step.{}", StepStateName(e.state)),
                           run_.id, Details(details)})
              .status());
    }
    return Status::Ok();
  }));
  for (size_t i = 0; i < in_flight.size(); ++i) {
    if (unchanged[i]) continue;
    const StepExecution& e = in_flight[i];
    ProgressEvent event;
    event.kind = ProgressEvent::Kind::kStepFinished;
    event.step = e.step_name;
    event.host = e.host;
    event.attempt = e.attempt;
    event.state = e.state;
    event.exit_code = e.exit_code;
    event.message = e.evidence;
    Emit(event);
  }
  return Status::Ok();
}

Result<Run> Executor::Finish(RunState state, std::string message, std::string attention) {
  Timestamp now = clock_.Now();
  run_.state = state;
  run_.message = std::move(message);
  run_.attention = std::move(attention);
  if (state != RunState::kPausedForPerson) run_.finished_at = now;
  RETURN_IF_ERROR(Commit([&](Transaction& txn) -> Status {
    RETURN_IF_ERROR(txn.PutRun(run_));
    if (state != RunState::kPausedForPerson) {
      // Released, keeping the fencing token; a paused run keeps the lock: the system is in a
      // state a person must look at before anything else deploys to it.
      RETURN_IF_ERROR(txn.PutRunLock(
          RunLock{run_.system, run_.environment, "", 0, "", "", run_.fencing_token, now, now}));
    }
    RETURN_IF_ERROR(
        txn.AppendAudit({now, options_.actor, fmt::format("run.{}", RunStateName(state)), run_.id,
                         Details({{"message", run_.message}, {"attention", run_.attention}})})
            .status());
    if (state != RunState::kPausedForPerson && options_.on_finish) {
      RETURN_IF_ERROR(options_.on_finish(txn, run_));
    }
    return Status::Ok();
  }));
  ProgressEvent event;
  event.kind = ProgressEvent::Kind::kRunFinished;
  event.run_state = state;
  event.message = run_.message;
  Emit(event);
  return run_;
}

Result<Run> Executor::Drive() {
  const int total = static_cast<int>(hosts_.size());
  std::map<std::string, size_t> host_index;
  for (size_t i = 0; i < host_names_.size(); ++i) host_index[host_names_[i]] = i;
  std::unordered_map<uint64_t, const StepExecution*> latest;
  for (const StepExecution& e : journal_) {
    auto it = host_index.find(e.host);
    if (it == host_index.end()) continue;
    const StepExecution*& slot = latest[Key(e.phase, e.step, it->second)];
    if (slot == nullptr || slot->attempt <= e.attempt) slot = &e;
  }
  enum class HostState { kActive, kFailed, kPaused };
  std::vector<HostState> host_state(hosts_.size(), HostState::kActive);
  std::vector<std::string> attention;
  auto note_unknown = [&](const std::string& step, const std::string& host, int attempt,
                          const std::string& status_file, const std::string& evidence) {
    attention.push_back(fmt::format(
        "step {} on {} (attempt {}) may or may not have taken effect: {}. Check on {} whether "
        "it did (exit-status file {}), then run `rollgate run resume {} --decide {}@{}=in-place` "
        "or `--decide {}@{}=not-in-place`.",
        step, host, attempt, evidence, host, status_file, run_.id, step, host, step, host));
  };
  for (const auto& [key, e] : latest) {
    size_t h = host_index[e->host];
    const StepSpec& spec = plan_.phases[e->phase].steps[e->step];
    if (e->state == StepState::kFailed || e->state == StepState::kCancelled) {
      host_state[h] = HostState::kFailed;
    } else if (e->state == StepState::kUnknown && !spec.idempotent) {
      host_state[h] = HostState::kPaused;
      note_unknown(e->step_name, e->host, e->attempt, e->status_file, e->evidence);
    }
  }
  if (!attention.empty()) {
    return Finish(RunState::kPausedForPerson,
                  fmt::format("{} step(s) with an unknown outcome need a person", attention.size()),
                  Join(attention, "\n"));
  }
  int failed =
      static_cast<int>(std::count(host_state.begin(), host_state.end(), HostState::kFailed));
  const int limit = FailureLimitFor(plan_.failure_limit, total);

  ProgressEvent started;
  started.kind = ProgressEvent::Kind::kRunStarted;
  started.hosts = total;
  started.message = journal_.empty() ? "started" : "resumed";
  Emit(started);

  for (int p = 0; p < static_cast<int>(plan_.phases.size()); ++p) {
    const Phase& phase = plan_.phases[p];
    // A phase on one host (database steps) runs on the first host still active, in one batch.
    int one_host = -1;
    if (phase.one_host) {
      for (int h = 0; h < total && one_host < 0; ++h) {
        if (host_state[h] == HostState::kActive) one_host = h;
      }
      if (one_host < 0) continue;
    }
    const int batch_size =
        phase.one_host ? total : BatchSizeFor(phase.batch.value_or(plan_.batch), total);
    const int batches = (total + batch_size - 1) / batch_size;
    for (int b = 0; b < batches; ++b) {
      if (failed > limit) {
        return Finish(RunState::kFailed,
                      fmt::format("{} of {} hosts failed (limit {}); phase {} batches {}..{} and "
                                  "later phases never started",
                                  failed, total, limit, phase.name, b + 1, batches),
                      "");
      }
      std::vector<size_t> members;
      for (int h = b * batch_size; h < std::min(total, (b + 1) * batch_size); ++h) {
        if (one_host >= 0 && h != one_host) continue;
        if (host_state[h] == HostState::kActive) members.push_back(static_cast<size_t>(h));
      }
      if (members.empty()) continue;
      ProgressEvent batch_event;
      batch_event.kind = ProgressEvent::Kind::kBatchStarted;
      batch_event.step = phase.name;
      batch_event.batch = b + 1;
      batch_event.batches = batches;
      batch_event.hosts = static_cast<int>(members.size());
      Emit(batch_event);
      for (int s = 0; s < static_cast<int>(phase.steps.size()); ++s) {
        const StepSpec& spec = phase.steps[s];
        std::vector<Task> tasks;
        for (size_t h : members) {
          if (host_state[h] != HostState::kActive) continue;
          auto it = latest.find(Key(p, s, h));
          if (it != latest.end() && it->second->state == StepState::kSucceeded) continue;
          Task task;
          task.phase = p;
          task.step = s;
          task.host = h;
          task.attempt = it == latest.end() ? 1 : it->second->attempt + 1;
          tasks.push_back(std::move(task));
        }
        if (tasks.empty()) continue;
        RETURN_IF_ERROR(RunTasks(p, s, tasks));
        bool cancel_unconfirmed = false;
        for (const Task& task : tasks) {
          switch (task.state) {
            case StepState::kSucceeded:
              break;
            case StepState::kUnknown:
              if (!spec.idempotent || task.cancel_issued) {
                host_state[task.host] = HostState::kPaused;
                cancel_unconfirmed = cancel_unconfirmed || task.cancel_issued;
                note_unknown(StepDisplayName(plan_, p, s), host_names_[task.host], task.attempt,
                             task.status_file, task.evidence);
                break;
              }
              [[fallthrough]];
            default:
              host_state[task.host] = HostState::kFailed;
              ++failed;
          }
        }
        if (StopRequested()) {
          if (!attention.empty()) {
            return Finish(RunState::kPausedForPerson,
                          "cancelled, but not every host confirmed its command is gone",
                          Join(attention, "\n"));
          }
          return Finish(RunState::kCancelled,
                        fmt::format("cancelled during step {}; every command it started is gone",
                                    StepDisplayName(plan_, p, s)),
                        "");
        }
        if (!attention.empty()) {
          return Finish(
              RunState::kPausedForPerson,
              fmt::format("{} step(s) with an unknown outcome need a person", attention.size()),
              Join(attention, "\n"));
        }
      }
    }
  }
  if (failed > 0) {
    return Finish(
        RunState::kFailed,
        fmt::format("{} of {} hosts failed (limit {}); the others completed", failed, total, limit),
        "");
  }
  return Finish(RunState::kSucceeded, fmt::format("every step succeeded on {} hosts", total), "");
}

Result<Run> Executor::Execute(const std::string& run_id) {
  ASSIGN_OR_RETURN(Run current, [&]() -> Result<Run> {
    Run run;
    RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
      ASSIGN_OR_RETURN(run, txn.GetRun(run_id));
      return Status::Ok();
    }));
    return run;
  }());
  if (current.state != RunState::kPending) {
    return Conflict(fmt::format("run {} is {}, not pending; use `rollgate run resume {}`", run_id,
                                RunStateName(current.state), run_id));
  }
  Run claimed;
  RETURN_IF_ERROR(Claim(run_id, /*takeover=*/false, &claimed));
  return Drive();
}

Result<Run> Executor::Resume(const std::string& run_id,
                             const std::vector<StepDecision>& decisions) {
  Run current;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(current, txn.GetRun(run_id));
    return Status::Ok();
  }));
  if (IsFinal(current.state) && current.state != RunState::kPausedForPerson) return current;
  Run claimed;
  RETURN_IF_ERROR(Claim(run_id, /*takeover=*/true, &claimed));

  // The latest attempt of each step on each host.
  std::map<std::tuple<int, int, std::string>, size_t> latest;
  for (size_t i = 0; i < journal_.size(); ++i) {
    auto key = std::make_tuple(journal_[i].phase, journal_[i].step, journal_[i].host);
    auto it = latest.find(key);
    if (it == latest.end() || journal_[it->second].attempt <= journal_[i].attempt) {
      latest[key] = i;
    }
  }
  // A person's decisions about unknown steps.
  if (!decisions.empty()) {
    std::vector<StepExecution> decided;
    for (const StepDecision& decision : decisions) {
      bool found = false;
      for (const auto& [key, index] : latest) {
        StepExecution& e = journal_[index];
        if (e.step_name != decision.step || e.host != decision.host) continue;
        found = true;
        if (e.state != StepState::kUnknown) {
          return InvalidArgument(fmt::format("step {} on {} is {}, not unknown; nothing to decide",
                                             EscapeForDisplay(decision.step),
                                             EscapeForDisplay(decision.host),
                                             StepStateName(e.state)));
        }
        e.state = decision.in_place ? StepState::kSucceeded : StepState::kSkipped;
        e.evidence += fmt::format("; decided by {}: the effect is {}", options_.actor,
                                  decision.in_place ? "in place" : "not in place (it runs again)");
        decided.push_back(e);
      }
      if (!found) {
        return NotFound(fmt::format("run {} has no step {} on {}", run_id,
                                    EscapeForDisplay(decision.step),
                                    EscapeForDisplay(decision.host)));
      }
    }
    Timestamp now = clock_.Now();
    RETURN_IF_ERROR(Commit([&](Transaction& txn) -> Status {
      for (const StepExecution& e : decided) {
        RETURN_IF_ERROR(txn.PutStepExecution(e));
        RETURN_IF_ERROR(
            txn.AppendAudit({now, options_.actor,
                             fmt::format("step.decided-{}", StepStateName(e.state)), run_id,
                             Details({{"step", e.step_name}, {"host", e.host}})})
                .status());
      }
      return Status::Ok();
    }));
  }
  // Steps in flight, and steps left unknown (a host that did not answer, say): what the hosts
  // know now decides them; an unknown step nothing decides stays as it was recorded.
  std::vector<StepExecution> in_flight;
  std::vector<size_t> indexes;
  for (const auto& [key, index] : latest) {
    StepState state = journal_[index].state;
    if (state == StepState::kIntent || state == StepState::kRunning ||
        state == StepState::kPending || state == StepState::kUnknown) {
      in_flight.push_back(journal_[index]);
      indexes.push_back(index);
    }
  }
  RETURN_IF_ERROR(SettleInFlight(in_flight, /*cancelling=*/false));
  for (size_t i = 0; i < indexes.size(); ++i) journal_[indexes[i]] = in_flight[i];
  if (StopRequested()) return Cancel(run_id, Seconds(0));
  return Drive();
}

Result<Run> Executor::Cancel(const std::string& run_id, Seconds wait) {
  Run current;
  bool owner_alive = false;
  RETURN_IF_ERROR(store_.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(current, txn.GetRun(run_id));
    if (IsFinal(current.state) && current.state != RunState::kPausedForPerson) {
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::optional<RunLock> lock,
                     txn.GetRunLock(current.system, current.environment));
    owner_alive = lock && lock->run_id == current.id && lock->owner_token != options_.owner_token &&
                  !LockIsStale(*lock) && current.state == RunState::kRunning;
    if (current.cancel_requested) return Status::Ok();
    current.cancel_requested = true;
    RETURN_IF_ERROR(txn.PutRun(current));
    return txn.AppendAudit({clock_.Now(), options_.actor, "run.cancel-requested", current.id, "{}"})
        .status();
  }));
  if (IsFinal(current.state) && current.state != RunState::kPausedForPerson) return current;
  if (owner_alive) {
    auto deadline = clock_.Monotonic() + wait;
    while (true) {
      RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
        ASSIGN_OR_RETURN(current, txn.GetRun(run_id));
        return Status::Ok();
      }));
      if (IsFinal(current.state)) return current;
      if (clock_.Monotonic() >= deadline) {
        return DeadlineExceeded(fmt::format(
            "run {} is executed by pid {} on {}, which has not ended it within {}; it will stop "
            "at its next step boundary",
            run_id, current.owner_pid, EscapeForDisplay(current.owner_host), FormatDuration(wait)));
      }
      sleeper_.SleepFor(options_.poll_interval);
    }
  }
  Run claimed;
  RETURN_IF_ERROR(Claim(run_id, /*takeover=*/true, &claimed));
  std::map<std::tuple<int, int, std::string>, size_t> latest;
  for (size_t i = 0; i < journal_.size(); ++i) {
    auto key = std::make_tuple(journal_[i].phase, journal_[i].step, journal_[i].host);
    auto it = latest.find(key);
    if (it == latest.end() || journal_[it->second].attempt <= journal_[i].attempt) {
      latest[key] = i;
    }
  }
  std::vector<StepExecution> in_flight;
  for (const auto& [key, index] : latest) {
    StepState state = journal_[index].state;
    if (state == StepState::kIntent || state == StepState::kRunning ||
        state == StepState::kPending) {
      in_flight.push_back(journal_[index]);
    }
  }
  RETURN_IF_ERROR(SettleInFlight(in_flight, /*cancelling=*/true));
  std::vector<std::string> attention;
  for (const StepExecution& e : in_flight) {
    if (e.state == StepState::kUnknown) {
      attention.push_back(
          fmt::format("step {} on {} (attempt {}): {}. Make sure it is not running "
                      "on {} (exit-status file {}).",
                      e.step_name, e.host, e.attempt, e.evidence, e.host, e.status_file));
    }
  }
  if (!attention.empty()) {
    return Finish(RunState::kPausedForPerson,
                  "cancelled, but not every host confirmed its command is gone",
                  Join(attention, "\n"));
  }
  return Finish(RunState::kCancelled, "cancelled; every command it started is gone", "");
}

std::string_view ProgressKindName(ProgressEvent::Kind kind) {
  switch (kind) {
    case ProgressEvent::Kind::kRunStarted:
      return "run-started";
    case ProgressEvent::Kind::kBatchStarted:
      return "batch-started";
    case ProgressEvent::Kind::kStepStarted:
      return "step-started";
    case ProgressEvent::Kind::kStepFinished:
      return "step-finished";
    case ProgressEvent::Kind::kRunFinished:
      return "run-finished";
    case ProgressEvent::Kind::kStepRunning:
      return "step-running";
  }
  return "event";
}

}  // namespace rollgate
