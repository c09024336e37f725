#include "service/emergency_approval.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "domain/classification.h"
#include "domain/cr_lifecycle.h"
#include "service/cr_service.h"
#include "service/deploy_service.h"

namespace rollgate {

namespace {

const Environment* ProductionEnvironment(const Config& config) {
  const Environment* last = nullptr;
  for (const Environment& e : config.environments) {
    if (!last || e.order > last->order) last = &e;
  }
  return last;
}

std::string Requestor(const Config& config, const std::string& actor) {
  const Person* person = config.FindPerson(actor);
  if (person == nullptr || person->full_name.empty()) return actor;
  return fmt::format("{} ({})", person->full_name, actor);
}

}  // namespace

bool EmergencyApprovalRequest::reached_someone() const {
  return std::any_of(deliveries.begin(), deliveries.end(),
                     [](const Evidence& e) { return e.passed == true; });
}

Result<EmergencyApprovalRequest> RequestEmergencyApproval(const Config& config, Store& store,
                                                          const Clock& clock, const TimeZone& zone,
                                                          const std::string& cr_id,
                                                          const std::string& environment,
                                                          const std::string& actor) {
  const Environment* env =
      environment.empty() ? ProductionEnvironment(config) : config.FindEnvironment(environment);
  if (env == nullptr) {
    return NotFound(fmt::format("no environment named '{}' in the configuration",
                                EscapeForDisplay(environment)));
  }
  if (config.FindPerson(actor) == nullptr) {
    return NotFound(
        fmt::format("no person named '{}' in the configuration", EscapeForDisplay(actor)));
  }
  CrService crs(config, store, clock, zone);
  ASSIGN_OR_RETURN(ChangeRequest cr, crs.Get(cr_id));
  RETURN_IF_ERROR(CheckActionAllowed(cr, "approve"));
  Patch patch;
  RETURN_IF_ERROR(store.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(patch, tx.GetPatch(cr.patch_id));
    return Status::Ok();
  }));
  std::string not_emergency = MissingEmergencyCriteria(patch);
  if (!cr.emergency || !not_emergency.empty()) {
    return RefusedByGate(fmt::format(
        "{} is not an emergency change: {}", cr.id,
        not_emergency.empty() ? "it was raised as a standard change; ask for approval the "
                                "standard way (playbook §2.2 step 3)"
                              : not_emergency));
  }
  if (!cr.emergency_justification) {
    return RefusedByGate(fmt::format(
        "record the emergency justification first (playbook §5.1 step 1): rollgate cr justify {} "
        "--incident TEXT --why TEXT [--cvss-source TEXT]",
        cr.id));
  }
  EmergencyApprovalRequest request;
  request.cr_id = cr.id;
  request.environment = env->name;
  request.approvers = EmergencyApprovers(config);
  if (request.approvers.empty()) {
    return RefusedByGate(
        fmt::format("nobody holds an emergency approver role ({}): add them to "
                    "people or change emergency.approver_roles",
                    Join(config.emergency_approver_roles, ", ")));
  }
  if (config.emergency_notification.channels.empty()) {
    return RefusedByGate(
        "emergency.notify names no channel to reach the emergency approvers through");
  }
  request.message = EmergencyApprovalRequestMessage(cr, patch, env->name, Requestor(config, actor),
                                                    clock.Now(), zone);
  std::vector<NotificationRecipient> recipients;
  for (const EmergencyApprover& a : request.approvers) {
    recipients.push_back(
        {a.person->name, a.person->full_name, a.person->email, a.person->phone, a.role});
  }
  // The deploy service delivers notifications; no package is read here.
  DeployService deliveries(config, store, clock, zone, {});
  ASSIGN_OR_RETURN(
      request.deliveries,
      deliveries.Notify(cr.id, env->name, config.emergency_notification, request.message, "", actor,
                        recipients, {{"audience", "emergency-approvers"}}));
  return request;
}

}  // namespace rollgate
