// Command registration: every command of the CLI is added in one visible place (app.cc calls
// each Register* below; STYLE.md 4). A command's parsed options live in a struct owned by the
// closure; the closure runs after parsing succeeded and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"
#include "domain/cr_lifecycle.h"

namespace rollgate::cli {

class Context;
using Action = std::function<int(Context&)>;
// A command body: prints its result and returns OK, or returns the Status to report. A Status
// with an empty message means the command already printed what went wrong: only its exit code
// is used.
using Command = std::function<Status(Context&)>;

// Sets the command that runs when `command` was selected on the command line.
void OnRun(CLI::App* command, Action& slot, Command body);

// The content of the file `flag` names (messages start "FLAG PATH: "): InvalidArgument when it
// is not a readable regular file, is larger than `limit` bytes, or, for `text`, is not UTF-8.
Result<std::string> ReadInputFile(std::string_view flag, const std::string& path, size_t limit,
                                  bool text);

// `cr create`'s options, shared by the local command and remote mode: the patch and the draft,
// whose plans hold the *file names* given until ReadCrDraftFiles reads them.
struct CrCreateArgs {
  std::string patch;
  CrDraftText draft;
};
void AddCrCreateOptions(CLI::App* command, CrCreateArgs& args);
// `draft` with each plan file replaced by its text (UTF-8, at most 256 KiB).
Result<CrDraftText> ReadCrDraftFiles(CrDraftText draft);

void RegisterBasicCommands(CLI::App& app, Action& slot);    // init, validate, cvss
void RegisterPatchCommands(CLI::App& app, Action& slot);    // patch add|import|show|list|classify
void RegisterCrCommands(CLI::App& app, Action& slot);       // cr ...
void RegisterGateCommands(CLI::App& app, Action& slot);     // gate check
void RegisterAuditCommands(CLI::App& app, Action& slot);    // audit verify|export|checkpoint
void RegisterDemoCommand(CLI::App& app, Action& slot);      // demo
void RegisterRunCommands(CLI::App& app, Action& slot);      // run exec|list|show|resume|cancel
void RegisterLabCommands(CLI::App& app, Action& slot);      // lab up|down|status
void RegisterDeployCommands(CLI::App& app, Action& slot);   // deploy, rollback
void RegisterWatchCommands(CLI::App& app, Action& slot);    // watch list|start|stop|run
void RegisterPirCommands(CLI::App& app, Action& slot);      // pir list|show|close
void RegisterDiagnoseCommand(CLI::App& app, Action& slot);  // diagnose
void RegisterBackupCommands(CLI::App& app, Action& slot);   // backup verify
void RegisterServeCommands(CLI::App& app, Action& slot);    // serve, token create|list|revoke
void RegisterPageCommands(CLI::App& app, Action& slot);     // page, page ack|list|show|tick
void RegisterCalendarCommand(CLI::App& app, Action& slot);  // calendar
void RegisterNotifyCommands(CLI::App& app, Action& slot);   // notify list|show|retry|flush

// Remote mode (--server, cli/cmd_remote.cc): whoami, patch add|import|show|list, cr
// list|show|create|attach|submit|schedule|approve|reject|signoff, decide,
// gate check, deploy, rollback, run list|show|cancel, audit export, through the HTTP API of the
// server `*server` names.
void RegisterRemoteCommands(CLI::App& app, Action& slot, std::shared_ptr<std::string> server);
const std::set<std::string>& RemoteCommandNames();

}  // namespace rollgate::cli
