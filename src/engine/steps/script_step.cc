#include "engine/steps/script_step.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "common/strings.h"

namespace rollgate {

namespace {

constexpr std::string_view kPrelude = R"sh(set -u
R=""
if [ -n "${RG_ROOT_ENV:-}" ]; then R=$(printenv "$RG_ROOT_ENV" || true); fi
fact() { printf 'rollgate-fact %s %s\n' "$1" "$2"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
with_host() {
  _wh_rest=$1 _wh_out=""
  while :; do
    case $_wh_rest in
      *'{host}'*) _wh_out=$_wh_out${_wh_rest%%'{host}'*}$ROLLGATE_HOST_NAME _wh_rest=${_wh_rest#*'{host}'} ;;
      *) printf '%s' "$_wh_out$_wh_rest"; return ;;
    esac
  done
}
)sh";

bool IsNameText(std::string_view text) {
  if (text.empty()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool IsNumberText(std::string_view text, bool integer) {
  if (text.empty()) return false;
  bool dot = false;
  for (char c : text) {
    if (c == '.' && !integer && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
  }
  return text.front() != '.' && text.back() != '.';
}

Status CheckValue(const ParamRule& rule, std::string_view value) {
  auto bad = [&](std::string_view what) {
    return InvalidArgument(
        fmt::format("param \"{}\": {} (got '{}')", rule.name, what, EscapeForDisplay(value)));
  };
  if (value.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  if (!IsValidUtf8(value)) return bad("is not valid UTF-8");
  bool one_line = rule.kind != ParamKind::kLines;
  if (one_line && value.find_first_of("\r\n") != std::string_view::npos) {
    return bad("must be one line");
  }
  switch (rule.kind) {
    case ParamKind::kText:
    case ParamKind::kLines:
    case ParamKind::kCommand:
      if (rule.kind == ParamKind::kCommand && value.empty()) return bad("is empty");
      return Status::Ok();
    case ParamKind::kPath: {
      if (value.empty() || value.front() != '/') return bad("must be an absolute path");
      for (std::string_view part : Split(value, '/')) {
        if (part == "..") return bad("must not contain '..'");
      }
      return Status::Ok();
    }
    case ParamKind::kInteger:
      return IsNumberText(value, true) ? Status::Ok() : bad("must be a whole number");
    case ParamKind::kNumber:
      return IsNumberText(value, false) ? Status::Ok() : bad("must be a number");
    case ParamKind::kUrl:
      if (!(StartsWith(value, "http://") || StartsWith(value, "https://")) ||
          value.find_first_of(" \t") != std::string_view::npos) {
        return bad("must be an http:// or https:// URL without spaces");
      }
      return Status::Ok();
    case ParamKind::kHostPort: {
      size_t colon = value.rfind(':');
      if (colon == std::string_view::npos || colon == 0 ||
          !IsNumberText(value.substr(colon + 1), true) || value.front() == '-' ||
          value.find_first_of(" \t'\"`$;&|<>()\\") != std::string_view::npos) {
        return bad("must be host:port");
      }
      return Status::Ok();
    }
    case ParamKind::kName:
      return IsNameText(value) ? Status::Ok() : bad("must be a name ([A-Za-z_][A-Za-z0-9_]*)");
  }
  return Status::Ok();
}

CommandSpec SpecFor(const StepRequest& request, std::string script, Seconds timeout,
                    std::string status_file) {
  CommandSpec spec;
  spec.argv = {"sh", "-c", std::move(script), "rollgate-step"};
  spec.timeout = timeout;
  spec.env = request.env;
  for (const auto& [name, value] : request.spec.env) spec.env[name] = value;
  for (const auto& [name, value] : request.spec.params) spec.env[ParamVariable(name)] = value;
  spec.status_file = std::move(status_file);
  spec.output_limit = request.output_limit;
  return spec;
}

Status AddSecrets(const StepRequest& request, CommandSpec& spec) {
  for (const auto& [name, reference] : request.spec.secrets) {
    Result<std::string> value = ResolveSecret(reference);
    if (!value.ok()) {
      return value.error().WithContext(
          fmt::format("step {}: secret {}", EscapeForDisplay(request.spec.name), name));
    }
    spec.secret_env[name] = *value;
  }
  return Status::Ok();
}

}  // namespace

std::string ParamVariable(std::string_view param) {
  std::string out = "RG_";
  for (char c : param) {
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : (c == '-' ? '_' : c);
  }
  return out;
}

std::map<std::string, std::string> ParseFacts(std::string_view output) {
  std::map<std::string, std::string> facts;
  constexpr std::string_view kTag = "rollgate-fact ";
  for (std::string_view line : Split(output, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!StartsWith(line, kTag)) continue;
    line.remove_prefix(kTag.size());
    size_t space = line.find(' ');
    std::string key(line.substr(0, space));
    if (key.empty()) continue;
    facts[key] = space == std::string_view::npos ? "" : std::string(line.substr(space + 1));
  }
  return facts;
}

Result<std::string> ResolveSecret(std::string_view reference) {
  if (StartsWith(reference, "env:")) {
    std::string name(reference.substr(4));
    if (!IsNameText(name)) {
      return InvalidArgument(
          fmt::format("secret reference '{}': not a variable name", EscapeForDisplay(reference)));
    }
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return NotFound(fmt::format("secret reference {}: the variable is not set", reference));
    }
    return std::string(value);
  }
  if (StartsWith(reference, "file:/")) {
    std::string path(reference.substr(5));
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return NotFound(
          fmt::format("secret reference {}: the file cannot be read", EscapeForDisplay(reference)));
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  return InvalidArgument(fmt::format("secret reference '{}': expected env:NAME or file:/path",
                                     EscapeForDisplay(reference)));
}

Status ScriptStep::Validate(const StepSpec& spec) const {
  if (!spec.argv.empty() || !spec.script.empty() || !spec.source.empty() ||
      !spec.destination.empty()) {
    return InvalidArgument(fmt::format(
        "a {} step takes \"params\", not \"argv\", \"script\", \"source\" or \"destination\"",
        name()));
  }
  std::vector<ParamRule> rules = Rules();
  rules.push_back({"root_env", ParamKind::kName, false});
  std::vector<std::string> known;
  for (const auto& rule : rules) known.push_back(rule.name);
  for (const auto& entry : spec.params) {
    const std::string& param = entry.first;
    const std::string& value = entry.second;
    auto it = std::find_if(rules.begin(), rules.end(),
                           [&](const ParamRule& r) { return r.name == param; });
    if (it == rules.end()) {
      return InvalidArgument(fmt::format("a {} step has no param \"{}\"{}", name(),
                                         EscapeForDisplay(param), DidYouMean(param, known)));
    }
    RETURN_IF_ERROR(CheckValue(*it, value));
  }
  for (const auto& rule : rules) {
    if (rule.required && !spec.params.contains(rule.name)) {
      return InvalidArgument(fmt::format("a {} step needs param \"{}\"", name(), rule.name));
    }
  }
  for (const auto& [variable, reference] : spec.secrets) {
    if (!IsNameText(variable)) {
      return InvalidArgument(
          fmt::format("secret '{}': not a variable name", EscapeForDisplay(variable)));
    }
    if (!StartsWith(reference, "env:") && !StartsWith(reference, "file:/")) {
      return InvalidArgument(
          fmt::format("secret {}: expected a reference env:NAME or file:/path", variable));
    }
  }
  return ValidateMore(spec);
}

std::string ScriptStep::FullScript() const { return std::string(kPrelude) + std::string(Script()); }

Result<CommandResult> ScriptStep::Run(const StepRequest& request) const {
  CommandSpec spec = SpecFor(request, FullScript(), request.spec.timeout, request.status_file);
  RETURN_IF_ERROR(AddSecrets(request, spec));
  return request.transport.Run(request.host, spec);
}

Result<ProbeVerdict> ScriptStep::Probe(const StepRequest& request, int* probe_exit_code) const {
  if (ProbeScript().empty()) return StepType::Probe(request, probe_exit_code);
  std::string script = std::string(kPrelude) + std::string(ProbeScript());
  Seconds timeout = request.spec.probe ? request.spec.probe->timeout : Seconds(60);
  CommandSpec spec = SpecFor(request, std::move(script), timeout,
                             CompanionStatusFile(request.status_file, "probe"));
  RETURN_IF_ERROR(AddSecrets(request, spec));
  ASSIGN_OR_RETURN(CommandResult result, request.transport.Run(request.host, spec));
  if (result.timed_out || result.connection_lost) return ProbeVerdict::kUndecided;
  if (probe_exit_code != nullptr) *probe_exit_code = result.exit_code;
  if (result.exit_code == 0) return ProbeVerdict::kInPlace;
  if (result.exit_code == 1) return ProbeVerdict::kNotInPlace;
  return ProbeVerdict::kUndecided;
}

}  // namespace rollgate
