#include "domain/approvals.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace rollgate {

namespace {

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

bool ApprovedBefore(const ChangeRequest& cr, std::string_view environment,
                    std::string_view approver) {
  return std::any_of(cr.approvals.begin(), cr.approvals.end(), [&](const Approval& a) {
    return a.environment == environment && a.approver == approver && IsCurrent(a, cr);
  });
}

bool Entitled(const Approval& a, const Config& config, const Environment& environment) {
  const std::vector<std::string> roles =
      a.verbal ? VerbalApproverRoles(config, environment) : environment.approval.approver_roles;
  return Contains(roles, a.role) && config.PersonHasRole(a.approver, a.role);
}

// Which bucket of the tally an approval falls in; nullptr when it counts.
std::vector<const Approval*>* Bucket(ApprovalTally& tally, const Approval& a,
                                     const ChangeRequest& cr, const Config& config,
                                     const Environment& environment, Timestamp now,
                                     bool emergency) {
  if (!IsCurrent(a, cr)) return &tally.voided;
  bool separated = !config.separation_of_duties || a.approver != cr.requester;
  if (!Entitled(a, config, environment) || !separated) return &tally.not_entitled;
  if (a.verbal && !a.confirmed_at) {
    if (IsConfirmationOverdue(a, config, now)) return &tally.overdue;
    if (!emergency) return &tally.not_emergency;
  }
  return nullptr;
}

}  // namespace

bool IsProductionEnvironment(const Config& config, const Environment& environment) {
  return config.NextEnvironment(environment.name) == nullptr;
}

std::vector<std::string> VerbalApproverRoles(const Config& config, const Environment& environment) {
  if (IsProductionEnvironment(config, environment)) {
    return {kRoleCabChair, kRoleSecurityLead, kRoleItOperationsManager};
  }
  return environment.approval.approver_roles;
}

std::vector<EmergencyApprover> EmergencyApprovers(const Config& config) {
  std::vector<EmergencyApprover> approvers;
  for (const std::string& role : config.emergency_approver_roles) {
    for (const Person& person : config.people) {
      bool listed =
          std::any_of(approvers.begin(), approvers.end(),
                      [&](const EmergencyApprover& a) { return a.person->name == person.name; });
      if (!listed && Contains(person.roles, role)) approvers.push_back({&person, role});
    }
  }
  return approvers;
}

Result<std::string> RoleAmong(const Config& config, std::string_view person,
                              const std::vector<std::string>& roles, std::string_view what) {
  if (!config.FindPerson(person)) {
    return NotFound(
        fmt::format("no person named '{}' in the configuration", EscapeForDisplay(person)));
  }
  for (const auto& role : roles) {
    if (config.PersonHasRole(person, role)) return role;
  }
  return PermissionDenied(fmt::format("{} may not {}: it needs the role {}",
                                      EscapeForDisplay(person), what, Join(roles, " or ")));
}

Status CheckSeparationOfDuties(const ChangeRequest& cr, const Config& config,
                               std::string_view person, std::string_view action) {
  if (!config.separation_of_duties || person != cr.requester) return Status::Ok();
  return PermissionDenied(fmt::format(
      "{} requested {} and may not {} it: separation of duties (policy.separation_of_duties)",
      EscapeForDisplay(person), cr.id, action));
}

Result<std::string> CheckMayApprove(const ChangeRequest& cr, const Config& config,
                                    std::string_view environment, std::string_view approver,
                                    bool verbal) {
  const Environment* env = config.FindEnvironment(environment);
  if (!env) {
    return NotFound(fmt::format("no environment named '{}' in the configuration",
                                EscapeForDisplay(environment)));
  }
  if (verbal && !cr.emergency) {
    return RefusedByGate(fmt::format(
        "verbal approvals are for emergency changes only (playbook §5.2); {} is not an emergency",
        cr.id));
  }
  std::vector<std::string> roles =
      verbal ? VerbalApproverRoles(config, *env) : env->approval.approver_roles;
  ASSIGN_OR_RETURN(std::string role,
                   RoleAmong(config, approver, roles,
                             fmt::format("{}approve {}", verbal ? "verbally " : "", env->name)));
  RETURN_IF_ERROR(CheckSeparationOfDuties(cr, config, approver, "approve"));
  if (ApprovedBefore(cr, env->name, approver)) {
    return Conflict(fmt::format("{} already approved {} for {} (revision {}); a person counts once",
                                EscapeForDisplay(approver), cr.id, env->name, cr.revision));
  }
  return role;
}

bool IsCurrent(const Approval& approval, const ChangeRequest& cr) {
  return approval.cr_revision == cr.revision;
}

Timestamp ConfirmationDue(const Approval& approval, const Config& config) {
  const Environment* env = config.FindEnvironment(approval.environment);
  Seconds within = env ? env->approval.verbal_confirmation_within : std::chrono::hours(24);
  return approval.at + within;
}

bool IsConfirmationOverdue(const Approval& approval, const Config& config, Timestamp now) {
  return approval.verbal && !approval.confirmed_at && now >= ConfirmationDue(approval, config);
}

std::vector<OverdueConfirmation> OverdueConfirmations(const ChangeRequest& cr, const Config& config,
                                                      Timestamp now) {
  std::vector<OverdueConfirmation> overdue;
  for (const auto& a : cr.approvals) {
    if (!IsConfirmationOverdue(a, config, now)) continue;
    Timestamp due = ConfirmationDue(a, config);
    overdue.push_back({a.environment, a.approver, a.recorded_by, a.at, due, now - due});
  }
  return overdue;
}

std::optional<Timestamp> NextConfirmationDue(const ChangeRequest& cr, const Config& config) {
  std::optional<Timestamp> next;
  for (const Approval* a : UnconfirmedVerbalApprovals(cr)) {
    Timestamp due = ConfirmationDue(*a, config);
    if (!next || due < *next) next = due;
  }
  return next;
}

std::vector<const Approval*> UnconfirmedVerbalApprovals(const ChangeRequest& cr) {
  std::vector<const Approval*> pending;
  for (const auto& a : cr.approvals) {
    if (a.verbal && !a.confirmed_at) pending.push_back(&a);
  }
  return pending;
}

ApprovalTally TallyApprovals(const ChangeRequest& cr, const Config& config,
                             const Environment& environment, Timestamp now, bool emergency) {
  ApprovalTally tally;
  tally.environment = environment.name;
  tally.quorum = std::max(environment.approval.quorum, 1);
  std::vector<std::string> seen;
  for (const auto& a : cr.approvals) {
    if (a.environment != environment.name) continue;
    if (auto* bucket = Bucket(tally, a, cr, config, environment, now, emergency)) {
      bucket->push_back(&a);
    } else if (!Contains(seen, a.approver)) {
      seen.push_back(a.approver);
      tally.counted.push_back(&a);
    }
  }
  return tally;
}

}  // namespace rollgate
