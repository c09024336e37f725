#include "cli/context.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/output.h"
#include "common/strings.h"
#include "config/loader.h"

namespace rollgate::cli {

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

std::string OsUserName() {
  struct passwd pw {};
  struct passwd* result = nullptr;
  char buffer[4096];
  if (getpwuid_r(geteuid(), &pw, buffer, sizeof buffer, &result) == 0 && result) {
    return result->pw_name;
  }
  return fmt::format("uid {}", geteuid());
}

}  // namespace

Context::Context(GlobalOptions options, const Clock& clock, const TimeZone& zone, std::ostream& out,
                 std::ostream& err)
    : options_(std::move(options)), clock_(clock), zone_(zone), out_(out), err_(err) {}

Context::~Context() = default;

std::string Context::ConfigPath() const {
  if (!options_.config_path.empty()) return options_.config_path;
  return EnvOr("ROLLGATE_CONFIG", "rollgate.yaml");
}

Result<const Config*> Context::GetConfig() {
  if (config_) return &*config_;
  LoadResult loaded = LoadConfigFile(ConfigPath());
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) err_ << FormatConfigError(e) << "\n";
    return InvalidArgument(
        fmt::format("{}: invalid configuration ({} error{}); run 'rollgate "
                    "validate' for the list",
                    ConfigPath(), loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s"));
  }
  config_ = std::move(*loaded.config);
  return &*config_;
}

namespace {

std::filesystem::path ConfigDir(const std::string& config_path) {
  std::filesystem::path dir = std::filesystem::path(config_path).parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

}  // namespace

std::string Context::StoreUrl() const {
  std::string url = options_.store_url;
  if (url.empty()) url = EnvOr("ROLLGATE_STORE", "");
  if (url.empty()) url = "sqlite:" + (ConfigDir(ConfigPath()) / ".rollgate" / "state.db").string();
  return url;
}

std::filesystem::path Context::PackagesDir() const {
  std::string url = StoreUrl();
  if (StartsWith(url, "sqlite:")) {
    std::filesystem::path db(url.substr(7));
    std::filesystem::path dir = db.parent_path();
    return (dir.empty() ? std::filesystem::path(".") : dir) / "packages";
  }
  return ConfigDir(ConfigPath()) / ".rollgate" / "packages";
}

Result<Store*> Context::GetStore() {
  if (store_) return store_.get();
  ASSIGN_OR_RETURN(store_, OpenStore(StoreUrl()));
  return store_.get();
}

Result<std::string> Context::Actor() {
  if (!authenticated_actor_.empty()) return authenticated_actor_;
  ASSIGN_OR_RETURN(const Config* config, GetConfig());
  if (!options_.as_person.empty()) {
    if (!config->allow_as) {
      return PermissionDenied(
          "--as is not allowed by this configuration (identity: {allow_as: true} enables it, "
          "meant for demos and tests)");
    }
    if (!config->FindPerson(options_.as_person)) {
      std::vector<std::string> names;
      for (const auto& p : config->people) names.push_back(p.name);
      std::string hint = DidYouMean(options_.as_person, names);
      return NotFound(fmt::format("--as: no person '{}' in the configuration{}",
                                  EscapeForDisplay(options_.as_person),
                                  hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    return options_.as_person;
  }
  std::string user = OsUserName();
  const Person* person = config->FindPersonByUnixUser(user);
  if (!person) {
    return PermissionDenied(fmt::format(
        "the OS user '{}' is not mapped to a person: add 'unix_user: {}' to a person in {}",
        EscapeForDisplay(user), EscapeForDisplay(user), ConfigPath()));
  }
  return person->name;
}

}  // namespace rollgate::cli
