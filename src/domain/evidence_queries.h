// Questions asked of a change request's recorded evidence, sign-offs and attachments, shared by
// the lifecycle, gates, checklists and documents.
//
// "Latest" means the greatest `at`; among equal times the one recorded last. Evidence with an
// empty environment is CR-wide. Returned pointers point into the ChangeRequest and live as long
// as it does. Pure functions, thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "domain/change_request.h"

namespace rollgate {

// The latest evidence of `kind` recorded for `environment`, or nullptr.
const Evidence* LatestEvidence(const ChangeRequest& cr, std::string_view kind,
                               std::string_view environment);
// The latest evidence of `kind` for `environment` or, failing that, CR-wide evidence ("").
const Evidence* LatestEvidenceOrCrWide(const ChangeRequest& cr, std::string_view kind,
                                       std::string_view environment);
// The latest evidence of `kind` in any environment, or nullptr.
const Evidence* LatestEvidenceAnywhere(const ChangeRequest& cr, std::string_view kind);
// Every evidence of `kind` for `environment` (or any environment when `environment` is empty)
// whose field `key` equals `value`.
std::vector<const Evidence*> EvidenceWithField(const ChangeRequest& cr, std::string_view kind,
                                               std::string_view environment, std::string_view key,
                                               std::string_view value);

// True when `e` exists and does not say it failed (passed unset or true).
bool NotFailed(const Evidence* e);
// True when `e` exists and says it passed.
bool Passed(const Evidence* e);

// The environment's deployment as the evidence tells it: the latest deployment result, turned
// into kRolledBack when a successful rollback was recorded at or after it.
DeploymentOutcome OutcomeIn(const ChangeRequest& cr, std::string_view environment);
std::string_view DeploymentOutcomeName(DeploymentOutcome outcome);  // "succeeded", "rolled-back"

// Sign-offs of `kind` for `environment` given for the CR's current revision.
std::vector<const Signoff*> CurrentSignoffs(const ChangeRequest& cr, std::string_view environment,
                                            std::string_view kind);

// The latest attachment of `kind`, or nullptr.
const Attachment* FindAttachment(const ChangeRequest& cr, std::string_view kind);

}  // namespace rollgate
