// The help-desk status page (`/api/v1/status`, docs/dashboard.md): what is changing now, what is
// planned next and what finished lately, each in one plain sentence ("Billing in PROD is being
// patched now (CR-3, planned until 22:00 UTC)") with the same facts as fields. Pure, thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/time.h"
#include "domain/calendar.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/run.h"

namespace rollgate {

struct HelpDeskInput {
  std::vector<RunSummary> runs;                // every run, any order
  std::map<std::string, ChangeRequest> crs;    // the CRs of those runs, by id
  std::vector<ScheduledChange> scheduled;      // changes still planned, by start
  Seconds ahead = std::chrono::hours(24 * 7);  // how far "next" looks
  Seconds recent = std::chrono::hours(24);     // how far back "finished" looks
};

// {"now":[...], "next":[...], "finished":[...], "summary": "...", "generated": T}; each item has
// "text" (the sentence), "system", "environment", "change_request", "run" (or null), "state",
// "start", "until" (RFC 3339 or null). Times in the sentences are local to `zone`, with its
// offset ("22:00 UTC", "22:00 UTC+01:00").
nlohmann::json HelpDeskStatusJson(const HelpDeskInput& input, const Config& config, Timestamp now,
                                  const TimeZone& zone);

}  // namespace rollgate
