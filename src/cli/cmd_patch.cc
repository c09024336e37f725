// patch add | import | show | list | classify.
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <map>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "domain/triggers.h"
#include "intake/advisory.h"
#include "service/patch_service.h"
#include "views/views.h"

namespace rollgate::cli {

namespace {

struct PatchAddArgs {
  PatchInput input;
  std::string cvss;
  std::string signature, release_notes_file;
};

Result<PatchService> MakeService(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  return PatchService(*config, *store, ctx.clock(), ctx.PackagesDir());
}

Result<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(fmt::format("{}: cannot open the file", EscapeForDisplay(path)));
  std::string content;
  content.resize(limit + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > limit) {
    return InvalidArgument(fmt::format("{}: larger than {} bytes", EscapeForDisplay(path), limit));
  }
  return content;
}

Status PrintPatch(Context& ctx, const Patch& patch) {
  if (ctx.json()) {
    PrintJson(ctx, PatchJson(patch));
  } else {
    ctx.out() << PatchText(patch, ctx.zone());
  }
  return Status::Ok();
}

Status RunAdd(Context& ctx, PatchAddArgs args) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(auto actor, ctx.Actor());
  if (!args.cvss.empty()) args.input.cvss_vectors.push_back(args.cvss);
  if (!args.signature.empty()) args.input.signature = args.signature;
  if (!args.release_notes_file.empty()) {
    auto notes = ReadSmallFile(args.release_notes_file, 64 * 1024);
    if (!notes.ok()) return notes.error().WithContext("--release-notes-file");
    args.input.release_notes = *notes;
  }
  ASSIGN_OR_RETURN(auto patch, service.Add(args.input, actor));
  return PrintPatch(ctx, patch);
}

Status RunImport(Context& ctx, const std::string& file) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(auto actor, ctx.Actor());
  ASSIGN_OR_RETURN(std::string document, ReadSmallFile(file, kMaxAdvisoryBytes));
  ASSIGN_OR_RETURN(auto patch, service.Import(document, actor));
  // §6.1: an advisory against a version already deployed is a rollback trigger.
  ASSIGN_OR_RETURN(auto firings, service.CheckDeployments(patch, actor));
  // ...acted on at once: an immediate rollback, or a page for a decision (docs/rollback.md).
  std::map<std::pair<std::string, std::string>, std::vector<TriggerFiring>> by_target;
  for (const SecurityTriggerFiring& f : firings) {
    by_target[{f.change_request, f.environment}].push_back(f.firing);
  }
  for (const auto& [target, list] : by_target) {
    RETURN_IF_ERROR(RespondToFirings(ctx, target.first, target.second, list, actor));
  }
  if (ctx.json()) {
    nlohmann::json out = PatchJson(patch);
    out["triggers"] = nlohmann::json::array();
    for (const SecurityTriggerFiring& f : firings) {
      out["triggers"].push_back(
          AdvisoryFiringJson(f.change_request, f.environment, f.system, f.version, f.firing));
    }
    PrintJson(ctx, out);
    return Status::Ok();
  }
  ctx.out() << PatchText(patch, ctx.zone());
  for (const SecurityTriggerFiring& f : firings) {
    // The detail was escaped where it was written.
    ctx.out() << fmt::format("Trigger: {} {} in {} ({}): {}\n", f.change_request,
                             f.firing.action == TriggerAction::kRollback
                                 ? "must roll back"
                                 : "needs a rollback decision",
                             f.environment, TriggerKindName(f.firing.kind), f.firing.detail);
  }
  return Status::Ok();
}

Status RunShow(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(auto patch, service.Get(id));
  return PrintPatch(ctx, patch);
}

Status RunList(Context& ctx) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(auto patches, service.List());
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : patches) list.push_back(PatchJson(p));
    PrintJson(ctx, list);
    return Status::Ok();
  }
  for (const auto& p : patches) {
    const CvssScore* s = p.PreferredCvss();
    ctx.out() << fmt::format(
        "{:<10} {:<3} {:<5} {:<9} {}\n", p.id, PriorityShort(p.classification.priority),
        s ? fmt::format("{:.1f}", s->base_score) : "-",
        p.classification.emergency ? "emergency" : "", EscapeForDisplay(p.title));
  }
  return Status::Ok();
}

Status RunClassify(Context& ctx, const std::string& id, const std::string& priority,
                   const std::string& justification) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(auto actor, ctx.Actor());
  ASSIGN_OR_RETURN(auto p, ParsePriority(priority));
  ASSIGN_OR_RETURN(auto patch, service.Reclassify(id, p, justification, actor));
  return PrintPatch(ctx, patch);
}

}  // namespace

void RegisterPatchCommands(CLI::App& app, Action& slot) {
  auto* patch = app.add_subcommand("patch", "record, import and inspect patches");
  patch->require_subcommand(1);
  {
    auto* cmd = patch->add_subcommand("add", "record a patch and classify it (playbook 2.1)");
    auto args = std::make_shared<PatchAddArgs>();
    cmd->add_option("--title", args->input.title, "what the patch is")->required();
    cmd->add_option("--source", args->input.source,
                    "vendor-advisory, security-team, development-team or change-management")
        ->required();
    cmd->add_option("--cve", args->input.cves, "CVE id (repeatable)");
    cmd->add_option("--ref", args->input.references,
                    "vendor reference: KB article, URL (repeatable)");
    cmd->add_option("--version", args->input.version, "the version the patch brings");
    cmd->add_option("--cvss", args->cvss, "CVSS 3.1 or 4.0 vector");
    cmd->add_flag("--exploited", args->input.exploited, "active exploitation is confirmed");
    cmd->add_option("--criterion", args->input.criteria,
                    "declared emergency criterion: service-availability, regulatory-directive, "
                    "business-impact (repeatable)");
    cmd->add_option("--package", args->input.package,
                    "the patch package: a file, or an https:// URL (then --sha256 is required)");
    cmd->add_option("--sha256", args->input.package_sha256, "the package's expected SHA-256");
    cmd->add_option("--signature", args->signature, "minisign signature of the package");
    cmd->add_option("--release-notes-file", args->release_notes_file, "vendor release notes");
    OnRun(cmd, slot, [args](Context& ctx) { return RunAdd(ctx, *args); });
  }
  {
    auto* cmd = patch->add_subcommand("import", "import an OSV or CSAF 2.0 advisory as a patch");
    auto file = std::make_shared<std::string>();
    cmd->add_option("FILE", *file, "the advisory (JSON)")->required();
    OnRun(cmd, slot, [file](Context& ctx) { return RunImport(ctx, *file); });
  }
  {
    auto* cmd = patch->add_subcommand("show", "show one patch");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "patch id, e.g. PATCH-3")->required();
    OnRun(cmd, slot, [id](Context& ctx) { return RunShow(ctx, *id); });
  }
  {
    auto* cmd = patch->add_subcommand("list", "list patches");
    OnRun(cmd, slot, [](Context& ctx) { return RunList(ctx); });
  }
  {
    auto* cmd = patch->add_subcommand(
        "classify", "override a patch's classification (needs a justification; audited)");
    auto id = std::make_shared<std::string>();
    auto priority = std::make_shared<std::string>();
    auto justification = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "patch id")->required();
    cmd->add_option("--priority", *priority, "P1, P2, P3 or P4")->required();
    cmd->add_option("--justification", *justification, "why the computed class is wrong")
        ->required();
    OnRun(cmd, slot, [id, priority, justification](Context& ctx) {
      return RunClassify(ctx, *id, *priority, *justification);
    });
  }
}

}  // namespace rollgate::cli
