// The change request's life (playbook §2.2, §5.2, §4.3): creating it from a patch, and the
// state machine that submits, approves, rejects, schedules, records evidence, closes or cancels
// it.
//
//   draft ──submit──▶ submitted ──(an environment reaches quorum, or deployment evidence)──▶
//   in-progress ──(the last environment deployed successfully)──▶ completed ──close──▶ closed
//   draft/submitted/in-progress ──cancel──▶ cancelled;  submitted/in-progress ──reject──▶ rejected
//
// Every operation takes the current aggregate and returns the next one with the audit record to
// write beside it (same transaction), or a Status: Conflict naming the current state and what it
// allows for an illegal transition; InvalidArgument, NotFound, PermissionDenied or RefusedByGate
// for the rest. The input is never modified. Editing content after submission bumps `revision`,
// which voids earlier approvals and sign-offs (they stay recorded). Pure, thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/patch.h"

namespace rollgate {

// The §2.2 fields given to `cr create`.
struct CrDraft {
  int number = 0;  // assigned by the store; when > 0 the id becomes "CR-<number>"
  std::string system;
  std::optional<ChangeType> type;  // default: security when the patch has CVEs, CVSS or exploits
  std::string description;
  std::vector<std::string> affected_systems;  // the primary system is always included, first
  std::string implementation_plan;
  std::string rollback_plan;
  std::string risk_assessment;
  std::string test_plan;
  Seconds expected_downtime{0};
  Seconds expected_duration{0};
  RollbackComplexity rollback_complexity = RollbackComplexity::kMedium;
  std::string requester;
};

// A draft as text, as the command line's flags and the API's body give it (plans as their text).
struct CrDraftText {
  std::string system, type, description, implementation_plan, rollback_plan, risk, test_plan,
      downtime, duration, rollback_complexity;
  std::vector<std::string> affected;
};

// The draft `text` gives: InvalidArgument for text that is not UTF-8, an unknown type or
// rollback complexity, or a duration that is not one ("15m"). `field` is set to the field at
// fault ("type", "downtime", "affected_systems", ...), and the message names it
// as `display` writes it ("--downtime" on the command line).
Result<CrDraft> ParseCrDraft(const CrDraftText& text,
                             const std::function<std::string(std::string_view)>& display,
                             std::string& field);

// A content edit; only the fields set change.
struct CrEdit {
  std::optional<std::string> description, implementation_plan, rollback_plan, risk_assessment,
      test_plan;
  std::optional<std::vector<std::string>> affected_systems;
  std::optional<ChangeType> type;
  std::optional<Seconds> expected_downtime, expected_duration;
  std::optional<RollbackComplexity> rollback_complexity;
};

// A verbal emergency approval as reported by the person who recorded it (§5.2 step 3).
struct VerbalApproval {
  std::string environment;
  std::string approver;     // who gave it on the phone
  std::string recorded_by;  // who writes it down
  Timestamp at;             // when it was given
  std::string conditions;
};

// The emergency justification as a person gives it (§5.1 step 1); the score and the criteria
// come from the patch.
struct JustificationDraft {
  std::string incident;        // the security incident or vulnerability
  std::string why_not_normal;  // why the normal process cannot be followed
  std::string cvss_source;     // optional: where the CVSS score comes from (default: the patch's)
};

// The result of an operation: the new aggregate and its audit record.
struct CrTransition {
  ChangeRequest cr;
  std::string action;   // "cr.approve"
  std::string details;  // canonical JSON object text (sorted keys)
};

// "CR-12".
std::string CrId(int number);
// "billing - Security Patch - 2026-11-29": system, change type, local date of `at`.
std::string CrTitle(std::string_view system, ChangeType type, Timestamp at, const TimeZone& zone);
// The default change type for a patch: security when it has CVEs, a CVSS score or is exploited.
ChangeType DefaultChangeType(const Patch& patch);
// Attachment kinds the playbook names (§2.2 step 2) plus Rollgate's own.
std::vector<std::string> KnownAttachmentKinds();

// The verbs allowed in `state`: "edit", "justify", "attach", "schedule", "submit", "approve",
// "verbal-approve", "confirm", "reject", "signoff", "evidence", "cancel", "close".
std::vector<std::string> AllowedActions(CrState state);
// OK when `action` is allowed in the CR's state, else Conflict: "cannot approve CR-3: it is
// draft (allowed: edit, attach, schedule, submit, cancel)".
Status CheckActionAllowed(const ChangeRequest& cr, std::string_view action);

// A draft CR for `patch`, created by draft.requester at `now`. NotFound when the system, an
// affected system or the requester is not configured (with a did-you-mean); InvalidArgument for
// negative durations. Classification and emergency come from the patch.
Result<CrTransition> NewChangeRequest(const CrDraft& draft, const Patch& patch,
                                      const Config& config, Timestamp now, const TimeZone& zone);

// Changes content. In draft nothing else happens; after submission the revision is bumped
// (voiding approvals and sign-offs of the earlier revision). InvalidArgument when nothing
// changes; allowed in draft, submitted and in-progress.
Result<CrTransition> EditChangeRequest(const ChangeRequest& cr, const CrEdit& edit,
                                       const Config& config, std::string_view person, Timestamp now,
                                       const TimeZone& zone);

// Records (or replaces) the emergency justification of an emergency CR for `patch` (its own):
// the incident and why the normal process cannot be followed (InvalidArgument naming each one
// left blank), the patch's preferred CVSS score with its source (`draft.cvss_source`, else
// CvssSource(patch)), and the §5.1 criteria the patch meets. RefusedByGate when the CR is not an
// emergency change or its patch meets no §5.1 criterion (MissingEmergencyCriteria). Like an edit,
// after submission it bumps the revision: approvals given on the earlier justification no longer
// count. Allowed in draft, submitted and in-progress.
Result<CrTransition> RecordEmergencyJustification(const ChangeRequest& cr, const Patch& patch,
                                                  const Config& config,
                                                  const JustificationDraft& draft,
                                                  std::string_view person, Timestamp now);

// draft → submitted. InvalidArgument naming every missing item: description, implementation
// plan, rollback plan (or a rollback-procedure attachment), risk assessment, test plan (or a
// test-plan/test-specification attachment), and for P1/P2 each of
// config.required_attachments_p1_p2.
Result<CrTransition> Submit(const ChangeRequest& cr, const Config& config, std::string_view person,
                            Timestamp now);

// → cancelled, with a non-blank reason (InvalidArgument). From draft, submitted, in-progress.
Result<CrTransition> Cancel(const ChangeRequest& cr, const Config& config, std::string_view person,
                            std::string_view reason, Timestamp now);

// → rejected by an approver of `environment` with a non-blank reason.
Result<CrTransition> Reject(const ChangeRequest& cr, const Config& config,
                            std::string_view environment, std::string_view person,
                            std::string_view reason, Timestamp now);

// Records a written approval (see CheckMayApprove). submitted → in-progress once any
// environment reaches its quorum.
Result<CrTransition> Approve(const ChangeRequest& cr, const Config& config,
                             std::string_view environment, std::string_view approver,
                             Timestamp now);

// Records a verbal emergency approval: emergency CRs only, approver in VerbalApproverRoles,
// recorder a configured person; conditions kept. `now` is when it is recorded; `verbal.at` may
// not lie in the future of it.
Result<CrTransition> RecordVerbalApproval(const ChangeRequest& cr, const Config& config,
                                          const VerbalApproval& verbal, Timestamp now);

// Written confirmation of `person`'s unconfirmed verbal approval of `environment`: only the
// approver themself may confirm (PermissionDenied); NotFound when there is none to confirm.
// A late confirmation is accepted and recorded as late in the audit details.
Result<CrTransition> ConfirmVerbalApproval(const ChangeRequest& cr, const Config& config,
                                           std::string_view environment, std::string_view person,
                                           Timestamp now);

// Records the sign-off `kind` needed to leave `environment` (one of env.signoffs, else
// InvalidArgument naming the kinds), by a holder of one of its roles, under separation of
// duties; the same person signing the same kind twice for a revision is a Conflict.
Result<CrTransition> SignOff(const ChangeRequest& cr, const Config& config,
                             std::string_view environment, std::string_view kind,
                             std::string_view person, Timestamp now);

// Sets the planned start for `environment`. InvalidArgument when `start` is before `now`.
// Lead time is not enforced here: the lead-time gate reports it.
Result<CrTransition> Schedule(const ChangeRequest& cr, const Config& config,
                              std::string_view environment, Timestamp start,
                              std::string_view person, Timestamp now);

// Adds a document. InvalidArgument for an unknown kind (with a did-you-mean), an empty file name
// or a sha256 that is not 64 hex digits; Conflict when the same content is already attached
// under that kind.
Result<CrTransition> AddAttachment(const ChangeRequest& cr, const Config& config,
                                   Attachment attachment, Timestamp now);

// Records evidence (by a person or "system" for the engine). InvalidArgument for an unknown kind
// or environment. Deployment evidence moves submitted → in-progress; a successful deployment of
// the last environment moves to completed; a successful rollback of it moves completed back to
// in-progress.
Result<CrTransition> RecordEvidence(const ChangeRequest& cr, const Config& config,
                                    Evidence evidence, Timestamp now);

// completed → closed, only when the last environment's deployment succeeded, no verbal
// approval awaits written confirmation (overdue or not) and no review is open (domain/pir.h:
// every PROD deployment, emergency deployment or rollback needs its review closed first):
// RefusedByGate naming each.
Result<CrTransition> Close(const ChangeRequest& cr, const Config& config, std::string_view person,
                           Timestamp now);

}  // namespace rollgate
