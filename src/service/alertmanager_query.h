// Asking a Prometheus Alertmanager which alerts fire (playbook §4.2 "verify alerting";
// System::AlertmanagerSource, docs/watch.md): GET <base>/api/v2/alerts?active=true&silenced=false
// &inhibited=false&filter=<matcher>... (each matcher URL-encoded, never near a shell), the answer
// judged by domain/alerts.h.
//
// Errors (a failed check is never an alert):
//   InvalidArgument  a base URL that is not http(s)://, a malformed matcher, an answer that is
//                    not the API's JSON list, or HTTP 400 (Alertmanager refuses a matcher);
//   Unavailable      the Alertmanager cannot be reached, does not answer within `timeout`
//                    (at most 10 s), or answers with another HTTP error.
// Messages name the Alertmanager by scheme, host and port only (AlertmanagerShownUrl).
//
// Thread-safe: no shared state (libcurl's global initialisation happens once).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/alerts.h"
#include "domain/config.h"

namespace rollgate {

inline constexpr Seconds kMaxAlertmanagerTimeout{10};

// "http://host:port" of `url`: no user information, path or query.
std::string AlertmanagerShownUrl(const std::string& url);

// The active, unsilenced, uninhibited alerts matching every one of `matchers` (Alertmanager
// syntax, see ParseAlertMatcher) whose severity is one of `severities`.
Result<std::vector<FiringAlert>> QueryAlertmanager(const std::string& base_url,
                                                   const std::vector<std::string>& matchers,
                                                   const std::vector<std::string>& severities,
                                                   Seconds timeout);

// The check of `source` for `environment`: its matchers with "{environment}" expanded.
using AlertmanagerCheck = std::function<Result<std::vector<FiringAlert>>(
    const System::AlertmanagerSource& source, const std::string& environment)>;
// QueryAlertmanager with `timeout` (clamped to kMaxAlertmanagerTimeout).
AlertmanagerCheck RealAlertmanagerCheck(Seconds timeout = kMaxAlertmanagerTimeout);
// The matchers `source` asks with in `environment`.
std::vector<std::string> ExpandedMatchers(const System::AlertmanagerSource& source,
                                          const std::string& environment);

}  // namespace rollgate
