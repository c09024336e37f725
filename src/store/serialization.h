// JSON forms of the aggregates the store keeps whole: Patch, ChangeRequest and Watch
// (nlohmann::json).
//
// The format outlives the process (it is the `body` column of docs/store-schema.md): enums are
// written by their names ("vendor-advisory", "P1-Critical", "submitted"), instants as RFC 3339 UTC
// text, durations as whole seconds, absent optionals as null. Readers accept every field missing
// (the struct's default is used), so a later schema may add fields without a data migration.
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "domain/change_request.h"
#include "domain/diagnostics.h"
#include "domain/patch.h"
#include "domain/watch.h"

namespace rollgate {

// nlohmann::json ADL hooks. from_json throws nlohmann::json::exception (type errors) or
// std::invalid_argument (unknown enum names, bad times); use the *FromJson functions below to
// get a Status instead.
void to_json(nlohmann::json& json, const CvssScore& score);
void from_json(const nlohmann::json& json, CvssScore& score);
void to_json(nlohmann::json& json, const Classification& classification);
void from_json(const nlohmann::json& json, Classification& classification);
void to_json(nlohmann::json& json, const PackageInfo& package);
void from_json(const nlohmann::json& json, PackageInfo& package);
void to_json(nlohmann::json& json, const AffectedVersionRange& range);
void from_json(const nlohmann::json& json, AffectedVersionRange& range);
void to_json(nlohmann::json& json, const AffectedPackage& package);
void from_json(const nlohmann::json& json, AffectedPackage& package);
void to_json(nlohmann::json& json, const Patch& patch);
void from_json(const nlohmann::json& json, Patch& patch);

void to_json(nlohmann::json& json, const Attachment& attachment);
void from_json(const nlohmann::json& json, Attachment& attachment);
void to_json(nlohmann::json& json, const Approval& approval);
void from_json(const nlohmann::json& json, Approval& approval);
void to_json(nlohmann::json& json, const Rejection& rejection);
void from_json(const nlohmann::json& json, Rejection& rejection);
void to_json(nlohmann::json& json, const Signoff& signoff);
void from_json(const nlohmann::json& json, Signoff& signoff);
void to_json(nlohmann::json& json, const Evidence& evidence);
void from_json(const nlohmann::json& json, Evidence& evidence);
void to_json(nlohmann::json& json, const EmergencyJustification& justification);
void from_json(const nlohmann::json& json, EmergencyJustification& justification);
void to_json(nlohmann::json& json, const ChangeRequest& cr);
void from_json(const nlohmann::json& json, ChangeRequest& cr);
void to_json(nlohmann::json& json, const DiagnosticReport& report);
void from_json(const nlohmann::json& json, DiagnosticReport& report);
void to_json(nlohmann::json& json, const Watch& watch);
void from_json(const nlohmann::json& json, Watch& watch);

// Compact JSON text of the aggregate (keys sorted). InvalidArgument naming the aggregate when a
// text field is not valid UTF-8 (JSON cannot carry it; nothing is replaced silently).
Result<std::string> PatchToJson(const Patch& patch);
Result<std::string> ChangeRequestToJson(const ChangeRequest& cr);
Result<std::string> WatchToJson(const Watch& watch);
Result<std::string> DiagnosticReportToJson(const DiagnosticReport& report);

// Parses the text written above. InvalidArgument naming the problem when the text is not JSON,
// a field has the wrong type, or an enum name or time is unknown.
Result<Patch> PatchFromJson(std::string_view text);
Result<ChangeRequest> ChangeRequestFromJson(std::string_view text);
Result<Watch> WatchFromJson(std::string_view text);
Result<DiagnosticReport> DiagnosticReportFromJson(std::string_view text);

}  // namespace rollgate
