// Running one step type on this machine (LocalTransport) in tests: a temporary host root, the
// step's params, and the result with its facts.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/time.h"
#include "engine/step_type.h"
#include "transport/local_transport.h"

namespace rollgate::testing {

struct StepOutcome {
  CommandResult result;
  std::map<std::string, std::string> facts;
  std::string error;  // the Status message when Run failed before a command ran
};

// A scratch host: `root` is a fresh directory (removed in the destructor), handed to steps as
// the host root through params root_env=ROLLGATE_TEST_ROOT.
class LocalStepHost {
 public:
  LocalStepHost();
  ~LocalStepHost();
  LocalStepHost(const LocalStepHost&) = delete;
  LocalStepHost& operator=(const LocalStepHost&) = delete;

  const std::filesystem::path& root() const { return root_; }
  // Writes `content` to root()/relative (parents created); returns the absolute path.
  std::filesystem::path Write(const std::string& relative, const std::string& content,
                              bool executable = false);

  // Runs step type `type` (from DefaultStepTypes) with `params` (root_env is added) after
  // Validate; `secrets` as in StepSpec. A Validate failure is returned in `error`.
  StepOutcome Run(const std::string& type, std::map<std::string, std::string> params,
                  std::map<std::string, std::string> secrets = {}, Seconds timeout = Seconds(60));
  // Probe of the same step.
  Result<ProbeVerdict> Probe(const std::string& type, std::map<std::string, std::string> params);

 private:
  std::filesystem::path root_;
  SystemClock clock_;
  LocalTransport transport_{clock_};
  int counter_ = 0;
};

}  // namespace rollgate::testing
