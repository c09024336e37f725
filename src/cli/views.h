// The public JSON shapes of the CLI and API (INTERFACE.md): field names here are a contract
// users' scripts depend on. Add fields freely; never rename.
#pragma once

#include <nlohmann/json.hpp>

#include "common/time.h"
#include "domain/change_request.h"
#include "domain/checklists.h"
#include "domain/gates.h"
#include "domain/patch.h"

namespace rollgate::cli {

nlohmann::json PatchJson(const Patch& patch);
// Human-readable patch description for text output.
std::string PatchText(const Patch& patch, const TimeZone& zone);

// One row of `cr list --output json`.
nlohmann::json CrSummaryJson(const ChangeRequestSummary& summary);
// `gate check` in text: one line per gate, what is missing under each failed one.
std::string GateReportText(const GateReport& report);
// `cr checklist` in text, grouped by section.
std::string ChecklistText(const ChangeRequest& cr, std::string_view environment,
                          const std::vector<ChecklistItem>& items);

}  // namespace rollgate::cli
