// OSV JSON (https://ossf.github.io/osv-schema/), schema 1.x.
#include <fmt/format.h>

#include "common/strings.h"
#include "domain/patch.h"
#include "intake/advisory_json.h"

namespace rollgate::advisory_internal {
namespace {

void AddIdentifier(const std::string& identifier, ImportedAdvisory* advisory) {
  Result<std::string> cve = NormalizeCveId(identifier);
  if (cve.ok()) {
    AddUnique(&advisory->cves, *cve);
  } else {
    AddUnique(&advisory->aliases, identifier);
  }
}

// severity[]: {"type": "CVSS_V3" | "CVSS_V4" | "CVSS_V2" | "Ubuntu", "score": "..."}.
Status ParseSeverity(const Json& object, std::string_view path, ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* severity, OptionalArray(object, "severity", path));
  if (severity == nullptr) return Status::Ok();
  const std::string severity_path = FieldPath(path, "severity");
  for (size_t i = 0; i < severity->size(); ++i) {
    const Json& item = (*severity)[i];
    const std::string item_path = ItemPath(severity_path, i);
    RETURN_IF_ERROR(ExpectObject(item, item_path));
    ASSIGN_OR_RETURN(std::string type, RequiredString(item, "type", item_path));
    ASSIGN_OR_RETURN(std::string score, RequiredString(item, "score", item_path));
    if (type != "CVSS_V3" && type != "CVSS_V4") {
      advisory->notes.push_back(
          fmt::format("{}: severity of type {} not used", item_path, EscapeForDisplay(type)));
      continue;
    }
    std::string version = CvssVersionOf(score);
    if (version.empty() || (type == "CVSS_V4") != (version == "4.0")) {
      advisory->notes.push_back(fmt::format("{}: {} score \"{}\" is not a vector of that version",
                                            item_path, type, EscapeForDisplay(score)));
      continue;
    }
    AdvisoryVector vector{version, score, std::nullopt, ""};
    bool known = false;
    for (const AdvisoryVector& existing : advisory->vectors) known |= existing.vector == score;
    if (!known) advisory->vectors.push_back(std::move(vector));
  }
  return Status::Ok();
}

// affected[].ranges[]: {"type", "events": [{"introduced"|"fixed"|"last_affected"|"limit": v}]}.
Status ParseRanges(const Json& affected, std::string_view path, AffectedProduct* product) {
  ASSIGN_OR_RETURN(const Json* ranges, OptionalArray(affected, "ranges", path));
  if (ranges == nullptr) return Status::Ok();
  const std::string ranges_path = FieldPath(path, "ranges");
  for (size_t i = 0; i < ranges->size(); ++i) {
    const Json& item = (*ranges)[i];
    const std::string item_path = ItemPath(ranges_path, i);
    RETURN_IF_ERROR(ExpectObject(item, item_path));
    AffectedRange range;
    ASSIGN_OR_RETURN(range.type, RequiredString(item, "type", item_path));
    ASSIGN_OR_RETURN(const Json* events, OptionalArray(item, "events", item_path));
    if (events == nullptr) {
      return InvalidArgument(fmt::format("\"{}\" is required", FieldPath(item_path, "events")));
    }
    for (size_t j = 0; j < events->size(); ++j) {
      const Json& event = (*events)[j];
      const std::string event_path = ItemPath(FieldPath(item_path, "events"), j);
      RETURN_IF_ERROR(ExpectObject(event, event_path));
      ASSIGN_OR_RETURN(std::optional<std::string> introduced,
                       OptionalString(event, "introduced", event_path));
      ASSIGN_OR_RETURN(std::optional<std::string> fixed,
                       OptionalString(event, "fixed", event_path));
      ASSIGN_OR_RETURN(std::optional<std::string> last,
                       OptionalString(event, "last_affected", event_path));
      ASSIGN_OR_RETURN(std::optional<std::string> limit,
                       OptionalString(event, "limit", event_path));
      if (!introduced && !fixed && !last && !limit) {
        return InvalidArgument(
            fmt::format("\"{}\" has none of introduced, fixed, last_affected, limit", event_path));
      }
      if (introduced) AddUnique(&range.introduced, *introduced);
      if (fixed) AddUnique(&range.fixed, *fixed);
      if (last) AddUnique(&range.last_affected, *last);
    }
    for (const std::string& fixed : range.fixed) AddUnique(&product->fixed_versions, fixed);
    product->ranges.push_back(std::move(range));
  }
  return Status::Ok();
}

Status ParseAffected(const Json& document, ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* affected, OptionalArray(document, "affected", ""));
  if (affected == nullptr) return Status::Ok();
  for (size_t i = 0; i < affected->size(); ++i) {
    const Json& item = (*affected)[i];
    const std::string path = ItemPath("affected", i);
    RETURN_IF_ERROR(ExpectObject(item, path));
    AffectedProduct product;
    ASSIGN_OR_RETURN(const Json* package, OptionalObject(item, "package", path));
    if (package != nullptr) {
      const std::string package_path = FieldPath(path, "package");
      ASSIGN_OR_RETURN(product.name, RequiredString(*package, "name", package_path));
      ASSIGN_OR_RETURN(product.ecosystem, RequiredString(*package, "ecosystem", package_path));
      RETURN_IF_ERROR(OptionalString(*package, "purl", package_path).status());
    }
    ASSIGN_OR_RETURN(product.versions, StringArray(item, "versions", path));
    RETURN_IF_ERROR(ParseRanges(item, path, &product));
    RETURN_IF_ERROR(ParseSeverity(item, path, advisory));
    for (const std::string& fixed : product.fixed_versions) {
      AddUnique(&advisory->fixed_versions, fixed);
      const std::string package_name =
          product.ecosystem.empty() ? product.name : product.ecosystem + "/" + product.name;
      advisory->remediations.push_back(
          Remediation{"vendor_fix",
                      fmt::format("upgrade {} to {}",
                                  package_name.empty() ? "the package" : package_name, fixed),
                      "",
                      {}});
    }
    advisory->affected.push_back(std::move(product));
  }
  return Status::Ok();
}

Status ParseReferences(const Json& document, ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* references, OptionalArray(document, "references", ""));
  if (references == nullptr) return Status::Ok();
  for (size_t i = 0; i < references->size(); ++i) {
    const Json& item = (*references)[i];
    const std::string path = ItemPath("references", i);
    RETURN_IF_ERROR(ExpectObject(item, path));
    ASSIGN_OR_RETURN(std::string url, RequiredString(item, "url", path));
    RETURN_IF_ERROR(OptionalString(item, "type", path).status());
    AddUnique(&advisory->references, url);
  }
  return Status::Ok();
}

}  // namespace

Status ParseOsv(const Json& document, ImportedAdvisory* advisory) {
  advisory->format = "osv";
  ASSIGN_OR_RETURN(advisory->id, RequiredString(document, "id", ""));
  if (Trim(advisory->id).empty()) return InvalidArgument("\"id\" is empty");
  ASSIGN_OR_RETURN(advisory->modified, OptionalTime(document, "modified", ""));
  if (!advisory->modified) return InvalidArgument("\"modified\" is required");
  ASSIGN_OR_RETURN(advisory->published, OptionalTime(document, "published", ""));
  ASSIGN_OR_RETURN(std::optional<Timestamp> withdrawn, OptionalTime(document, "withdrawn", ""));
  if (withdrawn) {
    advisory->notes.push_back("the advisory was withdrawn on " + FormatRfc3339Utc(*withdrawn));
  }
  RETURN_IF_ERROR(OptionalString(document, "schema_version", "").status());
  ASSIGN_OR_RETURN(std::optional<std::string> summary, OptionalString(document, "summary", ""));
  ASSIGN_OR_RETURN(std::optional<std::string> details, OptionalString(document, "details", ""));
  advisory->summary = summary.value_or("");
  advisory->description = details.value_or("");
  advisory->title = advisory->summary.empty() ? advisory->id : advisory->summary;

  if (Result<std::string> cve = NormalizeCveId(advisory->id); cve.ok()) {
    AddUnique(&advisory->cves, *cve);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> aliases, StringArray(document, "aliases", ""));
  for (const std::string& alias : aliases) AddIdentifier(alias, advisory);
  ASSIGN_OR_RETURN(std::vector<std::string> upstream, StringArray(document, "upstream", ""));
  for (const std::string& id : upstream) {
    if (Result<std::string> cve = NormalizeCveId(id); cve.ok()) AddUnique(&advisory->cves, *cve);
  }
  RETURN_IF_ERROR(StringArray(document, "related", "").status());

  RETURN_IF_ERROR(ParseSeverity(document, "", advisory));
  RETURN_IF_ERROR(ParseAffected(document, advisory));
  RETURN_IF_ERROR(ParseReferences(document, advisory));
  // OSV has no standard exploitation field; see advisory.h.
  advisory->exploited = false;
  return Status::Ok();
}

}  // namespace rollgate::advisory_internal
