// The review after a change reached production (playbook §4.4 step 3: the post-implementation
// review of every PROD deployment) or went wrong (§5.4: the post-incident review of an emergency
// deployment or a rollback), due within Config::review_within_business_days (5) business days.
//
// One review per change request at a time. Its occasions are the CR's deployments to the last
// environment (PROD), its emergency deployment and its rollbacks (not rehearsals), read from the
// CR's evidence. A closing (`pir close`, evidence kEvidencePirClosed) covers every occasion up to
// its time; an occasion after it (a rollback on the third day, a redeployment) makes a new review
// due. The review is a post-incident review when one of its occasions is an emergency
// deployment or a rollback, else a post-implementation review.
//
// BuildPir gathers what Rollgate knows — the timeline, the results per environment, the
// deviations from the plan, the issues found by the enhanced-monitoring watch, and for an
// incident the §5.4 sections — and leaves the sections only people can write (root cause,
// response effectiveness, recommendations, lessons learned) "to be completed by the review", or
// fills them with what was recorded at closing. RenderPir prints it as Markdown.
// Pure functions, no I/O, no clock (time is passed in), thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/audit.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/cr_lifecycle.h"

namespace rollgate {

inline constexpr const char* kPirToBeCompleted = "to be completed by the review";
inline constexpr const char* kPirNotRecorded = "not recorded at closing";
// The largest lessons-learned text and summary a closing records.
inline constexpr size_t kPirMaxLessonsBytes = 64 * 1024;
inline constexpr size_t kPirMaxSummaryBytes = 1024;

// What makes a review due.
struct PirOccasion {
  Timestamp at{};
  std::string environment;
  std::string reason;     // "PROD deployment", "emergency deployment to PROD", "rollback in PROD"
  std::string run_id;     // the deployment or rollback run, when the evidence names one
  bool incident = false;  // an emergency deployment or a rollback (§5.4)
};

// A review's closing as recorded on the CR.
struct PirClosing {
  Timestamp at{};
  std::string by;    // person
  std::string role;  // the closer role they hold
  std::string summary;
  std::string lessons;  // the text people wrote (Markdown)
  bool late = false;    // closed at or after the due date
};

// The review a CR owes, or owed last: the occasions since the previous closing.
struct PirStatus {
  std::string cr_id;
  std::string title;
  std::string system;
  bool incident = false;  // post-incident (§5.4), else post-implementation (§4.4)
  std::string reason;     // the occasions' distinct reasons in time order, " and "-joined
  std::vector<PirOccasion> occasions;  // in time order
  Timestamp occasion{};                // the first occasion: the due date counts from it
  Timestamp due{};                     // PirDueDate(occasion)
  int within_business_days = 5;        // Config::review_within_business_days
  bool overdue = false;                // open and now >= due
  std::optional<PirClosing> closing;   // set when this review is closed
};

struct PirTimelineEntry {
  Timestamp at{};
  // "detection", "approval", "deployment", "trigger", "rollback", "notification", "monitoring",
  // "review"
  std::string category;
  std::string environment;
  std::string actor;
  std::string summary;
};

struct PirSection {
  std::string title;
  std::vector<std::string> lines;
  bool to_be_completed = false;  // only people can write it, and nobody has yet
  bool written = false;          // written by people: `lines` is their text, line by line
};

// The results in one environment (§4.3 step 1): the deployment outcome, then one line per
// deployment, test, check and backup recorded there.
struct PirEnvironmentResult {
  std::string environment;
  std::string outcome;  // DeploymentOutcomeName: "succeeded", "failed", "rolled-back", "none"
  std::vector<std::string> lines;
};

struct PirAttendeeGroup {
  std::string group;               // "Security", "Operations", "Development", "CAB"
  std::vector<std::string> roles;  // the roles that make someone part of it
  std::vector<std::string> people;
};

struct PirDocument {
  PirStatus status;
  std::string classification;                 // "P1-Critical"
  bool emergency = false;                     // an emergency deployment is among the occasions
  bool rolled_back = false;                   // a rollback is among the occasions
  std::vector<PirTimelineEntry> timeline;     // in time order
  std::vector<PirEnvironmentResult> results;  // environments in promotion order, those with records
  // Computed sections ("Deviations from the plan", "Issues found during enhanced monitoring", and
  // for an incident "Timeline of emergency response", "Effectiveness of emergency procedures"),
  // then the sections people write.
  std::vector<PirSection> sections;
  std::vector<PirAttendeeGroup> attendees;
};

// "post-implementation review" or "post-incident review".
std::string_view PirKindName(bool incident);

// When the review of an occasion at `at` is late: the end of the
// config.review_within_business_days-th business day after its local date
// (DueAfterBusinessDays), with the configuration's weekend and holidays.
Timestamp PirDueDate(const Config& config, const TimeZone& zone, Timestamp at);

// Every occasion of `cr`, in time order: each deployment (successful or not) to the last
// environment; for an emergency CR that never reached it, its first successful deployment to the
// furthest environment it reached; each rollback that was not a rehearsal (fields rehearsal=yes).
std::vector<PirOccasion> PirOccasions(const ChangeRequest& cr, const Config& config);

// The first occasion of the open review (one not covered by a closing), or nullopt when no
// review is open. Needs no zone: used by the lifecycle's close rule.
std::optional<PirOccasion> OpenPirOccasion(const ChangeRequest& cr, const Config& config);

// The current review of `cr` at `now`: the open one, else the last closed one. NotFound ("no
// review is due: CR-3 had no deployment to PROD, no emergency deployment and no rollback") when
// the CR has no occasion.
Result<PirStatus> CurrentPir(const ChangeRequest& cr, const Config& config, const TimeZone& zone,
                             Timestamp now);

// The document of the current review. `events` are the audit events of the CR, of its patch and
// of its runs (any order); the runs' events give the actual start times and the failed and
// retried steps. NotFound as CurrentPir.
Result<PirDocument> BuildPir(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                             const Config& config, const TimeZone& zone, Timestamp now);

// The document as Markdown, times local to `zone`.
std::string RenderPir(const PirDocument& pir, const TimeZone& zone);

// What the person closing a review gives.
struct PirClosingDraft {
  std::string lessons;  // required: the lessons learned; Markdown headings named like the
                        // sections people write ("## Root cause") fill those sections
  std::string summary;  // optional, one line
};

// Records the closing of the open review of `cr` by `person` at `now`: CR-wide evidence of kind
// kEvidencePirClosed (fields summary, lessons, role, reason, occasion, due, late) and the audit
// record "pir.close" (with the lessons' SHA-256). Allowed in every CR state; the state does not
// change. InvalidArgument for blank lessons, lessons over kPirMaxLessonsBytes, a summary over
// kPirMaxSummaryBytes or with a line break, text that is not UTF-8; NotFound for a person who is
// not configured; RefusedByGate when no review is due, when it is already closed (naming the
// closing), or while a watch of its deployment is still active (`events` are read for the
// watch); PermissionDenied when `person` holds none of config.review_closer_roles.
Result<CrTransition> ClosePir(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                              const Config& config, const TimeZone& zone, std::string_view person,
                              const PirClosingDraft& draft, Timestamp now);

}  // namespace rollgate
