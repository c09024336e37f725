#include "engine/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace rollgate {

namespace {

using nlohmann::json;

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status CheckName(std::string_view name, const std::string& where) {
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), IsNameCharacter)) {
    return InvalidArgument(
        fmt::format("{}: '{}' is not a name (1-64 characters of A-Z a-z 0-9 . _ -)", where,
                    EscapeForDisplay(name)));
  }
  return Status::Ok();
}

// Reads fields from one JSON object, naming the path of any that is wrong, and refusing fields
// it does not know (a mistyped key must not be silently ignored).
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Status CheckObject() const {
    if (!object_.is_object()) return InvalidArgument(fmt::format("{}: expected an object", path_));
    return Status::Ok();
  }
  Status CheckKnown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return InvalidArgument(fmt::format("{}: unknown field '{}'", path_, EscapeForDisplay(key)));
      }
    }
    return Status::Ok();
  }
  bool Has(const char* key) const { return object_.contains(key); }
  std::string Path(const char* key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  const json& At(const char* key) const { return object_.at(key); }

  Status String(const char* key, std::string& out, bool required = false) const {
    if (!Has(key)) {
      return required ? InvalidArgument(fmt::format("{}: missing", Path(key))) : Status::Ok();
    }
    if (!At(key).is_string()) return InvalidArgument(fmt::format("{}: expected text", Path(key)));
    out = At(key).get<std::string>();
    return Status::Ok();
  }
  Status StringMap(const char* key, std::map<std::string, std::string>& out) const {
    if (!Has(key)) return Status::Ok();
    const json& object = At(key);
    if (!object.is_object())
      return InvalidArgument(fmt::format("{}: expected an object", Path(key)));
    out.clear();
    for (const auto& [name, value] : object.items()) {
      if (!value.is_string()) {
        return InvalidArgument(fmt::format("{}.{}: expected text", Path(key), name));
      }
      out[name] = value.get<std::string>();
    }
    return Status::Ok();
  }
  Status Strings(const char* key, std::vector<std::string>& out) const {
    if (!Has(key)) return Status::Ok();
    const json& list = At(key);
    if (!list.is_array()) return InvalidArgument(fmt::format("{}: expected a list", Path(key)));
    out.clear();
    for (const json& item : list) {
      if (!item.is_string()) {
        return InvalidArgument(fmt::format("{}: expected a list of text", Path(key)));
      }
      out.push_back(item.get<std::string>());
    }
    return Status::Ok();
  }
  Status Bool(const char* key, bool& out) const {
    if (!Has(key)) return Status::Ok();
    if (!At(key).is_boolean()) {
      return InvalidArgument(fmt::format("{}: expected true or false", Path(key)));
    }
    out = At(key).get<bool>();
    return Status::Ok();
  }
  Status Int(const char* key, int& out, int min, int max) const {
    if (!Has(key)) return Status::Ok();
    if (!At(key).is_number_integer() || At(key).get<int64_t>() < min ||
        At(key).get<int64_t>() > max) {
      return InvalidArgument(
          fmt::format("{}: expected a whole number {}..{}", Path(key), min, max));
    }
    out = At(key).get<int>();
    return Status::Ok();
  }
  Status Duration(const char* key, Seconds& out) const {
    if (!Has(key)) return Status::Ok();
    std::string text;
    RETURN_IF_ERROR(String(key, text));
    Result<Seconds> d = ParseDuration(text);
    if (!d.ok()) return d.error().WithContext(Path(key));
    out = *d;
    return Status::Ok();
  }
  Status Count(const char* key, HostCount& out) const {
    if (!Has(key)) return Status::Ok();
    std::string text;
    if (At(key).is_number_integer()) {
      text = std::to_string(At(key).get<int64_t>());
    } else {
      RETURN_IF_ERROR(String(key, text));
    }
    Result<HostCount> count = ParseHostCount(text);
    if (!count.ok()) return count.error().WithContext(Path(key));
    out = *count;
    return Status::Ok();
  }

 private:
  const json& object_;
  std::string path_;
};

Result<StepSpec> StepFromJson(const json& object, const std::string& path) {
  Fields f(object, path);
  RETURN_IF_ERROR(f.CheckObject());
  RETURN_IF_ERROR(
      f.CheckKnown({"name", "type", "argv", "script", "undo_argv", "env", "params", "secrets",
                    "source", "destination", "timeout", "idempotent", "retry", "probe"}));
  StepSpec step;
  RETURN_IF_ERROR(f.String("name", step.name, /*required=*/true));
  RETURN_IF_ERROR(CheckName(step.name, f.Path("name")));
  step.type = "command";
  RETURN_IF_ERROR(f.String("type", step.type));
  RETURN_IF_ERROR(f.Strings("argv", step.argv));
  RETURN_IF_ERROR(f.String("script", step.script));
  RETURN_IF_ERROR(f.Strings("undo_argv", step.undo_argv));
  RETURN_IF_ERROR(f.StringMap("env", step.env));
  RETURN_IF_ERROR(f.StringMap("params", step.params));
  RETURN_IF_ERROR(f.StringMap("secrets", step.secrets));
  RETURN_IF_ERROR(f.String("source", step.source));
  RETURN_IF_ERROR(f.String("destination", step.destination));
  RETURN_IF_ERROR(f.Duration("timeout", step.timeout));
  RETURN_IF_ERROR(f.Bool("idempotent", step.idempotent));
  if (f.Has("retry")) {
    Fields r(f.At("retry"), f.Path("retry"));
    RETURN_IF_ERROR(r.CheckObject());
    RETURN_IF_ERROR(r.CheckKnown({"attempts", "transient_attempts", "backoff", "max_backoff"}));
    RETURN_IF_ERROR(r.Int("attempts", step.retry.attempts, 1, 100));
    RETURN_IF_ERROR(r.Int("transient_attempts", step.retry.transient_attempts, 0, 100));
    RETURN_IF_ERROR(r.Duration("backoff", step.retry.backoff));
    RETURN_IF_ERROR(r.Duration("max_backoff", step.retry.max_backoff));
    if ((step.retry.attempts > 1 || step.retry.transient_attempts > 0) && !step.idempotent) {
      return InvalidArgument(fmt::format(
          "{}: only idempotent steps are retried; set \"idempotent\": true or attempts 1",
          f.Path("retry")));
    }
  }
  if (f.Has("probe")) {
    Fields p(f.At("probe"), f.Path("probe"));
    RETURN_IF_ERROR(p.CheckObject());
    RETURN_IF_ERROR(p.CheckKnown({"argv", "timeout"}));
    ProbeSpec probe;
    RETURN_IF_ERROR(p.Strings("argv", probe.argv));
    if (probe.argv.empty()) {
      return InvalidArgument(fmt::format("{}: a probe needs a command", p.Path("argv")));
    }
    RETURN_IF_ERROR(p.Duration("timeout", probe.timeout));
    step.probe = std::move(probe);
  }
  return step;
}

json StepToJson(const StepSpec& step) {
  json out = {{"name", step.name},
              {"type", step.type},
              {"timeout", FormatDuration(step.timeout)},
              {"idempotent", step.idempotent},
              {"retry",
               {{"attempts", step.retry.attempts},
                {"transient_attempts", step.retry.transient_attempts},
                {"backoff", FormatDuration(step.retry.backoff)},
                {"max_backoff", FormatDuration(step.retry.max_backoff)}}}};
  if (!step.argv.empty()) out["argv"] = step.argv;
  if (!step.script.empty()) out["script"] = step.script;
  if (!step.undo_argv.empty()) out["undo_argv"] = step.undo_argv;
  if (!step.env.empty()) out["env"] = step.env;
  if (!step.params.empty()) out["params"] = step.params;
  if (!step.secrets.empty()) out["secrets"] = step.secrets;
  if (!step.source.empty()) out["source"] = step.source;
  if (!step.destination.empty()) out["destination"] = step.destination;
  if (step.probe) {
    out["probe"] = {{"argv", step.probe->argv}, {"timeout", FormatDuration(step.probe->timeout)}};
  }
  return out;
}

}  // namespace

std::string HostCount::ToString() const {
  return percent ? fmt::format("{}%", value) : std::to_string(value);
}

Result<HostCount> ParseHostCount(std::string_view text) {
  HostCount count;
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == '%') {
    count.percent = true;
    digits.remove_suffix(1);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count.value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      count.value < 0 || (count.percent && count.value > 100)) {
    return InvalidArgument(fmt::format(
        "'{}' is not a host count (a whole number such as \"2\" or a share such as \"25%\")",
        EscapeForDisplay(text)));
  }
  return count;
}

int BatchSizeFor(const HostCount& batch, int total) {
  if (total <= 0) return 0;
  int size = batch.percent ? (total * batch.value + 99) / 100 : batch.value;
  return std::clamp(size, 1, total);
}

int FailureLimitFor(const HostCount& limit, int total) {
  return limit.percent ? total * limit.value / 100 : limit.value;
}

Seconds RetryPolicy::BackoffBefore(int attempt) const {
  Seconds wait = backoff;
  for (int i = 2; i < attempt && wait < max_backoff; ++i) wait *= 2;
  return std::min(wait, max_backoff);
}

Result<Plan> PlanFromJson(std::string_view text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return InvalidArgument("the plan is not valid JSON");
  Fields f(document, "");
  RETURN_IF_ERROR(f.CheckObject());
  RETURN_IF_ERROR(f.CheckKnown({"name", "hosts", "batch", "failure_limit", "concurrency",
                                "status_dir", "instance", "phases"}));
  Plan plan;
  RETURN_IF_ERROR(f.String("name", plan.name));
  RETURN_IF_ERROR(f.Strings("hosts", plan.hosts));
  RETURN_IF_ERROR(f.Count("batch", plan.batch));
  if (plan.batch.value == 0) return InvalidArgument("batch: must be at least 1 host");
  RETURN_IF_ERROR(f.Count("failure_limit", plan.failure_limit));
  RETURN_IF_ERROR(f.Int("concurrency", plan.concurrency, 1, 1024));
  RETURN_IF_ERROR(f.String("status_dir", plan.status_dir));
  if (plan.status_dir.empty() || plan.status_dir.front() != '/') {
    return InvalidArgument("status_dir: must be an absolute path");
  }
  RETURN_IF_ERROR(f.String("instance", plan.instance));
  if (plan.instance.size() > 32 ||
      plan.instance.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InvalidArgument("instance: expected up to 32 lowercase hex digits");
  }
  if (!f.Has("phases") || !f.At("phases").is_array() || f.At("phases").empty()) {
    return InvalidArgument("phases: expected a list of at least one phase");
  }
  for (size_t i = 0; i < f.At("phases").size(); ++i) {
    std::string path = fmt::format("phases[{}]", i);
    Fields p(f.At("phases")[i], path);
    RETURN_IF_ERROR(p.CheckObject());
    RETURN_IF_ERROR(p.CheckKnown({"name", "batch", "one_host", "steps"}));
    Phase phase;
    RETURN_IF_ERROR(p.String("name", phase.name, /*required=*/true));
    RETURN_IF_ERROR(CheckName(phase.name, p.Path("name")));
    if (p.Has("batch")) {
      HostCount batch;
      RETURN_IF_ERROR(p.Count("batch", batch));
      if (batch.value == 0) return InvalidArgument(p.Path("batch") + ": must be at least 1 host");
      phase.batch = batch;
    }
    RETURN_IF_ERROR(p.Bool("one_host", phase.one_host));
    if (!p.Has("steps") || !p.At("steps").is_array() || p.At("steps").empty()) {
      return InvalidArgument(p.Path("steps") + ": expected a list of at least one step");
    }
    for (size_t j = 0; j < p.At("steps").size(); ++j) {
      ASSIGN_OR_RETURN(StepSpec step,
                       StepFromJson(p.At("steps")[j], fmt::format("{}.steps[{}]", path, j)));
      for (const StepSpec& other : phase.steps) {
        if (other.name == step.name) {
          return InvalidArgument(fmt::format("{}.steps[{}].name: '{}' is used twice in the phase",
                                             path, j, step.name));
        }
      }
      phase.steps.push_back(std::move(step));
    }
    plan.phases.push_back(std::move(phase));
  }
  return plan;
}

std::string PlanToJson(const Plan& plan) {
  json phases = json::array();
  for (const Phase& phase : plan.phases) {
    json steps = json::array();
    for (const StepSpec& step : phase.steps) steps.push_back(StepToJson(step));
    json out = {{"name", phase.name}, {"steps", steps}};
    if (phase.batch) out["batch"] = phase.batch->ToString();
    if (phase.one_host) out["one_host"] = true;
    phases.push_back(std::move(out));
  }
  json document = {{"name", plan.name},
                   {"hosts", plan.hosts},
                   {"batch", plan.batch.ToString()},
                   {"failure_limit", plan.failure_limit.ToString()},
                   {"concurrency", plan.concurrency},
                   {"status_dir", plan.status_dir},
                   {"phases", phases}};
  if (!plan.instance.empty()) document["instance"] = plan.instance;
  return document.dump();
}

std::string StepDisplayName(const Plan& plan, int phase, int step) {
  return fmt::format("{}/{}", plan.phases[static_cast<size_t>(phase)].name,
                     plan.phases[static_cast<size_t>(phase)].steps[static_cast<size_t>(step)].name);
}

}  // namespace rollgate
