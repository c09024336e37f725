// The security rollback trigger (playbook §6.1 "Security Vulnerability | CVSS >= 7.0
// discovered"): when an advisory is imported, every environment still running a version it
// affects is told so on its change request.
//
// For each change request that can still take evidence (not closed, rejected or cancelled) and
// each environment, the latest deployment evidence decides what runs there: when it passed, was
// not rolled back since, and carries a version (fields["version"], service/deploy_service.cc
// EvidenceFromRun), that version is matched against the advisory's affected products under the
// advisory names of the CR's systems (domain/triggers.h EvaluateAdvisory), with the patch's
// preferred CVSS score against the environment's thresholds.rollback_security_cvss and the
// policies for the system there (TriggerPoliciesFor). Each firing is recorded as "trigger"
// evidence (TriggerEvidence; source "advisory <id>") with its "cr.evidence" audit event, all in
// one store transaction: either every firing is recorded or none is. A firing already recorded
// for the same advisory, environment and version is not recorded again.
//
// Acting on a firing (the rollback) is the rollback runner's (service/rollback_runner.h).
// Thread-compatible; call once per imported advisory.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "domain/patch.h"
#include "domain/triggers.h"
#include "store/store.h"

namespace rollgate {

struct SecurityTriggerFiring {
  std::string change_request;  // "CR-3"
  std::string environment;     // "PROD"
  std::string system;          // the system whose advisory name matched
  std::string version;         // the version deployed there
  TriggerFiring firing;
};

// Finds and records the firings of `advisory` (an imported patch: advisory_id, cvss, affected).
// A patch without an advisory id, a CVSS score or affected products fires nothing. Errors are
// the store's; nothing is recorded then. `actor` is recorded as who recorded the evidence.
Result<std::vector<SecurityTriggerFiring>> RecordSecurityTriggers(const Config& config,
                                                                  Store& store, const Clock& clock,
                                                                  const Patch& advisory,
                                                                  const std::string& actor);

}  // namespace rollgate
