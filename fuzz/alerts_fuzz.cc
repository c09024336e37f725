// Fuzz target for the Alertmanager parsers (STYLE.md 15): label matchers as rollgate.yaml gives
// them and the API v2 answer of GET /api/v2/alerts (domain/alerts.h).
//
// Checks the invariants a caller relies on: no crash; a refusal is InvalidArgument with a one-line
// message; an accepted matcher survives AlertMatcherFilter (parsing the filter gives it back); an
// accepted answer keeps only active alerts of the asked severity, and DescribeAlerts is one line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "domain/alerts.h"

namespace {

void Check(bool condition, const char* what, std::string_view input) {
  if (condition) return;
  std::fprintf(stderr, "alerts_fuzz invariant violated: %s\ninput: %.*s\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

void CheckRefusal(const rollgate::Status& status, std::string_view input) {
  Check(status.code() == rollgate::StatusCode::kInvalidArgument, "refusal is not InvalidArgument",
        input);
  Check(!status.message().empty(), "refusal without a message", input);
  Check(status.message().find('\n') == std::string::npos, "refusal message contains a newline",
        input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  rollgate::Result<rollgate::AlertMatcher> matcher = rollgate::ParseAlertMatcher(input);
  if (!matcher.ok()) {
    CheckRefusal(matcher.error(), input);
  } else {
    rollgate::Result<rollgate::AlertMatcher> again =
        rollgate::ParseAlertMatcher(rollgate::AlertMatcherFilter(*matcher));
    Check(again.ok(), "the filter of an accepted matcher is refused", input);
    Check(*again == *matcher, "the filter does not give the matcher back", input);
  }

  auto alerts = rollgate::ParseAlertmanagerAlerts(input, {"critical"});
  if (!alerts.ok()) {
    CheckRefusal(alerts.error(), input);
    return 0;
  }
  for (const rollgate::FiringAlert& alert : *alerts) {
    Check(alert.state == "active", "an alert that is not active was kept", input);
    Check(rollgate::ToLower(alert.severity) == "critical", "another severity was kept", input);
  }
  Check(rollgate::DescribeAlerts(*alerts).find('\n') == std::string::npos,
        "the description contains a newline", input);
  return 0;
}
