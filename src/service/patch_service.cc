#include "service/patch_service.h"

#include <fmt/format.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/sha256.h"
#include "common/strings.h"
#include "domain/classification.h"
#include "domain/cvss.h"
#include "intake/advisory.h"
#include "intake/archive_inspector.h"
#include "intake/download.h"
#include "intake/minisign.h"

namespace rollgate {

namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxText = size_t{64} * 1024;
constexpr size_t kMaxList = 100;

void CheckText(std::string_view field, std::string_view value, size_t limit,
               std::vector<std::string>& problems) {
  if (value.size() > limit) {
    problems.push_back(fmt::format("{} is longer than {} characters", field, limit));
  } else if (!IsValidUtf8(value)) {
    problems.push_back(fmt::format("{} is not valid UTF-8", field));
  }
}

nlohmann::json PatchAuditDetails(const Patch& patch) {
  nlohmann::json details = {
      {"title", patch.title},
      {"source", std::string(PatchSourceName(patch.source))},
      {"classification", std::string(PriorityShort(patch.classification.priority))},
      {"emergency", patch.classification.emergency},
      {"cves", patch.cves},
  };
  if (const CvssScore* s = patch.PreferredCvss()) details["cvss"] = s->vector;
  if (patch.package) details["package_sha256"] = patch.package->sha256;
  return details;
}

}  // namespace

Result<Patch> PatchService::Add(const PatchInput& input, const std::string& actor) {
  std::vector<std::string> problems;
  Patch patch;
  patch.title = std::string(Trim(input.title));
  if (patch.title.empty()) problems.push_back("--title is required and must not be blank");
  CheckText("--title", patch.title, kMaxTitle, problems);
  Result<PatchSource> source = ParsePatchSource(input.source);
  if (source.ok()) {
    patch.source = *source;
  } else {
    problems.push_back(source.error().message());
  }
  if (input.cves.size() > kMaxList || input.references.size() > kMaxList) {
    problems.push_back(fmt::format("at most {} CVEs and {} references", kMaxList, kMaxList));
  }
  std::set<std::string> seen_cves;
  for (const auto& raw : input.cves) {
    Result<std::string> cve = NormalizeCveId(raw);
    if (!cve.ok()) {
      problems.push_back(cve.error().message());
    } else if (seen_cves.insert(*cve).second) {
      patch.cves.push_back(*cve);
    }
  }
  for (const auto& ref : input.references) {
    CheckText("--ref", ref, 2048, problems);
    if (Trim(ref).empty()) problems.push_back("--ref must not be blank");
    patch.references.push_back(std::string(Trim(ref)));
  }
  patch.version = std::string(Trim(input.version));
  CheckText("--version", patch.version, 128, problems);
  for (const auto& vector : input.cvss_vectors) {
    Result<CvssScore> score = ScoreCvssVector(vector);
    if (!score.ok()) {
      problems.push_back(score.error().message());
      continue;
    }
    for (const auto& existing : patch.cvss) {
      if (existing.version == score->version) {
        problems.push_back(
            fmt::format("two CVSS {} vectors given; give at most one per version", score->version));
      }
    }
    patch.cvss.push_back(*score);
  }
  patch.exploited = input.exploited;
  for (const auto& c : input.criteria) {
    Result<EmergencyCriterion> criterion = ParseEmergencyCriterion(c);
    if (criterion.ok()) {
      patch.declared_criteria.push_back(*criterion);
    } else {
      problems.push_back(criterion.error().message());
    }
  }
  patch.release_notes = input.release_notes;
  CheckText("release notes", patch.release_notes, kMaxText, problems);
  if (input.signature && input.package.empty()) problems.push_back("--signature needs --package");
  if (!input.package_sha256.empty() && input.package.empty()) {
    problems.push_back("--sha256 needs --package");
  }
  if (!problems.empty()) return InvalidArgument(Join(problems, "; "));
  if (!input.package.empty()) {
    ASSIGN_OR_RETURN(PackageInfo package, AcceptPackage(input));
    patch.package = std::move(package);
  }

  patch.created_by = actor;
  patch.created_at = clock_.Now();
  patch.classification = Classify(patch);
  return Record(std::move(patch), "patch.add", actor);
}

Result<PackageInfo> PatchService::AcceptPackage(const PatchInput& input) {
  const PackagePolicy& policy = config_.packages;
  bool is_url = StartsWith(input.package, "https://") || StartsWith(input.package, "http://");
  if (is_url && input.package_sha256.empty()) {
    return InvalidArgument(
        "--package is a URL: give its expected digest with --sha256 (the playbook's \"downloaded "
        "and verified\")");
  }
  if (!input.package_sha256.empty() && !IsSha256Hex(input.package_sha256)) {
    return InvalidArgument(fmt::format("--sha256 '{}': expected 64 hex digits",
                                       EscapeForDisplay(input.package_sha256)));
  }
  if (policy.require_signature && !input.signature) {
    return InvalidArgument(
        "this configuration requires a signed package (packages.require_signature): give "
        "--signature FILE");
  }
  std::error_code ec;
  std::filesystem::create_directories(packages_dir_, ec);
  if (ec) {
    return Unavailable(fmt::format("cannot create the package directory {}: {}",
                                   packages_dir_.string(), ec.message()));
  }
  // Everything happens on a private copy; it becomes the stored package only once verified.
  std::filesystem::path staging =
      packages_dir_ /
      fmt::format(".incoming-{}-{}", getpid(), clock_.Now().time_since_epoch().count());
  struct Cleanup {
    std::filesystem::path path;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
      std::filesystem::remove(path.string() + ".part", ignored);
    }
  } cleanup{staging};

  PackageInfo info;
  if (is_url) {
    DownloadOptions options;
    options.expected_sha256 = ToLower(input.package_sha256);
    options.max_bytes = policy.max_bytes;
    options.allow_plain_http = policy.allow_plain_http;
    ASSIGN_OR_RETURN(DownloadResult downloaded, Download(input.package, staging, options));
    info.source_url = input.package;
    std::string name = input.package.substr(input.package.find_last_of('/') + 1);
    info.file_name = name.substr(0, name.find_first_of("?#"));
  } else {
    std::filesystem::path source(input.package);
    if (!std::filesystem::is_regular_file(source, ec)) {
      return InvalidArgument(
          fmt::format("--package {}: not a readable file", EscapeForDisplay(input.package)));
    }
    std::filesystem::copy_file(source, staging, std::filesystem::copy_options::overwrite_existing,
                               ec);
    if (ec) {
      return Unavailable(fmt::format("cannot copy {} into {}: {}", EscapeForDisplay(input.package),
                                     packages_dir_.string(), ec.message()));
    }
    info.file_name = source.filename().string();
  }
  ASSIGN_OR_RETURN(info.sha256, Sha256File(staging));
  if (!input.package_sha256.empty() && ToLower(input.package_sha256) != info.sha256) {
    return InvalidArgument(fmt::format("--package {}: SHA-256 is {}, expected {}",
                                       EscapeForDisplay(input.package), info.sha256,
                                       ToLower(input.package_sha256)));
  }
  info.size_bytes = static_cast<int64_t>(std::filesystem::file_size(staging, ec));
  if (input.signature) {
    std::vector<TrustedKey> keys;
    for (const auto& text : policy.trusted_keys) {
      ASSIGN_OR_RETURN(TrustedKey key, ParseTrustedKey(text));
      keys.push_back(std::move(key));
    }
    if (keys.empty()) {
      return InvalidArgument(
          "--signature given but no trusted keys are configured (packages.trusted_keys)");
    }
    Result<SignatureCheck> check = VerifyMinisign(staging, *input.signature, keys);
    if (!check.ok()) {
      // Name the user's file, not the private copy the check ran on.
      std::string message = check.error().message();
      for (size_t at; (at = message.find(staging.string())) != std::string::npos;) {
        message.replace(at, staging.string().size(), input.package);
      }
      return InvalidArgument(
          fmt::format("--signature {}: {}", EscapeForDisplay(input.signature->string()), message));
    }
    info.signature_verified = true;
    info.signing_key_id = check->key_id;
  }
  ArchiveLimits limits;
  limits.max_total_bytes = policy.max_bytes;
  Result<ArchiveReport> report = InspectArchive(staging, limits);
  if (!report.ok()) {
    return InvalidArgument(fmt::format("--package {}: refused: {}", EscapeForDisplay(input.package),
                                       report.error().message()));
  }
  std::filesystem::path final_path = packages_dir_ / (info.sha256 + ".pkg");
  std::filesystem::rename(staging, final_path, ec);
  if (ec) {
    return Unavailable(
        fmt::format("cannot store the package as {}: {}", final_path.string(), ec.message()));
  }
  return info;
}

namespace {

// Scores an advisory's vector; a CVSS 3.0 vector is scored with the 3.1 equations (the base
// metrics and equations are the same; 3.1 refined only the rounding) and keeps its version.
Result<CvssScore> ScoreAdvisoryVector(const AdvisoryVector& v) {
  std::string vector = v.vector;
  bool v30 = StartsWith(vector, "CVSS:3.0/");
  if (v30) vector = "CVSS:3.1/" + vector.substr(9);
  ASSIGN_OR_RETURN(CvssScore score, ScoreCvssVector(vector));
  if (v30) {
    score.version = "3.0";
    score.vector = "CVSS:3.0/" + score.vector.substr(9);
  }
  if (v.claimed_base_score) {
    Status claimed = CheckClaimedScore(score, *v.claimed_base_score);
    if (!claimed.ok()) {
      return InvalidArgument(fmt::format(
          "{}{}: {}", v.vector, v.cve.empty() ? "" : " (" + v.cve + ")", claimed.message()));
    }
  }
  return score;
}

}  // namespace

Result<Patch> PatchService::Import(std::string_view document, const std::string& actor) {
  ASSIGN_OR_RETURN(ImportedAdvisory advisory, ParseAdvisory(document));
  Patch patch;
  patch.source = PatchSource::kVendorAdvisory;
  patch.title = advisory.title.empty() ? advisory.id : advisory.title;
  if (patch.title.size() > kMaxTitle) patch.title = patch.title.substr(0, kMaxTitle);
  patch.cves = advisory.cves;
  patch.references = advisory.references;
  patch.references.insert(patch.references.end(), advisory.aliases.begin(), advisory.aliases.end());
  if (!advisory.fixed_versions.empty()) patch.version = advisory.fixed_versions.front();
  patch.exploited = advisory.exploited;
  patch.advisory_format = advisory.format;
  patch.advisory_id = advisory.id;
  for (const AffectedProduct& product : advisory.affected) {
    AffectedPackage package;
    package.name = product.name;
    package.ecosystem = product.ecosystem;
    package.version = product.version;
    package.versions = product.versions;
    package.fixed_versions = product.fixed_versions;
    for (const AffectedRange& range : product.ranges) {
      package.ranges.push_back({range.type, range.introduced, range.fixed, range.last_affected});
    }
    patch.affected.push_back(std::move(package));
  }
  std::vector<std::string> problems;
  // The highest score per CVSS version across the advisory's vulnerabilities.
  for (const auto& v : advisory.vectors) {
    Result<CvssScore> score = ScoreAdvisoryVector(v);
    if (!score.ok()) {
      problems.push_back(score.error().message());
      continue;
    }
    std::string family = score->version == "4.0" ? "4.0" : "3";
    auto same = std::find_if(patch.cvss.begin(), patch.cvss.end(), [&](const CvssScore& s) {
      return (s.version == "4.0" ? "4.0" : "3") == family;
    });
    if (same == patch.cvss.end()) {
      patch.cvss.push_back(*score);
    } else if (score->base_score > same->base_score) {
      *same = *score;
    }
  }
  if (!problems.empty()) {
    return InvalidArgument(
        fmt::format("advisory {}: {}", EscapeForDisplay(advisory.id), Join(problems, "; ")));
  }
  std::string notes = advisory.summary;
  if (!advisory.description.empty() && advisory.description != advisory.summary) {
    notes += (notes.empty() ? "" : "\n\n") + advisory.description;
  }
  for (const auto& r : advisory.remediations) {
    notes += fmt::format("\nRemediation ({}): {}", r.category, r.details);
  }
  for (const auto& e : advisory.exploitation_evidence) notes += "\nExploitation: " + e;
  patch.release_notes = notes.substr(0, kMaxText);
  patch.created_by = actor;
  patch.created_at = clock_.Now();
  patch.classification = Classify(patch);
  return Record(std::move(patch), "patch.import", actor);
}

Result<std::vector<SecurityTriggerFiring>> PatchService::CheckDeployments(
    const Patch& patch, const std::string& actor) {
  return RecordSecurityTriggers(config_, store_, clock_, patch, actor);
}

Result<Patch> PatchService::Record(Patch patch, const std::string& action,
                                   const std::string& actor) {
  Status status = store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int number, tx.NextNumber("PATCH"));
    patch.id = fmt::format("PATCH-{}", number);
    RETURN_IF_ERROR(tx.PutPatch(patch));
    return tx.AppendAudit({clock_.Now(), actor, action, patch.id, PatchAuditDetails(patch).dump()})
        .status();
  });
  if (!status.ok()) return status;
  return patch;
}

Result<Patch> PatchService::Reclassify(const std::string& id, Priority priority,
                                       const std::string& justification, const std::string& actor) {
  Patch result;
  Status status = store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Patch patch, tx.GetPatch(id));
    Priority before = patch.classification.priority;
    ASSIGN_OR_RETURN(patch.classification,
                     OverrideClassification(patch.classification, priority, justification, actor));
    RETURN_IF_ERROR(tx.PutPatch(patch));
    nlohmann::json details = {{"from", std::string(PriorityShort(before))},
                              {"to", std::string(PriorityShort(priority))},
                              {"justification", justification}};
    RETURN_IF_ERROR(
        tx.AppendAudit({clock_.Now(), actor, "patch.reclassify", id, details.dump()}).status());
    result = std::move(patch);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return result;
}

Result<Patch> PatchService::Get(const std::string& id) {
  Patch result;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(result, tx.GetPatch(id));
    return Status::Ok();
  }));
  return result;
}

Result<std::vector<Patch>> PatchService::List() {
  std::vector<Patch> result;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(result, tx.ListPatches());
    return Status::Ok();
  }));
  return result;
}

}  // namespace rollgate
