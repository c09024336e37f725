#include "domain/triggers.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/strings.h"

namespace rollgate {
namespace {

struct KindName {
  TriggerKind kind;
  const char* name;
};

constexpr KindName kKindNames[] = {
    {TriggerKind::kDeploymentFailed, "deployment-failed"},
    {TriggerKind::kHealth, "health"},
    {TriggerKind::kSmoke, "smoke"},
    {TriggerKind::kAvailability, "availability"},
    {TriggerKind::kUsersAffected, "users-affected"},
    {TriggerKind::kResponseTime, "response-time"},
    {TriggerKind::kDataIntegrity, "data-integrity"},
    {TriggerKind::kSecurity, "security"},
    {TriggerKind::kCriticalAlerts, "critical-alerts"},
};

std::vector<std::string> KindNames() {
  std::vector<std::string> names;
  for (const auto& entry : kKindNames) names.emplace_back(entry.name);
  return names;
}

std::string Unknown(std::string_view what, std::string_view name,
                    const std::vector<std::string>& known) {
  std::string best = DidYouMean(name, known);
  return fmt::format("unknown {} '{}'{}: expected {}", what, EscapeForDisplay(name),
                     best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best),
                     Join(known, ", "));
}

// "97.0", "0.5", "12.25": one decimal unless more are needed to tell it from the threshold.
std::string Number(double value) {
  if (std::fabs(value * 10 - std::round(value * 10)) < 1e-9) return fmt::format("{:.1f}", value);
  return fmt::format("{}", value);
}

std::string OnHost(const std::string& host) { return host.empty() ? "" : " on " + host; }

// --- versions

bool IsSeparator(char c) {
  return c == '.' || c == '-' || c == '+' || c == '_' || c == '~' || c == ':';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// One component of a version, or one run inside a component, with the separator before it
// ('\0' for the first and for runs).
struct Part {
  char separator = '\0';
  std::string_view text;
};

std::vector<Part> Components(std::string_view version) {
  if (version.size() > 1 && (version[0] == 'v' || version[0] == 'V') && IsDigit(version[1])) {
    version.remove_prefix(1);
  }
  std::vector<Part> out;
  size_t start = 0;
  char separator = '\0';
  for (size_t i = 0; i <= version.size(); ++i) {
    if (i == version.size() || IsSeparator(version[i])) {
      if (i > start) out.push_back({separator, version.substr(start, i - start)});
      if (i < version.size()) separator = version[i];
      start = i + 1;
    }
  }
  return out;
}

std::vector<Part> Runs(std::string_view component) {
  std::vector<Part> out;
  size_t start = 0;
  for (size_t i = 1; i <= component.size(); ++i) {
    if (i == component.size() || IsDigit(component[i]) != IsDigit(component[i - 1])) {
      out.push_back({'\0', component.substr(start, i - start)});
      start = i;
    }
  }
  return out;
}

// Numbers of any length: without leading zeros, the longer is larger.
int CompareNumbers(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool AllZeros(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

// How the parts left over in the longer sequence compare with nothing, for the longer one: zeros
// are nothing; a pre-release ("-rc1", "~beta") is lower; anything else ("-1", "+deb12u1",
// ".1") is higher.
int Leftover(const std::vector<Part>& rest, size_t from) {
  for (size_t i = from; i < rest.size(); ++i) {
    const Part& part = rest[i];
    if (AllZeros(part.text)) continue;
    if (part.separator == '~') return -1;
    if (part.separator == '-' && IsLetter(part.text.front())) return -1;
    return 1;
  }
  return 0;
}

int CompareRun(std::string_view a, std::string_view b) {
  bool an = IsDigit(a.front()), bn = IsDigit(b.front());
  if (an && bn) return CompareNumbers(a, b);
  if (an != bn) return an ? 1 : -1;  // "1.2" > "1.beta"
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int CompareSequences(const std::vector<Part>& a, const std::vector<Part>& b, bool runs) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int c = runs ? CompareRun(a[i].text, b[i].text)
                 : CompareSequences(Runs(a[i].text), Runs(b[i].text), true);
    if (c != 0) return c;
  }
  if (a.size() > n) return Leftover(a, n);
  if (b.size() > n) return -Leftover(b, n);
  return 0;
}

bool SameName(std::string_view a, std::string_view b) { return ToLower(a) == ToLower(b); }

bool IsVersRange(std::string_view version) {
  if (StartsWith(version, "vers:")) return true;
  return !version.empty() &&
         (version.front() == '<' || version.front() == '>' || version.front() == '=' ||
          version.front() == '!' || version.find('|') != std::string_view::npos);
}

std::string FormatTriggerNumber(double value) { return fmt::format("{}", value); }

Result<double> ParseTriggerNumber(std::string_view text, std::string_view field) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument(fmt::format("trigger evidence: field '{}' is not a number: '{}'", field,
                                       EscapeForDisplay(text)));
  }
  return value;
}

}  // namespace

std::string_view TriggerKindName(TriggerKind kind) {
  for (const auto& entry : kKindNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "unknown";
}

Result<TriggerKind> ParseTriggerKind(std::string_view name) {
  for (const auto& entry : kKindNames) {
    if (name == entry.name) return entry.kind;
  }
  return InvalidArgument(Unknown("trigger", name, KindNames()));
}

std::vector<TriggerKind> AllTriggerKinds() {
  std::vector<TriggerKind> kinds;
  for (const auto& entry : kKindNames) kinds.push_back(entry.kind);
  return kinds;
}

std::string_view TriggerActionName(TriggerAction action) {
  switch (action) {
    case TriggerAction::kRollback:
      return "rollback";
    case TriggerAction::kEvaluate:
      return "evaluate";
    case TriggerAction::kOff:
      return "off";
  }
  return "unknown";
}

Result<TriggerAction> ParseTriggerAction(std::string_view name) {
  if (name == "rollback") return TriggerAction::kRollback;
  if (name == "evaluate") return TriggerAction::kEvaluate;
  if (name == "off") return TriggerAction::kOff;
  return InvalidArgument(Unknown("trigger action", name, {"rollback", "evaluate", "off"}));
}

std::string_view DecisionDefaultName(DecisionDefault d) {
  return d == DecisionDefault::kRollback ? "rollback" : "continue";
}

Result<DecisionDefault> ParseDecisionDefault(std::string_view name) {
  if (name == "rollback") return DecisionDefault::kRollback;
  if (name == "continue") return DecisionDefault::kContinue;
  return InvalidArgument(Unknown("decision default", name, {"rollback", "continue"}));
}

std::vector<TriggerPolicy> DefaultTriggerPolicies(const Config& config,
                                                  const Environment& environment) {
  int last_order = environment.order;
  for (const Environment& e : config.environments) last_order = std::max(last_order, e.order);
  bool last = environment.order == last_order;
  std::vector<TriggerPolicy> policies;
  for (TriggerKind kind : AllTriggerKinds()) {
    TriggerPolicy policy;
    policy.kind = kind;
    policy.action = TriggerAction::kRollback;
    if (kind == TriggerKind::kSmoke && last) {
      // "Smoke Test Failure | Any failure in PROD | Evaluate + decide".
      policy.action = TriggerAction::kEvaluate;
      policy.on_deadline = DecisionDefault::kRollback;
    } else if (kind == TriggerKind::kCriticalAlerts) {
      // §4.2: an alert firing after the deployment may have another cause; a person decides.
      policy.action = TriggerAction::kEvaluate;
      policy.on_deadline = DecisionDefault::kRollback;
    } else if (kind == TriggerKind::kResponseTime) {
      // "Performance Degradation | >20% slower | Evaluate impact".
      policy.action = TriggerAction::kEvaluate;
      policy.on_deadline = DecisionDefault::kContinue;
    }
    policies.push_back(policy);
  }
  return policies;
}

namespace {

void Override(std::vector<TriggerPolicy>& policies, const std::vector<TriggerPolicy>& overrides) {
  for (const TriggerPolicy& o : overrides) {
    auto it = std::find_if(policies.begin(), policies.end(),
                           [&](const TriggerPolicy& p) { return p.kind == o.kind; });
    if (it == policies.end()) {
      policies.push_back(o);
    } else {
      *it = o;
    }
  }
}

}  // namespace

std::vector<TriggerPolicy> TriggerPoliciesFor(const Config& config, const System& system,
                                              const Environment& environment) {
  std::vector<TriggerPolicy> policies = DefaultTriggerPolicies(config, environment);
  Override(policies, environment.triggers);
  if (auto it = system.triggers.find(environment.name); it != system.triggers.end()) {
    Override(policies, it->second);
  }
  return policies;
}

const TriggerPolicy* FindPolicy(const std::vector<TriggerPolicy>& policies, TriggerKind kind) {
  for (const TriggerPolicy& p : policies) {
    if (p.kind == kind) return &p;
  }
  return nullptr;
}

std::vector<TriggerFiring> EvaluateMeasurements(const Measurements& m,
                                                const std::vector<TriggerPolicy>& policies,
                                                const Thresholds& thresholds) {
  std::vector<TriggerFiring> out;
  auto fire = [&](TriggerKind kind, double measurement, double threshold, std::string unit,
                  std::string detail) {
    const TriggerPolicy* policy = FindPolicy(policies, kind);
    if (policy == nullptr || policy->action == TriggerAction::kOff) return;
    TriggerFiring f;
    f.kind = kind;
    f.action = policy->action;
    f.measurement = measurement;
    f.threshold = threshold;
    f.unit = std::move(unit);
    f.host = m.host;
    f.source = m.source;
    f.detail = std::move(detail);
    f.at = m.at;
    out.push_back(std::move(f));
  };
  if (m.health_ok && !*m.health_ok) {
    fire(TriggerKind::kHealth, 0, 1, "",
         fmt::format("the health or readiness endpoint failed{}", OnHost(m.host)));
  }
  if (m.smoke_ok && !*m.smoke_ok) {
    fire(TriggerKind::kSmoke, 0, 1, "", fmt::format("the smoke test failed{}", OnHost(m.host)));
  }
  if (m.availability_percent && *m.availability_percent < thresholds.min_availability_percent) {
    fire(TriggerKind::kAvailability, *m.availability_percent, thresholds.min_availability_percent,
         "%",
         fmt::format("availability {} % over {}{}, below {} %", Number(*m.availability_percent),
                     FormatDuration(thresholds.availability_window), OnHost(m.host),
                     Number(thresholds.min_availability_percent)));
  }
  if (m.error_percent && *m.error_percent >= thresholds.max_users_affected_percent) {
    fire(TriggerKind::kUsersAffected, *m.error_percent, thresholds.max_users_affected_percent, "%",
         fmt::format("{} % of requests answered with an error{}, at or above {} %",
                     Number(*m.error_percent), OnHost(m.host),
                     Number(thresholds.max_users_affected_percent)));
  }
  if (m.degradation_percent &&
      *m.degradation_percent > thresholds.max_performance_degradation_percent) {
    fire(TriggerKind::kResponseTime, *m.degradation_percent,
         thresholds.max_performance_degradation_percent, "%",
         fmt::format("median response time {} % slower than before the deployment{}, more than "
                     "{} %",
                     Number(*m.degradation_percent), OnHost(m.host),
                     Number(thresholds.max_performance_degradation_percent)));
  }
  if (m.data_integrity_ok && !*m.data_integrity_ok) {
    fire(TriggerKind::kDataIntegrity, 0, 1, "",
         fmt::format("the data-integrity check failed{}{}", OnHost(m.host),
                     m.data_integrity_detail.empty() ? "" : ": " + m.data_integrity_detail));
  }
  if (m.critical_alerts && *m.critical_alerts > 0) {
    fire(TriggerKind::kCriticalAlerts, *m.critical_alerts, 1, "alerts",
         fmt::format("{} critical alert{} firing in Alertmanager{}{}", *m.critical_alerts,
                     *m.critical_alerts == 1 ? "" : "s", OnHost(m.host),
                     m.critical_alerts_detail.empty() ? "" : ": " + m.critical_alerts_detail));
  }
  return out;
}

int CompareVersions(std::string_view a, std::string_view b) {
  return CompareSequences(Components(a), Components(b), false);
}

bool VersionInRange(const AffectedVersionRange& range, std::string_view version) {
  if (ToLower(range.type) == "git" || version.empty()) return false;
  enum EventKind { kIntroduced = 0, kFixed = 1, kLastAffected = 2 };
  struct Event {
    std::string_view at;
    EventKind kind;
  };
  std::vector<Event> events;
  for (const auto& v : range.introduced) events.push_back({v, kIntroduced});
  for (const auto& v : range.fixed) events.push_back({v, kFixed});
  for (const auto& v : range.last_affected) events.push_back({v, kLastAffected});
  auto key = [](const Event& e) { return e.kind == kIntroduced && e.at == "0"; };
  std::stable_sort(events.begin(), events.end(), [&](const Event& x, const Event& y) {
    if (key(x) != key(y)) return key(x);
    int c = key(x) ? 0 : CompareVersions(x.at, y.at);
    if (c != 0) return c < 0;
    return x.kind < y.kind;
  });
  bool affected = false;
  for (const Event& e : events) {
    switch (e.kind) {
      case kIntroduced:
        if (e.at == "0" || CompareVersions(version, e.at) >= 0) affected = true;
        break;
      case kFixed:
        if (CompareVersions(version, e.at) >= 0) affected = false;
        break;
      case kLastAffected:
        if (CompareVersions(version, e.at) > 0) affected = false;
        break;
    }
  }
  return affected;
}

bool VersionInVersRange(std::string_view range, std::string_view version) {
  std::string_view constraints = range;
  if (StartsWith(constraints, "vers:")) {
    size_t slash = constraints.find('/');
    if (slash == std::string_view::npos) return false;
    constraints.remove_prefix(slash + 1);
  }
  bool any_comparison = false;
  bool all_hold = true;
  for (const std::string& raw : Split(constraints, '|')) {
    std::string_view c = Trim(raw);
    if (c.empty()) continue;
    if (c == "*") return true;
    std::string_view op;
    for (std::string_view candidate : {">=", "<=", "!=", ">", "<", "="}) {
      if (StartsWith(c, candidate)) {
        op = candidate;
        break;
      }
    }
    std::string_view v = Trim(c.substr(op.size()));
    if (v.empty()) return false;
    if (op.empty() || op == "=") {
      if (v == version) return true;
      continue;
    }
    int cmp = CompareVersions(version, v);
    if (op == "!=") {
      if (v == version) return false;
      continue;
    }
    any_comparison = true;
    bool holds = (op == ">=" && cmp >= 0) || (op == ">" && cmp > 0) || (op == "<=" && cmp <= 0) ||
                 (op == "<" && cmp < 0);
    all_hold = all_hold && holds;
  }
  return any_comparison && all_hold;
}

bool PackageAffects(const AffectedPackage& package, const std::vector<std::string>& advisory_names,
                    std::string_view version) {
  if (version.empty()) return false;
  bool named = false;       // the entry names the product
  bool names_this = false;  // the entry's full name carries exactly this version
  for (const std::string& name : advisory_names) {
    if (name.empty()) continue;
    if (SameName(package.name, name) ||
        (!package.ecosystem.empty() && SameName(package.ecosystem + "/" + package.name, name)) ||
        (!package.version.empty() && SameName(package.name, name + " " + package.version))) {
      named = true;
    } else if (package.version.empty() &&
               SameName(package.name, name + " " + std::string(version))) {
      names_this = true;
    }
  }
  if (!named && !names_this) return false;
  for (const std::string& fixed : package.fixed_versions) {
    if (fixed == version) return false;
  }
  if (names_this) return true;
  for (const std::string& v : package.versions) {
    if (v == version) return true;
  }
  for (const AffectedVersionRange& range : package.ranges) {
    if (VersionInRange(range, version)) return true;
  }
  if (!package.version.empty()) {
    if (IsVersRange(package.version)) return VersionInVersRange(package.version, version);
    return package.version == version;
  }
  // An entry that names the product and no version at all affects every version.
  return package.versions.empty() && package.ranges.empty();
}

std::optional<TriggerFiring> EvaluateAdvisory(double cvss, const std::string& advisory_id,
                                              const std::vector<AffectedPackage>& affected,
                                              const std::vector<std::string>& advisory_names,
                                              const std::string& deployed_version,
                                              const std::vector<TriggerPolicy>& policies,
                                              const Thresholds& thresholds, Timestamp at) {
  const TriggerPolicy* policy = FindPolicy(policies, TriggerKind::kSecurity);
  if (policy == nullptr || policy->action == TriggerAction::kOff) return std::nullopt;
  if (!(cvss >= thresholds.rollback_security_cvss)) return std::nullopt;
  auto hit = std::find_if(affected.begin(), affected.end(), [&](const AffectedPackage& p) {
    return PackageAffects(p, advisory_names, deployed_version);
  });
  if (hit == affected.end()) return std::nullopt;
  TriggerFiring f;
  f.kind = TriggerKind::kSecurity;
  f.action = policy->action;
  f.measurement = cvss;
  f.threshold = thresholds.rollback_security_cvss;
  f.unit = "CVSS";
  f.source = "advisory " + advisory_id;
  f.detail = fmt::format(
      "advisory {} (CVSS {:.1f}) affects the deployed version {} of {}, at or above CVSS {:.1f}",
      EscapeForDisplay(advisory_id), cvss, EscapeForDisplay(deployed_version),
      EscapeForDisplay(hit->name), thresholds.rollback_security_cvss);
  f.at = at;
  return f;
}

TriggerAction StrongestAction(const std::vector<TriggerFiring>& firings) {
  TriggerAction strongest = TriggerAction::kOff;
  for (const TriggerFiring& f : firings) {
    if (f.action == TriggerAction::kRollback) return TriggerAction::kRollback;
    if (f.action == TriggerAction::kEvaluate) strongest = TriggerAction::kEvaluate;
  }
  return strongest;
}

Evidence TriggerEvidence(const TriggerFiring& firing, const std::string& environment,
                         const std::string& run_id) {
  Evidence e;
  e.environment = environment;
  e.kind = kEvidenceTrigger;
  e.passed = false;
  e.value = firing.measurement;
  e.detail = firing.detail;
  e.fields = {{"kind", std::string(TriggerKindName(firing.kind))},
              {"action", std::string(TriggerActionName(firing.action))},
              {"measurement", FormatTriggerNumber(firing.measurement)},
              {"threshold", FormatTriggerNumber(firing.threshold)},
              {"unit", firing.unit},
              {"host", firing.host},
              {"source", firing.source}};
  e.at = firing.at;
  e.run_id = run_id;
  return e;
}

Result<TriggerFiring> TriggerFromEvidence(const Evidence& evidence) {
  if (evidence.kind != kEvidenceTrigger) {
    return InvalidArgument(
        fmt::format("evidence of kind '{}' is not a trigger", EscapeForDisplay(evidence.kind)));
  }
  auto field = [&](const char* name) -> Result<std::string> {
    auto it = evidence.fields.find(name);
    if (it == evidence.fields.end()) {
      return InvalidArgument(fmt::format("trigger evidence: field '{}' is missing", name));
    }
    return it->second;
  };
  TriggerFiring f;
  ASSIGN_OR_RETURN(std::string kind, field("kind"));
  ASSIGN_OR_RETURN(f.kind, ParseTriggerKind(kind));
  ASSIGN_OR_RETURN(std::string action, field("action"));
  ASSIGN_OR_RETURN(f.action, ParseTriggerAction(action));
  ASSIGN_OR_RETURN(std::string measurement, field("measurement"));
  ASSIGN_OR_RETURN(f.measurement, ParseTriggerNumber(measurement, "measurement"));
  ASSIGN_OR_RETURN(std::string threshold, field("threshold"));
  ASSIGN_OR_RETURN(f.threshold, ParseTriggerNumber(threshold, "threshold"));
  auto optional = [&](const char* name) {
    auto it = evidence.fields.find(name);
    return it == evidence.fields.end() ? std::string() : it->second;
  };
  f.unit = optional("unit");
  f.host = optional("host");
  f.source = optional("source");
  f.detail = evidence.detail;
  f.at = evidence.at;
  return f;
}

}  // namespace rollgate
