// What the commands that execute runs share (run exec/resume/cancel, deploy, rollback): the
// transport from the command line, the owner of a run, progress printing, Ctrl-C as cancel.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "domain/change_request.h"
#include "engine/executor.h"
#include "engine/progress.h"
#include "engine/step_type.h"
#include "service/rollback_runner.h"
#include "transport/transport.h"

namespace rollgate::cli {

struct TransportOptions {
  std::string ssh_config;  // default: $ROLLGATE_SSH_CONFIG
  std::string identity;
  std::string known_hosts;
};

// --ssh-config, --identity, --known-hosts.
void AddTransportOptions(CLI::App* command, TransportOptions& options);
// "local", "ssh", "session" or "simulated", on ctx's clock, its commands at the configuration's
// execution.command_nice.
Result<std::unique_ptr<Transport>> MakeTransport(Context& ctx, const std::string& kind,
                                                 const TransportOptions& options);
// This process as the owner of a run and its lock.
ExecutorOptions OwnerOptions(const std::string& actor, Seconds settle_wait);
// Progress as `run exec` prints it: JSON lines, a live summary on a terminal, or plain lines.
std::unique_ptr<ProgressSink> MakeCliProgress(Context& ctx);
// Runs `body` with SIGINT/SIGTERM turned into a cancel request of `executor`.
Result<Run> WithInterruptCancelsRun(Executor& executor, const std::function<Result<Run>()>& body);
// Prints evidence recorded on a CR, one line each: kind, passed/FAILED, detail.
void PrintEvidenceLines(Context& ctx, const std::vector<Evidence>& evidence);
// A diagnostic report (playbook §7) as JSON, and as text: grouped by host and check, the
// highlighted lines first (cli/cmd_diagnose.cc).
nlohmann::json DiagnosticReportJson(const DiagnosticReport& report);
void PrintDiagnosticReport(Context& ctx, const DiagnosticReport& report);
// Prints the run as `run show` does; Failed("") (exit 1) unless it succeeded or still runs.
Status PrintRun(Context& ctx, const std::string& id);

// What executing deployments and rollbacks takes (cli/runner_support.cc): a transport, the step
// types, progress printing and the rollback runner over them (service/rollback_runner.h), with
// Ctrl-C as cancel, the watch started after a deployment to the last environment and a
// post-incident review scheduled after a rollback or an emergency deployment.
struct Execution {
  std::unique_ptr<Transport> transport;
  StepTypeTable types = DefaultStepTypes();
  RealSleeper sleeper;
  std::unique_ptr<ProgressSink> progress;
  std::unique_ptr<RollbackRunner> runner;

  ~Execution() {
    if (transport) transport->Close();
  }
};
// How the server executes instead of the terminal: told the run's id once it exists, and the
// executor wrapped its own way (none: Ctrl-C cancels, as for the commands).
struct ExecutionHooks {
  std::function<void(const std::string& run_id)> created;
  std::function<Result<Run>(Executor&, const std::function<Result<Run>()>&)> execute_wrapper;
  // Put before the owner token of every run executed (the server's runs: "serve-").
  std::string owner_tag;
};
Result<std::unique_ptr<Execution>> MakeRunnerExecution(Context& ctx, const std::string& transport,
                                                       const TransportOptions& transport_options,
                                                       int concurrency,
                                                       std::vector<std::string> hosts,
                                                       const std::string& actor,
                                                       ExecutionHooks hooks = {});

// What RespondToFirings did: nothing (deployed by hand, or no action), a rollback, or a page.
struct FiringResponse {
  bool deployed_by_hand = false;  // no deployment run of Rollgate's: nothing to roll back
  std::optional<Run> rollback;    // the rollback run, for action rollback
  bool paged = false;             // for action evaluate: paged for a decision
};
// The same, silent, executing through `execution_for` (given the transport the deployment used):
// for the server, whose runs execute its own way.
Result<FiringResponse> RespondToFirings(
    Context& ctx, const std::string& cr, const std::string& environment,
    const std::vector<TriggerFiring>& firings,
    const std::function<Result<std::unique_ptr<Execution>>(const std::string& transport)>&
        execution_for);

// Acts on triggers recorded by someone other than a deployment (the watch, `patch import`):
// rolls back at once for action rollback (over the transport the deployment used), pages for a
// decision for action evaluate. Prints what it did. `actor` is the person whose command
// recorded the firings, or "system" for the watch.
Status RespondToFirings(Context& ctx, const std::string& cr, const std::string& environment,
                        const std::vector<TriggerFiring>& firings, const std::string& actor);

}  // namespace rollgate::cli
