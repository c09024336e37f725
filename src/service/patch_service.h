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
  std::optional<std::filesystem::path> package;
  std::optional<std::filesystem::path> signature;
};

class PatchService {
 public:
  PatchService(const Config& config, Store& store, const Clock& clock)
      : config_(config), store_(store), clock_(clock) {}

  // Validates `input` (every problem named), scores the vectors, hashes the package, classifies,
  // and stores the patch with a "patch.add" audit event. InvalidArgument on bad input, with
  // nothing stored.
  Result<Patch> Add(const PatchInput& input, const std::string& actor);

  // Stores an already-built patch (from an advisory import) under a new id with its audit event.
  Result<Patch> Record(Patch patch, const std::string& action, const std::string& actor);

  // Overrides the classification; the justification must not be blank. Audited.
  Result<Patch> Reclassify(const std::string& id, Priority priority,
                           const std::string& justification, const std::string& actor);

  Result<Patch> Get(const std::string& id);
  Result<std::vector<Patch>> List();

 private:
  const Config& config_;
  Store& store_;
  const Clock& clock_;
};

}  // namespace rollgate
