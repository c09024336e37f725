#include "intake/advisory.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "intake/advisory_json.h"

namespace rollgate {
namespace advisory_internal {

std::string FieldPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string ItemPath(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

namespace {

// Looks up `key`; nullptr when absent or null.
const Json* Member(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Status WrongType(std::string_view path, std::string_view expected) {
  return InvalidArgument(fmt::format("\"{}\" must be {}", path, expected));
}

}  // namespace

Result<const Json*> OptionalObject(const Json& object, std::string_view key,
                                   std::string_view path) {
  const Json* member = Member(object, key);
  if (member != nullptr && !member->is_object())
    return WrongType(FieldPath(path, key), "an object");
  return member;
}

Result<const Json*> OptionalArray(const Json& object, std::string_view key, std::string_view path) {
  const Json* member = Member(object, key);
  if (member == nullptr) return member;
  if (!member->is_array()) return WrongType(FieldPath(path, key), "an array");
  if (member->size() > kMaxAdvisoryItems) {
    return InvalidArgument(fmt::format("\"{}\" has {} items, more than the limit of {}",
                                       FieldPath(path, key), member->size(), kMaxAdvisoryItems));
  }
  return member;
}

Result<std::optional<std::string>> OptionalString(const Json& object, std::string_view key,
                                                  std::string_view path) {
  const Json* member = Member(object, key);
  if (member == nullptr) return std::optional<std::string>();
  if (!member->is_string()) return WrongType(FieldPath(path, key), "a string");
  return std::optional<std::string>(member->get<std::string>());
}

Result<std::string> RequiredString(const Json& object, std::string_view key,
                                   std::string_view path) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(object, key, path));
  if (!value) return InvalidArgument(fmt::format("\"{}\" is required", FieldPath(path, key)));
  return *value;
}

Result<std::optional<double>> OptionalNumber(const Json& object, std::string_view key,
                                             std::string_view path) {
  const Json* member = Member(object, key);
  if (member == nullptr) return std::optional<double>();
  if (!member->is_number()) return WrongType(FieldPath(path, key), "a number");
  return std::optional<double>(member->get<double>());
}

Result<std::optional<Timestamp>> OptionalTime(const Json& object, std::string_view key,
                                              std::string_view path) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, OptionalString(object, key, path));
  if (!text) return std::optional<Timestamp>();
  static const FixedOffsetZone kUtc(Seconds(0));
  Result<Timestamp> time = ParseTime(*text, kUtc);
  if (!time.ok()) {
    return InvalidArgument(fmt::format("\"{}\" is not an RFC 3339 date-time: \"{}\"",
                                       FieldPath(path, key), EscapeForDisplay(*text)));
  }
  return std::optional<Timestamp>(*time);
}

Result<std::vector<std::string>> StringArray(const Json& object, std::string_view key,
                                             std::string_view path) {
  ASSIGN_OR_RETURN(const Json* array, OptionalArray(object, key, path));
  std::vector<std::string> out;
  if (array == nullptr) return out;
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    const Json& item = (*array)[i];
    if (!item.is_string()) return WrongType(ItemPath(FieldPath(path, key), i), "a string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Status ExpectObject(const Json& item, std::string_view path) {
  if (!item.is_object()) return WrongType(path, "an object");
  return Status::Ok();
}

void AddUnique(std::vector<std::string>* list, const std::string& value) {
  if (value.empty() || std::find(list->begin(), list->end(), value) != list->end()) return;
  list->push_back(value);
}

std::string CvssVersionOf(std::string_view vector) {
  for (std::string_view version : {"3.0", "3.1", "4.0"}) {
    if (StartsWith(vector, fmt::format("CVSS:{}/", version))) return std::string(version);
  }
  return "";
}

}  // namespace advisory_internal

namespace {

using advisory_internal::Json;

// Text safe to put in a message: invalid UTF-8 bytes as \xNN, control characters escaped.
std::string SafeText(std::string_view text) {
  if (IsValidUtf8(text)) return EscapeForDisplay(text);
  std::string ascii;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    ascii += byte >= 0x80 ? fmt::format("\\x{:02x}", byte) : std::string(1, c);
  }
  return EscapeForDisplay(ascii);
}

// Bracket depth outside strings, so a hostile document is refused before any tree is built.
Status CheckNesting(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxAdvisoryDepth) {
        return InvalidArgument(fmt::format(
            "advisory refused: nested deeper than {} levels (at byte {})", kMaxAdvisoryDepth, i));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return Status::Ok();
}

enum class Format { kOsv, kCsaf };

Result<Format> DetectFormat(const Json& document) {
  if (const auto it = document.find("document"); it != document.end() && it->is_object()) {
    if (const auto version = it->find("csaf_version"); version != it->end()) {
      if (!version->is_string()) {
        return InvalidArgument("CSAF advisory: \"document.csaf_version\" must be a string");
      }
      const std::string text = version->get<std::string>();
      if (text != "2.0") {
        return InvalidArgument(fmt::format(
            "unsupported CSAF version \"{}\": only CSAF 2.0 is accepted", SafeText(text)));
      }
      return Format::kCsaf;
    }
  }
  if (document.contains("schema_version") || document.contains("affected") ||
      (document.contains("id") && document.contains("modified"))) {
    return Format::kOsv;
  }
  return InvalidArgument(
      "unknown advisory format: expected OSV JSON (\"id\" with \"schema_version\", \"affected\" "
      "or \"modified\") or CSAF 2.0 (\"document.csaf_version\": \"2.0\")");
}

}  // namespace

Result<ImportedAdvisory> ParseAdvisory(std::string_view json_text) {
  if (json_text.size() > kMaxAdvisoryBytes) {
    return InvalidArgument(fmt::format("advisory refused: {} bytes, more than the limit of {}",
                                       json_text.size(), kMaxAdvisoryBytes));
  }
  RETURN_IF_ERROR(CheckNesting(json_text));
  Json document;
  try {
    document = Json::parse(json_text);
  } catch (const Json::parse_error& error) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    std::string what = error.what();
    if (size_t bracket = what.find("] "); bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    return InvalidArgument(fmt::format("invalid JSON at byte {}: {}", error.byte, SafeText(what)));
  } catch (const Json::exception& error) {
    return InvalidArgument(fmt::format("invalid JSON: {}", SafeText(error.what())));
  }
  if (!document.is_object()) return InvalidArgument("advisory refused: not a JSON object");
  ASSIGN_OR_RETURN(Format format, DetectFormat(document));
  ImportedAdvisory advisory;
  Status status = Status::Ok();
  try {
    status = format == Format::kOsv ? advisory_internal::ParseOsv(document, &advisory)
                                    : advisory_internal::ParseCsaf(document, &advisory);
  } catch (const Json::exception& error) {
    // The parsers check types before reading; this is a safety net, not a code path.
    return InvalidArgument(fmt::format("malformed advisory: {}", SafeText(error.what())));
  }
  if (!status.ok()) {
    return status.WithContext(format == Format::kOsv ? "OSV advisory" : "CSAF advisory");
  }
  return advisory;
}

}  // namespace rollgate
