// The change request as a document (playbook Appendix B) in text, markdown and JSON.
//
// Text and markdown carry exactly the template's headings and fields in its order (CHANGE
// REQUEST, CLASSIFICATION, APPROVALS, DEPLOYMENT DETAILS, ROLLBACK PLAN, VALIDATION,
// POST-DEPLOYMENT), values filled from the record, "[pending]" where not known yet and "N/A"
// where it does not apply; after the template come the §2.2 content, attachments, sign-offs,
// evidence and overdue verbal confirmations. Times are shown in `zone`. Pure, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/patch.h"

namespace rollgate {

// One heading of the document and its "Label: value" lines, in order.
struct DocumentSection {
  std::string heading;
  std::vector<std::pair<std::string, std::string>> fields;
};

// The document's content; `patch` may be null (then the CVSS score is "[pending]").
std::vector<DocumentSection> BuildCrDocument(const ChangeRequest& cr, const Patch* patch,
                                             const Config& config, Timestamp now,
                                             const TimeZone& zone);

// Appendix B as plain text: headings underlined with '=', "Label: value" lines; values spanning
// lines are indented by two spaces.
std::string RenderCrText(const ChangeRequest& cr, const Patch* patch, const Config& config,
                         Timestamp now, const TimeZone& zone);
// The same as markdown: "# CHANGE REQUEST", "## CLASSIFICATION", "- **Type:** Security".
std::string RenderCrMarkdown(const ChangeRequest& cr, const Patch* patch, const Config& config,
                             Timestamp now, const TimeZone& zone);
// Every field of the CR plus approvals (with "counts" per the current revision), rejections,
// sign-offs, evidence, attachments, overdue confirmations and the Appendix B sections. Times are
// RFC 3339 UTC.
nlohmann::json CrToJson(const ChangeRequest& cr, const Patch* patch, const Config& config,
                        Timestamp now, const TimeZone& zone);

}  // namespace rollgate
