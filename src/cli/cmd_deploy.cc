// deploy, rollback and decide: the playbook's procedures on real hosts (service/rollback_runner.h).
//
// `deploy CR --env ENV` refuses (exit 4) unless every gate of ENV holds, builds the procedure's
// plan for the CR's package, prints it and stops there with --dry-run (nothing is touched, not
// even the store), or executes it, records the results on the CR as evidence, and acts on the
// rollback triggers that fired (§6.1): an immediate one rolls the changed hosts back at once, an
// evaluate one pages and waits for `decide` until its deadline. `rollback CR --env ENV` records
// the person's authorisation and rolls back once the environment's roles have all authorised it
// (§6.1 step 3); `--rehearse` deploys and rolls back in DEV or TEST and records the time taken.
// All stream progress; with --output json one JSON object per line, then the outcome
// {"run","state",...,"triggers","rollback"}.
#include <fmt/format.h>
#include <unistd.h>

#include <functional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "domain/triggers.h"
#include "engine/step_type.h"
#include "engine/steps/script_step.h"
#include "service/calendar_service.h"
#include "service/deploy_service.h"
#include "service/rollback_runner.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

struct DeployArgs {
  std::string cr;
  std::string env;
  bool dry_run = false;
  bool emergency = false;
  bool rehearse = false;
  bool database_only = false;
  bool show_scripts = false;
  std::string hosts;
  std::string transport = "ssh";
  int concurrency = 10;
  std::string reason;
  TransportOptions transport_options;
  bool override_freeze = false;  // deploy --override-freeze --reason T (docs/calendar.md)
};

// deploy --override-freeze: records the override (audited evidence on the CR) before the gates
// are evaluated, so the freeze gate accepts it. Without --reason: InvalidArgument (2); without
// a freeze-override role: PermissionDenied (4).
Status OverrideFreezeIfAsked(Context& ctx, const DeployArgs& args, const Config& config,
                             Store& store, const std::string& actor) {
  if (!args.override_freeze) {
    if (!args.reason.empty()) return InvalidArgument("--reason goes with --override-freeze");
    return Status::Ok();
  }
  if (args.reason.empty()) {
    return InvalidArgument("--override-freeze needs --reason T: why this change cannot wait");
  }
  CalendarService calendar(config, store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(ChangeRequest cr,
                   calendar.OverrideFreeze(args.cr, args.env, actor, args.reason));
  if (!ctx.json()) {
    ctx.err() << fmt::format("{}: freeze overridden in {} by {}: {}\n", cr.id, args.env, actor,
                             EscapeForDisplay(args.reason));
  }
  return Status::Ok();
}

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

std::vector<std::string> HostsOption(const std::string& text) {
  std::vector<std::string> hosts;
  if (text.empty()) return hosts;
  for (const std::string& host : Split(text, ',')) hosts.push_back(std::string(Trim(host)));
  return hosts;
}

json FiringsJson(const std::vector<TriggerFiring>& firings) {
  json list = json::array();
  for (const TriggerFiring& f : firings) {
    list.push_back({{"trigger", TriggerKindName(f.kind)},
                    {"action", TriggerActionName(f.action)},
                    {"measurement", f.measurement},
                    {"threshold", f.threshold},
                    {"unit", f.unit},
                    {"host", f.host},
                    {"source", f.source},
                    {"detail", f.detail},
                    {"at", FormatRfc3339Utc(f.at)}});
  }
  return list;
}

Result<std::unique_ptr<Execution>> MakeExecution(Context& ctx, const DeployArgs& args,
                                                 const std::string& actor) {
  return MakeRunnerExecution(ctx, args.transport, args.transport_options, args.concurrency,
                             HostsOption(args.hosts), actor);
}

// The plan a --dry-run would execute, validated: JSON, or `title` and the plan as text.
Status PrintDryRun(Context& ctx, const Plan& plan, bool show_scripts, const std::string& title) {
  StepTypeTable types = DefaultStepTypes();
  RETURN_IF_ERROR(ValidatePlan(plan, types));
  if (ctx.json()) {
    PrintJson(ctx, json::parse(PlanToJson(plan)));
  } else {
    ctx.out() << title << "\n";
    PrintPlanText(ctx, plan, types, show_scripts);
  }
  return Status::Ok();
}

void PrintOutcome(Context& ctx, const std::string& cr, const std::string& env,
                  const RunnerOutcome& o) {
  if (ctx.json()) {
    json out = {{"run", o.run.id},
                {"state", RunStateName(o.run.state)},
                {"change_request", cr},
                {"environment", env},
                {"message", o.run.message},
                {"triggers", FiringsJson(o.fired)},
                {"decision", o.decision.empty() ? json(nullptr) : json(o.decision)},
                {"evidence", EvidenceJson(o.evidence)}};
    out["diagnosis"] = o.diagnosis ? DiagnosticReportJson(*o.diagnosis) : json(nullptr);
    if (o.rollback) {
      out["rollback"] = {{"run", o.rollback->id},
                         {"state", RunStateName(o.rollback->state)},
                         {"message", o.rollback->message}};
    } else {
      out["rollback"] = nullptr;
    }
    ctx.out() << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    return;
  }
  if (!o.run.id.empty()) {
    ctx.out() << fmt::format("\n{} {} in {}: {}\n", o.run.id, RunStateName(o.run.state), env,
                             o.run.message);
  }
  if (!o.fired.empty()) {
    ctx.out() << "Rollback triggers fired (playbook 6.1):\n";
    for (const TriggerFiring& f : o.fired) {
      ctx.out() << fmt::format("  - {} [{}]: {}\n", TriggerKindName(f.kind),
                               TriggerActionName(f.action), f.detail);
    }
  }
  if (o.diagnosis) {
    const DiagnosticTable& table = TableFor(o.diagnosis->failure);
    ctx.out() << fmt::format("Diagnosed (playbook {} {}) on {}: resolution {}\n", table.section,
                             table.issue, Join(o.diagnosis->hosts, ", "), o.diagnosis->resolution);
    for (const DiagnosticResult& r : o.diagnosis->results) {
      for (const std::string& line : r.highlights) {
        ctx.out() << fmt::format("  >> {} [{}] {}\n", r.host, r.check, EscapeForDisplay(line));
      }
    }
    ctx.out() << fmt::format("  (every check's output: rollgate run show {})\n",
                             o.diagnosis->run_id);
  }
  ctx.out() << fmt::format("Recorded on {}:\n", cr);
  PrintEvidenceLines(ctx, o.evidence);
  if (o.rollback) {
    ctx.out() << fmt::format(
        "\n{} in {}: {} {}{}\n",
        o.rollback->state == RunState::kSucceeded ? "Rolled back" : "Rollback FAILED", env,
        o.rollback->id, RunStateName(o.rollback->state),
        o.rollback->message.empty() ? "" : ": " + o.rollback->message);
  } else if (o.decision == "continue") {
    ctx.out() << "\nDecision: continue (no rollback)\n";
  }
  for (const Run* run : {&o.run, o.rollback ? &*o.rollback : nullptr}) {
    if (run == nullptr || run->attention.empty()) continue;
    ctx.out() << fmt::format("\nA person must check ({}):\n", run->id);
    for (const std::string& line : Split(run->attention, '\n')) {
      ctx.out() << "  - " << line << "\n";
    }
  }
}

Status RunDeploy(Context& ctx, const DeployArgs& args) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  RETURN_IF_ERROR(OverrideFreezeIfAsked(ctx, args, *config, *store, actor));
  if (args.dry_run) {
    DeployService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
    ASSIGN_OR_RETURN(DeploymentPreparation prep,
                     service.Prepare(args.cr, args.env, args.emergency, HostsOption(args.hosts)));
    prep.plan.concurrency = std::clamp(args.concurrency, 1, 1024);
    return PrintDryRun(ctx, prep.plan, args.show_scripts,
                       fmt::format("Dry run: {} to {} ({}), every gate holds; nothing is touched.",
                                   prep.cr.id, args.env, prep.package.version));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution, MakeExecution(ctx, args, actor));
  if (!ctx.json()) {
    ctx.err() << fmt::format("{}: deploying to {} ({} path)\n", args.cr, args.env,
                             args.emergency ? "emergency" : "standard");
  }
  ASSIGN_OR_RETURN(RunnerOutcome outcome,
                   execution->runner->Deploy(args.cr, args.env, args.emergency, actor));
  PrintOutcome(ctx, args.cr, args.env, outcome);
  if (outcome.run.state == RunState::kSucceeded && !outcome.rollback) return Status::Ok();
  if (!ctx.json() && !outcome.rollback) {
    ctx.err() << fmt::format(
        "The deployment did not succeed. To restore {}: rollgate rollback {} --env {}\n", args.env,
        args.cr, args.env);
  }
  return Failed("");
}

Status RunRollback(Context& ctx, const DeployArgs& args) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  if (args.dry_run) {
    DeployService service(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
    ASSIGN_OR_RETURN(DeploymentPreparation prep,
                     service.PrepareRollbackPlan(args.cr, args.env, args.database_only));
    return PrintDryRun(
        ctx, prep.plan, args.show_scripts,
        fmt::format("Dry run: rollback of {} in {}; nothing is touched.", prep.cr.id, args.env));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution, MakeExecution(ctx, args, actor));
  RunnerOutcome outcome;
  if (args.rehearse) {
    if (!ctx.json()) {
      ctx.err() << fmt::format("{}: rehearsing the rollback in {}: deploy, then roll back\n",
                               args.cr, args.env);
    }
    ASSIGN_OR_RETURN(outcome, execution->runner->Rehearse(args.cr, args.env, actor));
  } else {
    ASSIGN_OR_RETURN(outcome, execution->runner->AuthorisedRollback(
                                  args.cr, args.env, actor, args.reason, args.database_only));
  }
  if (!outcome.awaiting.empty()) {
    if (ctx.json()) {
      ctx.out() << json({{"change_request", args.cr},
                         {"environment", args.env},
                         {"authorised_by", actor},
                         {"awaiting", outcome.awaiting},
                         {"evidence", EvidenceJson(outcome.evidence)}})
                       .dump(-1, ' ', false, json::error_handler_t::replace)
                << "\n";
    }
    return RefusedByGate(fmt::format(
        "{}'s authorisation of the rollback of {} in {} is recorded; the rollback also needs {} "
        "(playbook 6.1 step 3: jointly), who runs: rollgate rollback {} --env {}",
        actor, args.cr, args.env, Join(outcome.awaiting, " and "), args.cr, args.env));
  }
  PrintOutcome(ctx, args.cr, args.env, outcome);
  const Run* rollback = outcome.rollback ? &*outcome.rollback : nullptr;
  return rollback != nullptr && rollback->state == RunState::kSucceeded ? Status::Ok() : Failed("");
}

struct DecideArgs {
  std::string cr;
  std::string env;
  std::string decision;
  std::string reason;
  DeployArgs run;
};

Status RunDecide(Context& ctx, const DecideArgs& args) {
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  DeployArgs run = args.run;
  ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution, MakeExecution(ctx, run, actor));
  ASSIGN_OR_RETURN(RunnerOutcome outcome,
                   execution->runner->Decide(args.cr, args.env, actor, args.decision, args.reason));
  PrintOutcome(ctx, args.cr, args.env, outcome);
  if (outcome.rollback && outcome.rollback->state != RunState::kSucceeded) return Failed("");
  return Status::Ok();
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
  deploy_cmd->add_flag("--override-freeze", deploy->override_freeze,
                       "deploy inside a freeze (needs --reason and a freeze-override role; "
                       "recorded on the CR)");
  deploy_cmd->add_option("--reason", deploy->reason, "why the freeze is overridden");
  OnRun(deploy_cmd, slot, [deploy](Context& ctx) { return RunDeploy(ctx, *deploy); });

  auto rollback = std::make_shared<DeployArgs>();
  CLI::App* rollback_cmd = app.add_subcommand(
      "rollback", "restore an environment from the backups of the CR's latest deployment");
  AddCommonOptions(rollback_cmd, *rollback);
  rollback_cmd->add_option("--reason", rollback->reason, "why (recorded on the CR)");
  rollback_cmd->add_flag("--rehearse", rollback->rehearse,
                         "DEV or TEST: deploy, roll back at once and record how long the rollback "
                         "took (the rollback-tested gate of PROD reads it)");
  rollback_cmd->add_flag("--database", rollback->database_only,
                         "restore the database a rollback held because users wrote after the "
                         "backup (their writes are in the dump saved before)");
  OnRun(rollback_cmd, slot, [rollback](Context& ctx) { return RunRollback(ctx, *rollback); });

  auto decide = std::make_shared<DecideArgs>();
  CLI::App* decide_cmd = app.add_subcommand(
      "decide", "decide a rollback trigger that waits for a person (playbook 6.1, evaluate)");
  decide_cmd->add_option("CR", decide->cr, "change request id, e.g. CR-12")->required();
  decide_cmd->add_option("--env", decide->env, "environment, e.g. PROD")->required();
  decide_cmd->add_option("DECISION", decide->decision, "rollback or continue")
      ->required()
      ->check(CLI::IsMember({"rollback", "continue"}));
  decide_cmd->add_option("--reason", decide->reason, "why (recorded on the CR)");
  decide_cmd
      ->add_option("--transport", decide->run.transport,
                   "how hosts are reached for the rollback (default ssh)")
      ->check(CLI::IsMember({"local", "ssh", "session", "simulated"}));
  AddTransportOptions(decide_cmd, decide->run.transport_options);
  OnRun(decide_cmd, slot, [decide](Context& ctx) { return RunDecide(ctx, *decide); });
}

}  // namespace rollgate::cli
