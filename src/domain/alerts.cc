#include "domain/alerts.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace rollgate {

namespace {

constexpr size_t kMaxMatcherValue = 256;

bool IsLabelStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || (c >= '0' && c <= '9'); }

std::string_view TrimView(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string StringLabel(const nlohmann::json& labels, const char* key) {
  if (!labels.is_object() || !labels.contains(key) || !labels[key].is_string()) return "";
  return labels[key].get<std::string>();
}

}  // namespace

Result<AlertMatcher> ParseAlertMatcher(std::string_view text) {
  const std::string shown = EscapeForDisplay(text);
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return InvalidArgument(
          fmt::format("alert matcher \"{}\" contains a control character", shown));
    }
  }
  std::string_view rest = TrimView(text);
  size_t name_end = 0;
  while (name_end < rest.size() && IsLabelChar(rest[name_end])) ++name_end;
  AlertMatcher matcher;
  matcher.name = std::string(rest.substr(0, name_end));
  if (matcher.name.empty() || !IsLabelStart(matcher.name.front())) {
    return InvalidArgument(fmt::format(
        "alert matcher \"{}\": expected LABEL=VALUE (also !=, =~, !~) with a label name of "
        "letters, digits and '_'",
        shown));
  }
  rest = TrimView(rest.substr(name_end));
  for (const char* op : {"=~", "!~", "!=", "="}) {
    if (StartsWith(rest, op)) {
      matcher.op = op;
      break;
    }
  }
  if (matcher.op.empty()) {
    return InvalidArgument(fmt::format(
        "alert matcher \"{}\": expected an operator (=, !=, =~ or !~) after the label name {}",
        shown, matcher.name));
  }
  std::string_view value = TrimView(rest.substr(matcher.op.size()));
  if (!value.empty() && value.front() == '"') {
    if (value.size() < 2 || value.back() != '"') {
      return InvalidArgument(fmt::format("alert matcher \"{}\": unterminated quoted value", shown));
    }
    std::string unquoted;
    for (size_t i = 1; i + 1 < value.size(); ++i) {
      char c = value[i];
      if (c == '\\') {
        if (i + 2 >= value.size()) {
          return InvalidArgument(
              fmt::format("alert matcher \"{}\": a '\\' ends the quoted value", shown));
        }
        c = value[++i];
      } else if (c == '"') {
        return InvalidArgument(
            fmt::format("alert matcher \"{}\": a '\"' inside the value must be escaped", shown));
      }
      unquoted.push_back(c);
    }
    matcher.value = std::move(unquoted);
  } else {
    if (value.find('"') != std::string_view::npos) {
      return InvalidArgument(fmt::format(
          "alert matcher \"{}\": quote the whole value (\"...\") to use a '\"' in it", shown));
    }
    matcher.value = std::string(value);
  }
  if (matcher.value.size() > kMaxMatcherValue) {
    return InvalidArgument(fmt::format("alert matcher \"{}\": the value is longer than {} bytes",
                                       shown, kMaxMatcherValue));
  }
  return matcher;
}

std::string AlertMatcherFilter(const AlertMatcher& matcher) {
  std::string value;
  for (char c : matcher.value) {
    if (c == '"' || c == '\\') value.push_back('\\');
    value.push_back(c);
  }
  return matcher.name + matcher.op + "\"" + value + "\"";
}

std::string ExpandAlertMatcher(std::string_view text, std::string_view environment) {
  static constexpr std::string_view kPlaceholder = "{environment}";
  std::string out;
  size_t at = 0;
  for (size_t found = text.find(kPlaceholder); found != std::string_view::npos;
       found = text.find(kPlaceholder, at)) {
    out.append(text.substr(at, found - at));
    out.append(environment);
    at = found + kPlaceholder.size();
  }
  out.append(text.substr(at));
  return out;
}

Result<std::vector<FiringAlert>> ParseAlertmanagerAlerts(
    std::string_view body, const std::vector<std::string>& severities) {
  nlohmann::json answer = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_array()) {
    return InvalidArgument("the answer is not the Alertmanager API's list of alerts (JSON array)");
  }
  std::vector<std::string> wanted;
  for (const std::string& s : severities) wanted.push_back(ToLower(s));
  std::vector<FiringAlert> out;
  for (const nlohmann::json& alert : answer) {
    if (!alert.is_object()) {
      return InvalidArgument("the Alertmanager answer lists something that is not an alert");
    }
    const nlohmann::json labels = alert.value("labels", nlohmann::json::object());
    FiringAlert a;
    a.name = StringLabel(labels, "alertname");
    a.severity = StringLabel(labels, "severity");
    if (labels.is_object()) {
      for (const auto& [key, value] : labels.items()) {
        if (value.is_string()) a.labels[key] = value.get<std::string>();
      }
    }
    const nlohmann::json status = alert.value("status", nlohmann::json::object());
    a.state = status.is_object() && status.contains("state") && status["state"].is_string()
                  ? status["state"].get<std::string>()
                  : std::string("active");
    if (alert.contains("startsAt") && alert["startsAt"].is_string()) {
      a.starts_at = alert["startsAt"].get<std::string>();
    }
    if (a.state != "active") continue;
    if (std::find(wanted.begin(), wanted.end(), ToLower(a.severity)) == wanted.end()) continue;
    out.push_back(std::move(a));
  }
  return out;
}

std::string DescribeAlerts(const std::vector<FiringAlert>& alerts, size_t limit) {
  std::vector<std::string> names;
  for (const FiringAlert& a : alerts) {
    std::string name = a.name.empty() ? std::string("(unnamed)") : EscapeForDisplay(a.name);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (names.size() <= limit) return Join(names, ", ");
  size_t more = names.size() - limit;
  names.resize(limit);
  return fmt::format("{} and {} more", Join(names, ", "), more);
}

Evidence AlertsEvidence(const Result<std::vector<FiringAlert>>& alerts,
                        const std::string& alertmanager, const std::vector<std::string>& matchers,
                        const std::vector<std::string>& severities, const std::string& environment,
                        const std::string& run_id) {
  Evidence e;
  e.environment = environment;
  e.kind = kEvidenceAlerts;
  e.run_id = run_id;
  e.fields = {{"alertmanager", alertmanager},
              {"matchers", Join(matchers, ", ")},
              {"severities", Join(severities, ", ")}};
  if (!alerts.ok()) {
    e.passed = false;
    e.fields["error"] = alerts.error().message();
    e.detail = fmt::format("Alertmanager {} unreachable, alerting not verified: {}", alertmanager,
                           alerts.error().message());
    return e;
  }
  e.passed = alerts->empty();
  e.value = static_cast<double>(alerts->size());
  e.fields["alerts"] = DescribeAlerts(*alerts, 10);
  if (alerts->empty()) {
    e.detail = fmt::format("no {} alert firing in Alertmanager {} ({})", Join(severities, "/"),
                           alertmanager, Join(matchers, ", "));
  } else {
    e.detail = fmt::format("{} {} alert{} firing in Alertmanager {}: {}", alerts->size(),
                           Join(severities, "/"), alerts->size() == 1 ? "" : "s", alertmanager,
                           DescribeAlerts(*alerts));
  }
  return e;
}

}  // namespace rollgate
