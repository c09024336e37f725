#include "service/patch_service.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

#include "common/sha256.h"
#include "common/strings.h"
#include "domain/classification.h"
#include "domain/cvss.h"

namespace rollgate {

namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxText = 64 * 1024;
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
        problems.push_back(fmt::format("two CVSS {} vectors given; give at most one per version",
                                       score->version));
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
  if (input.signature && !input.package) problems.push_back("--signature needs --package");
  if (input.package) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*input.package, ec)) {
      problems.push_back(
          fmt::format("--package {}: not a readable file", EscapeForDisplay(input.package->string())));
    } else {
      Result<std::string> digest = Sha256File(*input.package);
      if (!digest.ok()) {
        problems.push_back(digest.error().message());
      } else {
        PackageInfo info;
        info.file_name = input.package->filename().string();
        info.sha256 = *digest;
        info.size_bytes = static_cast<int64_t>(std::filesystem::file_size(*input.package, ec));
        patch.package = info;
      }
    }
  }
  if (!problems.empty()) return InvalidArgument(Join(problems, "; "));

  patch.created_by = actor;
  patch.created_at = clock_.Now();
  patch.classification = Classify(patch);
  return Record(std::move(patch), "patch.add", actor);
}

Result<Patch> PatchService::Record(Patch patch, const std::string& action,
                                   const std::string& actor) {
  Status status = store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int number, tx.NextNumber("PATCH"));
    patch.id = fmt::format("PATCH-{}", number);
    RETURN_IF_ERROR(tx.PutPatch(patch));
    return tx
        .AppendAudit({clock_.Now(), actor, action, patch.id, PatchAuditDetails(patch).dump()})
        .status();
  });
  if (!status.ok()) return status;
  return patch;
}

Result<Patch> PatchService::Reclassify(const std::string& id, Priority priority,
                                       const std::string& justification,
                                       const std::string& actor) {
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
