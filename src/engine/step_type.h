// Step types: what one step does on one host, how its effect is probed, and how it is undone.
//
// The executor (engine/executor.h) journals an intent, calls StepType::Run once per attempt, and
// journals the result; when the outcome is unknown (crash, lost connection, timeout with no
// exit-status file) it asks StepType::Probe whether the effect is in place. Step types are
// registered in one visible table (StepTypeTable, built by DefaultStepTypes(): STYLE.md 4; no
// static registries); the playbook's step types (backup, service, migrate ...) are added there.
//
// Provided here: "command" (an argument vector or a shell script, with an optional probe and undo
// command) and "file-transfer" (CopyTo, then the SHA-256 of the file checked on the host; its probe
// is that check, so it always decides).
//
// Thread-safety: step types are stateless; Run/Probe/Undo may be called concurrently. The table
// owns its step types and is immutable once built.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/plan.h"
#include "transport/transport.h"

namespace rollgate {

// Everything one execution of a step on one host needs. References are valid for the call.
struct StepRequest {
  const StepSpec& spec;
  const HostAddress& host;
  // Unique per run/step/host/attempt; where the host leaves the command's exit status.
  const std::string& status_file;
  Transport& transport;
  size_t output_limit = 4096;
  // Added to every command's environment (ROLLGATE_RUN, ROLLGATE_HOST, ...); not secret.
  std::map<std::string, std::string> env;
};

enum class ProbeVerdict {
  kInPlace,     // the step's effect is in place: count it as succeeded
  kNotInPlace,  // it is not: count it as not done (failed, or re-run when idempotent)
  kUndecided,   // nothing can tell: a person must check
};

class StepType {
 public:
  virtual ~StepType() = default;

  virtual std::string_view name() const = 0;
  // OK when `spec` has what this type needs; InvalidArgument naming what is missing otherwise.
  virtual Status Validate(const StepSpec& spec) const = 0;
  // Performs the step once. Success: the CommandResult (also a failed, timed-out or cut-off one).
  // Failure: the Transport's Status when nothing ran (Unavailable, DeadlineExceeded before the
  // command was sent, InvalidArgument).
  virtual Result<CommandResult> Run(const StepRequest& request) const = 0;
  // Whether the effect is in place. This default runs spec.probe when there is one (exit 0: in
  // place, 1: not in place, anything else or an unknown outcome: undecided) and is undecided
  // without one. Failure: Unavailable/DeadlineExceeded when the host cannot be asked.
  virtual Result<ProbeVerdict> Probe(const StepRequest& request, int* probe_exit_code) const;
  // Whether Undo can reverse this step as specified.
  virtual bool CanUndo(const StepSpec& spec) const;
  // Reverses the step. This default returns InvalidArgument ("no undo") for types without one.
  virtual Result<CommandResult> Undo(const StepRequest& request) const;
};

// "<status_file minus .status>.<suffix>.status": a companion status file for a probe or undo.
std::string CompanionStatusFile(const std::string& status_file, std::string_view suffix);

// The step types a plan may name, looked up by name. Built once, then read-only.
class StepTypeTable {
 public:
  // Adds a step type. InvalidArgument when its name is already taken.
  Status Add(std::unique_ptr<StepType> type);
  // nullptr when no step type has this name.
  const StepType* Find(std::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<StepType>> types_;
};

// The one table of step types (STYLE.md 4): "command", "file-transfer" and the playbook's
// (engine/steps/steps.h).
StepTypeTable DefaultStepTypes();

// Checks every step of `plan` against its type and the plan's hosts with ParseHostAddress.
// InvalidArgument naming the phase and step (or the host) otherwise.
Status ValidatePlan(const Plan& plan, const StepTypeTable& types);

}  // namespace rollgate
