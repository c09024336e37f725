// The change request (playbook §2.2, Appendix B): an aggregate of its fields, approvals,
// sign-offs, attachments and recorded evidence.
//
// Plain data; its rules (state machine, approvals, gates, checklists) live in the other
// domain files and take the aggregate plus the Config. The store saves and loads it whole.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "domain/patch.h"

namespace rollgate {

enum class ChangeType { kSecurity, kStandard, kInfrastructure };
std::string_view ChangeTypeName(ChangeType t);  // "security", "standard", "infrastructure"
Result<ChangeType> ParseChangeType(std::string_view text);

enum class CrState {
  kDraft,       // being written
  kSubmitted,   // waiting for approvals
  kInProgress,  // at least one environment approved; deployments under way
  kCompleted,   // deployed to the last environment
  kClosed,      // completed and every follow-up done
  kRejected,    // an approver said no
  kCancelled,   // withdrawn
};
std::string_view CrStateName(CrState s);  // "draft", "submitted", "in-progress", ...
Result<CrState> ParseCrState(std::string_view text);

enum class RollbackComplexity { kLow, kMedium, kHigh };
std::string_view RollbackComplexityName(RollbackComplexity c);
Result<RollbackComplexity> ParseRollbackComplexity(std::string_view text);

struct Attachment {
  std::string kind;  // "release-notes", "security-impact-assessment", "rollback-procedure",
                     // "test-specification", "implementation-plan", "test-plan", ...
  std::string file_name;
  std::string sha256;  // content address in the store's blob table
  int64_t size_bytes = 0;
  std::string added_by;
  Timestamp added_at;
};

struct Approval {
  std::string environment;
  std::string approver;  // person
  std::string role;      // the role under which they approved
  Timestamp at;
  int cr_revision = 0;      // the CR content revision approved; a later edit voids it
  bool verbal = false;      // emergency verbal approval (§5.2 step 3)
  std::string recorded_by;  // who recorded a verbal approval
  std::string conditions;
  std::optional<Timestamp> confirmed_at;  // written confirmation of a verbal approval
  bool emergency = false;
};

struct Rejection {
  std::string environment;
  std::string person;
  Timestamp at;
  std::string reason;
};

struct Signoff {
  std::string environment;
  std::string kind;  // "dev-lead", "test-manager", "business-analyst", "uat", "cab"
  std::string person;
  std::string role;
  Timestamp at;
  int cr_revision = 0;
};

// A fact recorded about the CR's work: by the engine as it runs, or by a person (`cr evidence`).
struct Evidence {
  std::string environment;
  std::string kind;  // see kEvidence* below
  std::optional<bool> passed;
  std::optional<double> value;  // pass rate, duration seconds, size bytes ...
  std::string detail;
  std::map<std::string, std::string> fields;  // location, size, timestamp ...
  std::string recorded_by;
  Timestamp at;
  std::string run_id;  // the run that produced it, if any
};

// Evidence kinds the gates and checklists read.
inline constexpr const char* kEvidenceDeployment = "deployment";  // passed = success
inline constexpr const char* kEvidenceSmoke = "smoke";            // passed, value = pass %
inline constexpr const char* kEvidenceRegression = "regression";  // value = pass %
inline constexpr const char* kEvidenceHealth = "health";
inline constexpr const char* kEvidenceLogs = "logs";      // passed = no errors
inline constexpr const char* kEvidenceBackup = "backup";  // fields: location, size
inline constexpr const char* kEvidenceReadiness = "readiness";
inline constexpr const char* kEvidenceRollbackTested = "rollback-tested";  // value = seconds
inline constexpr const char* kEvidenceWindowConfirmed = "maintenance-window-confirmed";
inline constexpr const char* kEvidenceRiskAcceptance = "risk-acceptance";  // emergency skip
inline constexpr const char* kEvidenceNotification = "notification";
inline constexpr const char* kEvidencePackageVerified = "package-verified";
inline constexpr const char* kEvidencePrerequisites = "prerequisites";
inline constexpr const char* kEvidenceMonitoring = "monitoring";
inline constexpr const char* kEvidenceMetrics = "metrics";
inline constexpr const char* kEvidenceBusinessFunctions = "business-functions";
inline constexpr const char* kEvidenceDataIntegrity = "data-integrity";
inline constexpr const char* kEvidenceTestResultsApproved = "test-results-approved";
inline constexpr const char* kEvidenceRollback = "rollback";
inline constexpr const char* kEvidencePirScheduled = "pir-scheduled";
// Rollback (playbook §6): a trigger that fired (fields kind, action, measurement,
// threshold, unit, host, source); a person's decision on an evaluate trigger (fields decision
// "rollback"|"continue", trigger, deadline); one person's part of a joint rollback
// authorisation (fields role, run); the enhanced-monitoring watch's check-ins.
inline constexpr const char* kEvidenceTrigger = "trigger";
inline constexpr const char* kEvidenceTriggerDecision = "trigger-decision";
inline constexpr const char* kEvidenceRollbackAuthorisation = "rollback-authorisation";
inline constexpr const char* kEvidenceWatchCheckin = "watch-checkin";
// Playbook §7: the diagnosis of a failed run (fields failure, resolution, run, report, hosts,
// highlights); detail is the one-line summary.
inline constexpr const char* kEvidenceDiagnosis = "diagnosis";
// The closing of a post-implementation or post-incident review (domain/pir.h ClosePir; CR-wide,
// fields summary, lessons, role, reason, occasion, due, late). Recorded only by `pir close`,
// never by `cr evidence`: it is not among KnownEvidenceKinds.
inline constexpr const char* kEvidencePirClosed = "pir-closed";
// A backup restore test (§2.4 step 3, service/backup_verify.h): passed = verified, value = the
// RTO in seconds when restored; fields run, deployment_run, mode, database, files, counts,
// checksums ...
inline constexpr const char* kEvidenceBackupVerified = "backup-verified";
// The check of the system's Prometheus Alertmanager after a deployment (playbook §4.2; docs/
// watch.md): passed = no critical alert fires, value = how many fire; fields alertmanager,
// alerts (their names), matchers, severities, error (when it could not be asked: unreachable).
inline constexpr const char* kEvidenceAlerts = "alerts";
std::vector<std::string> KnownEvidenceKinds();

// The emergency justification (playbook §5.1 step 1), recorded by `cr justify` before the
// emergency path may be taken. The score and criteria are copied from the patch when recorded, so
// the record keeps what the approvers were told.
struct EmergencyJustification {
  std::string incident;               // the security incident or vulnerability
  std::string why_not_normal;         // why the normal process cannot be followed
  std::optional<double> cvss_score;   // the patch's preferred CVSS base score, if scored
  std::string cvss_source;            // where the score comes from (advisory, vector, NVD ...)
  std::vector<std::string> criteria;  // the §5.1 criteria the patch met, in words
  std::string recorded_by;
  Timestamp recorded_at;
};

// Per-environment view of the deployment, derived from evidence by the domain.
enum class DeploymentOutcome { kNone, kSucceeded, kFailed, kRolledBack };

struct ChangeRequest {
  std::string id;  // "CR-12"
  int number = 0;  // 12
  std::string patch_id;
  std::string title;  // "[System] - [Patch Type] - [Date]"
  Priority classification = Priority::kP4Low;
  bool emergency = false;
  std::string description;
  std::string system;  // the primary system
  std::vector<std::string> affected_systems;
  ChangeType type = ChangeType::kStandard;
  std::string implementation_plan;
  std::string rollback_plan;
  std::string risk_assessment;
  std::string test_plan;
  Seconds expected_downtime{0};
  Seconds expected_duration{0};
  RollbackComplexity rollback_complexity = RollbackComplexity::kMedium;
  std::string requester;
  Timestamp created_at;
  std::optional<Timestamp> submitted_at;
  std::map<std::string, Timestamp> scheduled;  // environment -> planned start
  CrState state = CrState::kDraft;
  int revision = 1;  // bumped when content changes after submission; voids older approvals
  std::vector<Attachment> attachments;
  std::vector<Approval> approvals;
  std::vector<Rejection> rejections;
  std::vector<Signoff> signoffs;
  std::vector<Evidence> evidence;
  std::optional<EmergencyJustification> emergency_justification;  // §5.1 step 1
  std::string cancel_reason;
  Timestamp updated_at;
};

// The row `cr list` shows; the store can produce it without loading whole aggregates.
struct ChangeRequestSummary {
  std::string id;
  int number = 0;
  std::string title;
  std::string system;
  Priority classification = Priority::kP4Low;
  bool emergency = false;
  CrState state = CrState::kDraft;
  std::string requester;
  Timestamp created_at;
  Timestamp updated_at;
  std::optional<Timestamp> next_deadline;  // earliest verbal-approval confirmation due, if any
  bool has_unconfirmed_verbal = false;
};

}  // namespace rollgate
