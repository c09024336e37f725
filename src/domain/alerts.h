// Alerting verification (playbook §4.2 "verify alerting"): what a Prometheus Alertmanager says
// about a system, judged without any I/O. The service asks (service/alertmanager_query.h); this
// file reads the label matchers a configuration gives, parses the API v2 answer of
// GET /api/v2/alerts, keeps the alerts that count, and turns the outcome into evidence.
//
// Pure: no I/O, no clocks; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/change_request.h"

namespace rollgate {

// One Alertmanager label matcher: NAME OP VALUE, OP one of = != =~ !~ (Alertmanager's syntax).
struct AlertMatcher {
  std::string name;   // a label name: [a-zA-Z_][a-zA-Z0-9_]*
  std::string op;     // "=", "!=", "=~", "!~"
  std::string value;  // unquoted; may be empty ("label is absent" for =)
  bool operator==(const AlertMatcher&) const = default;
};

// "system=billing", "team != web", "env=~\"prod|stage\"" (spaces around OP allowed, the value
// optionally double-quoted with \" and \\ escapes). InvalidArgument naming what is wrong: no
// operator, an invalid label name, a value with control characters or longer than 256 bytes.
Result<AlertMatcher> ParseAlertMatcher(std::string_view text);

// The matcher as Alertmanager's `filter` parameter takes it: name OP "value", with '"' and a
// backslash escaped. (The caller URL-encodes it.)
std::string AlertMatcherFilter(const AlertMatcher& matcher);

// `text` with each "{environment}" replaced by `environment`.
std::string ExpandAlertMatcher(std::string_view text, std::string_view environment);

// An alert as the API lists it.
struct FiringAlert {
  std::string name;      // labels.alertname
  std::string severity;  // labels.severity
  std::string state;     // status.state: "active", "suppressed", "unprocessed"
  std::string starts_at;
  std::map<std::string, std::string> labels;
  bool operator==(const FiringAlert&) const = default;
};

// The alerts of an API v2 answer (a JSON array of alerts) that are active (status.state
// "active", or no status given) and whose severity label is one of `severities` (compared
// without case). InvalidArgument when the body is not such an array.
Result<std::vector<FiringAlert>> ParseAlertmanagerAlerts(
    std::string_view body, const std::vector<std::string>& severities);

// "HighErrorRate, DiskFull" — the distinct alert names, at most `limit`, then "and N more".
std::string DescribeAlerts(const std::vector<FiringAlert>& alerts, size_t limit = 5);

// Evidence kind "alerts" of one check of `alertmanager` (host and port only, as shown) in
// `environment` for `run_id`: passed when `alerts` holds none; value their number; detail names
// them. When the check failed (`error` not ok), passed = false, no value, the detail says the
// Alertmanager could not be asked ("unreachable: ...") and field "error" holds the message: a
// failed check is not an alert.
Evidence AlertsEvidence(const Result<std::vector<FiringAlert>>& alerts,
                        const std::string& alertmanager, const std::vector<std::string>& matchers,
                        const std::vector<std::string>& severities, const std::string& environment,
                        const std::string& run_id);

}  // namespace rollgate
