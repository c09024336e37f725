#include "domain/cr_lifecycle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "domain/approvals.h"
#include "domain/classification.h"
#include "domain/evidence_queries.h"
#include "domain/pir.h"

namespace rollgate {

namespace {

using nlohmann::json;

constexpr const char* kSystemActor = "system";

bool Blank(std::string_view text) { return Trim(text).empty(); }

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

template <typename T>
std::vector<std::string> Names(const std::vector<T>& items) {
  std::vector<std::string> names;
  names.reserve(items.size());
  for (const auto& i : items) names.push_back(i.name);
  return names;
}

std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string guess = DidYouMean(word, candidates);
  return guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess);
}

Status RequirePerson(const Config& config, std::string_view person) {
  if (config.FindPerson(person)) return Status::Ok();
  return NotFound(fmt::format("no person named '{}' in the configuration{}",
                              EscapeForDisplay(person), Suggest(person, Names(config.people))));
}

Result<const Environment*> RequireEnvironment(const Config& config, std::string_view name) {
  if (const Environment* env = config.FindEnvironment(name)) return env;
  return NotFound(fmt::format("no environment named '{}' in the configuration{}",
                              EscapeForDisplay(name), Suggest(name, Names(config.environments))));
}

Status RequireSystem(const Config& config, std::string_view name) {
  if (config.FindSystem(name)) return Status::Ok();
  return NotFound(fmt::format("no system named '{}' in the configuration{}", EscapeForDisplay(name),
                              Suggest(name, Names(config.systems))));
}

Result<std::vector<std::string>> AffectedSystems(const Config& config, std::string_view primary,
                                                 const std::vector<std::string>& listed) {
  std::vector<std::string> systems = {std::string(primary)};
  for (const auto& s : listed) {
    RETURN_IF_ERROR(RequireSystem(config, s));
    if (!Contains(systems, s)) systems.push_back(s);
  }
  return systems;
}

CrTransition Done(ChangeRequest cr, std::string action, json details, Timestamp now) {
  cr.updated_at = now;
  details["state"] = std::string(CrStateName(cr.state));
  details["revision"] = cr.revision;
  return CrTransition{std::move(cr), std::move(action), details.dump()};
}

std::string PatchTypeWords(ChangeType type) {
  switch (type) {
    case ChangeType::kSecurity:
      return "Security Patch";
    case ChangeType::kStandard:
      return "Standard Patch";
    case ChangeType::kInfrastructure:
      return "Infrastructure Patch";
  }
  return "Patch";
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(c);
         });
}

const Environment* LastEnvironment(const Config& config) {
  const Environment* last = nullptr;
  for (const auto& e : config.environments) {
    if (!last || e.order > last->order) last = &e;
  }
  return last;
}

// Applies the set fields of `edit`; returns the names of the fields that changed.
std::vector<std::string> ApplyEdit(ChangeRequest& cr, const CrEdit& edit) {
  std::vector<std::string> changed;
  auto set = [&](auto& field, const auto& value, const char* name) {
    if (value && !(field == *value)) {
      field = *value;
      changed.push_back(name);
    }
  };
  set(cr.description, edit.description, "description");
  set(cr.implementation_plan, edit.implementation_plan, "implementation_plan");
  set(cr.rollback_plan, edit.rollback_plan, "rollback_plan");
  set(cr.risk_assessment, edit.risk_assessment, "risk_assessment");
  set(cr.test_plan, edit.test_plan, "test_plan");
  set(cr.affected_systems, edit.affected_systems, "affected_systems");
  set(cr.type, edit.type, "type");
  set(cr.expected_downtime, edit.expected_downtime, "expected_downtime");
  set(cr.expected_duration, edit.expected_duration, "expected_duration");
  set(cr.rollback_complexity, edit.rollback_complexity, "rollback_complexity");
  return changed;
}

std::vector<std::string> MissingForSubmit(const ChangeRequest& cr, const Config& config) {
  std::vector<std::string> missing;
  if (Blank(cr.description)) missing.push_back("description");
  if (Blank(cr.implementation_plan) && !FindAttachment(cr, "implementation-plan")) {
    missing.push_back("implementation plan");
  }
  if (Blank(cr.rollback_plan) && !FindAttachment(cr, "rollback-procedure")) {
    missing.push_back("rollback plan (or a rollback-procedure attachment)");
  }
  if (Blank(cr.risk_assessment)) missing.push_back("risk assessment");
  if (Blank(cr.test_plan) && !FindAttachment(cr, "test-plan") &&
      !FindAttachment(cr, "test-specification")) {
    missing.push_back("test plan");
  }
  bool high = cr.classification == Priority::kP1Critical || cr.classification == Priority::kP2High;
  for (const auto& kind : high ? config.required_attachments_p1_p2 : std::vector<std::string>{}) {
    if (!FindAttachment(cr, kind)) {
      missing.push_back(fmt::format("a {} attachment (required for P1/P2)", kind));
    }
  }
  return missing;
}

bool AnyEnvironmentApproved(const ChangeRequest& cr, const Config& config, Timestamp now) {
  return std::any_of(
      config.environments.begin(), config.environments.end(),
      [&](const Environment& e) { return TallyApprovals(cr, config, e, now, cr.emergency).met(); });
}

json ApprovalJson(const Approval& a) {
  json j = {{"environment", a.environment},
            {"approver", a.approver},
            {"role", a.role},
            {"at", FormatRfc3339Utc(a.at)},
            {"verbal", a.verbal}};
  if (a.verbal) {
    j["recorded_by"] = a.recorded_by;
    j["conditions"] = a.conditions;
  }
  return j;
}

void AdvanceOnEvidence(ChangeRequest& cr, const Config& config, const Evidence& e) {
  const Environment* last = LastEnvironment(config);
  bool is_last = last && last->name == e.environment;
  if (e.kind == kEvidenceDeployment && cr.state == CrState::kSubmitted) {
    cr.state = CrState::kInProgress;
  }
  if (!is_last) return;
  DeploymentOutcome outcome = OutcomeIn(cr, e.environment);
  if (outcome == DeploymentOutcome::kSucceeded && cr.state == CrState::kInProgress) {
    cr.state = CrState::kCompleted;
  } else if (outcome != DeploymentOutcome::kSucceeded && cr.state == CrState::kCompleted) {
    cr.state = CrState::kInProgress;
  }
}

}  // namespace

std::string CrId(int number) { return fmt::format("CR-{}", number); }

std::string CrTitle(std::string_view system, ChangeType type, Timestamp at, const TimeZone& zone) {
  return fmt::format("{} - {} - {}", system, PatchTypeWords(type),
                     FormatDate(zone.ToLocal(at).date));
}

ChangeType DefaultChangeType(const Patch& patch) {
  bool security = !patch.cves.empty() || !patch.cvss.empty() || patch.exploited;
  return security ? ChangeType::kSecurity : ChangeType::kStandard;
}

std::vector<std::string> KnownAttachmentKinds() {
  return {"release-notes",
          "security-impact-assessment",
          "rollback-procedure",
          "test-specification",
          "implementation-plan",
          "test-plan",
          "risk-assessment",
          "test-results",
          "other"};
}

std::vector<std::string> AllowedActions(CrState state) {
  switch (state) {
    case CrState::kDraft:
      return {"edit", "justify", "attach", "schedule", "submit", "cancel"};
    case CrState::kSubmitted:
    case CrState::kInProgress:
      return {"edit",    "justify", "attach",  "schedule", "approve", "verbal-approve",
              "confirm", "reject",  "signoff", "evidence", "cancel"};
    case CrState::kCompleted:
      return {"attach", "confirm", "signoff", "evidence", "close"};
    case CrState::kRejected:
    case CrState::kCancelled:
      return {"confirm"};
    case CrState::kClosed:
      return {};
  }
  return {};
}

Status CheckActionAllowed(const ChangeRequest& cr, std::string_view action) {
  std::vector<std::string> allowed = AllowedActions(cr.state);
  if (Contains(allowed, action)) return Status::Ok();
  std::string what = allowed.empty() ? "nothing is allowed: it is final"
                                     : fmt::format("allowed: {}", Join(allowed, ", "));
  return Conflict(
      fmt::format("cannot {} {}: it is {} ({})", action, cr.id, CrStateName(cr.state), what));
}

Result<CrTransition> NewChangeRequest(const CrDraft& draft, const Patch& patch,
                                      const Config& config, Timestamp now, const TimeZone& zone) {
  RETURN_IF_ERROR(RequireSystem(config, draft.system));
  RETURN_IF_ERROR(RequirePerson(config, draft.requester));
  if (draft.expected_downtime < Seconds(0) || draft.expected_duration < Seconds(0)) {
    return InvalidArgument("expected downtime and duration may not be negative");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> affected,
                   AffectedSystems(config, draft.system, draft.affected_systems));
  ChangeRequest cr;
  cr.number = draft.number;
  cr.id = draft.number > 0 ? CrId(draft.number) : "";
  cr.patch_id = patch.id;
  cr.type = draft.type.value_or(DefaultChangeType(patch));
  cr.title = CrTitle(draft.system, cr.type, now, zone);
  cr.classification = patch.classification.priority;
  cr.emergency = patch.classification.emergency;
  cr.description = draft.description;
  cr.system = draft.system;
  cr.affected_systems = std::move(affected);
  cr.implementation_plan = draft.implementation_plan;
  cr.rollback_plan = draft.rollback_plan;
  cr.risk_assessment = draft.risk_assessment;
  cr.test_plan = draft.test_plan;
  cr.expected_downtime = draft.expected_downtime;
  cr.expected_duration = draft.expected_duration;
  cr.rollback_complexity = draft.rollback_complexity;
  cr.requester = draft.requester;
  cr.created_at = now;
  json details = {{"title", cr.title},
                  {"patch", cr.patch_id},
                  {"system", cr.system},
                  {"type", std::string(ChangeTypeName(cr.type))},
                  {"classification", std::string(PriorityName(cr.classification))},
                  {"emergency", cr.emergency},
                  {"requester", cr.requester}};
  return Done(std::move(cr), "cr.create", std::move(details), now);
}

Result<CrTransition> EditChangeRequest(const ChangeRequest& cr, const CrEdit& edit,
                                       const Config& config, std::string_view person, Timestamp now,
                                       const TimeZone& zone) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "edit"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  ChangeRequest next = cr;
  if (edit.affected_systems) {
    ASSIGN_OR_RETURN(next.affected_systems,
                     AffectedSystems(config, cr.system, *edit.affected_systems));
  }
  CrEdit rest = edit;
  rest.affected_systems.reset();
  std::vector<std::string> changed = ApplyEdit(next, rest);
  if (next.affected_systems != cr.affected_systems) changed.push_back("affected_systems");
  if (changed.empty()) return InvalidArgument(fmt::format("nothing to change in {}", cr.id));
  if (next.expected_downtime < Seconds(0) || next.expected_duration < Seconds(0)) {
    return InvalidArgument("expected downtime and duration may not be negative");
  }
  if (next.type != cr.type) next.title = CrTitle(cr.system, next.type, cr.created_at, zone);
  if (cr.state != CrState::kDraft) ++next.revision;
  json details = {{"by", std::string(person)}, {"changed", changed}};
  return Done(std::move(next), "cr.edit", std::move(details), now);
}

Result<CrTransition> RecordEmergencyJustification(const ChangeRequest& cr, const Patch& patch,
                                                  const Config& config,
                                                  const JustificationDraft& draft,
                                                  std::string_view person, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "justify"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  if (patch.id != cr.patch_id) {
    return InvalidArgument(fmt::format("{} is for {}, not {}", cr.id, cr.patch_id, patch.id));
  }
  std::string not_emergency = MissingEmergencyCriteria(patch);
  if (!cr.emergency || !not_emergency.empty()) {
    return RefusedByGate(fmt::format(
        "{} is not an emergency change, so it takes no emergency justification: {}", cr.id,
        not_emergency.empty() ? "it was raised as a standard change (playbook §5.1)"
                              : not_emergency));
  }
  std::vector<std::string> missing;
  if (Blank(draft.incident)) missing.push_back("the incident or vulnerability (--incident)");
  if (Blank(draft.why_not_normal)) {
    missing.push_back("why the normal process cannot be followed (--why)");
  }
  if (!missing.empty()) {
    return InvalidArgument(
        fmt::format("the emergency justification of {} needs {}", cr.id, Join(missing, " and ")));
  }
  EmergencyJustification j;
  j.incident = std::string(Trim(draft.incident));
  j.why_not_normal = std::string(Trim(draft.why_not_normal));
  if (const CvssScore* score = patch.PreferredCvss()) j.cvss_score = score->base_score;
  j.cvss_source =
      Blank(draft.cvss_source) ? CvssSource(patch) : std::string(Trim(draft.cvss_source));
  j.criteria = patch.classification.emergency_reasons;
  j.recorded_by = std::string(person);
  j.recorded_at = now;
  ChangeRequest next = cr;
  bool replaced = cr.emergency_justification.has_value();
  next.emergency_justification = j;
  if (cr.state != CrState::kDraft) ++next.revision;
  json details = {{"by", j.recorded_by},
                  {"incident", j.incident},
                  {"why_not_normal", j.why_not_normal},
                  {"cvss_score", j.cvss_score ? json(*j.cvss_score) : json(nullptr)},
                  {"cvss_source", j.cvss_source},
                  {"criteria", j.criteria},
                  {"replaced", replaced}};
  return Done(std::move(next), "cr.justify", std::move(details), now);
}

Result<CrTransition> Submit(const ChangeRequest& cr, const Config& config, std::string_view person,
                            Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "submit"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  std::vector<std::string> missing = MissingForSubmit(cr, config);
  if (!missing.empty()) {
    return InvalidArgument(fmt::format("cannot submit {}: missing {}", cr.id, Join(missing, "; ")));
  }
  ChangeRequest next = cr;
  next.state = CrState::kSubmitted;
  next.submitted_at = now;
  return Done(std::move(next), "cr.submit", {{"by", std::string(person)}}, now);
}

Result<CrTransition> Cancel(const ChangeRequest& cr, const Config& config, std::string_view person,
                            std::string_view reason, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "cancel"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  if (Blank(reason)) return InvalidArgument(fmt::format("cancelling {} needs a reason", cr.id));
  ChangeRequest next = cr;
  next.state = CrState::kCancelled;
  next.cancel_reason = std::string(Trim(reason));
  json details = {{"by", std::string(person)}, {"reason", next.cancel_reason}};
  return Done(std::move(next), "cr.cancel", std::move(details), now);
}

Result<CrTransition> Reject(const ChangeRequest& cr, const Config& config,
                            std::string_view environment, std::string_view person,
                            std::string_view reason, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "reject"));
  ASSIGN_OR_RETURN(const Environment* env, RequireEnvironment(config, environment));
  ASSIGN_OR_RETURN(std::string role, RoleAmong(config, person, env->approval.approver_roles,
                                               fmt::format("reject {}", env->name)));
  if (Blank(reason)) return InvalidArgument(fmt::format("rejecting {} needs a reason", cr.id));
  ChangeRequest next = cr;
  next.state = CrState::kRejected;
  next.rejections.push_back({env->name, std::string(person), now, std::string(Trim(reason))});
  json details = {{"environment", env->name},
                  {"by", std::string(person)},
                  {"role", role},
                  {"reason", next.rejections.back().reason}};
  return Done(std::move(next), "cr.reject", std::move(details), now);
}

Result<CrTransition> Approve(const ChangeRequest& cr, const Config& config,
                             std::string_view environment, std::string_view approver,
                             Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "approve"));
  ASSIGN_OR_RETURN(std::string role, CheckMayApprove(cr, config, environment, approver, false));
  ChangeRequest next = cr;
  Approval a;
  a.environment = std::string(environment);
  a.approver = std::string(approver);
  a.role = role;
  a.at = now;
  a.cr_revision = cr.revision;
  a.emergency = cr.emergency;
  next.approvals.push_back(a);
  if (next.state == CrState::kSubmitted && AnyEnvironmentApproved(next, config, now)) {
    next.state = CrState::kInProgress;
  }
  return Done(std::move(next), "cr.approve", ApprovalJson(a), now);
}

Result<CrTransition> RecordVerbalApproval(const ChangeRequest& cr, const Config& config,
                                          const VerbalApproval& verbal, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "verbal-approve"));
  RETURN_IF_ERROR(RequirePerson(config, verbal.recorded_by));
  ASSIGN_OR_RETURN(std::string role,
                   CheckMayApprove(cr, config, verbal.environment, verbal.approver, true));
  if (verbal.at > now) {
    return InvalidArgument(
        fmt::format("the verbal approval time {} is in the future", FormatRfc3339Utc(verbal.at)));
  }
  ChangeRequest next = cr;
  Approval a;
  a.environment = verbal.environment;
  a.approver = verbal.approver;
  a.role = role;
  a.at = verbal.at;
  a.cr_revision = cr.revision;
  a.verbal = true;
  a.emergency = true;
  a.recorded_by = verbal.recorded_by;
  a.conditions = std::string(Trim(verbal.conditions));
  next.approvals.push_back(a);
  if (next.state == CrState::kSubmitted && AnyEnvironmentApproved(next, config, now)) {
    next.state = CrState::kInProgress;
  }
  json details = ApprovalJson(a);
  details["confirmation_due"] = FormatRfc3339Utc(ConfirmationDue(a, config));
  return Done(std::move(next), "cr.approve_verbal", std::move(details), now);
}

Result<CrTransition> ConfirmVerbalApproval(const ChangeRequest& cr, const Config& config,
                                           std::string_view environment, std::string_view person,
                                           Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "confirm"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  ChangeRequest next = cr;
  bool someone_else = false;
  for (auto& a : next.approvals) {
    if (a.environment != environment || !a.verbal || a.confirmed_at) continue;
    if (a.approver != person) {
      someone_else = true;
      continue;
    }
    a.confirmed_at = now;
    json details = {{"environment", a.environment},
                    {"approver", a.approver},
                    {"approved_at", FormatRfc3339Utc(a.at)},
                    {"late", now >= ConfirmationDue(a, config)}};
    return Done(std::move(next), "cr.confirm", std::move(details), now);
  }
  if (someone_else) {
    return PermissionDenied(fmt::format(
        "{} may not confirm the verbal approval of {} for {}: only the approver themself can",
        EscapeForDisplay(person), cr.id, EscapeForDisplay(environment)));
  }
  return NotFound(fmt::format("{} has no unconfirmed verbal approval for {}", cr.id,
                              EscapeForDisplay(environment)));
}

Result<CrTransition> SignOff(const ChangeRequest& cr, const Config& config,
                             std::string_view environment, std::string_view kind,
                             std::string_view person, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "signoff"));
  ASSIGN_OR_RETURN(const Environment* env, RequireEnvironment(config, environment));
  auto req = std::find_if(env->signoffs.begin(), env->signoffs.end(),
                          [&](const SignoffRequirement& r) { return r.kind == kind; });
  if (req == env->signoffs.end()) {
    std::vector<std::string> kinds;
    for (const auto& r : env->signoffs) kinds.push_back(r.kind);
    return InvalidArgument(fmt::format("{} has no sign-off '{}': expected {}", env->name,
                                       EscapeForDisplay(kind),
                                       kinds.empty() ? "none" : Join(kinds, ", ")));
  }
  ASSIGN_OR_RETURN(std::string role, RoleAmong(config, person, req->roles,
                                               fmt::format("sign off {} for {}", kind, env->name)));
  RETURN_IF_ERROR(CheckSeparationOfDuties(cr, config, person, "sign off"));
  for (const Signoff* s : CurrentSignoffs(cr, env->name, kind)) {
    if (s->person == person) {
      return Conflict(fmt::format("{} already signed off {} for {} (revision {})",
                                  EscapeForDisplay(person), kind, env->name, cr.revision));
    }
  }
  ChangeRequest next = cr;
  next.signoffs.push_back(
      {env->name, std::string(kind), std::string(person), role, now, cr.revision});
  json details = {{"environment", env->name},
                  {"kind", std::string(kind)},
                  {"by", std::string(person)},
                  {"role", role}};
  return Done(std::move(next), "cr.signoff", std::move(details), now);
}

Result<CrTransition> Schedule(const ChangeRequest& cr, const Config& config,
                              std::string_view environment, Timestamp start,
                              std::string_view person, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "schedule"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  ASSIGN_OR_RETURN(const Environment* env, RequireEnvironment(config, environment));
  if (start < now) {
    return InvalidArgument(fmt::format("cannot schedule {} for {} in the past ({} is before {})",
                                       cr.id, env->name, FormatRfc3339Utc(start),
                                       FormatRfc3339Utc(now)));
  }
  ChangeRequest next = cr;
  next.scheduled[env->name] = start;
  json details = {
      {"environment", env->name}, {"start", FormatRfc3339Utc(start)}, {"by", std::string(person)}};
  return Done(std::move(next), "cr.schedule", std::move(details), now);
}

Result<CrTransition> AddAttachment(const ChangeRequest& cr, const Config& config,
                                   Attachment attachment, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "attach"));
  RETURN_IF_ERROR(RequirePerson(config, attachment.added_by));
  std::vector<std::string> kinds = KnownAttachmentKinds();
  if (!Contains(kinds, attachment.kind)) {
    return InvalidArgument(fmt::format("unknown attachment kind '{}'{}: expected {}",
                                       EscapeForDisplay(attachment.kind),
                                       Suggest(attachment.kind, kinds), Join(kinds, ", ")));
  }
  if (Blank(attachment.file_name)) return InvalidArgument("an attachment needs a file name");
  if (!IsSha256Hex(attachment.sha256)) {
    return InvalidArgument("an attachment's sha256 must be 64 lower-case hex digits");
  }
  for (const auto& a : cr.attachments) {
    if (a.kind == attachment.kind && a.sha256 == attachment.sha256) {
      return Conflict(
          fmt::format("{} already has this {} attached ({})", cr.id, a.kind, a.file_name));
    }
  }
  ChangeRequest next = cr;
  attachment.added_at = now;
  json details = {{"kind", attachment.kind},
                  {"file", attachment.file_name},
                  {"sha256", attachment.sha256},
                  {"size", attachment.size_bytes},
                  {"by", attachment.added_by}};
  next.attachments.push_back(std::move(attachment));
  return Done(std::move(next), "cr.attach", std::move(details), now);
}

Result<CrTransition> RecordEvidence(const ChangeRequest& cr, const Config& config,
                                    Evidence evidence, Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "evidence"));
  if (evidence.recorded_by != kSystemActor)
    RETURN_IF_ERROR(RequirePerson(config, evidence.recorded_by));
  std::vector<std::string> kinds = KnownEvidenceKinds();
  if (!Contains(kinds, evidence.kind)) {
    return InvalidArgument(fmt::format("unknown evidence kind '{}'{}: expected {}",
                                       EscapeForDisplay(evidence.kind),
                                       Suggest(evidence.kind, kinds), Join(kinds, ", ")));
  }
  if (!evidence.environment.empty()) {
    RETURN_IF_ERROR(RequireEnvironment(config, evidence.environment).status());
  }
  ChangeRequest next = cr;
  if (evidence.at == Timestamp{}) evidence.at = now;
  json details = {{"environment", evidence.environment},
                  {"kind", evidence.kind},
                  {"by", evidence.recorded_by},
                  {"detail", evidence.detail},
                  {"fields", evidence.fields}};
  if (evidence.passed) details["passed"] = *evidence.passed;
  if (evidence.value) details["value"] = *evidence.value;
  if (!evidence.run_id.empty()) details["run"] = evidence.run_id;
  next.evidence.push_back(std::move(evidence));
  AdvanceOnEvidence(next, config, next.evidence.back());
  return Done(std::move(next), "cr.evidence", std::move(details), now);
}

Result<CrTransition> Close(const ChangeRequest& cr, const Config& config, std::string_view person,
                           Timestamp now) {
  RETURN_IF_ERROR(CheckActionAllowed(cr, "close"));
  RETURN_IF_ERROR(RequirePerson(config, person));
  std::vector<std::string> blocking;
  const Environment* last = LastEnvironment(config);
  if (last && OutcomeIn(cr, last->name) != DeploymentOutcome::kSucceeded) {
    blocking.push_back(fmt::format("the deployment to {} has not succeeded", last->name));
  }
  for (const Approval* a : UnconfirmedVerbalApprovals(cr)) {
    bool overdue = IsConfirmationOverdue(*a, config, now);
    blocking.push_back(
        fmt::format("the verbal approval by {} for {} {} written confirmation (due {})",
                    a->approver, a->environment, overdue ? "is overdue for" : "awaits",
                    FormatRfc3339Utc(ConfirmationDue(*a, config))));
  }
  // §4.3 step 2: the last environment's own sign-offs (PROD: the CAB Chair's) close the change.
  if (last && OutcomeIn(cr, last->name) == DeploymentOutcome::kSucceeded) {
    for (const SignoffRequirement& req : last->signoffs) {
      if (!CurrentSignoffs(cr, last->name, req.kind).empty()) continue;
      blocking.push_back(fmt::format(
          "the {} sign-off of {} ({}) is missing (rollgate cr signoff {} --env {} --kind {})",
          req.kind, last->name, Join(req.roles, " or "), cr.id, last->name, req.kind));
    }
  }
  if (std::optional<PirOccasion> review = OpenPirOccasion(cr, config)) {
    blocking.push_back(fmt::format(
        "the {} of the {} at {} is not closed (rollgate pir close {} --lessons FILE)",
        PirKindName(review->incident), review->reason, FormatRfc3339Utc(review->at), cr.id));
  }
  if (!blocking.empty()) {
    return RefusedByGate(fmt::format("cannot close {}: {}", cr.id, Join(blocking, "; ")));
  }
  ChangeRequest next = cr;
  next.state = CrState::kClosed;
  return Done(std::move(next), "cr.close", {{"by", std::string(person)}}, now);
}

Result<CrDraft> ParseCrDraft(const CrDraftText& text,
                             const std::function<std::string(std::string_view)>& display,
                             std::string& field) {
  auto fault = [&](std::string_view name, const std::string& problem) {
    field = std::string(name);
    return InvalidArgument(fmt::format("{}: {}", display(name), problem));
  };
  auto not_utf8 = [&](std::string_view name) {
    field = std::string(name);
    return InvalidArgument(fmt::format("{} is not valid UTF-8", display(name)));
  };
  const std::pair<std::string_view, const std::string*> texts[] = {
      {"system", &text.system},
      {"description", &text.description},
      {"implementation_plan", &text.implementation_plan},
      {"rollback_plan", &text.rollback_plan},
      {"risk", &text.risk},
      {"test_plan", &text.test_plan}};
  for (const auto& [name, value] : texts) {
    if (!IsValidUtf8(*value)) return not_utf8(name);
  }
  for (const std::string& system : text.affected) {
    if (!IsValidUtf8(system)) return not_utf8("affected_systems");
  }
  CrDraft draft;
  draft.system = text.system;
  draft.affected_systems = text.affected;
  draft.description = text.description;
  draft.implementation_plan = text.implementation_plan;
  draft.rollback_plan = text.rollback_plan;
  draft.risk_assessment = text.risk;
  draft.test_plan = text.test_plan;
  if (!text.type.empty()) {
    Result<ChangeType> type = ParseChangeType(text.type);
    if (!type.ok()) return fault("type", type.status().message());
    draft.type = *type;
  }
  if (!text.rollback_complexity.empty()) {
    Result<RollbackComplexity> c = ParseRollbackComplexity(text.rollback_complexity);
    if (!c.ok()) return fault("rollback_complexity", c.status().message());
    draft.rollback_complexity = *c;
  }
  if (!text.downtime.empty()) {
    Result<Seconds> d = ParseDuration(text.downtime, /*allow_zero=*/true);
    if (!d.ok()) return fault("downtime", d.status().message());
    draft.expected_downtime = *d;
  }
  if (!text.duration.empty()) {
    Result<Seconds> d = ParseDuration(text.duration);
    if (!d.ok()) return fault("duration", d.status().message());
    draft.expected_duration = *d;
  }
  return draft;
}

}  // namespace rollgate
