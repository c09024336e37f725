// The post-incident review (playbook §5.4): due within 5 business days after an emergency
// deployment or any rollback; its document is built from the CR, its evidence and the audit log.
//
// BuildPir gathers the facts Rollgate knows — the timeline (detection, approvals, deployments,
// triggers with their measurements, rollbacks, notifications, monitoring), the process deviations
// taken on the emergency path, the effectiveness figures — and leaves the sections only people
// can write (root cause, response effectiveness, recommendations, lessons learned) marked "to be
// completed by the review". RenderPir prints it as Markdown. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/audit.h"
#include "domain/change_request.h"
#include "domain/config.h"

namespace rollgate {

inline constexpr int kPirBusinessDays = 5;
inline constexpr const char* kPirToBeCompleted = "to be completed by the review";

struct PirTimelineEntry {
  Timestamp at{};
  // "detection", "approval", "deployment", "trigger", "rollback", "notification", "monitoring"
  std::string category;
  std::string environment;
  std::string actor;
  std::string summary;
};

struct PirSection {
  std::string title;
  std::vector<std::string> lines;
  bool to_be_completed = false;  // only people can write it
};

struct PirAttendeeGroup {
  std::string group;               // "Security", "Operations", "Development", "CAB"
  std::vector<std::string> roles;  // the roles that make someone part of it
  std::vector<std::string> people;
};

struct PirDocument {
  std::string cr_id;
  std::string title;
  std::string system;
  std::string classification;  // "P1-Critical"
  bool emergency = false;
  bool rolled_back = false;
  std::string reason;    // "emergency deployment to PROD", "rollback in PROD", ...
  Timestamp occasion{};  // the emergency deployment or rollback the due date counts from
  Timestamp due{};       // PirDueDate(occasion)
  bool overdue = false;  // now >= due
  std::vector<PirTimelineEntry> timeline;  // in time order
  std::vector<PirSection> sections;
  std::vector<PirAttendeeGroup> attendees;
};

// When the PIR of an incident at `at` is late: the end of the 5th business day after its local
// date (DueAfterBusinessDays), with the configuration's weekend and holidays.
Timestamp PirDueDate(const Config& config, const TimeZone& zone, Timestamp at);

// The PIR of `cr` at `now`. `events` are the audit events of the CR and of its patch (any order).
// The occasion is an emergency CR's first successful deployment to the furthest environment it
// reached (PROD), else the CR's first rollback.
// NotFound ("no post-incident review is due: CR-3 had neither an emergency deployment nor a
// rollback") otherwise.
Result<PirDocument> BuildPir(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                             const Config& config, const TimeZone& zone, Timestamp now);

// The document as Markdown, times local to `zone`.
std::string RenderPir(const PirDocument& pir, const TimeZone& zone);

}  // namespace rollgate
