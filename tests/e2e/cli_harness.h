// Runs the real rollgate binary in a temporary directory for black-box tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rollgate::e2e {

struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
  // stdout parsed as one JSON document (fails the test when it is not).
  nlohmann::json Json() const;
};

// Runs `argv` (argv[0] searched in PATH) in `cwd` with exactly `environment`, no shell, stdin
// from /dev/null; collects stdout, stderr and the exit code (128 + signal when killed).
CommandOutput RunProgram(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                         const std::map<std::string, std::string>& environment);

// A scratch directory with a rollgate.yaml; commands run there with ROLLGATE_CONFIG pointing at it.
class CliHarness {
 public:
  CliHarness();
  ~CliHarness();
  CliHarness(const CliHarness&) = delete;
  CliHarness& operator=(const CliHarness&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  // Writes `yaml` as the configuration file.
  void WriteConfig(const std::string& yaml);
  // Writes the starter configuration from `rollgate init`, with identity.allow_as turned on.
  void InitDemoConfig();
  void WriteFile(const std::string& name, const std::string& content);
  std::string ReadFile(const std::string& name) const;

  // Copies `other`'s configuration and store here (to set a scene up once per test suite).
  void CopyStateFrom(const CliHarness& other);

  // Every later Run sets ROLLGATE_NOW (the binary's fixed test clock) to `time`; "" unsets it.
  void SetNow(const std::string& time) { now_ = time; }

  // Runs rollgate with `args` (no shell), returning its exit code and output.
  CommandOutput Run(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}) const;
  // Runs with "--output json" appended and "--as PERSON" when `as` is non-empty.
  CommandOutput RunJson(const std::vector<std::string>& args, const std::string& as = "") const;
  CommandOutput RunAs(const std::string& person, std::vector<std::string> args) const;

  // The default SQLite store of this directory's configuration.
  std::filesystem::path StorePath() const { return dir_ / ".rollgate" / "state.db"; }
  // Runs `sql` with the sqlite3 command-line shell on the store; fails the test unless it exits 0.
  std::string Sql(const std::string& sql) const;
  // The number of audit events, as `audit verify --output json` counts them.
  int64_t AuditEvents() const;
  // Everything stored: the schema and every row of the store ("" when there is none yet). A refused
  // command must leave it unchanged.
  std::string StoreDump() const;

 private:
  std::filesystem::path dir_;
  std::string now_;
};

}  // namespace rollgate::e2e
