// The watch's trigger rules bound to domain/triggers.h. Kept apart from watch_service.cc so that
// the service and its tests do not depend on the trigger rules' implementation.
#include "domain/triggers.h"
#include "service/watch_service.h"

namespace rollgate {

WatchTriggers DomainWatchTriggers() {
  WatchTriggers t;
  t.policies = [](const Config& config, const System& system, const Environment& environment) {
    return TriggerPoliciesFor(config, system, environment);
  };
  t.evaluate = [](const Measurements& m, const std::vector<TriggerPolicy>& policies,
                  const Thresholds& thresholds) {
    return EvaluateMeasurements(m, policies, thresholds);
  };
  t.evidence = [](const TriggerFiring& firing, const std::string& environment,
                  const std::string& run_id) {
    return TriggerEvidence(firing, environment, run_id);
  };
  t.from_evidence = [](const Evidence& evidence) { return TriggerFromEvidence(evidence); };
  return t;
}

}  // namespace rollgate
