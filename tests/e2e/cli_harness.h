// Runs the real rollgate binary in a temporary directory for black-box tests.
#pragma once

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

// A scratch directory with a rollgate.yaml; commands run there with ROLLGATE_CONFIG pointing at it.
class CliHarness {
 public:
  CliHarness();
  ~CliHarness();

  const std::filesystem::path& dir() const { return dir_; }
  // Writes `yaml` as the configuration file.
  void WriteConfig(const std::string& yaml);
  // Writes the starter configuration from `rollgate init`, with identity.allow_as turned on.
  void InitDemoConfig();
  void WriteFile(const std::string& name, const std::string& content);

  // Runs rollgate with `args` (no shell), returning its exit code and output.
  CommandOutput Run(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}) const;
  // Runs with "--output json" appended and "--as PERSON" when `as` is non-empty.
  CommandOutput RunJson(const std::vector<std::string>& args, const std::string& as = "") const;
  CommandOutput RunAs(const std::string& person, std::vector<std::string> args) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace rollgate::e2e
