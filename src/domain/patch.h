// A patch as it arrives (playbook §2.1): sources, vendor references, CVSS, exploitation, package.
//
// Plain data. Classification is computed by domain/classification.h and stored with the patch so
// that a later change of thresholds does not silently reclassify history.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace rollgate {

enum class PatchSource { kVendorAdvisory, kSecurityTeam, kDevelopmentTeam, kChangeManagement };
std::string_view PatchSourceName(PatchSource source);  // "vendor-advisory", ...
Result<PatchSource> ParsePatchSource(std::string_view text);

enum class Priority { kP1Critical = 1, kP2High = 2, kP3Moderate = 3, kP4Low = 4 };
std::string_view PriorityName(Priority p);              // "P1-Critical"
std::string_view PriorityShort(Priority p);             // "P1"
Result<Priority> ParsePriority(std::string_view text);  // "P1", "p1", "P1-Critical"

struct CvssScore {
  std::string version;  // "3.1" or "4.0"
  std::string vector;   // normalised vector string
  double base_score = 0.0;
  std::string severity;  // "None", "Low", "Medium", "High", "Critical"
  bool operator==(const CvssScore&) const = default;
};

// Why a patch qualifies for the emergency procedure (playbook §5.1).
enum class EmergencyCriterion {
  kActiveExploitation,
  kCvssCritical,
  kServiceAvailability,
  kRegulatoryDirective,
  kBusinessImpact,
};
std::string_view EmergencyCriterionName(EmergencyCriterion c);  // "active-exploitation", ...
Result<EmergencyCriterion> ParseEmergencyCriterion(std::string_view text);

struct Classification {
  Priority priority = Priority::kP4Low;
  std::vector<std::string> reasons;  // why this priority, in words
  bool emergency = false;
  std::vector<EmergencyCriterion> emergency_criteria;
  std::vector<std::string> emergency_reasons;
  // A manual override: the computed priority is kept in `computed_priority`.
  bool overridden = false;
  Priority computed_priority = Priority::kP4Low;
  std::string override_justification;
  std::string overridden_by;
};

struct PackageInfo {
  std::string file_name;
  std::string sha256;
  int64_t size_bytes = 0;
  std::string source_url;  // when downloaded
  bool signature_verified = false;
  std::string signing_key_id;
};

// What an imported advisory says is affected (intake/advisory.h AffectedProduct, kept with the
// patch so that the security trigger can match deployed versions later; domain/triggers.h).
struct AffectedVersionRange {
  std::string type;  // OSV: "SEMVER", "ECOSYSTEM", "GIT"
  std::vector<std::string> introduced;
  std::vector<std::string> fixed;
  std::vector<std::string> last_affected;
  bool operator==(const AffectedVersionRange&) const = default;
};

struct AffectedPackage {
  std::string name;       // OSV package name; CSAF full product name ("Gateway 5.2.0")
  std::string ecosystem;  // OSV only
  // CSAF: the product_version ("5.2.0") or product_version_range ("vers:semver/<5.2.1") branch.
  std::string version;
  std::vector<std::string> versions;         // OSV explicit affected versions
  std::vector<AffectedVersionRange> ranges;  // OSV
  std::vector<std::string> fixed_versions;
  bool operator==(const AffectedPackage&) const = default;
};

struct Patch {
  std::string id;  // "PATCH-7"
  std::string title;
  PatchSource source = PatchSource::kVendorAdvisory;
  std::vector<std::string> cves;                      // "CVE-2026-12345"
  std::vector<std::string> references;                // KB articles, URLs, advisory ids
  std::string version;                                // the version the patch brings
  std::vector<CvssScore> cvss;                        // at most one per version
  bool exploited = false;                             // confirmed exploitation in the wild
  std::vector<EmergencyCriterion> declared_criteria;  // declared by a person (regulatory, ...)
  std::string release_notes;
  std::optional<PackageInfo> package;
  Classification classification;
  std::string created_by;
  Timestamp created_at;
  // Imported advisories keep their origin.
  std::string advisory_format;  // "", "osv", "csaf"
  std::string advisory_id;
  std::vector<AffectedPackage> affected;  // imported advisories: what they say is affected

  // The score classification uses: 4.0 when present, else 3.1, else none.
  const CvssScore* PreferredCvss() const;
};

// CVE-YYYY-NNNN+ (at least four digits). Case-insensitive input; returns the upper-case form.
Result<std::string> NormalizeCveId(std::string_view text);

}  // namespace rollgate
