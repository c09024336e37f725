#include "service/security_trigger.h"

#include <algorithm>

#include "domain/change_request.h"
#include "domain/cr_lifecycle.h"

namespace rollgate {
namespace {

// The version running in `environment` according to `cr`'s evidence: the latest deployment
// evidence there, when it passed, names a version and was not rolled back since. Empty
// otherwise. `run_id` receives the deployment's run.
std::string DeployedVersion(const ChangeRequest& cr, const std::string& environment,
                            std::string& run_id) {
  const Evidence* deployed = nullptr;
  bool rolled_back = false;
  for (const Evidence& e : cr.evidence) {  // in the order recorded
    if (e.environment != environment) continue;
    if (e.kind == kEvidenceDeployment) {
      deployed = &e;
      rolled_back = false;
    } else if (e.kind == kEvidenceRollback && deployed != nullptr && e.passed.value_or(false)) {
      rolled_back = true;
    }
  }
  if (deployed == nullptr || rolled_back || !deployed->passed.value_or(false)) return "";
  auto version = deployed->fields.find("version");
  if (version == deployed->fields.end()) return "";
  run_id = deployed->run_id;
  return version->second;
}

bool AlreadyRecorded(const ChangeRequest& cr, const std::string& environment,
                     const std::string& source, const std::string& version) {
  return std::any_of(cr.evidence.begin(), cr.evidence.end(), [&](const Evidence& e) {
    auto field = [&](const char* name) {
      auto it = e.fields.find(name);
      return it == e.fields.end() ? std::string() : it->second;
    };
    return e.kind == kEvidenceTrigger && e.environment == environment &&
           field("kind") == TriggerKindName(TriggerKind::kSecurity) && field("source") == source &&
           field("version") == version;
  });
}

}  // namespace

Result<std::vector<SecurityTriggerFiring>> RecordSecurityTriggers(const Config& config,
                                                                  Store& store, const Clock& clock,
                                                                  const Patch& advisory,
                                                                  const std::string& actor) {
  std::vector<SecurityTriggerFiring> firings;
  const CvssScore* score = advisory.PreferredCvss();
  if (advisory.advisory_id.empty() || advisory.affected.empty() || score == nullptr) {
    return firings;
  }
  Status status = store.Write([&](Transaction& tx) -> Status {
    firings.clear();
    Timestamp now = clock.Now();
    ASSIGN_OR_RETURN(std::vector<ChangeRequestSummary> summaries,
                     tx.ListChangeRequests(ChangeRequestFilter{}));
    for (const ChangeRequestSummary& summary : summaries) {
      std::vector<std::string> allowed = AllowedActions(summary.state);
      if (std::find(allowed.begin(), allowed.end(), "evidence") == allowed.end()) continue;
      ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(summary.id));
      std::vector<std::string> systems = {cr.system};
      for (const std::string& s : cr.affected_systems) {
        if (std::find(systems.begin(), systems.end(), s) == systems.end()) systems.push_back(s);
      }
      for (const Environment& env : config.environments) {
        std::string run_id;
        std::string version = DeployedVersion(cr, env.name, run_id);
        if (version.empty()) continue;
        for (const std::string& system_name : systems) {
          const System* system = config.FindSystem(system_name);
          if (system == nullptr) continue;
          std::vector<std::string> names = system->advisory_names;
          if (names.empty()) names = {system->name};
          std::optional<TriggerFiring> firing = EvaluateAdvisory(
              score->base_score, advisory.advisory_id, advisory.affected, names, version,
              TriggerPoliciesFor(config, *system, env), env.thresholds, now);
          if (!firing) continue;
          if (AlreadyRecorded(cr, env.name, firing->source, version)) break;
          Evidence evidence = TriggerEvidence(*firing, env.name, run_id);
          evidence.fields["version"] = version;
          evidence.fields["system"] = system->name;
          evidence.fields["patch"] = advisory.id;
          evidence.recorded_by = actor;
          ASSIGN_OR_RETURN(CrTransition t, RecordEvidence(cr, config, evidence, now));
          RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
          RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
          cr = std::move(t.cr);
          firings.push_back({cr.id, env.name, system->name, version, *firing});
          break;  // one firing per change request and environment
        }
      }
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return firings;
}

}  // namespace rollgate
