// Rollback triggers (playbook §6.1): what says a deployment must be undone, and what to do then.
//
// A trigger compares one measurement with its threshold (Environment::thresholds):
//   deployment-failed  a rollout step failed on a node it had already changed (stop, install,
//                   migrate, start): the node is neither the old version nor the new one;
//   health          a health or readiness endpoint fails (after the deployment step that
//                   started the service): measurement 0 (failing), threshold 1;
//   smoke           the smoke test fails (the playbook names PROD; any environment may set it);
//   availability    the share of successful health probes over a window, < 99.5 %;
//   users-affected  the share of requests answered with an error (the service's /metrics
//                   counters or a Prometheus query), >= 5 %;
//   response-time   the median response time, > 20 % worse than the pre-deployment baseline;
//   data-integrity  record counts lower than before, or unvalidated constraints: any;
//   security        an advisory imported after the deployment with CVSS >= 7.0 against the
//                   version just deployed;
//   critical-alerts a critical alert fires for the system in its Prometheus Alertmanager
//                   (System::alertmanager): measurement the number firing, threshold 1.
// Each has an action per environment and system (TriggerPolicy): rollback at once, evaluate
// (page the on-call person, wait for a decision until a deadline, then apply the default), or
// off. The playbook's table is the default (DefaultTriggerPolicies).
//
// Pure: no I/O; the measurements come from the steps' facts (engine/steps) and the watch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/patch.h"

namespace rollgate {

// "deployment-failed", "health", "smoke", "availability", "users-affected", "response-time",
// "data-integrity", "security", "critical-alerts".
std::string_view TriggerKindName(TriggerKind kind);
Result<TriggerKind> ParseTriggerKind(std::string_view name);
std::vector<TriggerKind> AllTriggerKinds();
std::string_view TriggerActionName(TriggerAction action);  // "rollback", "evaluate", "off"
Result<TriggerAction> ParseTriggerAction(std::string_view name);
std::string_view DecisionDefaultName(DecisionDefault d);  // "rollback", "continue"
Result<DecisionDefault> ParseDecisionDefault(std::string_view name);

// The playbook's §6.1 table for `environment`: availability, users-affected, data-integrity,
// security, health and deployment-failed roll back at once; smoke evaluates in the last environment
// (PROD) and rolls back elsewhere; response-time evaluates ("evaluate impact"), default continue;
// critical-alerts evaluates everywhere (an alert may have another cause), default rollback.
std::vector<TriggerPolicy> DefaultTriggerPolicies(const Config& config,
                                                  const Environment& environment);

// The policies in force for `system` in `environment`: the defaults, overridden by the
// environment's `triggers:` and then by the system's `triggers: {ENV: ...}` (config.h).
std::vector<TriggerPolicy> TriggerPoliciesFor(const Config& config, const System& system,
                                              const Environment& environment);
const TriggerPolicy* FindPolicy(const std::vector<TriggerPolicy>& policies, TriggerKind kind);
// The result points into `policies`: a temporary would leave it dangling.
const TriggerPolicy* FindPolicy(std::vector<TriggerPolicy>&& policies, TriggerKind kind) = delete;

// One trigger that fired, with its evidence: nobody has to guess why a rollback happened.
struct TriggerFiring {
  TriggerKind kind = TriggerKind::kHealth;
  TriggerAction action = TriggerAction::kRollback;  // the policy's action when it fired
  double measurement = 0;
  double threshold = 0;
  std::string unit;    // "%", "ms", "CVSS", "" (pass/fail)
  std::string host;    // where it was measured; empty: the environment as a whole
  std::string source;  // "step verify/health", "watch", "prometheus", "advisory ADV-3"
  std::string detail;  // one sentence: "availability 97.0 % over 10m < 99.5 %"
  Timestamp at{};
  bool operator==(const TriggerFiring&) const = default;
};

// What a step or probe measured, for EvaluateMeasurements. Unset fields are not judged.
struct Measurements {
  std::string host;
  std::string source;
  Timestamp at{};
  std::optional<bool> health_ok;
  std::optional<bool> smoke_ok;
  std::optional<double> availability_percent;
  std::optional<double> error_percent;        // share of requests answered with an error
  std::optional<double> degradation_percent;  // response time against the baseline
  std::optional<bool> data_integrity_ok;
  std::string data_integrity_detail;  // what was lost or left unvalidated
  // Critical alerts firing in the system's Alertmanager, and their names ("HighErrorRate, ...").
  std::optional<int> critical_alerts;
  std::string critical_alerts_detail;
};

// The triggers `m` fires under `policies` and `thresholds` (kOff policies are left out).
// Boundaries as the playbook writes them: availability < min, users >= max, degradation > max.
std::vector<TriggerFiring> EvaluateMeasurements(const Measurements& m,
                                                const std::vector<TriggerPolicy>& policies,
                                                const Thresholds& thresholds);

// Versions compared component by component: split at '.', '-', '+', '_', '~' and ':' (a leading
// "v" before a digit is ignored), each component into runs of digits and of other characters;
// runs of digits compare as numbers (1.10.0 > 1.9.2), other runs as text, a number above text.
// When one version runs out, the rest of the other decides: zeros only are equal (1.0 ==
// 1.0.0); a pre-release ("-" and a letter, or "~") sorts lower (1.0.0-rc1 < 1.0.0, 1.0~rc1 <
// 1.0); anything else higher (2.4.7-1 > 2.4.7, 2.4.7-1+deb12u1 > 2.4.7-1). Returns <0, 0 or >0.
int CompareVersions(std::string_view a, std::string_view b);

// Whether `version` falls in one OSV range: events sorted by version and applied in order
// (introduced "0" is the beginning; v >= introduced: affected; v >= fixed: not; v >
// last_affected: not). GIT ranges name commits and never match a version.
bool VersionInRange(const AffectedVersionRange& range, std::string_view version);

// Whether `version` falls in a CSAF product_version_range: "vers:<scheme>/<constraints>" or bare
// constraints, separated by '|': "=V" or "V" matches exactly, otherwise the comparisons (">=",
// ">", "<=", "<", "!=") must all hold ("vers:semver/>=5.0.0|<5.2.1").
bool VersionInVersRange(std::string_view range, std::string_view version);

// Whether `package` names the system (one of its `advisory_names`, case-insensitive: the OSV
// package name or "ecosystem/name"; the CSAF full product name, or it followed by the product's
// version) and affects `version`: an explicit list matches exactly; OSV ranges as
// VersionInRange; a CSAF product version exactly, a version range as VersionInVersRange; a
// version listed as fixed never is; an entry naming no version at all affects every version.
bool PackageAffects(const AffectedPackage& package, const std::vector<std::string>& advisory_names,
                    std::string_view version);

// The security trigger: an advisory scored `cvss` whose `affected` entries (domain/patch.h) affect
// `deployed_version` of a system known to advisories as `advisory_names` fires when cvss >=
// thresholds.rollback_security_cvss and the security policy is not off. Measurement: the CVSS
// score; source "advisory <id>".
std::optional<TriggerFiring> EvaluateAdvisory(double cvss, const std::string& advisory_id,
                                              const std::vector<AffectedPackage>& affected,
                                              const std::vector<std::string>& advisory_names,
                                              const std::string& deployed_version,
                                              const std::vector<TriggerPolicy>& policies,
                                              const Thresholds& thresholds, Timestamp at);

// The strongest action among `firings`: kRollback if any says so, else kEvaluate if any, else
// kOff (also for none).
TriggerAction StrongestAction(const std::vector<TriggerFiring>& firings);

// Evidence kind "trigger" on the CR: fields kind, action, measurement, threshold, unit, host,
// source; detail = firing.detail; passed = false; value = measurement.
Evidence TriggerEvidence(const TriggerFiring& firing, const std::string& environment,
                         const std::string& run_id);
// The firing an evidence item of kind "trigger" records (InvalidArgument when it is not one).
Result<TriggerFiring> TriggerFromEvidence(const Evidence& evidence);

}  // namespace rollgate
