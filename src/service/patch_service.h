// Patch intake use cases (playbook §2.1): recording a patch, classifying it, overriding the
// classification with a justification. Each change is stored with its audit event in one
// transaction. Thread-compatible; one per command or request.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "domain/patch.h"
#include "service/security_trigger.h"
#include "store/store.h"

namespace rollgate {

struct PatchInput {
  std::string title;
  std::string source;  // vendor-advisory | security-team | development-team | change-management
  std::vector<std::string> cves;
  std::vector<std::string> references;
  std::string version;
  std::vector<std::string> cvss_vectors;  // at most one per CVSS version
  bool exploited = false;
  std::vector<std::string> criteria;  // declared §5.1 criteria
  std::string release_notes;
  // A local file or an https:// URL; a URL needs `package_sha256`.
  std::string package;
  std::string package_sha256;  // expected digest: required for URLs, checked when given
  std::optional<std::filesystem::path> signature;
};

// Packages accepted into the store's package directory, named by SHA-256, so that what is
// deployed later is exactly what was verified here.
class PatchService {
 public:
  PatchService(const Config& config, Store& store, const Clock& clock,
               std::filesystem::path packages_dir)
      : config_(config), store_(store), clock_(clock), packages_dir_(std::move(packages_dir)) {}

  // Validates `input` (every problem named), scores the vectors, hashes the package, classifies,
  // and stores the patch with a "patch.add" audit event. InvalidArgument on bad input, with
  // nothing stored.
  Result<Patch> Add(const PatchInput& input, const std::string& actor);

  // Imports an OSV or CSAF 2.0 advisory (the document's text) as a patch: CVEs, both CVSS
  // versions (a claimed score that contradicts its vector is refused), exploitation, fixed
  // versions, affected products (kept for the security trigger), references, remediation.
  // InvalidArgument for anything malformed; nothing stored.
  Result<Patch> Import(std::string_view document, const std::string& actor);

  // The security trigger for an imported advisory (service/security_trigger.h): records a
  // "trigger" evidence item on every change request whose deployed version it affects and
  // returns the firings; none for a patch that is not an imported advisory.
  Result<std::vector<SecurityTriggerFiring>> CheckDeployments(const Patch& patch,
                                                              const std::string& actor);

  // Stores an already-built patch under a new id with its audit event.
  Result<Patch> Record(Patch patch, const std::string& action, const std::string& actor);

  // Overrides the classification; the justification must not be blank. Audited.
  Result<Patch> Reclassify(const std::string& id, Priority priority,
                           const std::string& justification, const std::string& actor);

  Result<Patch> Get(const std::string& id);
  Result<std::vector<Patch>> List();

 private:
  // Copies or downloads the package into the package directory, checks its digest and
  // signature and inspects the archive. InvalidArgument naming every problem; on failure
  // nothing is kept.
  Result<PackageInfo> AcceptPackage(const PatchInput& input);

  const Config& config_;
  Store& store_;
  const Clock& clock_;
  std::filesystem::path packages_dir_;
};

}  // namespace rollgate
