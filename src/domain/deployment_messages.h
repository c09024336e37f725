// The playbook's deployment and rollback messages (§3.2 step 9, §3.3 steps 2 and 12, §6.2 PROD
// steps 2 and 8), rendered from the CR and the run. Pure.
#pragma once

#include <string>

#include "common/time.h"

namespace rollgate {

struct Message {
  std::string subject;
  std::string body;
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

}  // namespace rollgate
