// The playbook's deployment and rollback messages (§3.2 step 9, §3.3 steps 2 and 12, §6.2 PROD
// steps 2 and 8) and the emergency approval request (§5.2 step 2), rendered from the CR, its
// patch and the run. Pure.
#pragma once

#include <map>
#include <string>

#include "common/time.h"
#include "domain/change_request.h"
#include "domain/patch.h"

namespace rollgate {

struct Message {
  std::string subject;
  std::string body;
  // The playbook template it was rendered from ("deployment-start", ...; empty for ad-hoc text)
  // and the values of its placeholders, so a configured override can render it again
  // (domain/message_templates.h).
  std::string template_name;
  std::map<std::string, std::string> values;
};

struct DeploymentFacts {
  std::string system;
  std::string environment;
  std::string change_request;
  std::string patch;  // "PATCH-3 1.2.0"
  Timestamp started{};
  Timestamp finished{};
  Seconds expected_duration{0};
  std::string outcome;  // "SUCCESS", "FAILED", "ROLLED BACK"
  std::string smoke;    // "Pass", "Fail", "not run"
  std::string errors;   // "None" or what failed
  std::string reason;   // rollback trigger
  std::string approved_by;
  std::string run;
};

// [DEPLOYMENT START] (§3.3 step 2).
Message DeploymentStartMessage(const DeploymentFacts& facts, const TimeZone& zone);
// [DEPLOYMENT COMPLETE] (§3.3 step 12); for TEST, the QA notification of §3.2 step 9 follows.
Message DeploymentCompleteMessage(const DeploymentFacts& facts, const TimeZone& zone);
// [EMERGENCY] ROLLBACK INITIATED (§6.2 step 2) and ROLLBACK COMPLETE (§6.2 step 8).
Message RollbackStartMessage(const DeploymentFacts& facts, const TimeZone& zone);
Message RollbackCompleteMessage(const DeploymentFacts& facts, const TimeZone& zone);

// EMERGENCY PATCH APPROVAL REQUEST (§5.2 step 2), in the playbook's layout: Incident (from the
// emergency justification), Classification, CVSS Score (with its source), Vendor Reference (the
// patch's CVEs and references), Risk Assessment (impact if not deployed: the §5.1 criteria; risk
// if deployed: the CR's risk assessment), Recommended Action (Deploy), Requestor, Time (`now` in
// `zone`). After the template: the CR, why the normal process cannot be followed, and how to
// approve `environment`. A missing justification shows as "[not recorded]".
Message EmergencyApprovalRequestMessage(const ChangeRequest& cr, const Patch& patch,
                                        const std::string& environment,
                                        const std::string& requestor, Timestamp now,
                                        const TimeZone& zone);

}  // namespace rollgate
