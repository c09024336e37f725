// The playbook's §8 checklists, computed from what is recorded on the change request
// (approvals, sign-offs, attachments, evidence) rather than ticked by hand.
//
// Sections: 8.1 Pre-Deployment and 8.2 Post-Deployment always; 8.3 Rollback when a rollback was
// recorded for the environment; 8.4 Emergency Response when the CR is an emergency. Items carry
// the playbook's exact wording. Evidence conventions read here (the engine and `cr evidence`
// record them):
//   notification: fields["audience"] = stakeholders (the default), on-call, channels,
//                 completion, next-steps, emergency-approvers, rollback-start,
//                 rollback-progress, rollback-complete
//   monitoring:   fields["enhanced"] = "true" for enhanced monitoring; value = its hours
//   rollback:     fields trigger, authorized_by, impact, services-stopped, files-restored,
//                 database-restored, services-restarted ("true"), root-cause-investigation
//   pir-scheduled: fields["date"] = YYYY-MM-DD of the review
// Pure, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"

namespace rollgate {

inline constexpr const char* kFieldAudience = "audience";
inline constexpr const char* kFieldEnhanced = "enhanced";

struct ChecklistItem {
  std::string section;  // "8.1 Pre-Deployment / General"
  std::string item;     // the playbook's wording
  bool done = false;
  std::string evidence;  // what proves it, or what is missing
};

// The checklist items for `environment` at `now` (overdue verbal confirmations show as not
// done). An unknown environment yields an empty list.
std::vector<ChecklistItem> ComputeChecklist(const ChangeRequest& cr, const Config& config,
                                            std::string_view environment, Timestamp now,
                                            const TimeZone& zone);

// {"cr","environment","items":[{"section","item","done","evidence"}]}.
nlohmann::json ChecklistToJson(const ChangeRequest& cr, std::string_view environment,
                               const std::vector<ChecklistItem>& items);

}  // namespace rollgate
