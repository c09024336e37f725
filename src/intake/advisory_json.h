// Internal to the advisory importers (advisory*.cc): typed, non-throwing access to a parsed
// nlohmann::json document. Every wrong type or oversized array becomes InvalidArgument naming the
// field's path, so the format parsers read like the schemas they follow.
//
// Thread-safety: pure functions. Ownership: returned pointers point into the caller's document.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "intake/advisory.h"

namespace rollgate::advisory_internal {

using Json = nlohmann::json;

// "path.key", or "key" at the top.
std::string FieldPath(std::string_view path, std::string_view key);
// "path[index]".
std::string ItemPath(std::string_view path, size_t index);

// The member `key` of `object`: nullptr when absent or null, else it must have the given type.
Result<const Json*> OptionalObject(const Json& object, std::string_view key, std::string_view path);
// Arrays are also capped at kMaxAdvisoryItems items.
Result<const Json*> OptionalArray(const Json& object, std::string_view key, std::string_view path);
Result<std::optional<std::string>> OptionalString(const Json& object, std::string_view key,
                                                  std::string_view path);
Result<std::string> RequiredString(const Json& object, std::string_view key, std::string_view path);
Result<std::optional<double>> OptionalNumber(const Json& object, std::string_view key,
                                             std::string_view path);
// An RFC 3339 date-time member; InvalidArgument when present but not a valid time.
Result<std::optional<Timestamp>> OptionalTime(const Json& object, std::string_view key,
                                              std::string_view path);
// An array of strings (absent: empty).
Result<std::vector<std::string>> StringArray(const Json& object, std::string_view key,
                                             std::string_view path);
// `item` must be an object; `path` names it.
Status ExpectObject(const Json& item, std::string_view path);

// Appends `value` unless empty or already present.
void AddUnique(std::vector<std::string>* list, const std::string& value);
// The version of a CVSS vector from its prefix ("CVSS:3.1/..." -> "3.1"), or "" if none.
std::string CvssVersionOf(std::string_view vector);

Status ParseOsv(const Json& document, ImportedAdvisory* advisory);
Status ParseCsaf(const Json& document, ImportedAdvisory* advisory);

}  // namespace rollgate::advisory_internal
