#include "store/serialization.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace rollgate {

using nlohmann::json;

namespace {

const TimeZone& Utc() {
  static const FixedOffsetZone utc{Seconds(0)};
  return utc;
}

// Unwraps a parse result inside from_json, where failures travel as exceptions.
template <typename T>
T ValueOrThrow(Result<T> result) {
  if (!result.ok()) throw std::invalid_argument(result.error().message());
  return std::move(result).value();
}

json TimeToJson(Timestamp t) { return FormatRfc3339Utc(t); }

Timestamp TimeFromJson(const json& value) {
  return ValueOrThrow(ParseTime(value.get<std::string>(), Utc()));
}

json OptionalTimeToJson(const std::optional<Timestamp>& t) {
  return t ? TimeToJson(*t) : json(nullptr);
}

// Reads `key` into `out` when present and not null; otherwise `out` keeps its default.
template <typename T>
void ReadField(const json& object, const char* key, T& out) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_null()) it->get_to(out);
}

void ReadTime(const json& object, const char* key, Timestamp& out) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_null()) out = TimeFromJson(*it);
}

void ReadOptionalTime(const json& object, const char* key, std::optional<Timestamp>& out) {
  auto it = object.find(key);
  out = (it != object.end() && !it->is_null()) ? std::optional(TimeFromJson(*it)) : std::nullopt;
}

template <typename T, typename Parse>
void ReadEnum(const json& object, const char* key, T& out, Parse parse) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_null()) out = ValueOrThrow(parse(it->get<std::string>()));
}

json CriteriaToJson(const std::vector<EmergencyCriterion>& criteria) {
  json out = json::array();
  for (auto c : criteria) out.push_back(EmergencyCriterionName(c));
  return out;
}

void ReadCriteria(const json& object, const char* key, std::vector<EmergencyCriterion>& out) {
  out.clear();
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  for (const auto& name : *it) {
    out.push_back(ValueOrThrow(ParseEmergencyCriterion(name.get<std::string>())));
  }
}

template <typename T>
Result<std::string> Dump(const T& value, std::string_view what) {
  try {
    return json(value).dump();
  } catch (const json::exception& e) {
    return InvalidArgument(fmt::format("{} cannot be stored: {}", what, e.what()));
  }
}

template <typename T>
Result<T> Load(std::string_view text, std::string_view what) {
  try {
    return json::parse(text).get<T>();
  } catch (const json::exception& e) {
    return InvalidArgument(fmt::format("{} is not readable: {}", what, e.what()));
  } catch (const std::invalid_argument& e) {
    return InvalidArgument(fmt::format("{} is not readable: {}", what, e.what()));
  }
}

}  // namespace

void to_json(json& out, const CvssScore& score) {
  out = json{{"version", score.version},
             {"vector", score.vector},
             {"base_score", score.base_score},
             {"severity", score.severity}};
}

void from_json(const json& in, CvssScore& score) {
  score = CvssScore{};
  ReadField(in, "version", score.version);
  ReadField(in, "vector", score.vector);
  ReadField(in, "base_score", score.base_score);
  ReadField(in, "severity", score.severity);
}

void to_json(json& out, const Classification& c) {
  out = json{{"priority", PriorityName(c.priority)},
             {"reasons", c.reasons},
             {"emergency", c.emergency},
             {"emergency_criteria", CriteriaToJson(c.emergency_criteria)},
             {"emergency_reasons", c.emergency_reasons},
             {"overridden", c.overridden},
             {"computed_priority", PriorityName(c.computed_priority)},
             {"override_justification", c.override_justification},
             {"overridden_by", c.overridden_by}};
}

void from_json(const json& in, Classification& c) {
  c = Classification{};
  ReadEnum(in, "priority", c.priority, ParsePriority);
  ReadField(in, "reasons", c.reasons);
  ReadField(in, "emergency", c.emergency);
  ReadCriteria(in, "emergency_criteria", c.emergency_criteria);
  ReadField(in, "emergency_reasons", c.emergency_reasons);
  ReadField(in, "overridden", c.overridden);
  ReadEnum(in, "computed_priority", c.computed_priority, ParsePriority);
  ReadField(in, "override_justification", c.override_justification);
  ReadField(in, "overridden_by", c.overridden_by);
}

void to_json(json& out, const PackageInfo& p) {
  out = json{{"file_name", p.file_name},
             {"sha256", p.sha256},
             {"size_bytes", p.size_bytes},
             {"source_url", p.source_url},
             {"signature_verified", p.signature_verified},
             {"signing_key_id", p.signing_key_id}};
}

void from_json(const json& in, PackageInfo& p) {
  p = PackageInfo{};
  ReadField(in, "file_name", p.file_name);
  ReadField(in, "sha256", p.sha256);
  ReadField(in, "size_bytes", p.size_bytes);
  ReadField(in, "source_url", p.source_url);
  ReadField(in, "signature_verified", p.signature_verified);
  ReadField(in, "signing_key_id", p.signing_key_id);
}

void to_json(json& out, const AffectedVersionRange& r) {
  out = json{{"type", r.type},
             {"introduced", r.introduced},
             {"fixed", r.fixed},
             {"last_affected", r.last_affected}};
}

void from_json(const json& in, AffectedVersionRange& r) {
  r = AffectedVersionRange{};
  ReadField(in, "type", r.type);
  ReadField(in, "introduced", r.introduced);
  ReadField(in, "fixed", r.fixed);
  ReadField(in, "last_affected", r.last_affected);
}

void to_json(json& out, const AffectedPackage& a) {
  out = json{{"name", a.name},       {"ecosystem", a.ecosystem},
             {"version", a.version}, {"versions", a.versions},
             {"ranges", a.ranges},   {"fixed_versions", a.fixed_versions}};
}

void from_json(const json& in, AffectedPackage& a) {
  a = AffectedPackage{};
  ReadField(in, "name", a.name);
  ReadField(in, "ecosystem", a.ecosystem);
  ReadField(in, "version", a.version);
  ReadField(in, "versions", a.versions);
  ReadField(in, "ranges", a.ranges);
  ReadField(in, "fixed_versions", a.fixed_versions);
}

void to_json(json& out, const Patch& p) {
  out = json{{"id", p.id},
             {"title", p.title},
             {"source", PatchSourceName(p.source)},
             {"cves", p.cves},
             {"references", p.references},
             {"version", p.version},
             {"cvss", p.cvss},
             {"exploited", p.exploited},
             {"declared_criteria", CriteriaToJson(p.declared_criteria)},
             {"release_notes", p.release_notes},
             {"package", p.package ? json(*p.package) : json(nullptr)},
             {"classification", p.classification},
             {"created_by", p.created_by},
             {"created_at", TimeToJson(p.created_at)},
             {"advisory_format", p.advisory_format},
             {"advisory_id", p.advisory_id}};
  // Written only when there is something: older rows and hand-made patches have none.
  if (!p.affected.empty()) out["affected"] = p.affected;
}

void from_json(const json& in, Patch& p) {
  p = Patch{};
  ReadField(in, "id", p.id);
  ReadField(in, "title", p.title);
  ReadEnum(in, "source", p.source, ParsePatchSource);
  ReadField(in, "cves", p.cves);
  ReadField(in, "references", p.references);
  ReadField(in, "version", p.version);
  ReadField(in, "cvss", p.cvss);
  ReadField(in, "exploited", p.exploited);
  ReadCriteria(in, "declared_criteria", p.declared_criteria);
  ReadField(in, "release_notes", p.release_notes);
  auto package = in.find("package");
  if (package != in.end() && !package->is_null()) p.package = package->get<PackageInfo>();
  ReadField(in, "classification", p.classification);
  ReadField(in, "created_by", p.created_by);
  ReadTime(in, "created_at", p.created_at);
  ReadField(in, "advisory_format", p.advisory_format);
  ReadField(in, "advisory_id", p.advisory_id);
  ReadField(in, "affected", p.affected);
}

void to_json(json& out, const Attachment& a) {
  out = json{{"kind", a.kind},         {"file_name", a.file_name},
             {"sha256", a.sha256},     {"size_bytes", a.size_bytes},
             {"added_by", a.added_by}, {"added_at", TimeToJson(a.added_at)}};
}

void from_json(const json& in, Attachment& a) {
  a = Attachment{};
  ReadField(in, "kind", a.kind);
  ReadField(in, "file_name", a.file_name);
  ReadField(in, "sha256", a.sha256);
  ReadField(in, "size_bytes", a.size_bytes);
  ReadField(in, "added_by", a.added_by);
  ReadTime(in, "added_at", a.added_at);
}

void to_json(json& out, const Approval& a) {
  out = json{{"environment", a.environment},
             {"approver", a.approver},
             {"role", a.role},
             {"at", TimeToJson(a.at)},
             {"cr_revision", a.cr_revision},
             {"verbal", a.verbal},
             {"recorded_by", a.recorded_by},
             {"conditions", a.conditions},
             {"confirmed_at", OptionalTimeToJson(a.confirmed_at)},
             {"emergency", a.emergency}};
}

void from_json(const json& in, Approval& a) {
  a = Approval{};
  ReadField(in, "environment", a.environment);
  ReadField(in, "approver", a.approver);
  ReadField(in, "role", a.role);
  ReadTime(in, "at", a.at);
  ReadField(in, "cr_revision", a.cr_revision);
  ReadField(in, "verbal", a.verbal);
  ReadField(in, "recorded_by", a.recorded_by);
  ReadField(in, "conditions", a.conditions);
  ReadOptionalTime(in, "confirmed_at", a.confirmed_at);
  ReadField(in, "emergency", a.emergency);
}

void to_json(json& out, const Rejection& r) {
  out = json{{"environment", r.environment},
             {"person", r.person},
             {"at", TimeToJson(r.at)},
             {"reason", r.reason}};
}

void from_json(const json& in, Rejection& r) {
  r = Rejection{};
  ReadField(in, "environment", r.environment);
  ReadField(in, "person", r.person);
  ReadTime(in, "at", r.at);
  ReadField(in, "reason", r.reason);
}

void to_json(json& out, const Signoff& s) {
  out = json{{"environment", s.environment}, {"kind", s.kind},
             {"person", s.person},           {"role", s.role},
             {"at", TimeToJson(s.at)},       {"cr_revision", s.cr_revision}};
}

void from_json(const json& in, Signoff& s) {
  s = Signoff{};
  ReadField(in, "environment", s.environment);
  ReadField(in, "kind", s.kind);
  ReadField(in, "person", s.person);
  ReadField(in, "role", s.role);
  ReadTime(in, "at", s.at);
  ReadField(in, "cr_revision", s.cr_revision);
}

void to_json(json& out, const Evidence& e) {
  out = json{{"environment", e.environment},
             {"kind", e.kind},
             {"passed", e.passed ? json(*e.passed) : json(nullptr)},
             {"value", e.value ? json(*e.value) : json(nullptr)},
             {"detail", e.detail},
             {"fields", e.fields},
             {"recorded_by", e.recorded_by},
             {"at", TimeToJson(e.at)},
             {"run_id", e.run_id}};
}

void from_json(const json& in, Evidence& e) {
  e = Evidence{};
  ReadField(in, "environment", e.environment);
  ReadField(in, "kind", e.kind);
  auto passed = in.find("passed");
  if (passed != in.end() && !passed->is_null()) e.passed = passed->get<bool>();
  auto value = in.find("value");
  if (value != in.end() && !value->is_null()) e.value = value->get<double>();
  ReadField(in, "detail", e.detail);
  ReadField(in, "fields", e.fields);
  ReadField(in, "recorded_by", e.recorded_by);
  ReadTime(in, "at", e.at);
  ReadField(in, "run_id", e.run_id);
}

void to_json(json& out, const EmergencyJustification& j) {
  out = json{{"incident", j.incident},
             {"why_not_normal", j.why_not_normal},
             {"cvss_score", j.cvss_score ? json(*j.cvss_score) : json(nullptr)},
             {"cvss_source", j.cvss_source},
             {"criteria", j.criteria},
             {"recorded_by", j.recorded_by},
             {"recorded_at", TimeToJson(j.recorded_at)}};
}

void from_json(const json& in, EmergencyJustification& j) {
  j = EmergencyJustification{};
  ReadField(in, "incident", j.incident);
  ReadField(in, "why_not_normal", j.why_not_normal);
  auto score = in.find("cvss_score");
  if (score != in.end() && !score->is_null()) j.cvss_score = score->get<double>();
  ReadField(in, "cvss_source", j.cvss_source);
  ReadField(in, "criteria", j.criteria);
  ReadField(in, "recorded_by", j.recorded_by);
  ReadTime(in, "recorded_at", j.recorded_at);
}

void to_json(json& out, const ChangeRequest& cr) {
  json scheduled = json::object();
  for (const auto& [environment, at] : cr.scheduled) scheduled[environment] = TimeToJson(at);
  out = json{{"id", cr.id},
             {"number", cr.number},
             {"patch_id", cr.patch_id},
             {"title", cr.title},
             {"classification", PriorityName(cr.classification)},
             {"emergency", cr.emergency},
             {"description", cr.description},
             {"system", cr.system},
             {"affected_systems", cr.affected_systems},
             {"type", ChangeTypeName(cr.type)},
             {"implementation_plan", cr.implementation_plan},
             {"rollback_plan", cr.rollback_plan},
             {"risk_assessment", cr.risk_assessment},
             {"test_plan", cr.test_plan},
             {"expected_downtime_seconds", cr.expected_downtime.count()},
             {"expected_duration_seconds", cr.expected_duration.count()},
             {"rollback_complexity", RollbackComplexityName(cr.rollback_complexity)},
             {"requester", cr.requester},
             {"created_at", TimeToJson(cr.created_at)},
             {"submitted_at", OptionalTimeToJson(cr.submitted_at)},
             {"scheduled", scheduled},
             {"state", CrStateName(cr.state)},
             {"revision", cr.revision},
             {"attachments", cr.attachments},
             {"approvals", cr.approvals},
             {"rejections", cr.rejections},
             {"signoffs", cr.signoffs},
             {"evidence", cr.evidence},
             {"emergency_justification",
              cr.emergency_justification ? json(*cr.emergency_justification) : json(nullptr)},
             {"cancel_reason", cr.cancel_reason},
             {"updated_at", TimeToJson(cr.updated_at)}};
}

void from_json(const json& in, ChangeRequest& cr) {
  cr = ChangeRequest{};
  ReadField(in, "id", cr.id);
  ReadField(in, "number", cr.number);
  ReadField(in, "patch_id", cr.patch_id);
  ReadField(in, "title", cr.title);
  ReadEnum(in, "classification", cr.classification, ParsePriority);
  ReadField(in, "emergency", cr.emergency);
  ReadField(in, "description", cr.description);
  ReadField(in, "system", cr.system);
  ReadField(in, "affected_systems", cr.affected_systems);
  ReadEnum(in, "type", cr.type, ParseChangeType);
  ReadField(in, "implementation_plan", cr.implementation_plan);
  ReadField(in, "rollback_plan", cr.rollback_plan);
  ReadField(in, "risk_assessment", cr.risk_assessment);
  ReadField(in, "test_plan", cr.test_plan);
  int64_t seconds = 0;
  ReadField(in, "expected_downtime_seconds", seconds);
  cr.expected_downtime = Seconds(seconds);
  seconds = 0;
  ReadField(in, "expected_duration_seconds", seconds);
  cr.expected_duration = Seconds(seconds);
  ReadEnum(in, "rollback_complexity", cr.rollback_complexity, ParseRollbackComplexity);
  ReadField(in, "requester", cr.requester);
  ReadTime(in, "created_at", cr.created_at);
  ReadOptionalTime(in, "submitted_at", cr.submitted_at);
  auto scheduled = in.find("scheduled");
  if (scheduled != in.end() && !scheduled->is_null()) {
    for (const auto& [environment, at] : scheduled->items()) {
      cr.scheduled[environment] = TimeFromJson(at);
    }
  }
  ReadEnum(in, "state", cr.state, ParseCrState);
  ReadField(in, "revision", cr.revision);
  ReadField(in, "attachments", cr.attachments);
  ReadField(in, "approvals", cr.approvals);
  ReadField(in, "rejections", cr.rejections);
  ReadField(in, "signoffs", cr.signoffs);
  ReadField(in, "evidence", cr.evidence);
  auto justification = in.find("emergency_justification");
  if (justification != in.end() && !justification->is_null()) {
    cr.emergency_justification = justification->get<EmergencyJustification>();
  }
  ReadField(in, "cancel_reason", cr.cancel_reason);
  ReadTime(in, "updated_at", cr.updated_at);
}

namespace {

json OptionalNumberToJson(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

void ReadOptionalNumber(const json& object, const char* key, std::optional<double>& out) {
  auto it = object.find(key);
  out = (it != object.end() && !it->is_null()) ? std::optional(it->get<double>()) : std::nullopt;
}

json CountersToJson(const std::map<std::string, CounterReading>& counters) {
  json out = json::object();
  for (const auto& [host, reading] : counters) {
    out[host] = {
        {"at", TimeToJson(reading.at)}, {"requests", reading.requests}, {"errors", reading.errors}};
  }
  return out;
}

void ReadCounters(const json& object, const char* key, std::map<std::string, CounterReading>& out) {
  out.clear();
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  for (const auto& [host, value] : it->items()) {
    CounterReading& reading = out[host];
    ReadTime(value, "at", reading.at);
    ReadField(value, "requests", reading.requests);
    ReadField(value, "errors", reading.errors);
  }
}

}  // namespace

void to_json(json& out, const DiagnosticReport& r) {
  json results = json::array();
  for (const DiagnosticResult& d : r.results) {
    results.push_back({{"host", d.host},
                       {"check", d.check},
                       {"title", d.title},
                       {"command", d.command},
                       {"exit_code", d.exit_code ? json(*d.exit_code) : json(nullptr)},
                       {"timed_out", d.timed_out},
                       {"truncated", d.truncated},
                       {"output", d.output},
                       {"highlights", d.highlights},
                       {"started", TimeToJson(d.started)},
                       {"finished", TimeToJson(d.finished)}});
  }
  out = json{{"run_id", r.run_id},
             {"failure", FailureClassName(r.failure)},
             {"reason", r.reason},
             {"transient", r.transient},
             {"resolution", r.resolution},
             {"resolution_detail", r.resolution_detail},
             {"requested_by", r.requested_by},
             {"automatic", r.automatic},
             {"at", TimeToJson(r.at)},
             {"hosts", r.hosts},
             {"results", std::move(results)}};
}

void from_json(const json& in, DiagnosticReport& r) {
  int64_t id = r.id;
  r = DiagnosticReport{};
  r.id = id;
  ReadField(in, "run_id", r.run_id);
  ReadEnum(in, "failure", r.failure, ParseFailureClass);
  ReadField(in, "reason", r.reason);
  ReadField(in, "transient", r.transient);
  ReadField(in, "resolution", r.resolution);
  ReadField(in, "resolution_detail", r.resolution_detail);
  ReadField(in, "requested_by", r.requested_by);
  ReadField(in, "automatic", r.automatic);
  ReadTime(in, "at", r.at);
  ReadField(in, "hosts", r.hosts);
  if (auto it = in.find("results"); it != in.end() && it->is_array()) {
    for (const json& d : *it) {
      DiagnosticResult& result = r.results.emplace_back();
      ReadField(d, "host", result.host);
      ReadField(d, "check", result.check);
      ReadField(d, "title", result.title);
      ReadField(d, "command", result.command);
      if (auto code = d.find("exit_code"); code != d.end() && !code->is_null()) {
        result.exit_code = code->get<int>();
      }
      ReadField(d, "timed_out", result.timed_out);
      ReadField(d, "truncated", result.truncated);
      ReadField(d, "output", result.output);
      ReadField(d, "highlights", result.highlights);
      ReadTime(d, "started", result.started);
      ReadTime(d, "finished", result.finished);
    }
  }
}

void to_json(json& out, const Watch& w) {
  json samples = json::array();
  for (const ProbeSample& s : w.samples) {
    samples.push_back({{"at", TimeToJson(s.at)},
                       {"host", s.host},
                       {"ok", s.ok},
                       {"ms", OptionalNumberToJson(s.ms)}});
  }
  out = json{{"change_request", w.change_request},
             {"environment", w.environment},
             {"run_id", w.run_id},
             {"system", w.system},
             {"state", WatchStateName(w.state)},
             {"emergency", w.emergency},
             {"started_at", TimeToJson(w.started_at)},
             {"ends_at", TimeToJson(w.ends_at)},
             {"interval_seconds", w.interval.count()},
             {"checkins_until", OptionalTimeToJson(w.checkins_until)},
             {"next_probe_at", TimeToJson(w.next_probe_at)},
             {"last_checkin_at", OptionalTimeToJson(w.last_checkin_at)},
             {"baseline_ms", OptionalNumberToJson(w.baseline_ms)},
             {"summary", w.summary},
             {"fired_detail", w.fired_detail},
             {"stop_reason", w.stop_reason},
             {"response_pending", w.response_pending},
             {"fired_at", OptionalTimeToJson(w.fired_at)},
             {"updated_at", TimeToJson(w.updated_at)},
             {"samples", std::move(samples)},
             {"probes", w.probes},
             {"failed_probes", w.failed_probes},
             {"period_probes", w.period_probes},
             {"period_failed", w.period_failed},
             {"period_failed_by_host", w.period_failed_by_host},
             {"first_counters", CountersToJson(w.first_counters)},
             {"last_counters", CountersToJson(w.last_counters)},
             {"last_error_percent", OptionalNumberToJson(w.last_error_percent)}};
}

void from_json(const json& in, Watch& w) {
  w = Watch{};
  ReadField(in, "change_request", w.change_request);
  ReadField(in, "environment", w.environment);
  ReadField(in, "run_id", w.run_id);
  ReadField(in, "system", w.system);
  ReadEnum(in, "state", w.state, ParseWatchState);
  ReadField(in, "emergency", w.emergency);
  ReadTime(in, "started_at", w.started_at);
  ReadTime(in, "ends_at", w.ends_at);
  int64_t interval = w.interval.count();
  ReadField(in, "interval_seconds", interval);
  w.interval = Seconds(interval);
  ReadOptionalTime(in, "checkins_until", w.checkins_until);
  ReadTime(in, "next_probe_at", w.next_probe_at);
  ReadOptionalTime(in, "last_checkin_at", w.last_checkin_at);
  ReadOptionalNumber(in, "baseline_ms", w.baseline_ms);
  ReadField(in, "summary", w.summary);
  ReadField(in, "fired_detail", w.fired_detail);
  ReadField(in, "stop_reason", w.stop_reason);
  ReadField(in, "response_pending", w.response_pending);
  ReadOptionalTime(in, "fired_at", w.fired_at);
  ReadTime(in, "updated_at", w.updated_at);
  if (auto it = in.find("samples"); it != in.end() && it->is_array()) {
    for (const json& s : *it) {
      ProbeSample& sample = w.samples.emplace_back();
      ReadTime(s, "at", sample.at);
      ReadField(s, "host", sample.host);
      ReadField(s, "ok", sample.ok);
      ReadOptionalNumber(s, "ms", sample.ms);
    }
  }
  ReadField(in, "probes", w.probes);
  ReadField(in, "failed_probes", w.failed_probes);
  ReadField(in, "period_probes", w.period_probes);
  ReadField(in, "period_failed", w.period_failed);
  ReadField(in, "period_failed_by_host", w.period_failed_by_host);
  ReadCounters(in, "first_counters", w.first_counters);
  ReadCounters(in, "last_counters", w.last_counters);
  ReadOptionalNumber(in, "last_error_percent", w.last_error_percent);
}

Result<std::string> PatchToJson(const Patch& patch) {
  return Dump(patch, fmt::format("patch {}", patch.id));
}

Result<std::string> ChangeRequestToJson(const ChangeRequest& cr) {
  return Dump(cr, fmt::format("change request {}", cr.id));
}

Result<std::string> WatchToJson(const Watch& watch) {
  return Dump(watch, fmt::format("watch of {} in {}", watch.change_request, watch.environment));
}

Result<Watch> WatchFromJson(std::string_view text) { return Load<Watch>(text, "watch record"); }

Result<std::string> DiagnosticReportToJson(const DiagnosticReport& report) {
  return Dump(report, fmt::format("diagnostics of run {}", report.run_id));
}

Result<DiagnosticReport> DiagnosticReportFromJson(std::string_view text) {
  return Load<DiagnosticReport>(text, "diagnostics record");
}

Result<Patch> PatchFromJson(std::string_view text) { return Load<Patch>(text, "patch record"); }

Result<ChangeRequest> ChangeRequestFromJson(std::string_view text) {
  return Load<ChangeRequest>(text, "change request record");
}

}  // namespace rollgate
