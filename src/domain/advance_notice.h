// The pre-deployment notice of playbook §2.5: "Send pre-deployment notification based on
// environment" (DEV immediately, TEST 24 hours before, PROD 48-72 hours before, an emergency
// immediately), "including the deployment date and time, expected duration, affected systems,
// rollback plan availability and contact information". When it goes out, whether it is due, and
// its text. Pure.
//
// A notice is keyed by (CR, environment, planned start): it is recorded on the CR as
// "notification" evidence with fields notice=advance and planned=<RFC 3339 UTC>, so a CR that is
// rescheduled gets a notice for its new time, and one already told is not told twice.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/deployment_messages.h"

namespace rollgate {

inline constexpr const char* kFieldNotice = "notice";  // evidence field: "advance"
inline constexpr const char* kNoticeAdvance = "advance";
inline constexpr const char* kFieldPlanned = "planned";  // evidence field: RFC 3339 UTC
inline constexpr const char* kFieldLate = "late";        // evidence field: "yes" or "no"

struct NoticeTiming {
  Timestamp send_at{};
  bool late = false;  // less than the rule's lower bound is left at `now`
};

// When the notice of a change planned at `planned` goes out under `rule`: at `now` for an
// "immediate" rule (before_max 0); else `before_max` ahead of the planned start ("48-72 hours
// before": 72 hours before), or at `now` once that moment has passed. `late` when, at `now`, less
// than `before_min` is left before the planned start (the notice still goes, and says so).
NoticeTiming AdvanceNoticeTiming(const NotificationRule& rule, Timestamp planned, Timestamp now);

// Whom the notice of `cr` in `environment` goes to: the emergency rule (§2.5 "Emergency: Security
// Team, CAB Chair, immediate") for an emergency CR, else the environment's rule. nullptr for an
// environment the configuration does not have.
const NotificationRule* AdvanceNoticeRule(const ChangeRequest& cr, const Config& config,
                                          std::string_view environment);

// Whether a notice for `cr` in `environment` planned at `planned` is recorded on the CR.
bool AdvanceNoticeRecorded(const ChangeRequest& cr, std::string_view environment,
                           Timestamp planned);

// The notice due now for `cr` scheduled in `environment` at `planned`, if any: the CR is
// submitted or in progress and no emergency (the emergency approval request, sent at once through
// the emergency rule, is that notice), the planned start is still ahead, the notice's time has
// come and it was not recorded yet. Its timing says whether it is late.
std::optional<NoticeTiming> DueAdvanceNotice(const ChangeRequest& cr, const Config& config,
                                             std::string_view environment, Timestamp planned,
                                             Timestamp now);

// [PLANNED DEPLOYMENT] SYSTEM - ENV - date: the date and time, the expected duration and
// completion, the affected systems, whether a rollback plan is on the CR (and tested), and whom to
// contact (the requester; the IT operations group). A late notice says it is late. Template
// "advance-notice" (domain/message_templates.h).
Message AdvanceNoticeMessage(const ChangeRequest& cr, const Config& config,
                             const std::string& environment, Timestamp planned, bool late,
                             const TimeZone& zone);

}  // namespace rollgate
