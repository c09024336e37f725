#include "cli/app.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "common/time.h"

namespace rollgate::cli {

namespace {

// The clock of a process started with ROLLGATE_NOW: the wall clock starts at that instant and
// runs from there with the monotonic clock, so that durations and deadlines inside the process
// are real. A test hook, so that black-box tests can check lead times and overdue confirmations
// without waiting; every use is announced on stderr.
class FixedWallClock final : public Clock {
 public:
  explicit FixedWallClock(Timestamp now) : now_(now), start_(real_.Monotonic()) {}
  Timestamp Now() const override {
    return now_ + std::chrono::duration_cast<Seconds>(real_.Monotonic() - start_);
  }
  std::chrono::steady_clock::time_point Monotonic() const override { return real_.Monotonic(); }

 private:
  Timestamp now_;
  SystemClock real_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

Result<std::string> ReadInputFile(std::string_view flag, const std::string& path, size_t limit,
                                  bool text) {
  std::string shown = fmt::format("{} {}", flag, EscapeForDisplay(path));
  std::error_code ec;
  // A directory opens as a stream that reads nothing: it would become an empty document.
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument(fmt::format("{}: not a readable file", shown));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(fmt::format("{}: cannot open the file", shown));
  std::string content;
  content.resize(limit + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > limit) {
    return InvalidArgument(fmt::format(
        "{}: larger than {}", shown,
        limit % 1024 == 0 ? fmt::format("{} KiB", limit / 1024) : fmt::format("{} bytes", limit)));
  }
  if (text && !IsValidUtf8(content)) {
    return InvalidArgument(fmt::format("{}: not UTF-8 text", shown));
  }
  return content;
}

void OnRun(CLI::App* command, Action& slot, Command body) {
  command->callback([&slot, body = std::move(body)] {
    slot = [body](Context& ctx) {
      Status status = body(ctx);
      if (status.ok()) return kExitOk;
      if (status.message().empty()) return ExitCodeFor(status);
      return ReportError(ctx, status);
    };
  });
}

namespace {

// Every command that works on the configuration and the store of this machine.
void RegisterLocalCommands(CLI::App& app, Action& selected) {
  RegisterBasicCommands(app, selected);
  RegisterPatchCommands(app, selected);
  RegisterCrCommands(app, selected);
  RegisterGateCommands(app, selected);
  RegisterAuditCommands(app, selected);
  RegisterDemoCommand(app, selected);
  RegisterRunCommands(app, selected);
  RegisterLabCommands(app, selected);
  RegisterDeployCommands(app, selected);
  RegisterWatchCommands(app, selected);
  RegisterPirCommands(app, selected);
  RegisterDiagnoseCommand(app, selected);
  RegisterBackupCommands(app, selected);
  RegisterServeCommands(app, selected);
  RegisterPageCommands(app, selected);
  RegisterCalendarCommand(app, selected);
  RegisterNotifyCommands(app, selected);
}

// Remote mode (--server URL, or $ROLLGATE_SERVER): the commands go to `rollgate serve`.
// Refuses, before parsing, what has no meaning there (--config, --store, --as) and the commands
// that only run where the store is. Empty when the command line may go on.
std::optional<int> CheckRemoteCommandLine(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    for (const char* local : {"--config", "--store", "--as"}) {
      if (arg == local || StartsWith(arg, std::string(local) + "=")) {
        std::cerr << "rollgate: " << local
                  << " has no meaning with --server: the server has its configuration and store, "
                     "and the token ($ROLLGATE_TOKEN) decides who acts\n";
        return kExitUsage;
      }
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--server" || arg == "--output") {
      ++i;
      continue;
    }
    if (StartsWith(arg, "-")) continue;
    if (RemoteCommandNames().contains(std::string(arg))) return std::nullopt;
    std::cerr << "rollgate: '" << EscapeForDisplay(arg)
              << "' is not available with --server; remote mode offers "
              << Join(std::vector<std::string>(RemoteCommandNames().begin(),
                                               RemoteCommandNames().end()),
                      ", ")
              << " (run the others where the store is, or unset ROLLGATE_SERVER)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv) {
  auto server = std::make_shared<std::string>();
  if (const char* env = std::getenv("ROLLGATE_SERVER"); env && *env) *server = env;
  bool remote = !server->empty();
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    remote = remote || arg == "--server" || StartsWith(arg, "--server=");
  }
  if (remote) {
    if (std::optional<int> refused = CheckRemoteCommandLine(argc, argv)) return *refused;
  }

  CLI::App app{
      "Rollgate runs the patch management playbook: intake, change requests, approvals, "
      "gates, deployments and a tamper-evident record.",
      "rollgate"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command
  app.set_help_all_flag("--help-all", "help for every command");

  GlobalOptions global;
  app.add_option("--config", global.config_path,
                 "configuration file (default: $ROLLGATE_CONFIG, else ./rollgate.yaml)");
  app.add_option("--store", global.store_url,
                 "state store URL (default: $ROLLGATE_STORE, else sqlite:<config dir>/.rollgate/"
                 "state.db)");
  app.add_option("--output", global.output, "output format")
      ->check(CLI::IsMember({"text", "json"}));
  CLI::Option* as_option = app.add_option(
      "--as", global.as_person, "act as this person (only when the configuration allows it)");
  app.add_option("--server", *server,
                 "remote mode: talk to `rollgate serve` at this URL (default: $ROLLGATE_SERVER) "
                 "with the token in $ROLLGATE_TOKEN");
  app.add_flag_callback(
      "--version", [] { throw CLI::CallForVersion("rollgate 0.1.0", 0); }, "print the version");

  Action selected;
  if (remote) {
    RegisterRemoteCommands(app, selected, server);
  } else {
    RegisterLocalCommands(app, selected);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (as_option->count() > 0 && global.as_person.empty()) {
    // An empty --as must not quietly fall back to the OS user.
    std::cerr << "rollgate: --as needs a person's name\n";
    return kExitUsage;
  }
  SystemTimeZone zone;
  SystemClock system_clock;
  std::optional<FixedWallClock> fixed_clock;
  if (const char* now = std::getenv("ROLLGATE_NOW"); now && *now) {
    Result<Timestamp> parsed = ParseTime(now, zone);
    if (!parsed.ok()) {
      std::cerr << "rollgate: ROLLGATE_NOW: " << EscapeForDisplay(parsed.error().message()) << "\n";
      return kExitUsage;
    }
    fixed_clock.emplace(*parsed);
    std::cerr << "rollgate: warning: ROLLGATE_NOW is set: the clock starts at "
              << FormatRfc3339Utc(*parsed) << " (a test hook; unset it for real use)\n";
  }
  const Clock& clock = fixed_clock ? static_cast<const Clock&>(*fixed_clock) : system_clock;
  Context ctx(global, clock, zone, std::cout, std::cerr);
  if (!selected) {
    std::cerr << "rollgate: no command given; see 'rollgate --help'\n";
    return kExitUsage;
  }
  try {
    return selected(ctx);
  } catch (const std::exception& e) {
    return ReportError(ctx, Internal(std::string("unexpected error: ") + e.what()));
  }
}

}  // namespace rollgate::cli
