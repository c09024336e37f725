// run exec | list | show | resume | cancel: the executor from the command line (engine/executor.h).
//
// `run exec` starts a plan file on explicit hosts (a developer command, before the playbook's
// procedures exist); the others work on any run. Progress: plain lines when stdout is not a
// terminal, a live per-step summary on a terminal, one JSON object per line with --output json.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "engine/executor.h"
#include "engine/plan.h"
#include "engine/step_type.h"
#include "service/deploy_service.h"
#include "transport/local_transport.h"
#include "transport/session_transport.h"
#include "transport/simulated_transport.h"
#include "transport/ssh_transport.h"
#include "views/views.h"

namespace rollgate::cli {

using nlohmann::json;

Result<std::unique_ptr<Transport>> MakeTransport(Context& ctx, const std::string& kind,
                                                 const TransportOptions& options) {
  const Clock& clock = ctx.clock();
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  if (kind == "local") {
    return std::unique_ptr<Transport>(
        std::make_unique<LocalTransport>(clock, config->command_nice));
  }
  if (kind == "simulated") {
    return std::unique_ptr<Transport>(std::make_unique<SimulatedTransport>());
  }
  if (kind == "ssh" || kind == "session") {
    SshOptions ssh;
    ssh.config_file = options.ssh_config;
    if (ssh.config_file.empty()) {
      if (const char* file = std::getenv("ROLLGATE_SSH_CONFIG"); file != nullptr) {
        ssh.config_file = file;
      }
    }
    ssh.identity_file = options.identity;
    ssh.known_hosts_file = options.known_hosts;
    ssh.command_nice = config->command_nice;
    if (kind == "session") {
      // One long-lived ssh session per host, the run's commands streamed through it.
      ASSIGN_OR_RETURN(std::unique_ptr<SessionTransport> transport,
                       SessionTransport::Create(clock, std::move(ssh)));
      return std::unique_ptr<Transport>(std::move(transport));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<SshTransport> transport,
                     SshTransport::Create(clock, std::move(ssh)));
    return std::unique_ptr<Transport>(std::move(transport));
  }
  return InvalidArgument(fmt::format(
      "unknown transport '{}': expected local, ssh, session or simulated", EscapeForDisplay(kind)));
}

// Who this process is, for the run's owner and lock.
ExecutorOptions OwnerOptions(const std::string& actor, Seconds settle_wait) {
  ExecutorOptions options;
  options.actor = actor;
  options.owner_pid = getpid();
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  options.owner_host = host[0] != '\0' ? host : "localhost";
  std::random_device random;
  options.owner_token = fmt::format("{:08x}{:08x}-{}", random(), random(), getpid());
  options.settle_wait = settle_wait;
  return options;
}

namespace {

std::string TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? FormatRfc3339Utc(*t) : std::string();
}
json EventJson(const ProgressEvent& event) {
  json out = {{"event", ProgressKindName(event.kind)},
              {"run", event.run_id},
              {"at", FormatRfc3339Utc(event.at)}};
  switch (event.kind) {
    case ProgressEvent::Kind::kRunStarted:
      out["hosts"] = event.hosts;
      out["message"] = event.message;
      break;
    case ProgressEvent::Kind::kBatchStarted:
      out["phase"] = event.step;
      out["batch"] = event.batch;
      out["batches"] = event.batches;
      out["hosts"] = event.hosts;
      break;
    case ProgressEvent::Kind::kStepStarted:
      out["step"] = event.step;
      out["attempt"] = event.attempt;
      out["hosts"] = event.hosts;
      break;
    case ProgressEvent::Kind::kStepFinished:
      out["step"] = event.step;
      out["host"] = event.host;
      out["attempt"] = event.attempt;
      out["state"] = StepStateName(event.state);
      out["exit_code"] = event.exit_code ? json(*event.exit_code) : json(nullptr);
      out["evidence"] = event.message;
      break;
    case ProgressEvent::Kind::kRunFinished:
      out["state"] = RunStateName(event.run_state);
      out["message"] = event.message;
      break;
    case ProgressEvent::Kind::kStepRunning:
      out["step"] = event.step;
      out["hosts"] = event.hosts;
      break;
  }
  return out;
}

// Prints progress: JSON lines, a live summary on a terminal, or plain lines.
class CliProgress final : public ProgressSink {
 public:
  CliProgress(Context& ctx, bool terminal) : ctx_(ctx), terminal_(terminal) {}

  void OnEvent(const ProgressEvent& event) override {
    if (ctx_.json()) {
      ctx_.out() << EventJson(event).dump(-1, ' ', false, json::error_handler_t::replace) << "\n"
                 << std::flush;
      return;
    }
    if (terminal_) {
      Live(event);
    } else {
      Plain(event);
    }
  }

 private:
  struct Counts {
    int running = 0;
    int done = 0;
    int failed = 0;
  };

  void Plain(const ProgressEvent& event) {
    std::ostream& out = ctx_.out();
    switch (event.kind) {
      case ProgressEvent::Kind::kRunStarted:
        out << fmt::format("{} {} on {} hosts\n", event.run_id, event.message, event.hosts);
        break;
      case ProgressEvent::Kind::kBatchStarted:
        out << fmt::format("{} phase {} batch {}/{}: {} hosts\n", event.run_id, event.step,
                           event.batch, event.batches, event.hosts);
        break;
      case ProgressEvent::Kind::kStepStarted:
        break;
      case ProgressEvent::Kind::kStepFinished:
        out << fmt::format("{} {} {}: {}{}\n", event.run_id, event.step, event.host,
                           StepStateName(event.state),
                           event.state == StepState::kSucceeded ? "" : " (" + event.message + ")");
        break;
      case ProgressEvent::Kind::kRunFinished:
        out << fmt::format("{} {}: {}\n", event.run_id, RunStateName(event.run_state),
                           event.message);
        break;
      case ProgressEvent::Kind::kStepRunning:
        out << fmt::format("{} {}: still running on {} hosts\n", event.run_id, event.step,
                           event.hosts);
        break;
    }
    out << std::flush;
  }

  void Live(const ProgressEvent& event) {
    std::ostream& out = ctx_.out();
    if (!started_) {
      started_ = true;
      start_ = ctx_.clock().Monotonic();
    }
    if (event.kind == ProgressEvent::Kind::kStepStarted ||
        event.kind == ProgressEvent::Kind::kStepFinished ||
        event.kind == ProgressEvent::Kind::kStepRunning) {
      if (event.step != current_ && !current_.empty()) out << "\n";
      current_ = event.step;
      Counts& counts = counts_[event.step];
      if (event.kind == ProgressEvent::Kind::kStepStarted) {
        counts.running += event.hosts;
      } else if (event.kind == ProgressEvent::Kind::kStepRunning) {
        // Only the elapsed time moves.
      } else {
        counts.running = std::max(0, counts.running - 1);
        (event.state == StepState::kSucceeded ? counts.done : counts.failed) += 1;
      }
      auto elapsed = std::chrono::duration_cast<Seconds>(ctx_.clock().Monotonic() - start_);
      out << fmt::format("\r\x1b[2K{}  {}: {} done, {} running, {} failed  ({})", event.run_id,
                         event.step, counts.done, counts.running, counts.failed,
                         FormatDuration(elapsed))
          << std::flush;
      return;
    }
    if (!current_.empty()) out << "\n";
    current_.clear();
    Plain(event);
  }

  Context& ctx_;
  bool terminal_;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_{};
  std::string current_;
  std::map<std::string, Counts> counts_;
};

}  // namespace

std::unique_ptr<ProgressSink> MakeCliProgress(Context& ctx) {
  return std::make_unique<CliProgress>(ctx, isatty(STDOUT_FILENO) == 1);
}

namespace {

Status LoadRun(Store& store, const std::string& id, Run* run, std::vector<StepExecution>* steps) {
  return store.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(*run, txn.GetRun(id));
    ASSIGN_OR_RETURN(*steps, txn.ListStepExecutions(id));
    return Status::Ok();
  });
}

}  // namespace

void PrintEvidenceLines(Context& ctx, const std::vector<Evidence>& evidence) {
  for (const Evidence& e : evidence) {
    ctx.out() << fmt::format("  {:<18} {:<6} {}\n", e.kind,
                             e.passed ? (*e.passed ? "passed" : "FAILED") : "", e.detail);
  }
}

// Prints the run as `run show` does, and maps its state to the exit code.
Status PrintRun(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  Run run;
  std::vector<StepExecution> steps;
  RETURN_IF_ERROR(LoadRun(*store, id, &run, &steps));
  std::vector<DiagnosticReport> diagnostics;
  RETURN_IF_ERROR(store->Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(diagnostics, txn.ListDiagnosticReports(id));
    return Status::Ok();
  }));
  // Why a rollback fired, or what the rollback found: the CR's evidence tied to this run.
  std::vector<Evidence> triggers;
  if (!run.change_request.empty()) {
    RETURN_IF_ERROR(store->Read([&](Transaction& txn) -> Status {
      Result<ChangeRequest> cr = txn.GetChangeRequest(run.change_request);
      if (!cr.ok()) return Status::Ok();  // the run outlives nothing; show it regardless
      for (const Evidence& e : cr->evidence) {
        if (e.run_id != run.id) continue;
        if (e.kind == kEvidenceTrigger || e.kind == kEvidenceTriggerDecision ||
            e.kind == kEvidenceRollback) {
          triggers.push_back(e);
        }
      }
      return Status::Ok();
    }));
  }
  if (ctx.json()) {
    json document = RunJson(run, steps);
    document["triggers"] = RunTriggersJson(run.id, triggers);
    json reports = json::array();
    for (const DiagnosticReport& report : diagnostics) {
      reports.push_back(DiagnosticReportJson(report));
    }
    document["diagnostics"] = reports;
    PrintJson(ctx, document);
  } else {
    std::ostream& out = ctx.out();
    out << fmt::format("{}  {}  {} in {}{}\n", run.id, RunStateName(run.state), run.system,
                       run.environment,
                       run.change_request.empty() ? "" : " for " + run.change_request);
    out << fmt::format("  created {} by {}; started {}; finished {}\n",
                       FormatRfc3339Utc(run.created_at), run.created_by, TimeOrNull(run.started_at),
                       TimeOrNull(run.finished_at));
    if (!run.message.empty()) out << "  " << run.message << "\n";
    for (const StepExecution& e : steps) {
      out << fmt::format(
          "  {:<24} {:<20} #{} {:<10} exit {:<4} {} .. {}{}\n", e.step_name, e.host, e.attempt,
          StepStateName(e.state), e.exit_code ? std::to_string(*e.exit_code) : "-",
          TimeOrNull(e.started_at), TimeOrNull(e.finished_at),
          e.evidence.empty() || e.state == StepState::kSucceeded ? "" : "\n      " + e.evidence);
    }
    if (!run.attention.empty()) {
      out << "\nA person must check:\n";
      for (const std::string& line : Split(run.attention, '\n')) out << "  - " << line << "\n";
    }
    if (!triggers.empty()) {
      out << fmt::format("\nRecorded on {} for this run:\n", run.change_request);
      for (const Evidence& e : triggers) {
        out << fmt::format("  {:<17} {} {}\n", e.kind, FormatRfc3339Utc(e.at), e.detail);
      }
    }
    for (const DiagnosticReport& report : diagnostics) {
      out << "\n";
      PrintDiagnosticReport(ctx, report);
    }
  }
  switch (run.state) {
    case RunState::kSucceeded:
    case RunState::kPending:
    case RunState::kRunning:
      return Status::Ok();
    default:
      return Failed("");  // printed above; exit 1
  }
}

namespace {

std::atomic<Executor*> g_cancel_target{nullptr};

extern "C" void OnInterrupt(int /*signal*/) {
  Executor* executor = g_cancel_target.load();
  if (executor != nullptr) executor->RequestCancel();
}

// Runs `body` with SIGINT/SIGTERM turned into a cancel request of `executor`.
template <typename Body>
auto WithInterruptCancels(Executor& executor, Body&& body) {
  g_cancel_target.store(&executor);
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  struct sigaction old_int = {};
  struct sigaction old_term = {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  auto result = body();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_cancel_target.store(nullptr);
  return result;
}

}  // namespace

Result<Run> WithInterruptCancelsRun(Executor& executor, const std::function<Result<Run>()>& body) {
  return WithInterruptCancels(executor, body);
}

namespace {

struct ExecOptions {
  std::string plan_file;
  std::string hosts;
  std::string transport = "local";
  std::string system;
  std::string environment = "DEV";
  std::string change_request;
  TransportOptions transport_options;
};

Status RunExec(Context& ctx, const ExecOptions& options) {
  std::ifstream in(options.plan_file);
  if (!in) {
    return NotFound(fmt::format("--plan {}: cannot open", EscapeForDisplay(options.plan_file)));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<Plan> parsed = PlanFromJson(text);
  if (!parsed.ok()) return parsed.error().WithContext(EscapeForDisplay(options.plan_file));
  Plan plan = std::move(parsed).value();
  if (!options.hosts.empty()) {
    plan.hosts.clear();
    for (const std::string& host : Split(options.hosts, ',')) {
      ASSIGN_OR_RETURN(HostAddress address, ParseHostAddress(Trim(host)));
      plan.hosts.push_back(address.ToString());
    }
  }
  StepTypeTable types = DefaultStepTypes();
  RETURN_IF_ERROR(ValidatePlan(plan, types).WithContext(EscapeForDisplay(options.plan_file)));
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                   MakeTransport(ctx, options.transport, options.transport_options));
  RealSleeper sleeper;
  CliProgress progress(ctx, isatty(STDOUT_FILENO) == 1);
  Executor executor(*store, *transport, types, ctx.clock(), sleeper,
                    OwnerOptions(actor, Seconds(60)), &progress);
  RunTarget target{
      options.change_request,
      options.system.empty() ? (plan.name.empty() ? "adhoc" : plan.name) : options.system,
      options.environment, options.transport};
  ASSIGN_OR_RETURN(std::string id, executor.Create(plan, target));
  if (!ctx.json()) ctx.err() << fmt::format("{} created\n", id);
  Result<Run> run = WithInterruptCancels(executor, [&] { return executor.Execute(id); });
  transport->Close();
  RETURN_IF_ERROR(run.status());
  if (ctx.json()) return PrintRun(ctx, id);
  return run->state == RunState::kSucceeded ? Status::Ok() : Failed("");
}

Status RunList(Context& ctx, int limit) {
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  std::vector<RunSummary> runs;
  RETURN_IF_ERROR(store->Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(runs, txn.ListRuns(limit > 0 ? std::optional<int>(limit) : std::nullopt));
    return Status::Ok();
  }));
  if (ctx.json()) {
    json list = json::array();
    for (const RunSummary& r : runs) {
      list.push_back({{"id", r.id},
                      {"state", RunStateName(r.state)},
                      {"change_request", r.change_request},
                      {"system", r.system},
                      {"environment", r.environment},
                      {"created", FormatRfc3339Utc(r.created_at)},
                      {"finished", JsonTime(r.finished_at)}});
    }
    PrintJson(ctx, list);
    return Status::Ok();
  }
  for (const RunSummary& r : runs) {
    ctx.out() << fmt::format("{:<8} {:<18} {:<12} {:<6} {:<8} {}\n", r.id, RunStateName(r.state),
                             r.system, r.environment, r.change_request,
                             FormatRfc3339Utc(r.created_at));
  }
  return Status::Ok();
}

Result<std::vector<StepDecision>> ParseDecisions(const std::vector<std::string>& texts) {
  std::vector<StepDecision> decisions;
  for (const std::string& text : texts) {
    size_t at = text.rfind('@');
    size_t equals = text.rfind('=');
    if (at == std::string::npos || equals == std::string::npos || equals < at) {
      return InvalidArgument(
          fmt::format("--decide '{}': expected STEP@HOST=in-place or STEP@HOST=not-in-place",
                      EscapeForDisplay(text)));
    }
    std::string verdict = text.substr(equals + 1);
    if (verdict != "in-place" && verdict != "not-in-place") {
      return InvalidArgument(
          fmt::format("--decide '{}': the verdict must be in-place or "
                      "not-in-place",
                      EscapeForDisplay(text)));
    }
    decisions.push_back(
        {text.substr(0, at), text.substr(at + 1, equals - at - 1), verdict == "in-place"});
  }
  return decisions;
}

// Resume and cancel need the run's transport.
Result<std::unique_ptr<Transport>> TransportOfRun(Context& ctx, Store& store, const std::string& id,
                                                  const TransportOptions& options) {
  Run run;
  RETURN_IF_ERROR(store.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(run, txn.GetRun(id));
    return Status::Ok();
  }));
  return MakeTransport(ctx, run.transport, options);
}

Status RunResume(Context& ctx, const std::string& id, const std::string& wait_text,
                 const std::vector<std::string>& decide, const TransportOptions& options) {
  ASSIGN_OR_RETURN(Seconds wait, ParseDuration(wait_text, /*allow_zero=*/true));
  ASSIGN_OR_RETURN(std::vector<StepDecision> decisions, ParseDecisions(decide));
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport, TransportOfRun(ctx, *store, id, options));
  StepTypeTable types = DefaultStepTypes();
  RealSleeper sleeper;
  CliProgress progress(ctx, isatty(STDOUT_FILENO) == 1);
  ExecutorOptions owner = OwnerOptions(actor, wait);
  // A deployment's evidence lands on its CR with the run's end (a configuration that does not
  // load is reported below, when a CR needs it).
  Result<const Config*> config = ctx.GetConfig();
  if (config.ok()) {
    owner.on_finish = DeployService(**config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir())
                          .RunEvidenceOnFinish(actor);
  }
  Executor executor(*store, *transport, types, ctx.clock(), sleeper, owner, &progress);
  Result<Run> run = WithInterruptCancels(executor, [&] { return executor.Resume(id, decisions); });
  transport->Close();
  RETURN_IF_ERROR(run.status());
  // A deployment or rollback finished here is recorded on its CR as `deploy` would have.
  if (!run->change_request.empty()) {
    ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
    DeployService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
    ASSIGN_OR_RETURN(std::vector<Evidence> evidence, service.RecordFinishedRun(id, actor));
    if (!evidence.empty() && !ctx.json()) {
      ctx.out() << fmt::format("Recorded on {}:\n", run->change_request);
      PrintEvidenceLines(ctx, evidence);
    }
  }
  if (ctx.json()) return PrintRun(ctx, id);
  if (!run->attention.empty()) {
    ctx.out() << "A person must check:\n";
    for (const std::string& line : Split(run->attention, '\n')) ctx.out() << "  - " << line << "\n";
  }
  return run->state == RunState::kSucceeded ? Status::Ok() : Failed("");
}

Status RunCancel(Context& ctx, const std::string& id, const std::string& wait_text,
                 const TransportOptions& options) {
  ASSIGN_OR_RETURN(Seconds wait, ParseDuration(wait_text, /*allow_zero=*/true));
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport, TransportOfRun(ctx, *store, id, options));
  StepTypeTable types = DefaultStepTypes();
  RealSleeper sleeper;
  Executor executor(*store, *transport, types, ctx.clock(), sleeper,
                    OwnerOptions(actor, Seconds(0)));
  Result<Run> run = executor.Cancel(id, wait);
  transport->Close();
  RETURN_IF_ERROR(run.status());
  if (ctx.json()) return PrintRun(ctx, id);
  ctx.out() << fmt::format("{} {}: {}\n", run->id, RunStateName(run->state), run->message);
  return run->state == RunState::kCancelled ? Status::Ok() : Failed("");
}

}  // namespace

void AddTransportOptions(CLI::App* command, TransportOptions& options) {
  command->add_option("--ssh-config", options.ssh_config, "ssh client configuration file (ssh -F)");
  command->add_option("--identity", options.identity, "ssh private key file (ssh -i)");
  command->add_option("--known-hosts", options.known_hosts, "ssh known_hosts file");
}

void RegisterRunCommands(CLI::App& app, Action& slot) {
  CLI::App* run = app.add_subcommand("run", "runs: execute, list, show, resume, cancel");
  run->require_subcommand(1);

  auto exec = std::make_shared<ExecOptions>();
  CLI::App* exec_cmd =
      run->add_subcommand("exec", "start a plan file on hosts (developer command)");
  exec_cmd->add_option("--plan", exec->plan_file, "plan file (JSON)")->required();
  exec_cmd->add_option("--hosts", exec->hosts, "hosts, comma-separated (default: the plan's)");
  exec_cmd->add_option("--transport", exec->transport, "how hosts are reached")
      ->check(CLI::IsMember({"local", "ssh", "session", "simulated"}));
  exec_cmd->add_option("--system", exec->system, "the system the run is for (lock scope)");
  exec_cmd->add_option("--env", exec->environment, "the environment (lock scope)");
  exec_cmd->add_option("--cr", exec->change_request, "the change request it belongs to");
  AddTransportOptions(exec_cmd, exec->transport_options);
  OnRun(exec_cmd, slot, [exec](Context& ctx) { return RunExec(ctx, *exec); });

  auto limit = std::make_shared<int>(0);
  CLI::App* list = run->add_subcommand("list", "runs, newest first");
  list->add_option("--limit", *limit, "at most this many");
  OnRun(list, slot, [limit](Context& ctx) { return RunList(ctx, *limit); });

  auto show_id = std::make_shared<std::string>();
  CLI::App* show = run->add_subcommand("show", "a run and every step execution");
  show->add_option("RUN", *show_id, "run id")->required();
  OnRun(show, slot, [show_id](Context& ctx) { return PrintRun(ctx, *show_id); });

  struct ResumeOptions {
    std::string id;
    std::string wait = "60s";
    std::vector<std::string> decide;
    TransportOptions transport;
  };
  auto resume = std::make_shared<ResumeOptions>();
  CLI::App* resume_cmd = run->add_subcommand(
      "resume", "settle steps left in flight (exit-status files, probes) and finish the run");
  resume_cmd->add_option("RUN", resume->id, "run id")->required();
  resume_cmd->add_option("--wait", resume->wait,
                         "how long to wait for commands that may still run (default 60s)");
  resume_cmd->add_option(
      "--decide", resume->decide,
      "a person's verdict on an unknown step: STEP@HOST=in-place (recorded succeeded) or "
      "STEP@HOST=not-in-place (it runs again)");
  AddTransportOptions(resume_cmd, resume->transport);
  OnRun(resume_cmd, slot, [resume](Context& ctx) {
    return RunResume(ctx, resume->id, resume->wait, resume->decide, resume->transport);
  });

  struct CancelOptions {
    std::string id;
    std::string wait = "5m";
    TransportOptions transport;
  };
  auto cancel = std::make_shared<CancelOptions>();
  CLI::App* cancel_cmd = run->add_subcommand(
      "cancel", "cancel a run; reported cancelled once its remote processes are gone");
  cancel_cmd->add_option("RUN", cancel->id, "run id")->required();
  cancel_cmd->add_option("--wait", cancel->wait,
                         "how long to wait for the process executing it (default 5m)");
  AddTransportOptions(cancel_cmd, cancel->transport);
  OnRun(cancel_cmd, slot, [cancel](Context& ctx) {
    return RunCancel(ctx, cancel->id, cancel->wait, cancel->transport);
  });
}

}  // namespace rollgate::cli
