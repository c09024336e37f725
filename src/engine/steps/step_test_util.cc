#include "engine/steps/step_test_util.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "engine/steps/script_step.h"

namespace rollgate::testing {

LocalStepHost::LocalStepHost() {
  std::string pattern = (std::filesystem::temp_directory_path() / "rollgate-step-XXXXXX").string();
  root_ = mkdtemp(pattern.data());
  std::filesystem::create_directories(root_ / "status");
  setenv("ROLLGATE_TEST_ROOT", root_.c_str(), 1);
}

LocalStepHost::~LocalStepHost() {
  // Tests that name a run (data_step_test_util.h UseRun) do so for their own host only.
  unsetenv("ROLLGATE_RUN");
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::filesystem::path LocalStepHost::Write(const std::string& relative, const std::string& content,
                                           bool executable) {
  std::filesystem::path path = root_ / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::trunc | std::ios::binary) << content;
  if (executable) chmod(path.c_str(), 0755);
  return path;
}

StepOutcome LocalStepHost::Run(const std::string& type, std::map<std::string, std::string> params,
                               std::map<std::string, std::string> secrets, Seconds timeout) {
  StepOutcome outcome;
  StepTypeTable table = DefaultStepTypes();
  const StepType* step_type = table.Find(type);
  if (step_type == nullptr) {
    outcome.error = "no step type " + type;
    return outcome;
  }
  StepSpec spec;
  spec.name = type;
  spec.type = type;
  params["root_env"] = "ROLLGATE_TEST_ROOT";
  spec.params = std::move(params);
  spec.secrets = std::move(secrets);
  spec.timeout = timeout;
  Status valid = step_type->Validate(spec);
  if (!valid.ok()) {
    outcome.error = valid.message();
    return outcome;
  }
  HostAddress host{"localhost", "", 0};
  std::string status_file = (root_ / "status" / fmt::format("s{}.status", ++counter_)).string();
  StepRequest request{spec, host, status_file, transport_, 64 * 1024, {}};
  request.env["ROLLGATE_HOST_NAME"] = "127.0.0.1";
  Result<CommandResult> result = step_type->Run(request);
  if (!result.ok()) {
    outcome.error = result.error().message();
    return outcome;
  }
  outcome.result = *result;
  outcome.facts = ParseFacts(result->output_tail);
  return outcome;
}

Result<ProbeVerdict> LocalStepHost::Probe(const std::string& type,
                                          std::map<std::string, std::string> params) {
  StepTypeTable table = DefaultStepTypes();
  const StepType* step_type = table.Find(type);
  if (step_type == nullptr) return NotFound("no step type " + type);
  StepSpec spec;
  spec.name = type;
  spec.type = type;
  params["root_env"] = "ROLLGATE_TEST_ROOT";
  spec.params = std::move(params);
  HostAddress host{"localhost", "", 0};
  std::string status_file = (root_ / "status" / fmt::format("p{}.status", ++counter_)).string();
  StepRequest request{spec, host, status_file, transport_, 64 * 1024, {}};
  request.env["ROLLGATE_HOST_NAME"] = "127.0.0.1";
  return step_type->Probe(request, nullptr);
}

}  // namespace rollgate::testing
