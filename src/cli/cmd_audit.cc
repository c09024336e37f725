// audit verify | export | checkpoint.
#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "store/audit_checkpoint.h"
#include "views/views.h"

namespace rollgate::cli {

namespace {

Status RunVerify(Context& ctx, const std::string& against_file) {
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  AuditVerification v;
  if (against_file.empty()) {
    ASSIGN_OR_RETURN(v, store->VerifyAudit());
  } else {
    std::ifstream in(against_file);
    if (!in)
      return NotFound(fmt::format("--against {}: cannot open", EscapeForDisplay(against_file)));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSIGN_OR_RETURN(AuditCheckpoint checkpoint, ParseCheckpoint(Trim(text)));
    ASSIGN_OR_RETURN(v, VerifyAgainst(*store, checkpoint));
  }
  if (ctx.json()) {
    nlohmann::json doc = {{"ok", v.ok},
                          {"events", v.events},
                          {"first_bad", v.first_bad ? nlohmann::json(*v.first_bad) : nullptr},
                          {"head_seq", v.head_seq},
                          {"head_hash", v.head_hash}};
    if (!v.ok) doc["reason"] = v.reason;
    PrintJson(ctx, doc);
  } else if (v.ok) {
    ctx.out() << fmt::format("audit chain OK: {} events, head {} at event {}\n", v.events,
                             v.head_hash, v.head_seq);
  } else {
    ctx.out() << fmt::format("audit chain BROKEN at event {}: {}\n",
                             v.first_bad ? std::to_string(*v.first_bad) : "?", v.reason);
  }
  if (!v.ok) return Corruption("");
  return Status::Ok();
}

Status RunExport(Context& ctx, const std::string& format) {
  if (format != "jsonl")
    return InvalidArgument(
        fmt::format("unknown export format '{}': expected jsonl", EscapeForDisplay(format)));
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  return store->ForEachAuditEvent([&](const AuditEvent& e) -> Status {
    ctx.out() << AuditEventJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return Status::Ok();
  });
}

Status RunCheckpoint(Context& ctx, const std::string& file) {
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(AuditVerification v, store->VerifyAudit());
  if (!v.ok) {
    return Corruption(
        fmt::format("the audit chain is broken at event {} ({}); no checkpoint written",
                    v.first_bad.value_or(0), v.reason));
  }
  AuditCheckpoint checkpoint = MakeCheckpoint(v.head_seq, v.head_hash, ctx.clock().Now());
  std::string line = FormatCheckpoint(checkpoint);
  if (!file.empty()) {
    std::ofstream out(file, std::ios::trunc);
    out << line << "\n";
    if (!out.flush()) return Unavailable(fmt::format("cannot write {}", EscapeForDisplay(file)));
  }
  if (ctx.json()) {
    PrintJson(ctx, {{"seq", checkpoint.seq},
                    {"head", checkpoint.head_hash},
                    {"at", FormatRfc3339Utc(checkpoint.at)},
                    {"checkpoint", line}});
  } else {
    ctx.out() << line << "\n";
  }
  return Status::Ok();
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, Action& slot) {
  auto* audit = app.add_subcommand("audit", "verify and export the tamper-evident audit log");
  audit->require_subcommand(1);
  {
    auto* cmd =
        audit->add_subcommand("verify", "check the hash chain; exit 1 naming the first bad event");
    auto against = std::make_shared<std::string>();
    cmd->add_option(
        "--against", *against,
        "a checkpoint file from 'audit checkpoint': also detects removed newest events");
    OnRun(cmd, slot, [against](Context& ctx) { return RunVerify(ctx, *against); });
  }
  {
    auto* cmd = audit->add_subcommand("export", "print every event, one JSON object per line");
    auto format = std::make_shared<std::string>("jsonl");
    cmd->add_option("--format", *format, "jsonl");
    OnRun(cmd, slot, [format](Context& ctx) { return RunExport(ctx, *format); });
  }
  {
    auto* cmd = audit->add_subcommand(
        "checkpoint",
        "print (and optionally save) a stamped record of the chain's head, to keep elsewhere");
    auto file = std::make_shared<std::string>();
    cmd->add_option("--file", *file, "also write the checkpoint to this file");
    OnRun(cmd, slot, [file](Context& ctx) { return RunCheckpoint(ctx, *file); });
  }
}

}  // namespace rollgate::cli
