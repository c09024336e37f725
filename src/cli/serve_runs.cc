#include "cli/serve_runs.h"

#include <fmt/format.h>

#include <future>
#include <iostream>

#include "cli/run_support.h"
#include "common/strings.h"
#include "service/deploy_service.h"
#include "service/notification_service.h"
#include "service/page_service.h"

namespace rollgate::cli {

namespace {

// The owner tag of every run a server executes: a later server resumes those, and only those.
constexpr const char* kServerOwnerTag = "serve-";
// Who acts for the timer (escalations, retries, decisions past their deadline).
constexpr const char* kTimerActor = "system";

GlobalOptions Quiet(GlobalOptions options) {
  options.output = "json";  // no progress text; the server logs its own lines
  options.as_person.clear();
  return options;
}

}  // namespace

struct ServerRuns::Job {
  std::string what;  // "deploy CR-1 to DEV for alice"
  std::string run_id;
  Executor* executor = nullptr;  // while a run executes on this job's thread
  bool cancel = false;           // asked to cancel before the executor existed
  bool done = false;
  std::thread thread;
};

ServerRuns::ServerRuns(GlobalOptions options, const Clock& clock, const TimeZone& zone,
                       std::string transport, int concurrency, std::ostream& log)
    : options_(Quiet(std::move(options))),
      clock_(clock),
      zone_(zone),
      transport_(std::move(transport)),
      concurrency_(concurrency),
      log_(log) {}

ServerRuns::~ServerRuns() {
  BeginShutdown();
  if (timer_.joinable()) timer_.join();
  std::list<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs = jobs_;
  }
  for (const auto& job : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
}

void ServerRuns::Log(const std::string& line) {
  std::lock_guard lock(mutex_);
  log_ << "rollgate serve: " << line << "\n";
  log_.flush();
}

Result<server::RunStarted> ServerRuns::Launch(
    const std::string& what, const std::string& actor,
    std::function<Result<server::RunStarted>(Context&, Job&,
                                             const std::function<void(server::RunStarted)>&)>
        body) {
  auto job = std::make_shared<Job>();
  job->what = what;
  auto promise = std::make_shared<std::promise<Result<server::RunStarted>>>();
  std::future<Result<server::RunStarted>> answer = promise->get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Unavailable("the server is stopping: no new runs are started");
    // Finished jobs are forgotten here, so the list stays as long as what runs.
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if ((*it)->done && (*it)->thread.joinable()) {
        (*it)->thread.join();
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
    jobs_.push_back(job);
    job->thread = std::thread([this, job, promise, actor, body = std::move(body)] {
      std::ostream discard(nullptr);
      Context ctx(options_, clock_, zone_, discard, discard);
      ctx.ActAs(actor);
      auto answered = std::make_shared<std::once_flag>();
      auto reply = [&](Result<server::RunStarted> r) {
        std::call_once(*answered, [&] { promise->set_value(std::move(r)); });
      };
      Result<server::RunStarted> result = body(ctx, *job, [&](server::RunStarted started) {
        {
          std::lock_guard lock(mutex_);
          job->run_id = started.run_id;
        }
        reply(std::move(started));
      });
      reply(result);
      {
        std::lock_guard lock(mutex_);
        job->done = true;
        job->executor = nullptr;
      }
      changed_.notify_all();
    });
  }
  return answer.get();
}

Result<server::RunStarted> ServerRuns::StartDeployment(const std::string& cr,
                                                       const std::string& environment,
                                                       bool emergency, const std::string& actor) {
  std::string what = fmt::format("deploy {} to {} for {}", cr, environment, actor);
  return Launch(
      what, actor,
      [=, this](Context& ctx, Job& job, const auto& started) -> Result<server::RunStarted> {
        ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution,
                         ExecutionFor(ctx, job, started, actor));
        Result<RunnerOutcome> outcome =
            execution->runner->Deploy(cr, environment, emergency, actor);
        if (!outcome.ok()) {
          if (!job.run_id.empty()) {
            Log(fmt::format("{} ({}) stopped: {}", job.run_id, what, outcome.status().message()));
          }
          return Result<server::RunStarted>(outcome.status());
        }
        Log(fmt::format(
            "{} ({}) ended {}{}", outcome->run.id, what, RunStateName(outcome->run.state),
            outcome->rollback ? fmt::format("; rolled back by {} ({})", outcome->rollback->id,
                                            RunStateName(outcome->rollback->state))
                              : ""));
        return Result<server::RunStarted>(server::RunStarted{outcome->run.id, {}});
      });
}

Result<server::RunStarted> ServerRuns::StartRollback(const std::string& cr,
                                                     const std::string& environment,
                                                     const std::string& reason,
                                                     const std::string& actor) {
  std::string what = fmt::format("roll back {} in {} for {}", cr, environment, actor);
  return Launch(
      what, actor,
      [=, this](Context& ctx, Job& job, const auto& started) -> Result<server::RunStarted> {
        ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution,
                         ExecutionFor(ctx, job, started, actor));
        Result<RunnerOutcome> outcome =
            execution->runner->AuthorisedRollback(cr, environment, actor, reason, false);
        return RollbackStarted(outcome, what);
      });
}

Result<server::RunStarted> ServerRuns::Decide(const std::string& cr, const std::string& environment,
                                              const std::string& decision,
                                              const std::string& reason, const std::string& actor) {
  std::string what = fmt::format("decide {} in {} ({}) for {}", cr, environment, decision, actor);
  return Launch(
      what, actor,
      [=, this](Context& ctx, Job& job, const auto& started) -> Result<server::RunStarted> {
        ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution,
                         ExecutionFor(ctx, job, started, actor));
        Result<RunnerOutcome> outcome =
            execution->runner->Decide(cr, environment, actor, decision, reason);
        return RollbackStarted(outcome, what);
      });
}

Result<server::RunStarted> ServerRuns::RespondToFirings(const std::string& cr,
                                                        const std::string& environment,
                                                        const std::vector<TriggerFiring>& firings,
                                                        const std::string& actor) {
  std::string what = fmt::format("respond to the triggers of {} in {}", cr, environment);
  return Launch(
      what, actor,
      [=, this](Context& ctx, Job& job, const auto& started) -> Result<server::RunStarted> {
        Result<FiringResponse> response = cli::RespondToFirings(
            ctx, cr, environment, firings,
            [&](const std::string&) { return ExecutionFor(ctx, job, started, actor); });
        if (!response.ok()) return Result<server::RunStarted>(response.status());
        if (!response->rollback) return Result<server::RunStarted>(server::RunStarted{});
        Log(fmt::format("{} ({}) ended {}", response->rollback->id, what,
                        RunStateName(response->rollback->state)));
        return Result<server::RunStarted>(server::RunStarted{response->rollback->id, {}});
      });
}

Result<server::RunStarted> ServerRuns::RollbackStarted(const Result<RunnerOutcome>& outcome,
                                                       const std::string& what) {
  if (!outcome.ok()) return outcome.status();
  if (!outcome->rollback) return server::RunStarted{"", outcome->awaiting};
  Log(fmt::format("{} ({}) ended {}", outcome->rollback->id, what,
                  RunStateName(outcome->rollback->state)));
  return server::RunStarted{outcome->rollback->id, {}};
}

Result<std::unique_ptr<Execution>> ServerRuns::ExecutionFor(
    Context& ctx, Job& job, const std::function<void(server::RunStarted)>& started,
    const std::string& actor) {
  ExecutionHooks hooks;
  hooks.owner_tag = kServerOwnerTag;
  hooks.created = [this, &job, started](const std::string& id) {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      first = job.run_id.empty();
    }
    if (first) Log(fmt::format("{} started: {}", id, job.what));
    started(server::RunStarted{id, {}});
  };
  hooks.execute_wrapper = [this, &job](Executor& executor,
                                       const std::function<Result<Run>()>& run) {
    {
      std::lock_guard lock(mutex_);
      job.executor = &executor;
      if (job.cancel) executor.RequestCancel();
    }
    Result<Run> result = run();
    std::lock_guard lock(mutex_);
    job.executor = nullptr;
    return result;
  };
  return MakeRunnerExecution(ctx, transport_, TransportOptions{}, concurrency_, {}, actor,
                             std::move(hooks));
}

Status ServerRuns::Cancel(const std::string& run_id, const std::string& actor) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& job : jobs_) {
      if (job->done || job->run_id != run_id) continue;
      job->cancel = true;
      if (job->executor != nullptr) job->executor->RequestCancel();
      log_ << fmt::format("rollgate serve: {} cancel asked by {}\n", run_id, actor);
      return Status::Ok();
    }
  }
  // Not executed here: as `run cancel` does it, in the background (it may wait for the owner).
  std::string what = fmt::format("cancel {} for {}", run_id, actor);
  Result<server::RunStarted> launched = Launch(
      what, actor,
      [=, this](Context& ctx, Job&, const auto& started) -> Result<server::RunStarted> {
        ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
        Run run;
        RETURN_IF_ERROR(store->Read([&](Transaction& tx) -> Status {
          ASSIGN_OR_RETURN(run, tx.GetRun(run_id));
          return Status::Ok();
        }));
        if (IsFinal(run.state)) {
          return Result<server::RunStarted>(
              Conflict(fmt::format("{} already ended: {}", run_id, RunStateName(run.state))));
        }
        ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                         MakeTransport(ctx, run.transport.empty() ? transport_ : run.transport,
                                       TransportOptions{}));
        started(server::RunStarted{run_id, {}});
        StepTypeTable types = DefaultStepTypes();
        RealSleeper sleeper;
        Executor executor(*store, *transport, types, ctx.clock(), sleeper,
                          OwnerOptions(actor, Seconds(0)));
        Result<Run> cancelled = executor.Cancel(run_id, Seconds(120));
        transport->Close();
        Log(fmt::format("{}: {}", what,
                        cancelled.ok() ? std::string(RunStateName(cancelled->state))
                                       : cancelled.status().message()));
        return Result<server::RunStarted>(server::RunStarted{run_id, {}});
      });
  return launched.status();
}

Result<std::vector<std::string>> ServerRuns::ResumeLeftRuns() {
  std::vector<Run> left;
  {
    std::ostream discard(nullptr);
    Context ctx(options_, clock_, zone_, discard, discard);
    ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
    RETURN_IF_ERROR(store->Read([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(std::vector<RunSummary> runs, tx.ListRuns(std::nullopt));
      for (const RunSummary& summary : runs) {
        if (IsFinal(summary.state)) continue;
        ASSIGN_OR_RETURN(Run run, tx.GetRun(summary.id));
        // A live owner (another server on the same store) keeps its run: Resume says so.
        if (StartsWith(run.owner_token, kServerOwnerTag)) left.push_back(std::move(run));
      }
      return Status::Ok();
    }));
  }
  std::vector<std::string> resumed;
  for (const Run& run : left) {
    std::string actor = run.created_by.empty() ? kTimerActor : run.created_by;
    std::string id = run.id;
    std::string what = fmt::format("resume {} for {}", id, actor);
    Result<server::RunStarted> launched = Launch(
        what, actor,
        [=, this](Context& ctx, Job& job, const auto& started) -> Result<server::RunStarted> {
          ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
          ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
          ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                           MakeTransport(ctx, run.transport.empty() ? transport_ : run.transport,
                                         TransportOptions{}));
          StepTypeTable types = DefaultStepTypes();
          RealSleeper sleeper;
          ExecutorOptions owner = OwnerOptions(actor, Seconds(60));
          owner.owner_token = kServerOwnerTag + owner.owner_token;
          DeployService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
          owner.on_finish = service.RunEvidenceOnFinish(actor);
          Executor executor(*store, *transport, types, ctx.clock(), sleeper, owner);
          {
            std::lock_guard lock(mutex_);
            job.executor = &executor;
          }
          started(server::RunStarted{id, {}});
          Result<Run> result = executor.Resume(id);
          {
            std::lock_guard lock(mutex_);
            job.executor = nullptr;
          }
          transport->Close();
          if (!result.ok()) {
            Log(fmt::format("{} not resumed: {}", id, result.status().message()));
            return Result<server::RunStarted>(result.status());
          }
          // Recorded on its CR as `run resume` records it.
          Result<std::vector<Evidence>> evidence = service.RecordFinishedRun(id, actor);
          Log(fmt::format(
              "{} resumed and ended {}{}", id, RunStateName(result->state),
              evidence.ok() ? "" : "; evidence not recorded: " + evidence.status().message()));
          return Result<server::RunStarted>(server::RunStarted{id, {}});
        });
    if (launched.ok()) resumed.push_back(id);
  }
  return resumed;
}

void ServerRuns::Tick() {
  std::ostream discard(nullptr);
  Context ctx(options_, clock_, zone_, discard, discard);
  ctx.ActAs(kTimerActor);
  auto report = [&](const char* what, const Status& status) {
    if (!status.ok()) Log(fmt::format("timer: {}: {}", what, status.message()));
  };
  Result<const Config*> config = ctx.GetConfig();
  Result<Store*> store = ctx.GetStore();
  if (!config.ok() || !store.ok()) {
    report("store", config.ok() ? store.status() : config.status());
    return;
  }
  PageService pages(**config, **store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
  report("page escalation", pages.EscalateDuePages(ctx.clock().Now(), kTimerActor).status());
  NotificationService notifications(**config, **store, ctx.clock(), ctx.zone());
  report("notification retries", notifications.Flush(kTimerActor).status());
  Result<std::vector<std::string>> notices = notifications.SendDueAdvanceNotices(kTimerActor);
  report("pre-deployment notices", notices.status());
  if (notices.ok()) {
    for (const std::string& notice : *notices) Log("pre-deployment notice sent: " + notice);
  }
  ExecutionHooks hooks;
  hooks.owner_tag = kServerOwnerTag;
  hooks.execute_wrapper = [](Executor&, const std::function<Result<Run>()>& run) { return run(); };
  Result<std::unique_ptr<Execution>> execution = MakeRunnerExecution(
      ctx, transport_, TransportOptions{}, concurrency_, {}, kTimerActor, std::move(hooks));
  if (!execution.ok()) {
    report("decisions", execution.status());
    return;
  }
  Result<std::vector<RunnerOutcome>> applied = (*execution)->runner->ApplyDueDecisions();
  if (!applied.ok()) {
    report("decisions", applied.status());
    return;
  }
  for (const RunnerOutcome& o : *applied) {
    Log(fmt::format("no decision by the deadline on {}: {}", o.run.id, o.decision));
  }
}

void ServerRuns::StartTimer(Seconds interval) {
  timer_ = std::thread([this, interval] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      Tick();
      lock.lock();
      changed_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void ServerRuns::BeginShutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
}

std::vector<std::string> ServerRuns::Running() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& job : jobs_) {
    if (!job->done) ids.push_back(job->run_id.empty() ? job->what : job->run_id);
  }
  return ids;
}

std::vector<std::string> ServerRuns::Drain(Seconds timeout) {
  {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] {
      for (const auto& job : jobs_) {
        if (!job->done) return false;
      }
      return true;
    });
  }
  if (timer_.joinable()) timer_.join();
  return Running();
}

}  // namespace rollgate::cli
