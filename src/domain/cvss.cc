#include "domain/cvss.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/strings.h"
#include "domain/cvss31.h"
#include "domain/cvss40.h"

namespace rollgate {
namespace {

std::string ToUpperAscii(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

// "CVSS:3.1/" -> "CVSS 3.1", for messages.
std::string VersionLabel(std::string_view prefix) {
  std::string label(prefix);
  if (!label.empty() && label.back() == '/') label.pop_back();
  std::replace(label.begin(), label.end(), ':', ' ');
  return label;
}

std::string Describe(const CvssMetricSpec& spec) {
  return fmt::format("{} ({})", spec.key, spec.name);
}

// The first character that has no place in a vector string, described for a message; "" if none.
std::string FindForbiddenCharacter(std::string_view vector) {
  for (size_t i = 0; i < vector.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(vector[i]);
    const char* what = nullptr;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      what = "whitespace";
    } else if (c < 0x20 || c == 0x7f) {
      what = "a control character";
    } else if (c >= 0x80) {
      what = "a non-ASCII character";
    }
    if (what != nullptr) return fmt::format("{} at position {}", what, i + 1);
  }
  return "";
}

// A score formatted the way people write it: one decimal unless the value needs more.
std::string FormatScore(double score) {
  double tenths = score * 10.0;
  if (std::isfinite(score) && std::fabs(tenths - std::round(tenths)) < 1e-9) {
    return fmt::format("{:.1f}", score);
  }
  return fmt::format("{}", score);
}

}  // namespace

Result<std::vector<std::string>> ParseCvssMetrics(std::string_view vector, std::string_view prefix,
                                                  const std::vector<CvssMetricSpec>& specs,
                                                  CvssMetricOrder order) {
  const std::string version = VersionLabel(prefix);
  if (vector.empty()) return InvalidArgument("CVSS vector is empty");
  if (vector.size() > kMaxCvssVectorLength) {
    return InvalidArgument(fmt::format("CVSS vector is too long ({} characters, at most {})",
                                       vector.size(), kMaxCvssVectorLength));
  }
  if (std::string forbidden = FindForbiddenCharacter(vector); !forbidden.empty()) {
    return InvalidArgument(
        fmt::format("CVSS vector '{}' contains {}", EscapeForDisplay(vector), forbidden));
  }
  if (!StartsWith(vector, prefix)) {
    if (StartsWith(ToUpperAscii(vector), prefix)) {
      return InvalidArgument(fmt::format(
          "CVSS vector '{}' must start with '{}' in upper case (metric names and values are "
          "case-sensitive)",
          EscapeForDisplay(vector), prefix));
    }
    return InvalidArgument(
        fmt::format("CVSS vector '{}' does not start with '{}'", EscapeForDisplay(vector), prefix));
  }
  std::string_view body = vector.substr(prefix.size());
  if (body.empty()) {
    return InvalidArgument(fmt::format("{} vector has no metrics after '{}'", version, prefix));
  }
  if (body.back() == '/') {
    return InvalidArgument(
        fmt::format("{} vector '{}' ends with a trailing '/'", version, EscapeForDisplay(vector)));
  }

  std::vector<std::string> keys;
  keys.reserve(specs.size());
  for (const CvssMetricSpec& spec : specs) keys.push_back(spec.key);

  std::vector<std::string> values(specs.size());
  size_t previous_index = 0;
  bool have_previous = false;
  size_t component_number = 0;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('/', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view component = body.substr(start, end - start);
    start = end + 1;
    ++component_number;

    if (component.empty()) {
      return InvalidArgument(
          fmt::format("{} vector '{}' has an empty component {} (two '/' in a row)", version,
                      EscapeForDisplay(vector), component_number));
    }
    size_t colon = component.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == component.size() ||
        component.find(':', colon + 1) != std::string_view::npos) {
      return InvalidArgument(
          fmt::format("{} vector has a malformed component '{}': expected METRIC:VALUE, e.g. AV:N",
                      version, EscapeForDisplay(component)));
    }
    std::string_view key = component.substr(0, colon);
    std::string_view value = component.substr(colon + 1);

    auto found = std::find(keys.begin(), keys.end(), key);
    if (found == keys.end()) {
      std::string upper = ToUpperAscii(key);
      if (std::find(keys.begin(), keys.end(), upper) != keys.end()) {
        return InvalidArgument(
            fmt::format("unknown metric '{}' in {} vector: metric names are upper case ('{}')",
                        EscapeForDisplay(key), version, upper));
      }
      std::string suggestion = DidYouMean(key, keys);
      return InvalidArgument(fmt::format(
          "unknown metric '{}' in {} vector{}", EscapeForDisplay(key), version,
          suggestion.empty() ? std::string() : fmt::format(" (did you mean {}?)", suggestion)));
    }
    size_t index = static_cast<size_t>(found - keys.begin());
    const CvssMetricSpec& spec = specs[index];
    if (!values[index].empty()) {
      return InvalidArgument(
          fmt::format("duplicate metric {} in {} vector", Describe(spec), version));
    }
    if (order == CvssMetricOrder::kSpecified && have_previous && index < previous_index) {
      return InvalidArgument(fmt::format(
          "metric {} is out of order in {} vector: the specification requires it before {}",
          Describe(spec), version, specs[previous_index].key));
    }
    if (std::find(spec.values.begin(), spec.values.end(), value) == spec.values.end()) {
      std::string case_hint;
      for (const std::string& allowed : spec.values) {
        if (ToUpperAscii(allowed) == ToUpperAscii(value)) {
          case_hint = fmt::format(" (values are case-sensitive: '{}')", allowed);
        }
      }
      return InvalidArgument(
          fmt::format("invalid value '{}' for metric {}: allowed values are {}{}",
                      EscapeForDisplay(value), Describe(spec), Join(spec.values, ", "), case_hint));
    }
    values[index] = std::string(value);
    previous_index = index;
    have_previous = true;
  }

  std::vector<std::string> missing;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].mandatory && values[i].empty()) missing.push_back(Describe(specs[i]));
  }
  if (missing.size() == 1) {
    return InvalidArgument(fmt::format("{} vector is missing metric {}", version, missing[0]));
  }
  if (!missing.empty()) {
    return InvalidArgument(
        fmt::format("{} vector is missing metrics {}", version, Join(missing, ", ")));
  }
  return values;
}

std::string FormatCvssVector(std::string_view prefix, const std::vector<CvssMetricSpec>& specs,
                             const std::vector<std::string>& values) {
  std::string out(prefix);
  bool first = true;
  for (size_t i = 0; i < specs.size() && i < values.size(); ++i) {
    if (values[i].empty() || values[i] == "X") continue;
    if (!first) out += '/';
    out += specs[i].key;
    out += ':';
    out += values[i];
    first = false;
  }
  return out;
}

Result<CvssScore> ScoreCvssVector(std::string_view vector) {
  if (vector.empty()) return InvalidArgument("CVSS vector is empty");
  if (vector.size() > kMaxCvssVectorLength) {
    return InvalidArgument(fmt::format("CVSS vector is too long ({} characters, at most {})",
                                       vector.size(), kMaxCvssVectorLength));
  }
  if (StartsWith(vector, "CVSS:3.1/")) {
    ASSIGN_OR_RETURN(Cvss31Scores scores, ScoreCvss31(vector));
    return CvssScore{"3.1", scores.vector, scores.base_score, CvssSeverity(scores.base_score)};
  }
  if (StartsWith(vector, "CVSS:4.0/")) {
    ASSIGN_OR_RETURN(Cvss40Scores scores, ScoreCvss40(vector));
    return CvssScore{"4.0", scores.vector, scores.score, CvssSeverity(scores.score)};
  }
  std::string upper = ToUpperAscii(vector.substr(0, 9));
  if (upper == "CVSS:3.1/" || upper == "CVSS:4.0/") {
    return InvalidArgument(fmt::format(
        "CVSS vector '{}' must start with '{}' in upper case (metric names and values are "
        "case-sensitive)",
        EscapeForDisplay(vector), upper));
  }
  if (vector == "CVSS:3.1" || vector == "CVSS:4.0") {
    return InvalidArgument(fmt::format("CVSS vector '{}' has no metrics", vector));
  }
  if (StartsWith(vector, "CVSS:3.0/")) {
    return InvalidArgument(
        "CVSS 3.0 vectors are not supported: only CVSS 3.1 ('CVSS:3.1/...') and 4.0 "
        "('CVSS:4.0/...') are scored; rescore the vulnerability under 3.1 rather than relabelling "
        "the vector");
  }
  if (StartsWith(vector, "CVSS:")) {
    size_t slash = vector.find('/');
    std::string_view prefix = vector.substr(0, std::min<size_t>(slash, 16));
    return InvalidArgument(fmt::format(
        "unsupported CVSS version prefix '{}': only 'CVSS:3.1/' and 'CVSS:4.0/' are accepted",
        EscapeForDisplay(prefix)));
  }
  if (StartsWith(vector, "AV:") || StartsWith(vector, "(AV:")) {
    return InvalidArgument(fmt::format(
        "CVSS vector '{}' has no version prefix: it must start with 'CVSS:3.1/' or 'CVSS:4.0/' "
        "(CVSS 2.0 vectors, which have none, are not supported)",
        EscapeForDisplay(vector.substr(0, 64))));
  }
  return InvalidArgument(fmt::format("CVSS vector '{}' must start with 'CVSS:3.1/' or 'CVSS:4.0/'",
                                     EscapeForDisplay(vector.substr(0, 64))));
}

std::string CvssSeverity(double score) {
  if (!(score > 0.0)) return "None";  // also NaN
  long tenths = std::lround(std::min(score, 10.0) * 10.0);
  if (tenths == 0) return "None";
  if (tenths <= 39) return "Low";
  if (tenths <= 69) return "Medium";
  if (tenths <= 89) return "High";
  return "Critical";
}

Status CheckClaimedScore(const CvssScore& computed, double claimed) {
  if (!std::isfinite(claimed) || claimed < 0.0 || claimed > 10.0) {
    return InvalidArgument(fmt::format("score {} is not a CVSS score (0.0 to 10.0)", claimed));
  }
  // The tolerance allows for a claim written with two decimals and for binary representation.
  if (std::fabs(claimed - computed.base_score) > 0.05 + 1e-9) {
    return InvalidArgument(fmt::format("score {} does not match the vector (computed {})",
                                       FormatScore(claimed), FormatScore(computed.base_score)));
  }
  return Status::Ok();
}

}  // namespace rollgate
