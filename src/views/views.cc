#include "views/views.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace rollgate {

namespace {

nlohmann::json CvssJson(const CvssScore& s) {
  return {{"version", s.version},
          {"vector", s.vector},
          {"base_score", s.base_score},
          {"severity", s.severity}};
}

}  // namespace

nlohmann::json AdvisoryFiringJson(const std::string& change_request, const std::string& environment,
                                  const std::string& system, const std::string& version,
                                  const TriggerFiring& firing) {
  return {{"change_request", change_request},
          {"environment", environment},
          {"system", system},
          {"version", version},
          {"kind", TriggerKindName(firing.kind)},
          {"action", TriggerActionName(firing.action)},
          {"measurement", firing.measurement},
          {"threshold", firing.threshold},
          {"unit", firing.unit},
          {"source", firing.source},
          {"detail", firing.detail}};
}

nlohmann::json PatchJson(const Patch& patch) {
  const Classification& c = patch.classification;
  nlohmann::json criteria = nlohmann::json::array();
  for (auto k : c.emergency_criteria) criteria.push_back(std::string(EmergencyCriterionName(k)));
  nlohmann::json all_cvss = nlohmann::json::array();
  for (const auto& s : patch.cvss) all_cvss.push_back(CvssJson(s));
  nlohmann::json doc = {
      {"id", patch.id},
      {"title", patch.title},
      {"source", std::string(PatchSourceName(patch.source))},
      {"cves", patch.cves},
      {"references", patch.references},
      {"version", patch.version},
      {"exploited", patch.exploited},
      {"classification", std::string(PriorityShort(c.priority))},
      {"classification_name", std::string(PriorityName(c.priority))},
      {"classification_reasons", c.reasons},
      {"emergency", c.emergency},
      {"emergency_criteria", criteria},
      {"emergency_reasons", c.emergency_reasons},
      {"cvss", nullptr},
      {"cvss_all", all_cvss},
      {"package", nullptr},
      {"created_by", patch.created_by},
      {"created_at", FormatRfc3339Utc(patch.created_at)},
  };
  if (const CvssScore* s = patch.PreferredCvss()) doc["cvss"] = CvssJson(*s);
  if (c.overridden) {
    doc["override"] = {{"computed", std::string(PriorityShort(c.computed_priority))},
                       {"justification", c.override_justification},
                       {"by", c.overridden_by}};
  }
  if (patch.package) {
    doc["package"] = {{"file_name", patch.package->file_name},
                      {"sha256", patch.package->sha256},
                      {"size_bytes", patch.package->size_bytes},
                      {"signature_verified", patch.package->signature_verified},
                      {"signing_key_id", patch.package->signing_key_id},
                      {"source_url", patch.package->source_url}};
  }
  if (!patch.advisory_format.empty()) {
    doc["advisory"] = {{"format", patch.advisory_format}, {"id", patch.advisory_id}};
  }
  return doc;
}

std::string PatchText(const Patch& patch, const TimeZone& zone) {
  const Classification& c = patch.classification;
  std::string out = fmt::format("{}  {}\n", patch.id, EscapeForDisplay(patch.title));
  out += fmt::format("  classification: {}{}\n", PriorityName(c.priority),
                     c.overridden ? fmt::format(" (overridden from {} by {}: {})",
                                                PriorityShort(c.computed_priority), c.overridden_by,
                                                EscapeForDisplay(c.override_justification))
                                  : "");
  for (const auto& r : c.reasons) out += fmt::format("    - {}\n", r);
  out += fmt::format("  emergency: {}\n", c.emergency ? "yes" : "no");
  for (const auto& r : c.emergency_reasons) out += fmt::format("    - {}\n", r);
  out += fmt::format("  source: {}\n", PatchSourceName(patch.source));
  if (!patch.cves.empty()) out += fmt::format("  CVEs: {}\n", Join(patch.cves, ", "));
  for (const auto& s : patch.cvss) {
    out +=
        fmt::format("  CVSS {}: {:.1f} {} ({})\n", s.version, s.base_score, s.severity, s.vector);
  }
  if (!patch.version.empty())
    out += fmt::format("  version: {}\n", EscapeForDisplay(patch.version));
  for (const auto& r : patch.references)
    out += fmt::format("  reference: {}\n", EscapeForDisplay(r));
  if (patch.package) {
    out += fmt::format("  package: {} sha256 {} ({} bytes){}\n",
                       EscapeForDisplay(patch.package->file_name), patch.package->sha256,
                       patch.package->size_bytes,
                       patch.package->signature_verified
                           ? fmt::format(", signed by key {}", patch.package->signing_key_id)
                           : "");
  }
  out += fmt::format("  recorded by {} at {}\n", patch.created_by,
                     FormatLocalMinutes(patch.created_at, zone));
  return out;
}

nlohmann::json CrSummaryJson(const ChangeRequestSummary& r) {
  nlohmann::json row = {{"id", r.id},
                        {"title", r.title},
                        {"system", r.system},
                        {"classification", std::string(PriorityShort(r.classification))},
                        {"emergency", r.emergency},
                        {"state", std::string(CrStateName(r.state))},
                        {"requester", r.requester},
                        {"created_at", FormatRfc3339Utc(r.created_at)},
                        {"updated_at", FormatRfc3339Utc(r.updated_at)},
                        {"unconfirmed_verbal_approval", r.has_unconfirmed_verbal},
                        {"next_deadline", nullptr}};
  if (r.next_deadline) row["next_deadline"] = FormatRfc3339Utc(*r.next_deadline);
  return row;
}

std::string GateReportText(const GateReport& report) {
  std::string out = fmt::format("Gates for {} to start {}{}: {}\n", report.cr_id,
                                report.environment, report.emergency ? " (emergency path)" : "",
                                report.passed ? "ALL PASSED" : "REFUSED");
  for (const auto& gate : report.gates) {
    out += fmt::format("  [{}] {}\n", gate.passed ? "ok" : "--", gate.name);
    if (!gate.passed) out += fmt::format("       missing: {}\n", gate.missing);
  }
  return out;
}

std::string ChecklistText(const ChangeRequest& cr, std::string_view environment,
                          const std::vector<ChecklistItem>& items) {
  std::string out = fmt::format("Checklists for {} in {}\n", cr.id, environment);
  std::string section;
  size_t done = 0;
  for (const auto& item : items) {
    if (item.section != section) {
      section = item.section;
      out += fmt::format("\n{}\n", section);
    }
    if (item.done) ++done;
    out += fmt::format("  [{}] {}\n", item.done ? "x" : " ", item.item);
    if (!item.evidence.empty()) out += fmt::format("        {}\n", item.evidence);
  }
  out += fmt::format("\n{} of {} items done\n", done, items.size());
  return out;
}

nlohmann::json JsonTime(const std::optional<Timestamp>& t) {
  return t ? nlohmann::json(FormatRfc3339Utc(*t)) : nlohmann::json(nullptr);
}

nlohmann::json RunJson(const Run& run, const std::vector<StepExecution>& steps) {
  nlohmann::json list = nlohmann::json::array();
  for (const StepExecution& e : steps) {
    list.push_back(
        {{"step", e.step_name},
         {"host", e.host},
         {"state", StepStateName(e.state)},
         {"exit_code", e.exit_code ? nlohmann::json(*e.exit_code) : nlohmann::json(nullptr)},
         {"started", JsonTime(e.started_at)},
         {"finished", JsonTime(e.finished_at)},
         {"attempt", e.attempt},
         {"status_file", e.status_file},
         {"probe_exit_code",
          e.probe_exit_code ? nlohmann::json(*e.probe_exit_code) : nlohmann::json(nullptr)},
         {"evidence", e.evidence},
         {"output_tail", e.output_tail}});
  }
  return {{"id", run.id},
          {"state", RunStateName(run.state)},
          {"change_request", run.change_request},
          {"system", run.system},
          {"environment", run.environment},
          {"transport", run.transport},
          {"created_by", run.created_by},
          {"created", FormatRfc3339Utc(run.created_at)},
          {"started", JsonTime(run.started_at)},
          {"finished", JsonTime(run.finished_at)},
          {"owner", {{"pid", run.owner_pid}, {"host", run.owner_host}}},
          {"fencing_token", run.fencing_token},
          {"lease_expires", JsonTime(run.lease_expires_at)},
          {"cancel_requested", run.cancel_requested},
          {"message", run.message},
          {"attention", run.attention},
          {"steps", list}};
}

nlohmann::json RunTriggersJson(const std::string& run_id,
                               const std::vector<Evidence>& cr_evidence) {
  nlohmann::json list = nlohmann::json::array();
  for (const Evidence& e : cr_evidence) {
    if (e.run_id != run_id || e.kind != kEvidenceTrigger) continue;
    auto field = [&](const char* name) {
      auto it = e.fields.find(name);
      return it == e.fields.end() ? std::string() : it->second;
    };
    list.push_back({{"trigger", field("kind")},
                    {"action", field("action")},
                    {"measurement", e.value ? nlohmann::json(*e.value) : nlohmann::json(nullptr)},
                    {"fields", e.fields},
                    {"detail", e.detail},
                    {"at", FormatRfc3339Utc(e.at)}});
  }
  return list;
}

nlohmann::json CalendarJson(Timestamp from, Timestamp until, const std::string& environment,
                            const std::vector<CalendarEntry>& entries,
                            const std::vector<CalendarConflict>& conflicts) {
  nlohmann::json entry_list = nlohmann::json::array();
  for (const CalendarEntry& e : entries) entry_list.push_back(CalendarEntryToJson(e));
  nlohmann::json conflict_list = nlohmann::json::array();
  for (const CalendarConflict& c : conflicts) conflict_list.push_back(CalendarConflictToJson(c));
  return {
      {"from", FormatRfc3339Utc(from)},
      {"to", FormatRfc3339Utc(until)},
      {"environment", environment.empty() ? nlohmann::json(nullptr) : nlohmann::json(environment)},
      {"entries", entry_list},
      {"conflicts", conflict_list}};
}

nlohmann::json TokenJson(const ApiToken& token, Timestamp now) {
  return {{"id", token.id},
          {"person", token.person},
          {"label", token.label},
          {"state", std::string(TokenStateAt(token, now))},
          {"created", FormatRfc3339Utc(token.created_at)},
          {"created_by", token.created_by},
          {"expires", JsonTime(token.expires_at)},
          {"revoked", JsonTime(token.revoked_at)},
          {"revoked_by", token.revoked_by}};
}

nlohmann::json AuditEventJson(const AuditEvent& e) {
  nlohmann::json details = nlohmann::json::parse(e.details, nullptr, false);
  if (details.is_discarded()) details = e.details;
  return {{"seq", e.seq},
          {"at", FormatRfc3339Utc(e.at)},
          {"actor", e.actor},
          {"action", e.action},
          {"object", e.object},
          {"details", details},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

}  // namespace rollgate
