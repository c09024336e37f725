// The public JSON shapes of the CLI and API (INTERFACE.md): field names here are a contract
// users' scripts depend on. Add fields freely; never rename.
#pragma once

#include <nlohmann/json.hpp>

#include "common/time.h"
#include "domain/audit.h"
#include "domain/calendar.h"
#include "domain/change_request.h"
#include "domain/checklists.h"
#include "domain/gates.h"
#include "domain/patch.h"
#include "domain/run.h"
#include "domain/token.h"
#include "domain/triggers.h"

namespace rollgate {

nlohmann::json PatchJson(const Patch& patch);
// A trigger an imported advisory fired on the deployment of `change_request` in `environment`
// (`patch import --output json`, POST /api/v1/advisories).
nlohmann::json AdvisoryFiringJson(const std::string& change_request, const std::string& environment,
                                  const std::string& system, const std::string& version,
                                  const TriggerFiring& firing);
// Human-readable patch description for text output.
std::string PatchText(const Patch& patch, const TimeZone& zone);

// One row of `cr list --output json`.
nlohmann::json CrSummaryJson(const ChangeRequestSummary& summary);
// `gate check` in text: one line per gate, what is missing under each failed one.
std::string GateReportText(const GateReport& report);
// `cr checklist` in text, grouped by section.
std::string ChecklistText(const ChangeRequest& cr, std::string_view environment,
                          const std::vector<ChecklistItem>& items);

// An optional instant as RFC 3339 UTC, or null.
nlohmann::json JsonTime(const std::optional<Timestamp>& t);
// `run show --output json` without the trigger and diagnostics sections: the run and its steps.
nlohmann::json RunJson(const Run& run, const std::vector<StepExecution>& steps);

// What fired a rollback of run `run_id`: the trigger evidence among `cr_evidence` (its CR's
// evidence) recorded for that run, as the "triggers" of `run show --output json`.
nlohmann::json RunTriggersJson(const std::string& run_id, const std::vector<Evidence>& cr_evidence);

// The calendar of [from, until) as `calendar --output json` and `/api/v1/calendar` show it
// (`environment` empty: every environment).
nlohmann::json CalendarJson(Timestamp from, Timestamp until, const std::string& environment,
                            const std::vector<CalendarEntry>& entries,
                            const std::vector<CalendarConflict>& conflicts);

// An API token as `token list` and `/api/v1/tokens` show it: never its secret or hash.
nlohmann::json TokenJson(const ApiToken& token, Timestamp now);

// One audit event as `audit export` writes it and `/api/v1/audit` lists it (details parsed).
nlohmann::json AuditEventJson(const AuditEvent& event);

}  // namespace rollgate
