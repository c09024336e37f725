// The runs of `rollgate serve` (docs/server.md "Runs"): deployments, rollbacks and cancels
// started through the API execute here, each on a thread of its own with its own store
// connection, exactly as `deploy`, `rollback` and `run cancel` execute them; runs a previous
// server process left unfinished are resumed; and a timer does what is due (pages escalate,
// notifications are retried, decisions past their deadline take their default).
//
// On SIGTERM the server refuses new runs (BeginShutdown) and waits for the runs in flight
// (Drain). A run still going when the wait ends is left as after `kill -9`: every step's intent
// is in the store, and the next start of the server resumes it (its owner token says "serve-").
#pragma once

#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "cli/context.h"
#include "cli/run_support.h"
#include "server/run_control.h"

namespace rollgate::cli {

class ServerRuns final : public server::RunControl {
 public:
  // `transport`: how runs reach their hosts ("ssh" in production; "local" or "simulated" for
  // trials). `log` receives one line per run started, ended or resumed (the server's stderr).
  ServerRuns(GlobalOptions options, const Clock& clock, const TimeZone& zone, std::string transport,
             int concurrency, std::ostream& log);
  ~ServerRuns() override;  // stops the timer and waits for every run's thread
  ServerRuns(const ServerRuns&) = delete;
  ServerRuns& operator=(const ServerRuns&) = delete;

  Result<server::RunStarted> StartDeployment(const std::string& cr, const std::string& environment,
                                             bool emergency, const std::string& actor) override;
  Result<server::RunStarted> StartRollback(const std::string& cr, const std::string& environment,
                                           const std::string& reason,
                                           const std::string& actor) override;
  Status Cancel(const std::string& run_id, const std::string& actor) override;
  Result<server::RunStarted> Decide(const std::string& cr, const std::string& environment,
                                    const std::string& decision, const std::string& reason,
                                    const std::string& actor) override;
  // Over the server's transport (a request cannot choose one), not the deployment's.
  Result<server::RunStarted> RespondToFirings(const std::string& cr, const std::string& environment,
                                              const std::vector<TriggerFiring>& firings,
                                              const std::string& actor) override;

  // Resumes, in the background, every unfinished run whose owner was a server process that is
  // gone. Returns their ids.
  Result<std::vector<std::string>> ResumeLeftRuns();
  // Every `interval`: escalates due pages, retries due notifications, applies the default of
  // decisions past their deadline. Until BeginShutdown.
  void StartTimer(Seconds interval);
  // No new run from now on (Start* answer Unavailable); the timer stops.
  void BeginShutdown();
  // Waits up to `timeout` for the runs in flight. Returns the ids of those still running.
  std::vector<std::string> Drain(Seconds timeout);

  // The runs executing now.
  std::vector<std::string> Running() const;

 private:
  struct Job;
  // Starts `body` on a thread of its own with a Context acting as `actor`; returns what the
  // body answers through its `answer` (the run id once created, or the refusal).
  Result<server::RunStarted> Launch(
      const std::string& what, const std::string& actor,
      std::function<Result<server::RunStarted>(Context&, Job&,
                                               const std::function<void(server::RunStarted)>&)>
          body);
  // The rollback runner of a run executed for `job` as `actor`: the server's owner tag, the id
  // reported through `started` once created, the executor registered so that Cancel reaches it.
  Result<std::unique_ptr<Execution>> ExecutionFor(
      Context& ctx, Job& job, const std::function<void(server::RunStarted)>& started,
      const std::string& actor);
  // What a rollback's POST answers: its run, or the roles still awaited (a joint authorisation),
  // or the refusal. Logs the run's end.
  Result<server::RunStarted> RollbackStarted(const Result<RunnerOutcome>& outcome,
                                             const std::string& what);
  void Log(const std::string& line);
  void Tick();

  GlobalOptions options_;
  const Clock& clock_;
  const TimeZone& zone_;
  std::string transport_;
  int concurrency_;
  std::ostream& log_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::list<std::shared_ptr<Job>> jobs_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace rollgate::cli
