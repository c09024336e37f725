// diagnose RUN [--host H] [--class C]: the playbook's §7 troubleshooting table of a run's failure,
// run on demand on its hosts (service/diagnostics.h), stored with the run and printed; and how
// `run show` presents the diagnostics of a run.
#include <fmt/format.h>

#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "engine/plan.h"
#include "service/cr_service.h"
#include "service/diagnostics.h"

namespace rollgate::cli {

using nlohmann::json;

json DiagnosticReportJson(const DiagnosticReport& report) {
  const DiagnosticTable& table = TableFor(report.failure);
  json results = json::array();
  for (const DiagnosticResult& r : report.results) {
    results.push_back({{"host", r.host},
                       {"check", r.check},
                       {"title", r.title},
                       {"command", r.command},
                       {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                       {"timed_out", r.timed_out},
                       {"truncated", r.truncated},
                       {"output", r.output},
                       {"highlights", r.highlights},
                       {"started", FormatRfc3339Utc(r.started)},
                       {"finished", FormatRfc3339Utc(r.finished)}});
  }
  return {{"id", report.id},
          {"run", report.run_id},
          {"failure", FailureClassName(report.failure)},
          {"section", table.section},
          {"issue", table.issue},
          {"reason", report.reason},
          {"transient", report.transient},
          {"resolution", report.resolution},
          {"resolution_detail", report.resolution_detail},
          {"escalate_to", table.escalate_to},
          {"requested_by", report.requested_by},
          {"automatic", report.automatic},
          {"at", FormatRfc3339Utc(report.at)},
          {"hosts", report.hosts},
          {"results", results}};
}

void PrintDiagnosticReport(Context& ctx, const DiagnosticReport& report) {
  constexpr size_t kShownLines = 12;
  const DiagnosticTable& table = TableFor(report.failure);
  std::ostream& out = ctx.out();
  out << fmt::format("Diagnostics #{} of {} ({} by {}, {}): playbook {} {}\n", report.id,
                     report.run_id, report.automatic ? "automatic" : "requested",
                     report.requested_by, FormatRfc3339Utc(report.at), table.section, table.issue);
  out << fmt::format("  why: {}\n", report.reason);
  out << fmt::format("  resolution: {}: {}\n", report.resolution, report.resolution_detail);
  if (!table.escalate_to.empty()) out << fmt::format("  escalated to: {}\n", table.escalate_to);
  for (const std::string& host : report.hosts) {
    out << fmt::format("  {}\n", host);
    for (const DiagnosticResult& r : report.results) {
      if (r.host != host) continue;
      std::string status = r.exit_code ? fmt::format("exit {}", *r.exit_code) : "from the record";
      if (r.timed_out) status = "stopped: timed out";
      out << fmt::format("    [{}] {} ({}; {})\n", r.check, r.title, r.command, status);
      for (const std::string& line : r.highlights) {
        out << fmt::format("      >> {}\n", EscapeForDisplay(line));
      }
      std::vector<std::string> lines = Split(r.output, '\n');
      while (!lines.empty() && lines.back().empty()) lines.pop_back();
      size_t shown = std::min(lines.size(), kShownLines);
      for (size_t i = 0; i < shown; ++i) {
        out << fmt::format("       | {}\n", EscapeForDisplay(lines[i]));
      }
      if (lines.size() > shown) {
        out << fmt::format("       | ... {} more line(s) (--output json shows all)\n",
                           lines.size() - shown);
      }
    }
  }
}

namespace {

struct DiagnoseArgs {
  std::string run;
  std::string host;
  std::string failure;
  std::string transport;  // default: the run's
  TransportOptions transport_options;
};

Status RunDiagnose(Context& ctx, const DiagnoseArgs& args) {
  std::optional<FailureClass> failure;
  if (!args.failure.empty()) {
    Result<FailureClass> parsed = ParseFailureClass(args.failure);
    if (!parsed.ok()) return parsed.error().WithContext("--class");
    failure = *parsed;
  }
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  Run run;
  std::vector<StepExecution> steps;
  std::vector<TriggerFiring> fired;
  RETURN_IF_ERROR(store->Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(run, txn.GetRun(args.run));
    ASSIGN_OR_RETURN(steps, txn.ListStepExecutions(args.run));
    if (run.change_request.empty()) return Status::Ok();
    Result<ChangeRequest> cr = txn.GetChangeRequest(run.change_request);
    if (!cr.ok()) return Status::Ok();
    for (const Evidence& e : cr->evidence) {
      if (e.run_id != run.id || e.kind != kEvidenceTrigger) continue;
      auto kind = e.fields.find("kind");
      if (kind == e.fields.end()) continue;
      Result<TriggerKind> parsed = ParseTriggerKind(kind->second);
      if (!parsed.ok()) continue;
      TriggerFiring f;
      f.kind = *parsed;
      auto host = e.fields.find("host");
      if (host != e.fields.end()) f.host = host->second;
      fired.push_back(f);
    }
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(Plan plan, PlanFromJson(run.plan_json));
  const System* system = config->FindSystem(run.system);
  if (system == nullptr) {
    return InvalidArgument(fmt::format(
        "run {} is for system '{}', which the configuration does not define: diagnostics need "
        "its directories, service and database",
        run.id, EscapeForDisplay(run.system)));
  }
  const Environment* environment = config->FindEnvironment(run.environment);
  if (environment == nullptr) {
    return InvalidArgument(
        fmt::format("run {} is for environment '{}', which the configuration "
                    "does not define",
                    run.id, EscapeForDisplay(run.environment)));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                   MakeTransport(ctx, args.transport.empty() ? run.transport : args.transport,
                                 args.transport_options));
  DiagnoseRequest request;
  request.system = system;
  request.environment = environment;
  request.requested_by = actor;
  request.automatic = false;
  if (!args.host.empty()) request.host = args.host;
  request.failure = failure;
  request.fired = fired;
  Result<DiagnosticReport> report =
      Diagnostician(*transport, ctx.clock()).Diagnose(run, plan, steps, request);
  transport->Close();
  RETURN_IF_ERROR(report.status());
  ASSIGN_OR_RETURN(report->id, StoreDiagnosticReport(*store, *report));
  if (!run.change_request.empty()) {
    CrService crs(*config, *store, ctx.clock(), ctx.zone());
    Result<ChangeRequest> recorded =
        crs.RecordEvidence(run.change_request, DiagnosisEvidence(*report, run.environment), actor);
    if (!recorded.ok()) {
      // The report is stored with the run either way; the CR may be gone or closed.
      ctx.err() << fmt::format("note: the diagnosis is not recorded on {}: {}\n",
                               run.change_request, recorded.error().message());
    }
  }
  if (ctx.json()) {
    PrintJson(ctx, DiagnosticReportJson(*report));
  } else {
    PrintDiagnosticReport(ctx, *report);
  }
  return Status::Ok();
}

}  // namespace

void RegisterDiagnoseCommand(CLI::App& app, Action& slot) {
  auto args = std::make_shared<DiagnoseArgs>();
  CLI::App* cmd = app.add_subcommand(
      "diagnose",
      "run the playbook 7 troubleshooting table of a run's failure on its hosts (read-only)");
  cmd->add_option("RUN", args->run, "run id")->required();
  cmd->add_option("--host", args->host, "only this host of the run");
  std::vector<std::string> classes;
  for (FailureClass c : AllFailureClasses()) classes.emplace_back(FailureClassName(c));
  cmd->add_option(
      "--class", args->failure,
      "this table instead of the one the failure is classified into: " + Join(classes, ", "));
  cmd->add_option("--transport", args->transport, "how hosts are reached (default: the run's)")
      ->check(CLI::IsMember({"local", "ssh", "session", "simulated"}));
  AddTransportOptions(cmd, args->transport_options);
  OnRun(cmd, slot, [args](Context& ctx) { return RunDiagnose(ctx, *args); });
}

}  // namespace rollgate::cli
