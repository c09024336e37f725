// backup verify: backups known to restore (playbook §2.4 step 3; service/backup_verify.h).
//
// `backup verify CR --env ENV [--restore]` checks the backups of the CR's latest deployment to
// ENV where they are, as a run of its own: without --restore the cheap check (the dump lists
// with pg_restore --list, every archive reads back with tar -tzf, SHA-256s as recorded at backup
// time); with --restore the dump restored into a scratch database and the archives into scratch
// directories, the critical tables' rows counted, the restore timed (the RTO), the scratch copies
// removed. The result is recorded on the CR as evidence backup-verified. Exit 0 verified, 1 not,
// 3 unknown CR or no deployment with backups in ENV, 4 the environment's backup_verification is
// off. --output json: one document {"change_request","environment","run","verified",
// "rto_seconds",...,"checks":[...]}.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "engine/steps/script_step.h"
#include "service/backup_verify.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

struct VerifyArgs {
  std::string cr;
  std::string env;
  bool restore = false;
  bool dry_run = false;
  std::string transport;  // default: the one the deployment used
  int concurrency = 10;
  TransportOptions transport_options;
};

json OptionalNumber(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

json ReportJson(const BackupVerificationReport& report, const Evidence& evidence) {
  json checks = json::array();
  for (const BackupCheck& check : report.checks) {
    checks.push_back({{"check", check.name},
                      {"host", check.host},
                      {"target", check.target},
                      {"passed", check.passed},
                      {"detail", check.detail}});
  }
  json counts = json::array();
  for (const TableCount& count : report.counts) {
    counts.push_back({{"table", count.table},
                      {"restored", count.restored},
                      {"recorded", count.recorded ? json(*count.recorded) : json(nullptr)},
                      {"equal", count.recorded && *count.recorded == count.restored}});
  }
  return {{"change_request", report.change_request},
          {"environment", report.environment},
          {"run", report.run},
          {"state", RunStateName(report.run_state)},
          {"deployment_run", report.deployment_run},
          {"mode", report.restore ? "restore" : "list"},
          {"verified", report.verified},
          {"rto_seconds", OptionalNumber(report.rto_seconds)},
          {"database_restore_seconds", OptionalNumber(report.database_restore_seconds)},
          {"files_restore_seconds", OptionalNumber(report.files_restore_seconds)},
          {"database", report.database},
          {"files", report.files},
          {"counts", counts},
          {"scratch_removed", report.scratch_removed},
          {"checks", checks},
          {"evidence",
           {{"kind", evidence.kind},
            {"passed", evidence.passed ? json(*evidence.passed) : json(nullptr)},
            {"value", OptionalNumber(evidence.value)},
            {"detail", evidence.detail}}}};
}

void PrintReport(Context& ctx, const BackupVerificationReport& report, const Evidence& evidence) {
  std::ostream& out = ctx.out();
  out << fmt::format("Backups of {} in {} (deployment {}), checked by {} ({}):\n",
                     report.change_request, report.environment, report.deployment_run, report.run,
                     RunStateName(report.run_state));
  for (const BackupCheck& check : report.checks) {
    out << fmt::format("  {:<7} {:<18} {}  {}: {}\n", check.passed ? "ok" : "FAILED", check.name,
                       check.host.empty() ? "-" : check.host, EscapeForDisplay(check.target),
                       EscapeForDisplay(check.detail));
  }
  if (report.restore) {
    if (report.rto_seconds) {
      out << fmt::format(
          "RTO {:.3f} s: the database restored in {:.3f} s, the files in {:.3f} s on the "
          "slowest host\n",
          *report.rto_seconds, report.database_restore_seconds.value_or(0),
          report.files_restore_seconds.value_or(0));
    } else {
      out << "RTO not measured: a restore failed\n";
    }
  } else {
    out << "Cheap check only: the dump lists with pg_restore --list, the archives read back with "
           "tar -tzf, SHA-256s compared with those recorded at backup time; nothing was "
           "restored. Add --restore to restore into scratch copies and measure the RTO.\n";
  }
  out << fmt::format("{}: recorded on {} as {} ({})\n", report.verified ? "VERIFIED" : "FAILED",
                     report.change_request, evidence.kind, EscapeForDisplay(evidence.detail));
}

void PrintPlan(Context& ctx, const Plan& plan, bool restore) {
  if (ctx.json()) {
    PrintJson(ctx, json::parse(PlanToJson(plan)));
    return;
  }
  std::ostream& out = ctx.out();
  out << fmt::format("Plan {} ({}): {} hosts; nothing was run\n", plan.name,
                     restore ? "restore into scratch copies" : "cheap check", plan.hosts.size());
  for (const Phase& phase : plan.phases) {
    out << fmt::format(
        "\nphase {} on {}\n", phase.name,
        phase.one_host ? plan.hosts.front() + " (one host)" : Join(plan.hosts, ", "));
    for (const StepSpec& step : phase.steps) {
      out << fmt::format("  {:<18} {}\n", step.name, step.type);
      for (const auto& [name, value] : step.params) {
        out << fmt::format("      {}={}\n", ParamVariable(name), EscapeForDisplay(value));
      }
      for (const auto& [name, reference] : step.secrets) {
        out << fmt::format("      {} from {} (secret, sent on standard input)\n", name, reference);
      }
    }
  }
}

Status RunVerify(Context& ctx, const VerifyArgs& args) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  if (args.concurrency < 1 || args.concurrency > 1024) {
    return InvalidArgument(
        fmt::format("--concurrency must be from 1 to 1024 (got {})", args.concurrency));
  }
  BackupVerifier verifier(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(BackupVerifier::Preparation prep,
                   verifier.Prepare(args.cr, args.env, args.restore));
  prep.plan.concurrency = args.concurrency;
  if (!args.transport.empty()) prep.transport = args.transport;
  StepTypeTable types = DefaultStepTypes();
  RETURN_IF_ERROR(ValidatePlan(prep.plan, types));
  if (args.dry_run) {
    PrintPlan(ctx, prep.plan, args.restore);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                   MakeTransport(ctx, prep.transport, args.transport_options));
  RealSleeper sleeper;
  std::unique_ptr<ProgressSink> progress = ctx.json() ? nullptr : MakeCliProgress(ctx);
  BackupVerifier::VerifyExecution execution;
  execution.transport = transport.get();
  execution.types = &types;
  execution.sleeper = &sleeper;
  execution.executor = OwnerOptions(actor, Seconds(60));
  execution.progress = progress.get();
  execution.created = [&](const std::string& id) {
    if (!ctx.json()) {
      ctx.err() << fmt::format("{} created: {} the backups of {}'s deployment {} to {}\n", id,
                               args.restore ? "restoring" : "checking (cheap check)", prep.cr.id,
                               prep.backups.deployment_run, prep.environment->name);
    }
  };
  execution.execute_wrapper = [](Executor& executor, const std::function<Result<Run>()>& body) {
    return WithInterruptCancelsRun(executor, body);
  };
  Evidence evidence;
  Result<BackupVerificationReport> report = verifier.Execute(prep, execution, &evidence);
  transport->Close();
  if (!report.ok()) return report.error();
  if (ctx.json()) {
    PrintJson(ctx, ReportJson(*report, evidence));
  } else {
    PrintReport(ctx, *report, evidence);
  }
  return report->verified ? Status::Ok() : Failed("");
}

}  // namespace

void RegisterBackupCommands(CLI::App& app, Action& slot) {
  auto* backup = app.add_subcommand("backup", "backups known to restore (playbook 2.4 step 3)");
  backup->require_subcommand(1);
  auto args = std::make_shared<VerifyArgs>();
  auto* verify = backup->add_subcommand(
      "verify",
      "check the backups of a CR's latest deployment to an environment; with --restore, restore "
      "them into scratch copies, count the critical tables and record the restore time (RTO)");
  verify->add_option("CR", args->cr, "change request id, e.g. CR-12")->required();
  verify->add_option("--env", args->env, "environment, e.g. PROD")->required();
  verify->add_flag("--restore", args->restore,
                   "restore the database into a scratch database and the files into scratch "
                   "directories, and time it (without: pg_restore --list and checksums only)");
  verify->add_flag("--dry-run", args->dry_run, "print the plan of the check; run nothing");
  verify
      ->add_option("--transport", args->transport,
                   "how hosts are reached (default: as the deployment reached them): ssh, "
                   "session, local, simulated")
      ->check(CLI::IsMember({"local", "ssh", "session", "simulated"}));
  verify->add_option("--concurrency", args->concurrency, "hosts working at once (default 10)");
  AddTransportOptions(verify, args->transport_options);
  OnRun(verify, slot, [args](Context& ctx) { return RunVerify(ctx, *args); });
}

}  // namespace rollgate::cli
