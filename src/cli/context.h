// What every command needs: global options, the configuration, the store, the acting person,
// the clock and zone, and where to print. Built once per process by cli/app.cc.
//
// Lazily loads the configuration and opens the store on first use, so commands that need
// neither (cvss, init) work without a rollgate.yaml. Not thread-safe; one per process.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "store/store.h"

namespace rollgate::cli {

struct GlobalOptions {
  std::string config_path;  // --config, else $ROLLGATE_CONFIG, else ./rollgate.yaml
  std::string
      store_url;  // --store, else $ROLLGATE_STORE, else sqlite:<config dir>/.rollgate/state.db
  std::string output = "text";  // text | json
  std::string as_person;        // --as
};

class Context {
 public:
  Context(GlobalOptions options, const Clock& clock, const TimeZone& zone, std::ostream& out,
          std::ostream& err);
  ~Context();

  bool json() const { return options_.output == "json"; }
  const GlobalOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }
  const TimeZone& zone() const { return zone_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // The configuration file path this process uses.
  std::string ConfigPath() const;
  // Loads and validates the configuration once. On validation errors prints each as
  // FILE:LINE:COL: message to stderr (or the JSON document) and returns InvalidArgument.
  Result<const Config*> GetConfig();
  // Opens the store once (creating it on first use).
  Result<Store*> GetStore();
  // The store URL this process uses.
  std::string StoreUrl() const;
  // Where accepted patch packages are kept: beside an SQLite store's file, else under the
  // configuration's directory.
  std::filesystem::path PackagesDir() const;
  // The acting person: --as when the configuration allows it, else the OS user mapped through
  // people[].unix_user. PermissionDenied naming the problem otherwise.
  Result<std::string> Actor();
  // Acts as `person` from now on, without the --as checks: for the server, whose caller was
  // authenticated by a token.
  void ActAs(std::string person) { authenticated_actor_ = std::move(person); }

 private:
  GlobalOptions options_;
  const Clock& clock_;
  const TimeZone& zone_;
  std::ostream& out_;
  std::ostream& err_;
  std::optional<Config> config_;
  std::unique_ptr<Store> store_;
  std::string authenticated_actor_;
};

}  // namespace rollgate::cli
