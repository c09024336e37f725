// Test helpers of the backup, database and restore step types: files, a shell, Validate alone.
#pragma once

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "engine/step_type.h"

namespace rollgate::testing {

// The run id the steps name their files by ($ROLLGATE_RUN reaches the step's environment from
// this process's, LocalTransport adds to it).
inline constexpr char kTestRun[] = "run-1";

inline void UseRun(const std::string& run = kTestRun) { setenv("ROLLGATE_RUN", run.c_str(), 1); }

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct ShellResult {
  int exit_code = -1;
  std::string output;
};

// Runs `command` with sh -c (tests only: fixed command lines of the test itself).
inline ShellResult Shell(const std::string& command) {
  ShellResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Validate of step type `type` (from DefaultStepTypes) on `params`; "" when valid, else the
// message.
inline std::string ValidateError(const std::string& type, std::map<std::string, std::string> params,
                                 std::map<std::string, std::string> secrets = {}) {
  StepTypeTable table = DefaultStepTypes();
  const StepType* step_type = table.Find(type);
  if (step_type == nullptr) return "no step type " + type;
  StepSpec spec;
  spec.name = type;
  spec.type = type;
  spec.params = std::move(params);
  spec.secrets = std::move(secrets);
  Status status = step_type->Validate(spec);
  return status.ok() ? "" : status.message();
}

}  // namespace rollgate::testing
