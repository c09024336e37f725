// Approval policy (playbook §2.2 step 3, §5.2): who may approve an environment, separation of
// duties, quorum over the CR's current revision, and verbal emergency approvals with their
// written confirmation deadline.
//
// The checks here decide; domain/cr_lifecycle.h applies them when it records an approval.
// Pure functions, thread-safe. Pointers returned point into the ChangeRequest.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/change_request.h"
#include "domain/config.h"

namespace rollgate {

// True for the last environment in promotion order (PROD in the playbook's defaults).
bool IsProductionEnvironment(const Config& config, const Environment& environment);

// Roles whose holders may give a verbal emergency approval (§5.2 step 1): for the production
// environment the CAB chair, the security lead and the IT operations manager; elsewhere the
// environment's own approver roles.
std::vector<std::string> VerbalApproverRoles(const Config& config, const Environment& environment);

// A person to contact for an emergency approval (§5.2 step 1) and the role they hold for it.
struct EmergencyApprover {
  const Person* person = nullptr;  // points into the Config
  std::string role;
};
// Every person holding one of config.emergency_approver_roles, each once under the first such
// role in that list's order, in the configuration's order of people within a role.
std::vector<EmergencyApprover> EmergencyApprovers(const Config& config);

// The first of `roles` that `person` holds. NotFound when the person is not configured;
// PermissionDenied naming the roles (and `what` the role is needed for) otherwise.
Result<std::string> RoleAmong(const Config& config, std::string_view person,
                              const std::vector<std::string>& roles, std::string_view what);

// OK unless separation of duties is on and `person` requested the CR: then PermissionDenied
// ("the requester may not approve their own change request"); roles, admin included, do not
// matter. `action` is the verb: "approve", "sign off".
Status CheckSeparationOfDuties(const ChangeRequest& cr, const Config& config,
                               std::string_view person, std::string_view action);

// Whether `approver` may approve `environment` now (ignoring the CR's state): the environment
// exists (NotFound), the approver holds an approver role (written) or a verbal approver role
// (verbal, PermissionDenied), separation of duties holds, verbal only for an emergency CR
// (RefusedByGate), and they have not already approved this environment for the current revision
// (Conflict, a duplicate). Returns the role they approve under.
Result<std::string> CheckMayApprove(const ChangeRequest& cr, const Config& config,
                                    std::string_view environment, std::string_view approver,
                                    bool verbal);

// True when `approval` was given for the CR's current revision.
bool IsCurrent(const Approval& approval, const ChangeRequest& cr);
// When the written confirmation of a verbal approval is due: at + verbal_confirmation_within of
// its environment (24 h by default; 24 h when the environment is no longer configured).
Timestamp ConfirmationDue(const Approval& approval, const Config& config);
// A verbal approval not confirmed in writing whose due time is at or before `now`.
bool IsConfirmationOverdue(const Approval& approval, const Config& config, Timestamp now);

struct OverdueConfirmation {
  std::string environment;
  std::string approver;
  std::string recorded_by;
  Timestamp approved_at;
  Timestamp due;
  Seconds overdue_by{0};
};
// Every verbal approval (any revision) still unconfirmed at or after its due time.
std::vector<OverdueConfirmation> OverdueConfirmations(const ChangeRequest& cr, const Config& config,
                                                      Timestamp now);
// The earliest due time among verbal approvals awaiting written confirmation, or nullopt
// (ChangeRequestSummary::next_deadline).
std::optional<Timestamp> NextConfirmationDue(const ChangeRequest& cr, const Config& config);
// Every verbal approval still waiting for written confirmation, overdue or not.
std::vector<const Approval*> UnconfirmedVerbalApprovals(const ChangeRequest& cr);

// How an environment's approvals count towards its quorum.
struct ApprovalTally {
  std::string environment;
  int quorum = 1;
  std::vector<const Approval*> counted;        // one per distinct approver
  std::vector<const Approval*> voided;         // given for an earlier revision
  std::vector<const Approval*> overdue;        // verbal, written confirmation overdue
  std::vector<const Approval*> not_emergency;  // verbal, but this is not the emergency path
  std::vector<const Approval*> not_entitled;   // approver no longer holds an approving role
  bool met() const { return static_cast<int>(counted.size()) >= quorum; }
  int missing() const { return met() ? 0 : quorum - static_cast<int>(counted.size()); }
};
// Counts the approvals of `environment`: current revision only; a person once; written
// approvals (and verbal ones confirmed in writing) always; unconfirmed verbal approvals only
// when `emergency` and not overdue; the approver must still hold a role that may approve and
// must not be the requester under separation of duties.
ApprovalTally TallyApprovals(const ChangeRequest& cr, const Config& config,
                             const Environment& environment, Timestamp now, bool emergency);

}  // namespace rollgate
