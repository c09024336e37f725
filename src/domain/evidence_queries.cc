#include "domain/evidence_queries.h"

namespace rollgate {

namespace {

template <typename Match>
const Evidence* Latest(const ChangeRequest& cr, Match match) {
  const Evidence* best = nullptr;
  for (const auto& e : cr.evidence) {
    if (match(e) && (!best || e.at >= best->at)) best = &e;
  }
  return best;
}

}  // namespace

const Evidence* LatestEvidence(const ChangeRequest& cr, std::string_view kind,
                               std::string_view environment) {
  return Latest(cr,
                [&](const Evidence& e) { return e.kind == kind && e.environment == environment; });
}

const Evidence* LatestEvidenceOrCrWide(const ChangeRequest& cr, std::string_view kind,
                                       std::string_view environment) {
  const Evidence* e = LatestEvidence(cr, kind, environment);
  return e ? e : LatestEvidence(cr, kind, "");
}

const Evidence* LatestEvidenceAnywhere(const ChangeRequest& cr, std::string_view kind) {
  return Latest(cr, [&](const Evidence& e) { return e.kind == kind; });
}

std::vector<const Evidence*> EvidenceWithField(const ChangeRequest& cr, std::string_view kind,
                                               std::string_view environment, std::string_view key,
                                               std::string_view value) {
  std::vector<const Evidence*> found;
  for (const auto& e : cr.evidence) {
    if (e.kind != kind || (!environment.empty() && e.environment != environment)) continue;
    auto it = e.fields.find(std::string(key));
    if (it != e.fields.end() && it->second == value) found.push_back(&e);
  }
  return found;
}

bool NotFailed(const Evidence* e) { return e && e->passed.value_or(true); }

bool Passed(const Evidence* e) { return e && e->passed.value_or(false); }

DeploymentOutcome OutcomeIn(const ChangeRequest& cr, std::string_view environment) {
  const Evidence* deployment = LatestEvidence(cr, kEvidenceDeployment, environment);
  if (!deployment) return DeploymentOutcome::kNone;
  const Evidence* rollback = LatestEvidence(cr, kEvidenceRollback, environment);
  if (Passed(rollback) && rollback->at >= deployment->at) return DeploymentOutcome::kRolledBack;
  return Passed(deployment) ? DeploymentOutcome::kSucceeded : DeploymentOutcome::kFailed;
}

std::string_view DeploymentOutcomeName(DeploymentOutcome outcome) {
  switch (outcome) {
    case DeploymentOutcome::kNone:
      return "none";
    case DeploymentOutcome::kSucceeded:
      return "succeeded";
    case DeploymentOutcome::kFailed:
      return "failed";
    case DeploymentOutcome::kRolledBack:
      return "rolled-back";
  }
  return "";
}

std::vector<const Signoff*> CurrentSignoffs(const ChangeRequest& cr, std::string_view environment,
                                            std::string_view kind) {
  std::vector<const Signoff*> found;
  for (const auto& s : cr.signoffs) {
    if (s.environment == environment && s.kind == kind && s.cr_revision == cr.revision) {
      found.push_back(&s);
    }
  }
  return found;
}

const Attachment* FindAttachment(const ChangeRequest& cr, std::string_view kind) {
  const Attachment* found = nullptr;
  for (const auto& a : cr.attachments) {
    if (a.kind == kind) found = &a;
  }
  return found;
}

}  // namespace rollgate
