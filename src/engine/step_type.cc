#include "engine/step_type.h"

#include <fmt/format.h>

#include <utility>

#include "common/sha256.h"
#include "common/strings.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"
#include "transport/host_address.h"

namespace rollgate {

namespace {

// The CommandSpec shared by every command a step sends.
CommandSpec BaseSpec(const StepRequest& request, std::vector<std::string> argv, Seconds timeout,
                     std::string status_file) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = timeout;
  spec.env = request.env;
  for (const auto& [name, value] : request.spec.env) spec.env[name] = value;
  spec.status_file = std::move(status_file);
  spec.output_limit = request.output_limit;
  return spec;
}

// Resolves the step's secret references into spec.secret_env, at the moment a command is sent.
// A reference that cannot be resolved fails with a Status naming the step, the variable and the
// reference (ResolveSecret never puts a value in its messages).
Status AddSecrets(const StepRequest& request, CommandSpec& spec) {
  for (const auto& [name, reference] : request.spec.secrets) {
    Result<std::string> value = ResolveSecret(reference);
    if (!value.ok()) {
      return value.error().WithContext(
          fmt::format("step {}: secret {}", EscapeForDisplay(request.spec.name), name));
    }
    spec.secret_env[name] = std::move(*value);
  }
  return Status::Ok();
}

bool IsVariableName(std::string_view text) {
  if (text.empty() || (text.front() >= '0' && text.front() <= '9')) return false;
  for (char c : text) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

class CommandStep final : public StepType {
 public:
  std::string_view name() const override { return "command"; }

  Status Validate(const StepSpec& spec) const override {
    if (spec.argv.empty() == spec.script.empty()) {
      return InvalidArgument("a command step needs exactly one of \"argv\" or \"script\"");
    }
    if (!spec.source.empty() || !spec.destination.empty()) {
      return InvalidArgument("a command step takes no \"source\" or \"destination\"");
    }
    for (const auto& [variable, reference] : spec.secrets) {
      if (!IsVariableName(variable)) {
        return InvalidArgument(
            fmt::format("secret '{}': not a variable name", EscapeForDisplay(variable)));
      }
      if (spec.env.contains(variable)) {
        return InvalidArgument(fmt::format("{} is both in \"env\" and \"secrets\"", variable));
      }
      if (!StartsWith(reference, "env:") && !StartsWith(reference, "file:/")) {
        return InvalidArgument(
            fmt::format("secret {}: expected a reference env:NAME or file:/path", variable));
      }
    }
    return Status::Ok();
  }

  Result<CommandResult> Run(const StepRequest& request) const override {
    std::vector<std::string> argv = request.spec.argv;
    if (argv.empty()) argv = {"sh", "-c", request.spec.script};
    CommandSpec spec =
        BaseSpec(request, std::move(argv), request.spec.timeout, request.status_file);
    RETURN_IF_ERROR(AddSecrets(request, spec));
    return request.transport.Run(request.host, spec);
  }

  bool CanUndo(const StepSpec& spec) const override { return !spec.undo_argv.empty(); }

  Result<CommandResult> Undo(const StepRequest& request) const override {
    if (!CanUndo(request.spec)) return StepType::Undo(request);
    CommandSpec spec = BaseSpec(request, request.spec.undo_argv, request.spec.timeout,
                                CompanionStatusFile(request.status_file, "undo"));
    RETURN_IF_ERROR(AddSecrets(request, spec));
    return request.transport.Run(request.host, spec);
  }
};

class FileTransferStep final : public StepType {
 public:
  std::string_view name() const override { return "file-transfer"; }

  Status Validate(const StepSpec& spec) const override {
    if (spec.source.empty() || spec.destination.empty()) {
      return InvalidArgument("a file-transfer step needs \"source\" and \"destination\"");
    }
    if (spec.destination.front() != '/') {
      return InvalidArgument("a file-transfer step's \"destination\" must be an absolute path");
    }
    if (!spec.argv.empty() || !spec.script.empty()) {
      return InvalidArgument("a file-transfer step takes no \"argv\" or \"script\"");
    }
    return Status::Ok();
  }

  Result<CommandResult> Run(const StepRequest& request) const override {
    ASSIGN_OR_RETURN(std::string expected, Sha256File(request.spec.source));
    Status copied = request.transport.CopyTo(request.host, request.spec.source,
                                             request.spec.destination, request.spec.timeout);
    if (copied.code() == StatusCode::kUnavailable ||
        copied.code() == StatusCode::kInvalidArgument || copied.code() == StatusCode::kNotFound) {
      return copied;
    }
    if (copied.code() == StatusCode::kDeadlineExceeded) {
      CommandResult result;
      result.timed_out = true;
      result.output_tail = copied.message();
      return result;
    }
    if (!copied.ok()) {
      CommandResult result;
      result.exit_code = 1;
      result.output_tail = copied.message();
      return result;
    }
    // The copy is checked once more where it landed, with the step's own exit-status file.
    return Verify(request, expected, request.status_file);
  }

  Result<ProbeVerdict> Probe(const StepRequest& request, int* probe_exit_code) const override {
    ASSIGN_OR_RETURN(std::string expected, Sha256File(request.spec.source));
    ASSIGN_OR_RETURN(CommandResult result,
                     Verify(request, expected, CompanionStatusFile(request.status_file, "probe")));
    if (probe_exit_code != nullptr) *probe_exit_code = result.exit_code;
    if (result.exit_code == 0) return ProbeVerdict::kInPlace;
    if (result.exit_code == 1) return ProbeVerdict::kNotInPlace;
    return ProbeVerdict::kUndecided;
  }

 private:
  // Exit 0 when the file on the host has the expected SHA-256, 1 when it differs or is missing.
  static Result<CommandResult> Verify(const StepRequest& request, const std::string& expected,
                                      const std::string& status_file) {
    std::string script = fmt::format(
        "set -- $(sha256sum -- \"$1\" 2>/dev/null) && test \"$1\" = {} || "
        "{{ echo \"SHA-256 of $0 is not {}\" >&2; exit 1; }}",
        expected, expected);
    CommandSpec spec =
        BaseSpec(request, {"sh", "-c", script, request.spec.destination, request.spec.destination},
                 request.spec.timeout, status_file);
    return request.transport.Run(request.host, spec);
  }
};

}  // namespace

std::string CompanionStatusFile(const std::string& status_file, std::string_view suffix) {
  std::string base = status_file;
  constexpr std::string_view kExtension = ".status";
  if (base.size() > kExtension.size() &&
      base.compare(base.size() - kExtension.size(), kExtension.size(), kExtension) == 0) {
    base.resize(base.size() - kExtension.size());
  }
  return fmt::format("{}.{}.status", base, suffix);
}

Result<ProbeVerdict> StepType::Probe(const StepRequest& request, int* probe_exit_code) const {
  if (!request.spec.probe) return ProbeVerdict::kUndecided;
  CommandSpec spec = BaseSpec(request, request.spec.probe->argv, request.spec.probe->timeout,
                              CompanionStatusFile(request.status_file, "probe"));
  RETURN_IF_ERROR(AddSecrets(request, spec));
  ASSIGN_OR_RETURN(CommandResult result, request.transport.Run(request.host, spec));
  if (result.timed_out || result.connection_lost) return ProbeVerdict::kUndecided;
  if (probe_exit_code != nullptr) *probe_exit_code = result.exit_code;
  if (result.exit_code == 0) return ProbeVerdict::kInPlace;
  if (result.exit_code == 1) return ProbeVerdict::kNotInPlace;
  return ProbeVerdict::kUndecided;
}

bool StepType::CanUndo(const StepSpec& /*spec*/) const { return false; }

Result<CommandResult> StepType::Undo(const StepRequest& request) const {
  return InvalidArgument(fmt::format("step type {} has no undo (step {})", name(),
                                     EscapeForDisplay(request.spec.name)));
}

Status StepTypeTable::Add(std::unique_ptr<StepType> type) {
  if (Find(type->name()) != nullptr) {
    return InvalidArgument(fmt::format("step type {} is registered twice", type->name()));
  }
  types_.push_back(std::move(type));
  return Status::Ok();
}

const StepType* StepTypeTable::Find(std::string_view name) const {
  for (const auto& type : types_) {
    if (type->name() == name) return type.get();
  }
  return nullptr;
}

std::vector<std::string> StepTypeTable::Names() const {
  std::vector<std::string> names;
  for (const auto& type : types_) names.emplace_back(type->name());
  return names;
}

StepTypeTable DefaultStepTypes() {
  StepTypeTable table;
  // Distinct names by construction: Add cannot fail here.
  (void)table.Add(std::make_unique<CommandStep>());
  (void)table.Add(std::make_unique<FileTransferStep>());
  AddPlaybookSteps(table);
  return table;
}

Status ValidatePlan(const Plan& plan, const StepTypeTable& types) {
  if (plan.hosts.empty()) return InvalidArgument("the plan has no hosts");
  for (size_t i = 0; i < plan.hosts.size(); ++i) {
    Result<HostAddress> host = ParseHostAddress(plan.hosts[i]);
    if (!host.ok()) return host.error().WithContext(fmt::format("hosts[{}]", i));
    for (size_t j = 0; j < i; ++j) {
      if (plan.hosts[j] == plan.hosts[i]) {
        return InvalidArgument(
            fmt::format("hosts[{}]: {} is listed twice", i, EscapeForDisplay(plan.hosts[i])));
      }
    }
  }
  if (plan.phases.empty()) return InvalidArgument("the plan has no phases");
  for (const Phase& phase : plan.phases) {
    for (const StepSpec& step : phase.steps) {
      std::string where = fmt::format("step {}/{}", phase.name, step.name);
      const StepType* type = types.Find(step.type);
      if (type == nullptr) {
        return InvalidArgument(fmt::format("{}: unknown step type '{}'{}", where,
                                           EscapeForDisplay(step.type),
                                           DidYouMean(step.type, types.Names())));
      }
      RETURN_IF_ERROR(type->Validate(step).WithContext(where));
      if (step.retry.attempts > 1 && !step.idempotent) {
        return InvalidArgument(where + ": only idempotent steps are retried");
      }
    }
  }
  return Status::Ok();
}

}  // namespace rollgate
