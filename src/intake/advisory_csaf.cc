// CSAF 2.0 (https://docs.oasis-open.org/csaf/csaf/v2.0/csaf-v2.0.html). The "cvss_v4" score
// member comes from CSAF 2.1 and is read when present, as producers already emit it.
#include <fmt/format.h>

#include <cctype>
#include <map>
#include <unordered_map>

#include "common/strings.h"
#include "domain/patch.h"
#include "intake/advisory_json.h"

namespace rollgate::advisory_internal {
namespace {

struct ProductInfo {
  std::string name;          // the full product name
  std::string product_name;  // the enclosing "product_name" branch, if any
  std::string version;       // the enclosing "product_version" branch, if any
};
using ProductMap = std::map<std::string, ProductInfo>;

bool ContainsWord(std::string_view text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    bool starts = at == 0 || std::isalnum(static_cast<unsigned char>(text[at - 1])) == 0;
    size_t end = at + word.size();
    bool ends = end == text.size() || std::isalnum(static_cast<unsigned char>(text[end])) == 0;
    if (starts && ends) return true;
  }
  return false;
}

// The rule documented in advisory.h: denials win over reports.
bool ReportsExploitation(std::string_view details) {
  const std::string text = ToLower(details);
  static constexpr std::string_view kDenials[] = {
      "no known exploit",
      "not known to be exploited",
      "not exploited",
      "no evidence",
      "not aware",
      "unproven",
      "proof of concept only",
      "proof-of-concept only",
      "no exploitation",
      "not been exploited",
      "no active exploitation",
      "not actively exploited",
      "no public exploit",
      "exploitation: none",
      "exploitation: no",
      "exploited: no",
      "exploited: false",
      "none known",
  };
  for (std::string_view denial : kDenials) {
    if (text.find(denial) != std::string::npos) return false;
  }
  static constexpr std::string_view kReports[] = {
      "exploited in the wild",  "exploitation in the wild",
      "actively exploited",     "active exploitation",
      "known exploited",        "known_exploited",
      "exploitation detected",  "exploitation has been detected",
      "exploitation observed",  "exploitation has been observed",
      "exploitation confirmed", "confirmed exploitation",
      "being exploited",        "has been exploited",
      "under active attack",    "exploitation: active",
      "exploitation: yes",      "exploited: yes",
      "exploited: true",
  };
  for (std::string_view report : kReports) {
    if (text.find(report) != std::string::npos) return true;
  }
  return ContainsWord(text, "kev");
}

Status WalkBranches(const Json& node, const std::string& path, const std::string& product_name,
                    const std::string& version, ProductMap* products) {
  ASSIGN_OR_RETURN(const Json* branches, OptionalArray(node, "branches", path));
  if (branches == nullptr) return Status::Ok();
  const std::string branches_path = FieldPath(path, "branches");
  for (size_t i = 0; i < branches->size(); ++i) {
    const Json& branch = (*branches)[i];
    const std::string branch_path = ItemPath(branches_path, i);
    RETURN_IF_ERROR(ExpectObject(branch, branch_path));
    ASSIGN_OR_RETURN(std::string category, RequiredString(branch, "category", branch_path));
    ASSIGN_OR_RETURN(std::string name, RequiredString(branch, "name", branch_path));
    std::string inner_product = product_name;
    std::string inner_version = version;
    if (category == "product_name") inner_product = name;
    if (category == "product_version" || category == "product_version_range") inner_version = name;
    ASSIGN_OR_RETURN(const Json* product, OptionalObject(branch, "product", branch_path));
    if (product != nullptr) {
      const std::string product_path = FieldPath(branch_path, "product");
      ASSIGN_OR_RETURN(std::string id, RequiredString(*product, "product_id", product_path));
      ASSIGN_OR_RETURN(std::string full_name, RequiredString(*product, "name", product_path));
      (*products)[id] = ProductInfo{full_name, inner_product, inner_version};
    }
    RETURN_IF_ERROR(WalkBranches(branch, branch_path, inner_product, inner_version, products));
  }
  return Status::Ok();
}

// full_product_names[] and relationships[].full_product_name.
Status AddFullProductName(const Json& item, const std::string& path, ProductMap* products) {
  RETURN_IF_ERROR(ExpectObject(item, path));
  ASSIGN_OR_RETURN(std::string id, RequiredString(item, "product_id", path));
  ASSIGN_OR_RETURN(std::string name, RequiredString(item, "name", path));
  products->emplace(id, ProductInfo{name, "", ""});
  return Status::Ok();
}

Result<ProductMap> ParseProductTree(const Json& document) {
  ProductMap products;
  ASSIGN_OR_RETURN(const Json* tree, OptionalObject(document, "product_tree", ""));
  if (tree == nullptr) return products;
  RETURN_IF_ERROR(WalkBranches(*tree, "product_tree", "", "", &products));
  ASSIGN_OR_RETURN(const Json* names, OptionalArray(*tree, "full_product_names", "product_tree"));
  if (names != nullptr) {
    for (size_t i = 0; i < names->size(); ++i) {
      RETURN_IF_ERROR(AddFullProductName(
          (*names)[i], ItemPath("product_tree.full_product_names", i), &products));
    }
  }
  ASSIGN_OR_RETURN(const Json* relationships,
                   OptionalArray(*tree, "relationships", "product_tree"));
  if (relationships != nullptr) {
    for (size_t i = 0; i < relationships->size(); ++i) {
      const std::string path = ItemPath("product_tree.relationships", i);
      RETURN_IF_ERROR(ExpectObject((*relationships)[i], path));
      ASSIGN_OR_RETURN(const Json* full_name,
                       OptionalObject((*relationships)[i], "full_product_name", path));
      if (full_name == nullptr) {
        return InvalidArgument(fmt::format("\"{}.full_product_name\" is required", path));
      }
      RETURN_IF_ERROR(
          AddFullProductName(*full_name, FieldPath(path, "full_product_name"), &products));
    }
  }
  return products;
}

Status ParseReferences(const Json& object, std::string_view path, ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* references, OptionalArray(object, "references", path));
  if (references == nullptr) return Status::Ok();
  for (size_t i = 0; i < references->size(); ++i) {
    const std::string item_path = ItemPath(FieldPath(path, "references"), i);
    RETURN_IF_ERROR(ExpectObject((*references)[i], item_path));
    ASSIGN_OR_RETURN(std::string url, RequiredString((*references)[i], "url", item_path));
    AddUnique(&advisory->references, url);
  }
  return Status::Ok();
}

// Collects affected products in document order, one entry per product id.
class AffectedCollector {
 public:
  AffectedCollector(const ProductMap& products, ImportedAdvisory* advisory)
      : products_(products), advisory_(advisory) {}

  size_t Affected(const std::string& product_id, const std::string& cve) {
    auto [it, inserted] = index_.emplace(product_id, advisory_->affected.size());
    if (inserted) {
      AffectedProduct product;
      product.product_id = product_id;
      const ProductInfo* info = Find(product_id);
      product.name = info != nullptr ? info->name : product_id;
      product.version = info != nullptr ? info->version : "";
      advisory_->affected.push_back(std::move(product));
    }
    AddUnique(&advisory_->affected[it->second].cves, cve);
    return it->second;
  }

  // A fixed product: its version is a fixed version of the affected products of the same
  // vulnerability that share its product name.
  void Fixed(const std::string& product_id, const std::vector<size_t>& affected_now) {
    const ProductInfo* info = Find(product_id);
    std::string version = info == nullptr          ? product_id
                          : !info->version.empty() ? info->version
                                                   : info->name;
    AddUnique(&advisory_->fixed_versions, version);
    if (info == nullptr || info->product_name.empty()) return;
    for (size_t index : affected_now) {
      const ProductInfo* affected = Find(advisory_->affected[index].product_id);
      if (affected != nullptr && affected->product_name == info->product_name) {
        AddUnique(&advisory_->affected[index].fixed_versions, version);
      }
    }
  }

 private:
  const ProductInfo* Find(const std::string& product_id) const {
    auto it = products_.find(product_id);
    return it == products_.end() ? nullptr : &it->second;
  }

  const ProductMap& products_;
  ImportedAdvisory* advisory_;
  std::unordered_map<std::string, size_t> index_;
};

Status ParseScores(const Json& vulnerability, const std::string& path, const std::string& cve,
                   ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* scores, OptionalArray(vulnerability, "scores", path));
  if (scores == nullptr) return Status::Ok();
  for (size_t i = 0; i < scores->size(); ++i) {
    const Json& score = (*scores)[i];
    const std::string score_path = ItemPath(FieldPath(path, "scores"), i);
    RETURN_IF_ERROR(ExpectObject(score, score_path));
    RETURN_IF_ERROR(StringArray(score, "products", score_path).status());
    ASSIGN_OR_RETURN(const Json* v2, OptionalObject(score, "cvss_v2", score_path));
    if (v2 != nullptr) advisory->notes.push_back(score_path + ": CVSS v2 score not used");
    for (std::string_view key : {"cvss_v3", "cvss_v4"}) {
      ASSIGN_OR_RETURN(const Json* cvss, OptionalObject(score, key, score_path));
      if (cvss == nullptr) continue;
      const std::string cvss_path = FieldPath(score_path, key);
      ASSIGN_OR_RETURN(std::string vector, RequiredString(*cvss, "vectorString", cvss_path));
      ASSIGN_OR_RETURN(std::optional<double> base, OptionalNumber(*cvss, "baseScore", cvss_path));
      std::string version = CvssVersionOf(vector);
      if (version.empty() || (key == "cvss_v4") != (version == "4.0")) {
        advisory->notes.push_back(fmt::format("{}: \"{}\" is not a vector of that version",
                                              cvss_path, EscapeForDisplay(vector)));
        continue;
      }
      AdvisoryVector entry{version, vector, base, cve};
      if (std::find(advisory->vectors.begin(), advisory->vectors.end(), entry) ==
          advisory->vectors.end()) {
        advisory->vectors.push_back(std::move(entry));
      }
    }
  }
  return Status::Ok();
}

Status ParseThreats(const Json& vulnerability, const std::string& path, const std::string& cve,
                    ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* threats, OptionalArray(vulnerability, "threats", path));
  if (threats == nullptr) return Status::Ok();
  for (size_t i = 0; i < threats->size(); ++i) {
    const std::string threat_path = ItemPath(FieldPath(path, "threats"), i);
    RETURN_IF_ERROR(ExpectObject((*threats)[i], threat_path));
    ASSIGN_OR_RETURN(std::string category, RequiredString((*threats)[i], "category", threat_path));
    ASSIGN_OR_RETURN(std::string details, RequiredString((*threats)[i], "details", threat_path));
    if (category == "exploit_status" && ReportsExploitation(details)) {
      advisory->exploited = true;
      AddUnique(&advisory->exploitation_evidence,
                cve.empty() ? details : fmt::format("{}: {}", cve, details));
    }
  }
  return Status::Ok();
}

Status ParseRemediations(const Json& vulnerability, const std::string& path,
                         ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* remediations, OptionalArray(vulnerability, "remediations", path));
  if (remediations == nullptr) return Status::Ok();
  for (size_t i = 0; i < remediations->size(); ++i) {
    const Json& item = (*remediations)[i];
    const std::string item_path = ItemPath(FieldPath(path, "remediations"), i);
    RETURN_IF_ERROR(ExpectObject(item, item_path));
    Remediation remediation;
    ASSIGN_OR_RETURN(remediation.category, RequiredString(item, "category", item_path));
    ASSIGN_OR_RETURN(remediation.details, RequiredString(item, "details", item_path));
    ASSIGN_OR_RETURN(std::optional<std::string> url, OptionalString(item, "url", item_path));
    remediation.url = url.value_or("");
    ASSIGN_OR_RETURN(remediation.product_ids, StringArray(item, "product_ids", item_path));
    if (std::find(advisory->remediations.begin(), advisory->remediations.end(), remediation) ==
        advisory->remediations.end()) {
      advisory->remediations.push_back(std::move(remediation));
    }
  }
  return Status::Ok();
}

Status ParseVulnerability(const Json& vulnerability, const std::string& path,
                          AffectedCollector* collector, ImportedAdvisory* advisory) {
  RETURN_IF_ERROR(ExpectObject(vulnerability, path));
  ASSIGN_OR_RETURN(std::optional<std::string> cve_text, OptionalString(vulnerability, "cve", path));
  std::string cve;
  if (cve_text) {
    Result<std::string> normalised = NormalizeCveId(*cve_text);
    if (!normalised.ok()) {
      return InvalidArgument(
          fmt::format("\"{}.cve\" is not a CVE id: \"{}\"", path, EscapeForDisplay(*cve_text)));
    }
    cve = *normalised;
    AddUnique(&advisory->cves, cve);
  }
  ASSIGN_OR_RETURN(const Json* ids, OptionalArray(vulnerability, "ids", path));
  if (ids != nullptr) {
    for (size_t i = 0; i < ids->size(); ++i) {
      const std::string id_path = ItemPath(FieldPath(path, "ids"), i);
      RETURN_IF_ERROR(ExpectObject((*ids)[i], id_path));
      ASSIGN_OR_RETURN(std::string text, RequiredString((*ids)[i], "text", id_path));
      AddUnique(&advisory->aliases, text);
    }
  }

  ASSIGN_OR_RETURN(const Json* status, OptionalObject(vulnerability, "product_status", path));
  if (status != nullptr) {
    const std::string status_path = FieldPath(path, "product_status");
    std::vector<size_t> affected_now;
    for (std::string_view key : {"known_affected", "first_affected", "last_affected"}) {
      ASSIGN_OR_RETURN(std::vector<std::string> ids_of, StringArray(*status, key, status_path));
      for (const std::string& id : ids_of) affected_now.push_back(collector->Affected(id, cve));
    }
    for (std::string_view key : {"fixed", "first_fixed"}) {
      ASSIGN_OR_RETURN(std::vector<std::string> ids_of, StringArray(*status, key, status_path));
      for (const std::string& id : ids_of) collector->Fixed(id, affected_now);
    }
    for (std::string_view key : {"known_not_affected", "recommended", "under_investigation"}) {
      RETURN_IF_ERROR(StringArray(*status, key, status_path).status());
    }
  }
  RETURN_IF_ERROR(ParseScores(vulnerability, path, cve, advisory));
  RETURN_IF_ERROR(ParseThreats(vulnerability, path, cve, advisory));
  RETURN_IF_ERROR(ParseRemediations(vulnerability, path, advisory));
  return ParseReferences(vulnerability, path, advisory);
}

Status ParseDocumentNotes(const Json& document, ImportedAdvisory* advisory) {
  ASSIGN_OR_RETURN(const Json* notes, OptionalArray(document, "notes", "document"));
  if (notes == nullptr) return Status::Ok();
  for (size_t i = 0; i < notes->size(); ++i) {
    const std::string path = ItemPath("document.notes", i);
    RETURN_IF_ERROR(ExpectObject((*notes)[i], path));
    ASSIGN_OR_RETURN(std::string category, RequiredString((*notes)[i], "category", path));
    ASSIGN_OR_RETURN(std::string text, RequiredString((*notes)[i], "text", path));
    std::string* target = nullptr;
    if (category == "summary") target = &advisory->summary;
    if (category == "description" || category == "details") target = &advisory->description;
    if (target == nullptr) continue;
    if (!target->empty()) *target += "\n\n";
    *target += text;
  }
  return Status::Ok();
}

}  // namespace

Status ParseCsaf(const Json& root, ImportedAdvisory* advisory) {
  advisory->format = "csaf";
  const Json& document = root.at("document");  // DetectFormat checked it is an object
  ASSIGN_OR_RETURN(advisory->title, RequiredString(document, "title", "document"));
  ASSIGN_OR_RETURN(const Json* tracking, OptionalObject(document, "tracking", "document"));
  if (tracking == nullptr) return InvalidArgument("\"document.tracking\" is required");
  ASSIGN_OR_RETURN(advisory->id, RequiredString(*tracking, "id", "document.tracking"));
  if (Trim(advisory->id).empty()) return InvalidArgument("\"document.tracking.id\" is empty");
  ASSIGN_OR_RETURN(advisory->published,
                   OptionalTime(*tracking, "initial_release_date", "document.tracking"));
  ASSIGN_OR_RETURN(advisory->modified,
                   OptionalTime(*tracking, "current_release_date", "document.tracking"));
  RETURN_IF_ERROR(ParseDocumentNotes(document, advisory));
  RETURN_IF_ERROR(ParseReferences(document, "document", advisory));

  ASSIGN_OR_RETURN(ProductMap products, ParseProductTree(root));
  AffectedCollector collector(products, advisory);
  ASSIGN_OR_RETURN(const Json* vulnerabilities, OptionalArray(root, "vulnerabilities", ""));
  if (vulnerabilities != nullptr) {
    for (size_t i = 0; i < vulnerabilities->size(); ++i) {
      RETURN_IF_ERROR(ParseVulnerability((*vulnerabilities)[i], ItemPath("vulnerabilities", i),
                                         &collector, advisory));
    }
  }
  return Status::Ok();
}

}  // namespace rollgate::advisory_internal
