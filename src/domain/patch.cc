#include "domain/patch.h"

#include <fmt/format.h>

#include <cctype>

#include "common/strings.h"

namespace rollgate {

std::string_view PatchSourceName(PatchSource source) {
  switch (source) {
    case PatchSource::kVendorAdvisory:
      return "vendor-advisory";
    case PatchSource::kSecurityTeam:
      return "security-team";
    case PatchSource::kDevelopmentTeam:
      return "development-team";
    case PatchSource::kChangeManagement:
      return "change-management";
  }
  return "";
}

Result<PatchSource> ParsePatchSource(std::string_view text) {
  for (auto s : {PatchSource::kVendorAdvisory, PatchSource::kSecurityTeam,
                 PatchSource::kDevelopmentTeam, PatchSource::kChangeManagement}) {
    if (text == PatchSourceName(s)) return s;
  }
  return InvalidArgument(fmt::format(
      "unknown patch source '{}': expected vendor-advisory, security-team, development-team or "
      "change-management",
      EscapeForDisplay(text)));
}

std::string_view PriorityName(Priority p) {
  switch (p) {
    case Priority::kP1Critical:
      return "P1-Critical";
    case Priority::kP2High:
      return "P2-High";
    case Priority::kP3Moderate:
      return "P3-Moderate";
    case Priority::kP4Low:
      return "P4-Low";
  }
  return "";
}

std::string_view PriorityShort(Priority p) { return PriorityName(p).substr(0, 2); }

Result<Priority> ParsePriority(std::string_view text) {
  std::string lowered = ToLower(text);
  for (auto p :
       {Priority::kP1Critical, Priority::kP2High, Priority::kP3Moderate, Priority::kP4Low}) {
    if (lowered == ToLower(PriorityName(p)) || lowered == ToLower(PriorityShort(p))) return p;
  }
  return InvalidArgument(fmt::format("unknown classification '{}': expected P1, P2, P3 or P4",
                                     EscapeForDisplay(text)));
}

std::string_view EmergencyCriterionName(EmergencyCriterion c) {
  switch (c) {
    case EmergencyCriterion::kActiveExploitation:
      return "active-exploitation";
    case EmergencyCriterion::kCvssCritical:
      return "cvss-critical";
    case EmergencyCriterion::kServiceAvailability:
      return "service-availability";
    case EmergencyCriterion::kRegulatoryDirective:
      return "regulatory-directive";
    case EmergencyCriterion::kBusinessImpact:
      return "business-impact";
  }
  return "";
}

Result<EmergencyCriterion> ParseEmergencyCriterion(std::string_view text) {
  for (auto c : {EmergencyCriterion::kActiveExploitation, EmergencyCriterion::kCvssCritical,
                 EmergencyCriterion::kServiceAvailability, EmergencyCriterion::kRegulatoryDirective,
                 EmergencyCriterion::kBusinessImpact}) {
    if (text == EmergencyCriterionName(c)) return c;
  }
  return InvalidArgument(
      fmt::format("unknown emergency criterion '{}': expected active-exploitation, cvss-critical, "
                  "service-availability, regulatory-directive or business-impact",
                  EscapeForDisplay(text)));
}

const CvssScore* Patch::PreferredCvss() const {
  const CvssScore* best = nullptr;
  for (const auto& s : cvss) {
    if (s.version == "4.0") return &s;
    if (!best) best = &s;
  }
  return best;
}

Result<std::string> NormalizeCveId(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto bad = [&] {
    return InvalidArgument(
        fmt::format("invalid CVE id '{}': expected CVE-YYYY-NNNN (four or more digits)",
                    EscapeForDisplay(text)));
  };
  if (upper.size() < 13 || upper.size() > 30 || upper.compare(0, 4, "CVE-") != 0 ||
      upper[8] != '-') {
    return bad();
  }
  for (size_t i = 4; i < 8; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(upper[i]))) return bad();
  }
  int year = std::stoi(upper.substr(4, 4));
  if (year < 1999) return bad();
  for (size_t i = 9; i < upper.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(upper[i]))) return bad();
  }
  return upper;
}

}  // namespace rollgate
