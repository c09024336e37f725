// Promotion gates (playbook §3.1–§3.3 prerequisites, §4.3 step 2 sign-offs, §5.3 emergency
// path): every condition that must hold before a deployment to an environment starts.
//
// CheckGates() evaluates all of them and never stops at the first failure, so `gate check` can
// name everything that is missing at once. Gate names are stable identifiers:
//   cr-state, emergency-classification (emergency only), approval, lead-time,
//   previous-environment, exit-signoffs, risk-acceptance (emergency path to production or when
//   an environment is skipped), test-results-approved, regression, uat-signoff (production,
//   standard path), smoke (production), rollback-plan, rollback-tested (when the environment
//   requires it, and always on the emergency path to production), maintenance-window (when
//   required), freeze, no-overlapping-changes (when the other scheduled changes are given;
//   playbook §2.3 "check deployment calendar for overlapping changes", domain/calendar.h).
// The freeze gate accepts a freeze-override recorded for the CR and environment
// (RecordFreezeOverride).
// "Production" is the last environment in promotion order. Pure, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "domain/calendar.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/cr_lifecycle.h"
#include "domain/patch.h"

namespace rollgate {

// Evidence that a person holding one of Config::freeze_override_roles let the CR deploy inside a
// freeze in an environment (fields reason, role, freezes). Recorded only by
// RecordFreezeOverride (`deploy --override-freeze`), never by `cr evidence`: it is not among
// KnownEvidenceKinds.
inline constexpr const char* kEvidenceFreezeOverride = "freeze-override";

struct Gate {
  std::string name;
  bool passed = false;
  std::string missing;  // empty when passed; otherwise a sentence naming what is missing
};

struct GateReport {
  std::string cr_id;
  std::string environment;
  bool emergency = false;
  bool passed = false;  // every gate passed
  std::vector<Gate> gates;

  // The gate called `name`, or nullptr when it was not evaluated for this environment.
  const Gate* Find(std::string_view name) const;
  // The `missing` sentences of the failed gates, in order.
  std::vector<std::string> Missing() const;
};

// Every gate for starting `environment` of `cr` at `now`. With `emergency`, the §5.3 path:
// the CR must be an emergency change whose patch meets a §5.1 criterion, with its emergency
// justification recorded (§5.1 step 1); emergency lead time, verbal approvals count, an
// environment with allow_emergency_skip that has not succeeded may be skipped, the earlier of the
// standard and emergency lead times applies, no regression, test-results or UAT gates, but a
// recorded risk acceptance; to production, a rollback rehearsed in an earlier environment within
// its max_rollback_duration (§5.3 step 4). `patch` is the CR's patch: the §5.1 criteria are read
// from its classification; without it (nullptr) only the CR's emergency flag is judged. An
// unknown environment yields one failed gate, "environment".
// With `other_changes` (every scheduled change of the other CRs), the gate
// no-overlapping-changes: the CR's scheduled change in `environment` must not overlap another on
// the same system or a shared host.
GateReport CheckGates(const ChangeRequest& cr, const Config& config, std::string_view environment,
                      Timestamp now, const TimeZone& zone, bool emergency,
                      const Patch* patch = nullptr,
                      const std::vector<ScheduledChange>* other_changes = nullptr);

// Records `actor`'s override of the freezes `cr`'s scheduled change in `environment` falls in
// (evidence freeze-override, audit action "cr.freeze-override"). InvalidArgument for an empty
// reason or an unknown environment; PermissionDenied unless `actor` holds one of
// Config::freeze_override_roles. Recorded whether or not the scheduled start is in a freeze now
// (the schedule may move into one); the evidence names the freezes it overlapped when recorded.
Result<CrTransition> RecordFreezeOverride(const ChangeRequest& cr, const Config& config,
                                          std::string_view environment, const std::string& actor,
                                          const std::string& reason, Timestamp now,
                                          const TimeZone& zone);

// {"cr","environment","emergency","passed","gates":[{"name","passed","missing"}]}.
nlohmann::json GateReportToJson(const GateReport& report);

}  // namespace rollgate
