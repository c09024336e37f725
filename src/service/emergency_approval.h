// The accelerated approval of the emergency path (playbook §5.2 steps 1–2): the EMERGENCY PATCH
// APPROVAL REQUEST sent at once to every person holding an emergency approver role
// (Config::emergency_approver_roles), through the channels of Config::emergency_notification,
// each delivery recorded on the CR as "notification" evidence (audience emergency-approvers).
//
// Approvers then answer with `cr approve` (written) or by phone (`cr approve --verbal`, recorded
// by the requestor). Thread-compatible; one per command.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/approvals.h"
#include "domain/config.h"
#include "domain/deployment_messages.h"
#include "store/store.h"

namespace rollgate {

struct EmergencyApprovalRequest {
  std::string cr_id;
  std::string environment;                   // the environment the approval is asked for
  Message message;                           // the request as sent
  std::vector<EmergencyApprover> approvers;  // whom it was addressed to (point into the Config)
  std::vector<Evidence> deliveries;          // one per approver and channel, as recorded
  // True when at least one delivery succeeded.
  bool reached_someone() const;
};

// Sends the request for `cr_id`'s approval of `environment` (empty: the production environment,
// the last in promotion order) as `actor`, the requestor. The CR must be an emergency change
// with its justification recorded (RefusedByGate otherwise, naming `cr justify`) and in a state
// that takes approvals (Conflict); NotFound for an unknown CR or environment; RefusedByGate when
// nobody holds an emergency approver role or emergency_notification names no channel. Delivery
// failures are not errors: they are recorded and returned (see reached_someone()).
Result<EmergencyApprovalRequest> RequestEmergencyApproval(const Config& config, Store& store,
                                                          const Clock& clock, const TimeZone& zone,
                                                          const std::string& cr_id,
                                                          const std::string& environment,
                                                          const std::string& actor);

}  // namespace rollgate
