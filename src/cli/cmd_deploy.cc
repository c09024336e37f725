// deploy and rollback: the playbook's procedures on real hosts (service/deploy_service.h).
//
// `deploy CR --env ENV` refuses (exit 4) unless every gate of ENV holds, builds the procedure's
// plan for the CR's package, prints it and stops there with --dry-run (nothing is touched, not
// even the store), or executes it like `run exec` and records the results on the CR as
// evidence. `rollback CR --env ENV` restores the environment from the backups of its latest
// deployment. Both stream progress; with --output json one JSON object per line, then the
// outcome {"run","state",...}.
#include <fmt/format.h>
#include <unistd.h>

#include <functional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "engine/step_type.h"
#include "engine/steps/script_step.h"
#include "service/deploy_service.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

struct DeployArgs {
  std::string cr;
  std::string env;
  bool dry_run = false;
  bool emergency = false;
  bool show_scripts = false;
  std::string hosts;
  std::string transport = "ssh";
  int concurrency = 10;
  std::string reason;
  TransportOptions transport_options;
};

// The plan as --dry-run shows it: phase by phase, each step on each host with its inputs.
void PrintPlanText(Context& ctx, const Plan& plan, const StepTypeTable& types, bool scripts) {
  std::ostream& out = ctx.out();
  out << fmt::format("Plan {}: {} hosts, batches of {}, stop after {} failed host(s)\n", plan.name,
                     plan.hosts.size(), plan.batch.ToString(), plan.failure_limit.ToString());
  std::set<std::string> shown;
  for (const Phase& phase : plan.phases) {
    std::string hosts =
        phase.one_host ? plan.hosts.front() + " (one host)" : Join(plan.hosts, ", ");
    out << fmt::format("\nphase {}{} on {}\n", phase.name,
                       phase.batch ? " batch " + phase.batch->ToString() : "", hosts);
    for (const StepSpec& step : phase.steps) {
      out << fmt::format("  {:<18} {:<16} timeout {}{}\n", step.name, step.type,
                         FormatDuration(step.timeout), step.idempotent ? ", idempotent" : "");
      if (!step.source.empty()) {
        out << fmt::format("      copy {} -> {}\n", EscapeForDisplay(step.source),
                           EscapeForDisplay(step.destination));
      }
      for (const auto& [name, value] : step.params) {
        out << fmt::format("      {}={}\n", ParamVariable(name), EscapeForDisplay(value));
      }
      for (const auto& [name, value] : step.env) {
        out << fmt::format("      {}={}\n", name, EscapeForDisplay(value));
      }
      for (const auto& [name, reference] : step.secrets) {
        out << fmt::format("      {} from {} (secret, sent on standard input)\n", name, reference);
      }
      const auto* script = dynamic_cast<const ScriptStep*>(types.Find(step.type));
      if (script != nullptr && scripts && shown.insert(step.type).second) {
        out << "      script (sh -c):\n";
        for (const std::string& line : Split(script->FullScript(), '\n')) {
          out << "        " << line << "\n";
        }
      }
    }
  }
  if (!scripts) out << "\n(--show-scripts prints the script each step type runs)\n";
}

json EvidenceJson(const std::vector<Evidence>& evidence) {
  json list = json::array();
  for (const Evidence& e : evidence) {
    list.push_back({{"kind", e.kind},
                    {"environment", e.environment},
                    {"passed", e.passed ? json(*e.passed) : json(nullptr)},
                    {"value", e.value ? json(*e.value) : json(nullptr)},
                    {"detail", e.detail}});
  }
  return list;
}

// Executes `plan` for the CR; returns the run at the end.
Result<Run> Execute(Context& ctx, const DeployArgs& args, const Plan& plan, const ChangeRequest& cr,
                    const std::string& actor,
                    const std::function<Status(const std::string&)>& created) {
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                   MakeTransport(args.transport, args.transport_options, ctx.clock()));
  StepTypeTable types = DefaultStepTypes();
  RealSleeper sleeper;
  std::unique_ptr<ProgressSink> progress = MakeCliProgress(ctx);
  Executor executor(*store, *transport, types, ctx.clock(), sleeper,
                    OwnerOptions(actor, Seconds(60)), progress.get());
  RunTarget target{cr.id, cr.system, args.env, args.transport};
  ASSIGN_OR_RETURN(std::string id, executor.Create(plan, target));
  if (!ctx.json()) ctx.err() << fmt::format("{} created\n", id);
  RETURN_IF_ERROR(created(id));
  Result<Run> run = WithInterruptCancelsRun(executor, [&] { return executor.Execute(id); });
  transport->Close();
  return run;
}

std::vector<std::string> HostsOption(const std::string& text) {
  std::vector<std::string> hosts;
  if (text.empty()) return hosts;
  for (const std::string& host : Split(text, ',')) hosts.push_back(std::string(Trim(host)));
  return hosts;
}

Status RunDeploy(Context& ctx, const DeployArgs& args) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  DeployService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
  ASSIGN_OR_RETURN(DeploymentPreparation prep,
                   service.Prepare(args.cr, args.env, args.emergency, HostsOption(args.hosts)));
  prep.plan.concurrency = std::clamp(args.concurrency, 1, 1024);
  StepTypeTable types = DefaultStepTypes();
  RETURN_IF_ERROR(ValidatePlan(prep.plan, types));
  if (args.dry_run) {
    if (ctx.json()) {
      PrintJson(ctx, json::parse(PlanToJson(prep.plan)));
    } else {
      ctx.out() << fmt::format("Dry run: {} to {} ({}), every gate holds; nothing is touched.\n",
                               prep.cr.id, args.env, prep.package.version);
      PrintPlanText(ctx, prep.plan, types, args.show_scripts);
    }
    return Status::Ok();
  }
  if (!ctx.json()) {
    ctx.err() << fmt::format("{}: every gate for {} holds; deploying {} to {} host(s)\n",
                             prep.cr.id, args.env, prep.package.version, prep.plan.hosts.size());
  }
  DeploymentFacts facts;
  facts.system = prep.system->name;
  facts.environment = args.env;
  facts.change_request = prep.cr.id;
  facts.patch = fmt::format("{} {}", prep.cr.patch_id, prep.package.version);
  facts.started = ctx.clock().Now();
  facts.expected_duration = prep.cr.expected_duration;
  ASSIGN_OR_RETURN(
      Run run, Execute(ctx, args, prep.plan, prep.cr, actor, [&](const std::string& id) {
        facts.run = id;
        return service
            .Notify(prep.cr.id, args.env, DeploymentStartMessage(facts, ctx.zone()), id, actor)
            .status();
      }));
  ASSIGN_OR_RETURN(std::vector<Evidence> evidence, service.RecordRunEvidence(run.id, actor));
  facts.finished = run.finished_at.value_or(ctx.clock().Now());
  facts.outcome = run.state == RunState::kSucceeded ? "SUCCESS" : "FAILED";
  facts.smoke = "not run";
  facts.errors = "None";
  for (const Evidence& e : evidence) {
    if (e.kind == kEvidenceSmoke) facts.smoke = e.passed.value_or(false) ? "Pass" : "Fail";
    if (e.kind == kEvidenceDeployment && !e.passed.value_or(false)) facts.errors = e.detail;
  }
  ASSIGN_OR_RETURN(std::vector<Evidence> sent,
                   service.Notify(prep.cr.id, args.env,
                                  DeploymentCompleteMessage(facts, ctx.zone()), run.id, actor));
  evidence.insert(evidence.end(), sent.begin(), sent.end());
  if (ctx.json()) {
    ctx.out() << json({{"run", run.id},
                       {"state", RunStateName(run.state)},
                       {"change_request", prep.cr.id},
                       {"environment", args.env},
                       {"message", run.message},
                       {"evidence", EvidenceJson(evidence)}})
                     .dump(-1, ' ', false, json::error_handler_t::replace)
              << "\n";
  } else {
    ctx.out() << fmt::format("\n{} {} in {}: {}\nRecorded on {}:\n", run.id,
                             RunStateName(run.state), args.env, run.message, prep.cr.id);
    PrintEvidenceLines(ctx, evidence);
    if (!run.attention.empty()) {
      ctx.out() << "\nA person must check:\n";
      for (const std::string& line : Split(run.attention, '\n'))
        ctx.out() << "  - " << line << "\n";
    }
  }
  if (run.state == RunState::kSucceeded) return Status::Ok();
  if (!ctx.json()) {
    ctx.err() << fmt::format(
        "The deployment did not succeed. To restore {}: rollgate rollback {} "
        "--env {}\n",
        args.env, prep.cr.id, args.env);
  }
  return Failed("");
}

Status RunRollback(Context& ctx, const DeployArgs& args) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  DeployService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
  ASSIGN_OR_RETURN(DeploymentPreparation prep, service.PrepareRollback(args.cr, args.env, actor));
  StepTypeTable types = DefaultStepTypes();
  RETURN_IF_ERROR(ValidatePlan(prep.plan, types));
  if (args.dry_run) {
    if (ctx.json()) {
      PrintJson(ctx, json::parse(PlanToJson(prep.plan)));
    } else {
      ctx.out() << fmt::format("Dry run: rollback of {} in {}; nothing is touched.\n", prep.cr.id,
                               args.env);
      PrintPlanText(ctx, prep.plan, types, args.show_scripts);
    }
    return Status::Ok();
  }
  if (!ctx.json()) {
    ctx.err() << fmt::format("{}: rolling {} back on {} host(s){}\n", prep.cr.id, args.env,
                             prep.plan.hosts.size(),
                             args.reason.empty() ? "" : " (" + args.reason + ")");
  }
  DeploymentFacts facts;
  facts.system = prep.system->name;
  facts.environment = args.env;
  facts.change_request = prep.cr.id;
  facts.started = ctx.clock().Now();
  facts.reason = args.reason;
  facts.approved_by = actor;
  ASSIGN_OR_RETURN(
      Run run, Execute(ctx, args, prep.plan, prep.cr, actor, [&](const std::string& id) {
        facts.run = id;
        return service
            .Notify(prep.cr.id, args.env, RollbackStartMessage(facts, ctx.zone()), id, actor)
            .status();
      }));
  ASSIGN_OR_RETURN(Evidence evidence, service.RecordRollbackEvidence(run.id, args.reason, actor));
  facts.finished = run.finished_at.value_or(ctx.clock().Now());
  facts.outcome = run.state == RunState::kSucceeded ? "SUCCESS" : "FAILED";
  RETURN_IF_ERROR(
      service
          .Notify(prep.cr.id, args.env, RollbackCompleteMessage(facts, ctx.zone()), run.id, actor)
          .status());
  if (ctx.json()) {
    ctx.out() << json({{"run", run.id},
                       {"state", RunStateName(run.state)},
                       {"change_request", prep.cr.id},
                       {"environment", args.env},
                       {"message", run.message},
                       {"evidence", EvidenceJson({evidence})}})
                     .dump(-1, ' ', false, json::error_handler_t::replace)
              << "\n";
  } else {
    ctx.out() << fmt::format("\n{} in {}: {}\n",
                             evidence.passed.value_or(false) ? "Rolled back" : "Rollback FAILED",
                             args.env, evidence.detail);
  }
  return run.state == RunState::kSucceeded ? Status::Ok() : Failed("");
}

void AddCommonOptions(CLI::App* cmd, DeployArgs& args) {
  cmd->add_option("CR", args.cr, "change request id, e.g. CR-12")->required();
  cmd->add_option("--env", args.env, "environment, e.g. TEST")->required();
  cmd->add_flag("--dry-run", args.dry_run, "print the exact plan; touch nothing");
  cmd->add_flag("--show-scripts", args.show_scripts,
                "with --dry-run: the script of each step type");
  cmd->add_option("--transport", args.transport,
                  "how hosts are reached: ssh (a ControlMaster per host, default), session (one "
                  "streamed session per host), local, simulated")
      ->check(CLI::IsMember({"local", "ssh", "session", "simulated"}));
  AddTransportOptions(cmd, args.transport_options);
}

}  // namespace

void RegisterDeployCommands(CLI::App& app, Action& slot) {
  auto deploy = std::make_shared<DeployArgs>();
  CLI::App* deploy_cmd =
      app.add_subcommand("deploy", "run the playbook's procedure for a CR in an environment");
  AddCommonOptions(deploy_cmd, *deploy);
  deploy_cmd->add_flag("--emergency", deploy->emergency, "the emergency path (playbook 5)");
  deploy_cmd->add_option("--hosts", deploy->hosts,
                         "only these of the environment's hosts, comma-separated");
  deploy_cmd->add_option("--concurrency", deploy->concurrency,
                         "hosts working at once (default 10)");
  OnRun(deploy_cmd, slot, [deploy](Context& ctx) { return RunDeploy(ctx, *deploy); });

  auto rollback = std::make_shared<DeployArgs>();
  CLI::App* rollback_cmd = app.add_subcommand(
      "rollback", "restore an environment from the backups of the CR's latest deployment");
  AddCommonOptions(rollback_cmd, *rollback);
  rollback_cmd->add_option("--reason", rollback->reason, "why (recorded on the CR)");
  OnRun(rollback_cmd, slot, [rollback](Context& ctx) { return RunRollback(ctx, *rollback); });
}

}  // namespace rollgate::cli
