#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"

namespace rollgate::cli {

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

int Main(int argc, char** argv) {
  CLI::App app{"Rollgate runs the patch management playbook: intake, change requests, approvals, "
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
  app.add_option("--as", global.as_person,
                 "act as this person (only when the configuration allows it)");
  app.add_flag_callback(
      "--version", [] { throw CLI::CallForVersion("rollgate 0.1.0", 0); }, "print the version");

  Action selected;
  RegisterBasicCommands(app, selected);
  RegisterPatchCommands(app, selected);
  RegisterCrCommands(app, selected);
  RegisterGateCommands(app, selected);
  RegisterAuditCommands(app, selected);
  RegisterDemoCommand(app, selected);
  RegisterLabCommands(app, selected);

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
  SystemClock clock;
  SystemTimeZone zone;
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
