#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace rollgate::cli {

int Main(int argc, char** argv) {
  CLI::App app{"Rollgate: patch deployment through DEV, TEST and PROD, exactly as the playbook says"};
  app.require_subcommand(1);
  app.add_subcommand("version", "print the version")->callback([] { std::cout << "rollgate 0.1.0\n"; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return kExitOk;
}

}  // namespace rollgate::cli
