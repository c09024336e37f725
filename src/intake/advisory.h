// Import of security advisories in the formats vendors publish: OSV JSON
// (https://ossf.github.io/osv-schema/) and CSAF 2.0 (OASIS Common Security Advisory Framework).
//
// ParseAdvisory reads one untrusted document and extracts what a patch record needs: CVEs, CVSS
// vectors with any score the document claims, exploitation status, affected and fixed versions,
// references and remediations. It does not score vectors (domain/cvss.h does) and stores nothing.
//
// Format detection: an object with "document.csaf_version" is CSAF (only "2.0" is accepted); an
// object with a string "id" and any of "schema_version", "affected" or "modified" is OSV.
//
// Exploitation ("exploited"):
//   CSAF: true when any vulnerabilities[].threats[] entry of category "exploit_status" has details
//   that report exploitation ("exploited in the wild", "actively exploited", "active exploitation",
//   "known exploited", "CISA KEV", "exploitation detected/observed/confirmed", ...) and do not deny
//   it ("no known exploitation", "not exploited", "no evidence", "not aware", "unproven",
//   "proof of concept only", ...). The matching details are kept in `exploitation_evidence`.
//   OSV: the schema has no exploitation field (database_specific hints are vendor-specific), so
//   false; a person declares exploitation on the patch.
// Remediation: CSAF remediations[] (category, details, url, products); for OSV one "vendor_fix"
//   per fixed version of each affected package ("upgrade <ecosystem>/<name> to <version>").
//
// Hostile documents: larger than kMaxAdvisoryBytes, nested deeper than kMaxAdvisoryDepth, with
// arrays longer than kMaxAdvisoryItems, invalid JSON or invalid UTF-8 are refused with
// InvalidArgument naming the problem (and the byte offset for JSON syntax errors). Fields that
// are present with the wrong type are refused, naming the field's path ("affected[2].ranges").
//
// Thread-safety: ParseAdvisory is re-entrant. Ownership: the result owns copies of its strings;
// strings are the document's text, not escaped — escape them (EscapeForDisplay) before display.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace rollgate {

inline constexpr size_t kMaxAdvisoryBytes = 8 << 20;
inline constexpr int kMaxAdvisoryDepth = 64;
inline constexpr size_t kMaxAdvisoryItems = 100'000;

// A CVSS vector as the document gives it; the CLI scores it and compares with the claim.
struct AdvisoryVector {
  std::string version;                       // "3.0", "3.1" or "4.0", from the vector's prefix
  std::string vector;                        // "CVSS:3.1/AV:N/..."
  std::optional<double> claimed_base_score;  // CSAF baseScore; OSV has none
  std::string cve;  // the vulnerability it belongs to, when the document says

  bool operator==(const AdvisoryVector&) const = default;
};

// A version range of an OSV affected package, events flattened.
struct AffectedRange {
  std::string type;  // "SEMVER", "ECOSYSTEM", "GIT"
  std::vector<std::string> introduced;
  std::vector<std::string> fixed;
  std::vector<std::string> last_affected;

  bool operator==(const AffectedRange&) const = default;
};

// One affected package (OSV) or product (CSAF).
struct AffectedProduct {
  std::string name;        // OSV package name; CSAF full product name
  std::string ecosystem;   // OSV only ("Debian:12", "PyPI", ...)
  std::string product_id;  // CSAF only ("CSAFPID-0001")
  std::string version;     // CSAF: the product_version branch the product sits under, if any
  std::vector<std::string> versions;        // OSV explicit affected versions
  std::vector<AffectedRange> ranges;        // OSV
  std::vector<std::string> fixed_versions;  // OSV fixed events; CSAF fixed products' versions
  std::vector<std::string> cves;            // CSAF: the vulnerabilities listing it as affected

  bool operator==(const AffectedProduct&) const = default;
};

struct Remediation {
  std::string category;  // CSAF: "vendor_fix", "mitigation", "workaround", "none_available", ...
  std::string details;
  std::string url;
  std::vector<std::string> product_ids;

  bool operator==(const Remediation&) const = default;
};

struct ImportedAdvisory {
  std::string format;       // "osv" or "csaf"
  std::string id;           // OSV id; CSAF document.tracking.id
  std::string title;        // OSV summary (or id); CSAF document.title
  std::string summary;      // OSV summary; CSAF notes of category "summary"
  std::string description;  // OSV details; CSAF notes of category "description"/"details"
  std::optional<Timestamp> published;  // OSV published; CSAF initial_release_date
  std::optional<Timestamp> modified;   // OSV modified; CSAF current_release_date
  std::vector<std::string> cves;       // normalised "CVE-YYYY-NNNN", unique, in document order
  std::vector<std::string> aliases;    // OSV aliases that are not CVEs (GHSA-..., ...)
  std::vector<AdvisoryVector> vectors;
  bool exploited = false;
  std::vector<std::string> exploitation_evidence;
  std::vector<AffectedProduct> affected;
  std::vector<std::string> fixed_versions;  // every fixed version named, unique
  std::vector<std::string> references;      // URLs, unique
  std::vector<Remediation> remediations;
  std::vector<std::string> notes;  // what was skipped: CVSS v2 vectors, unknown severity types
};

// Detects the format and parses the document. InvalidArgument with a clear message for anything
// that is not a well-formed OSV or CSAF 2.0 advisory (see the header comment).
Result<ImportedAdvisory> ParseAdvisory(std::string_view json_text);

}  // namespace rollgate
