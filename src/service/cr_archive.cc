#include "service/cr_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc, _GNU_SOURCE)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <tuple>

#include "common/sha256.h"
#include "common/strings.h"
#include "domain/cr_document.h"
#include "store/serialization.h"

namespace rollgate {

namespace {

using nlohmann::json;

constexpr size_t kMaxComponentBytes = 255;
constexpr size_t kMaxPathBytes = 1024;

// ---------------------------------------------------------------------------------------------
// Which part of §4.3 step 3 a piece of evidence belongs to.

enum class Section { kDeployment, kTests, kMonitoring, kCommunications, kApprovals };

Section SectionOf(std::string_view kind) {
  static const std::map<std::string_view, Section> kSections = {
      {kEvidenceNotification, Section::kCommunications},
      {kEvidenceRiskAcceptance, Section::kApprovals},
      {kEvidenceRollbackAuthorisation, Section::kApprovals},
      {kEvidenceTestResultsApproved, Section::kApprovals},
      {kEvidenceWindowConfirmed, Section::kApprovals},
      {kEvidenceSmoke, Section::kTests},
      {kEvidenceRegression, Section::kTests},
      {kEvidenceHealth, Section::kTests},
      {kEvidenceBusinessFunctions, Section::kTests},
      {kEvidenceDataIntegrity, Section::kTests},
      {kEvidenceRollbackTested, Section::kTests},
      {kEvidenceMonitoring, Section::kMonitoring},
      {kEvidenceMetrics, Section::kMonitoring},
      {kEvidenceWatchCheckin, Section::kMonitoring},
      {kEvidenceTrigger, Section::kMonitoring},
      {kEvidenceTriggerDecision, Section::kMonitoring},
      {kEvidenceAlerts, Section::kMonitoring},
  };
  auto it = kSections.find(kind);
  // deployment, readiness, backup, logs, package-verified, prerequisites, rollback, and any kind
  // this build does not know: the deployment record keeps them.
  return it == kSections.end() ? Section::kDeployment : it->second;
}

// An attachment holding test results (JUnit XML, a results export) rather than a plan.
bool IsTestResultAttachment(const Attachment& attachment) {
  std::string kind = ToLower(attachment.kind);
  return kind.find("result") != std::string::npos || kind.find("junit") != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

// JSON text for a member: indented, keys sorted (nlohmann's object is ordered), any invalid UTF-8
// replaced by U+FFFD rather than failing the archive, a final newline.
std::string JsonText(const json& document) {
  return document.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string OptionalTime(const std::optional<Timestamp>& t) {
  return t ? FormatRfc3339Utc(*t) : "-";
}

json OptionalTimeJson(const std::optional<Timestamp>& t) {
  return t ? json(FormatRfc3339Utc(*t)) : json(nullptr);
}

// The N of "RUN-N" for ordering (runs of other shapes sort after, by id).
int64_t RunNumber(const std::string& id) {
  if (!StartsWith(id, "RUN-") || id.size() > 22) return INT64_MAX;
  std::string_view digits = std::string_view(id).substr(4);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return INT64_MAX;
  }
  return std::stoll(std::string(digits));
}

json EvidenceListJson(const ChangeRequest& cr, Section section) {
  json list = json::array();
  for (size_t i = 0; i < cr.evidence.size(); ++i) {
    const Evidence& e = cr.evidence[i];
    if (SectionOf(e.kind) != section) continue;
    json item = e;
    item["index"] = i + 1;  // its place among all the CR's evidence (cr_show's order)
    list.push_back(std::move(item));
  }
  return list;
}

json RunJson(const ArchivedRun& record) {
  const Run& run = record.run;
  json steps = json::array();
  for (const StepExecution& s : record.steps) {
    steps.push_back(
        {{"step", s.step_name},
         {"phase", s.phase},
         {"index", s.step},
         {"host", s.host},
         {"attempt", s.attempt},
         {"state", StepStateName(s.state)},
         {"exit_code", s.exit_code ? json(*s.exit_code) : json(nullptr)},
         {"started", OptionalTimeJson(s.started_at)},
         {"finished", OptionalTimeJson(s.finished_at)},
         {"output_tail", s.output_tail},
         {"probe_exit_code", s.probe_exit_code ? json(*s.probe_exit_code) : json(nullptr)},
         {"evidence", s.evidence}});
  }
  json plan = json::parse(run.plan_json, nullptr, false);
  if (plan.is_discarded()) plan = run.plan_json;
  return {{"id", run.id},
          {"change_request", run.change_request},
          {"environment", run.environment},
          {"system", run.system},
          {"state", RunStateName(run.state)},
          {"transport", run.transport},
          {"created_by", run.created_by},
          {"created", FormatRfc3339Utc(run.created_at)},
          {"started", OptionalTimeJson(run.started_at)},
          {"finished", OptionalTimeJson(run.finished_at)},
          {"message", run.message},
          {"attention", run.attention},
          {"plan", std::move(plan)},
          {"steps", std::move(steps)}};
}

// The run as a log a person reads: a header, then each step execution with its output tail
// (verbatim bytes, as recorded).
std::string RunLog(const ArchivedRun& record) {
  const Run& run = record.run;
  std::string log = fmt::format(
      "Run {}: {} in {}, system {}, transport {}\n"
      "State:    {}\n"
      "Created:  {} by {}\n"
      "Started:  {}\n"
      "Finished: {}\n",
      run.id, run.change_request, run.environment, run.system, run.transport,
      RunStateName(run.state), FormatRfc3339Utc(run.created_at), run.created_by,
      OptionalTime(run.started_at), OptionalTime(run.finished_at));
  if (!run.message.empty()) log += fmt::format("Message:  {}\n", run.message);
  if (!run.attention.empty()) log += fmt::format("Attention: {}\n", run.attention);
  for (const StepExecution& s : record.steps) {
    log += fmt::format("\n== {} on {} (attempt {}): {}, exit code {}\n", s.step_name, s.host,
                       s.attempt, StepStateName(s.state),
                       s.exit_code ? std::to_string(*s.exit_code) : "-");
    log += fmt::format("   started {}, finished {}\n", OptionalTime(s.started_at),
                       OptionalTime(s.finished_at));
    if (s.probe_exit_code) log += fmt::format("   probe exit code {}\n", *s.probe_exit_code);
    if (!s.evidence.empty()) log += fmt::format("   decided by: {}\n", s.evidence);
    if (s.output_tail.empty()) {
      log += "   (no output)\n";
      continue;
    }
    log += "   --- output tail ---\n";
    log += s.output_tail;
    if (s.output_tail.back() != '\n') log += '\n';
    log += "   --- end of output ---\n";
  }
  return log;
}

std::string AuditEventsJsonl(std::vector<AuditEvent> events) {
  std::sort(events.begin(), events.end(),
            [](const AuditEvent& a, const AuditEvent& b) { return a.seq < b.seq; });
  std::string text;
  int64_t previous = -1;
  for (const AuditEvent& e : events) {
    if (e.seq == previous) continue;  // the same event asked for twice
    previous = e.seq;
    json details = json::parse(e.details, nullptr, false);
    if (details.is_discarded()) details = e.details;
    json line = {{"seq", e.seq},
                 {"at", FormatRfc3339Utc(e.at)},
                 {"actor", e.actor},
                 {"action", e.action},
                 {"object", e.object},
                 {"details", std::move(details)},
                 {"prev_hash", e.prev_hash},
                 {"hash", e.hash}};
    text += line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return text;
}

// What each member is, for README.txt (by path prefix, most specific first).
std::string Describe(const std::string& path, const std::string& cr_id) {
  if (path == fmt::format("change-request/{}.md", cr_id)) {
    return "the change request as the playbook's Appendix B (`rollgate cr show --format markdown`)";
  }
  if (path == fmt::format("change-request/{}.json", cr_id)) {
    return "the change request, every field, approval, sign-off and evidence (`cr show --output "
           "json`)";
  }
  if (path == "change-request/attachments.json") {
    return "the attachments' records and where each is in this archive";
  }
  if (StartsWith(path, "change-request/")) return "the patch the change request deploys";
  if (path == "approvals/approvals.json") {
    return "approvals, rejections, sign-offs, the emergency justification and authorisations";
  }
  if (path == "deployment-logs/evidence.json") {
    return "deployment evidence: deployments, readiness, backups, log checks, rollbacks";
  }
  if (StartsWith(path, "deployment-logs/") && path.ends_with(".json")) {
    return "a run: every step execution's state, exit code, times and output tail (JSON)";
  }
  if (StartsWith(path, "deployment-logs/")) return "the same run as a readable log";
  if (path == "test-results/evidence.json") {
    return "test results: smoke, regression, health, business functions, data integrity";
  }
  if (StartsWith(path, "test-results/")) return "a test-result document attached to the CR";
  if (path == "monitoring/evidence.json") {
    return "monitoring data: metrics baselines and comparisons, watch check-ins, triggers";
  }
  if (path == "monitoring/watches.json") {
    return "the enhanced-monitoring watches: baseline, probe samples, counters, outcome";
  }
  if (path == "communications/notifications.json") {
    return "communication records: every notification, its channel, recipient and outcome";
  }
  if (StartsWith(path, "attachments/")) return "a document attached to the CR";
  if (path == "audit/events.jsonl") {
    return "the audit events of the CR, its patch and its runs (as `rollgate audit export`)";
  }
  if (path == "audit/checkpoint.txt") {
    return "the audit chain's head when the archive was made (`rollgate audit checkpoint`)";
  }
  return "";
}

std::string Readme(const CrArchiveInput& input, const std::vector<std::string>& paths) {
  const ChangeRequest& cr = input.cr;
  std::string text = fmt::format(
      "Evidence archive of {}: {}\n"
      "Made {} by {} with Rollgate (playbook section 4.3 step 3).\n"
      "Audit chain head when made: event {} ({}).\n\n",
      cr.id, cr.title, FormatRfc3339Utc(input.created_at), input.created_by, input.checkpoint.seq,
      input.checkpoint.head_hash);
  text += "Files\n-----\n";
  size_t width = 0;
  for (const std::string& path : paths) width = std::max(width, path.size());
  for (const std::string& path : paths) {
    text += fmt::format("{:<{}}  {}\n", path, width, Describe(path, cr.id));
  }
  text += fmt::format("{:<{}}  {}\n", kArchiveReadmeName, width, "this file");
  text += fmt::format("{:<{}}  {}\n\n", kArchiveManifestName, width,
                      "SHA-256 of every other file, for sha256sum -c");
  text += fmt::format(
      "Verifying\n"
      "---------\n"
      "Extract into an empty directory and check every file against the manifest:\n\n"
      "    mkdir {0}-archive && tar xzf ARCHIVE.tar.gz -C {0}-archive\n"
      "    cd {0}-archive && sha256sum -c SHA256SUMS\n\n"
      "Every line must say OK. The manifest shows that the files are as they were when the\n"
      "archive was made; it does not show who made it (anyone can recompute it). For that, the\n"
      "SHA-256 of the whole archive file is recorded in Rollgate's hash-chained audit log as a\n"
      "'cr.archive' event on {0} (`rollgate audit export`), and `rollgate audit verify\n"
      "--against audit/checkpoint.txt` checks that the live chain still holds the head recorded\n"
      "here. Each line of audit/events.jsonl carries its prev_hash and hash: the hash is the\n"
      "SHA-256 of the event's canonical encoding (docs/audit-chain.md), so an event can be\n"
      "re-hashed by hand; the events of other objects between them are not in this archive.\n"
      "The archiving itself is recorded after the archive is written, so its event is not in\n"
      "audit/events.jsonl.\n",
      cr.id);
  return text;
}

ArchiveMember Member(std::string path, std::string content) {
  std::string sha = Sha256Hex(content);
  return ArchiveMember{std::move(path), std::move(content), std::move(sha)};
}

// ---------------------------------------------------------------------------------------------
// libarchive handles (STYLE.md 6).

struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t AppendToString(archive* /*a*/, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

Status LibarchiveError(archive* a, std::string_view what) {
  const char* message = archive_error_string(a);
  return Internal(fmt::format("writing the archive: {}: {}", what,
                              message != nullptr ? message : "unknown libarchive error"));
}

// ---------------------------------------------------------------------------------------------
// Files.

struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

Status OsError(std::string_view context, int error) {
  return Unavailable(fmt::format("{}: {}", context, std::strerror(error)));
}

// Writes `bytes` to a new temporary file beside `target`, synced; returns its path.
Result<std::filesystem::path> WriteTemporary(const std::filesystem::path& target,
                                             const std::string& bytes) {
  std::filesystem::path directory = target.parent_path();
  if (directory.empty()) directory = ".";
  std::string name = (directory / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  FileDescriptor file{::mkstemp(buffer.data())};
  if (file.fd < 0) {
    return OsError(fmt::format("cannot create a file in {}", EscapeForDisplay(directory.string())),
                   errno);
  }
  std::filesystem::path temporary(buffer.data());
  auto fail = [&](std::string_view what) -> Status {
    Status status =
        OsError(fmt::format("{} {}", what, EscapeForDisplay(temporary.string())), errno);
    ::unlink(temporary.c_str());
    return status;
  };
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(file.fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    written += static_cast<size_t>(n);
  }
  if (::fchmod(file.fd, 0644) != 0) return fail("cannot set the mode of");
  if (::fsync(file.fd) != 0) return fail("cannot sync");
  int fd = file.fd;
  file.fd = -1;
  if (::close(fd) != 0) return fail("cannot close");
  return temporary;
}

// Moves `temporary` to `target`: replacing it with `force`, else refusing when it exists (also
// when it appeared after the earlier check).
Status PlaceFile(const std::filesystem::path& temporary, const std::filesystem::path& target,
                 bool force) {
  auto exists = [&] {
    return InvalidArgument(
        fmt::format("{} already exists; --force replaces it", EscapeForDisplay(target.string())));
  };
  if (force) {
    if (::rename(temporary.c_str(), target.c_str()) != 0) {
      return OsError(fmt::format("cannot write {}", EscapeForDisplay(target.string())), errno);
    }
    return Status::Ok();
  }
  if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  if (errno == EEXIST) return exists();
  if (errno != EINVAL && errno != ENOSYS) {
    return OsError(fmt::format("cannot write {}", EscapeForDisplay(target.string())), errno);
  }
  // A file system without RENAME_NOREPLACE: link(2) refuses an existing name just the same.
  if (::link(temporary.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST) return exists();
    return OsError(fmt::format("cannot write {}", EscapeForDisplay(target.string())), errno);
  }
  ::unlink(temporary.c_str());
  return Status::Ok();
}

void SyncDirectory(const std::filesystem::path& target) {
  std::filesystem::path directory = target.parent_path();
  if (directory.empty()) directory = ".";
  FileDescriptor dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd >= 0) (void)::fsync(dir.fd);  // best effort: the file itself is synced
}

}  // namespace

// -----------------------------------------------------------------------------------------------

bool IsSafeMemberPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxPathBytes) return false;
  for (const std::string& component : Split(path, '/')) {
    if (component.empty() || component == "." || component == ".." ||
        component.size() > kMaxComponentBytes) {
      return false;
    }
    for (char c : component) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
  }
  return true;
}

std::string SafePathComponent(std::string_view text, std::string_view fallback, size_t max_bytes) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (ok) {
      out += c;
    } else if (out.empty() || out.back() != '_') {
      out += '_';
    }
  }
  size_t first = out.find_first_not_of('.');
  out = first == std::string::npos ? std::string() : out.substr(first);
  if (out.size() > max_bytes) out.resize(max_bytes);
  if (out.empty() || out == "_" || !IsSafeMemberPath(out)) return std::string(fallback);
  return out;
}

std::string Sha256Manifest(const std::vector<ArchiveMember>& members) {
  std::string manifest;
  for (const ArchiveMember& m : members) {
    if (m.path == kArchiveManifestName) continue;
    manifest += fmt::format("{}  {}\n", m.sha256, m.path);
  }
  return manifest;
}

Result<std::vector<ArchiveMember>> BuildCrArchiveFiles(const CrArchiveInput& input,
                                                       const Config& config, const TimeZone& zone) {
  const ChangeRequest& cr = input.cr;
  const std::string cr_name = SafePathComponent(cr.id, "change-request");
  const Patch* patch = input.patch ? &*input.patch : nullptr;
  std::vector<ArchiveMember> members;

  // The CR document, as `cr show` renders it, and its attachments.
  members.push_back(Member(fmt::format("change-request/{}.md", cr_name),
                           RenderCrMarkdown(cr, patch, config, input.created_at, zone)));
  members.push_back(Member(fmt::format("change-request/{}.json", cr_name),
                           JsonText(CrToJson(cr, patch, config, input.created_at, zone))));
  if (patch != nullptr) {
    members.push_back(
        Member(fmt::format("change-request/{}.json", SafePathComponent(patch->id, "patch")),
               JsonText(json(*patch))));
  }
  json attachment_index = json::array();
  for (size_t i = 0; i < cr.attachments.size(); ++i) {
    const Attachment& a = cr.attachments[i];
    auto blob = std::find_if(input.blobs.begin(), input.blobs.end(),
                             [&](const ArchivedBlob& b) { return b.sha256 == a.sha256; });
    if (blob == input.blobs.end()) {
      return Corruption(fmt::format("attachment {} '{}' of {}: its content (sha256 {}) is missing",
                                    a.kind, EscapeForDisplay(a.file_name), cr.id, a.sha256));
    }
    if (Sha256Hex(blob->content) != a.sha256) {
      return Corruption(
          fmt::format("attachment {} '{}' of {}: the stored content does not match its sha256 {}",
                      a.kind, EscapeForDisplay(a.file_name), cr.id, a.sha256));
    }
    std::string path = fmt::format(
        "{}/{:02}-{}-{}", IsTestResultAttachment(a) ? "test-results" : "attachments", i + 1,
        SafePathComponent(a.kind, "document", 40), SafePathComponent(a.file_name, "file"));
    json record = a;
    record["member"] = path;
    attachment_index.push_back(std::move(record));
    members.push_back(Member(path, blob->content));
  }
  members.push_back(
      Member("change-request/attachments.json",
             JsonText({{"change_request", cr.id}, {"attachments", attachment_index}})));

  // Approvals and sign-offs.
  json approvals = {
      {"change_request", cr.id},
      {"revision", cr.revision},
      {"approvals", cr.approvals},
      {"rejections", cr.rejections},
      {"signoffs", cr.signoffs},
      {"emergency_justification",
       cr.emergency_justification ? json(*cr.emergency_justification) : json(nullptr)},
      {"evidence", EvidenceListJson(cr, Section::kApprovals)}};
  members.push_back(Member("approvals/approvals.json", JsonText(approvals)));

  // Deployment logs: every run of the CR, and the evidence the runs recorded.
  std::vector<const ArchivedRun*> runs;
  for (const ArchivedRun& r : input.runs) runs.push_back(&r);
  std::sort(runs.begin(), runs.end(), [](const ArchivedRun* a, const ArchivedRun* b) {
    int64_t na = RunNumber(a->run.id), nb = RunNumber(b->run.id);
    return na != nb ? na < nb : a->run.id < b->run.id;
  });
  json run_ids = json::array();
  for (const ArchivedRun* r : runs) {
    std::string name = SafePathComponent(r->run.id, "run");
    members.push_back(Member(fmt::format("deployment-logs/{}.json", name), JsonText(RunJson(*r))));
    members.push_back(Member(fmt::format("deployment-logs/{}.log", name), RunLog(*r)));
    run_ids.push_back(r->run.id);
  }
  members.push_back(Member("deployment-logs/evidence.json",
                           JsonText({{"change_request", cr.id},
                                     {"runs", run_ids},
                                     {"evidence", EvidenceListJson(cr, Section::kDeployment)}})));

  // Test results, monitoring data, communication records.
  members.push_back(Member(
      "test-results/evidence.json",
      JsonText({{"change_request", cr.id}, {"evidence", EvidenceListJson(cr, Section::kTests)}})));
  members.push_back(Member("monitoring/evidence.json",
                           JsonText({{"change_request", cr.id},
                                     {"evidence", EvidenceListJson(cr, Section::kMonitoring)}})));
  std::vector<const Watch*> watches;
  for (const Watch& w : input.watches) watches.push_back(&w);
  std::sort(watches.begin(), watches.end(), [](const Watch* a, const Watch* b) {
    return std::tie(a->started_at, a->environment, a->run_id) <
           std::tie(b->started_at, b->environment, b->run_id);
  });
  json watch_list = json::array();
  for (const Watch* w : watches) watch_list.push_back(*w);
  members.push_back(Member("monitoring/watches.json",
                           JsonText({{"change_request", cr.id}, {"watches", watch_list}})));
  members.push_back(
      Member("communications/notifications.json",
             JsonText({{"change_request", cr.id},
                       {"notifications", EvidenceListJson(cr, Section::kCommunications)}})));

  // The audit trail and the chain's head.
  members.push_back(Member("audit/events.jsonl", AuditEventsJsonl(input.audit_events)));
  members.push_back(Member("audit/checkpoint.txt", FormatCheckpoint(input.checkpoint) + "\n"));

  std::sort(members.begin(), members.end(),
            [](const ArchiveMember& a, const ArchiveMember& b) { return a.path < b.path; });
  std::vector<std::string> paths;
  paths.reserve(members.size());
  for (const ArchiveMember& m : members) paths.push_back(m.path);
  members.push_back(Member(kArchiveReadmeName, Readme(input, paths)));
  std::sort(members.begin(), members.end(),
            [](const ArchiveMember& a, const ArchiveMember& b) { return a.path < b.path; });
  members.push_back(Member(kArchiveManifestName, Sha256Manifest(members)));
  std::sort(members.begin(), members.end(),
            [](const ArchiveMember& a, const ArchiveMember& b) { return a.path < b.path; });

  std::set<std::string> seen;
  for (const ArchiveMember& m : members) {
    if (!IsSafeMemberPath(m.path) || !seen.insert(m.path).second) {
      // Every path above is built from safe components and distinct prefixes.
      return Internal(
          fmt::format("archive member path '{}' is unsafe or repeated", EscapeForDisplay(m.path)));
    }
  }
  return members;
}

Result<std::string> WriteTarGz(const std::vector<ArchiveMember>& members, Timestamp mtime) {
  for (const ArchiveMember& m : members) {
    if (!IsSafeMemberPath(m.path)) {
      return InvalidArgument(
          fmt::format("unsafe archive member path '{}'", EscapeForDisplay(m.path)));
    }
  }
  std::string bytes;
  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  if (!a) return Internal("writing the archive: libarchive could not allocate a writer");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) {
    return LibarchiveError(a.get(), "gzip");
  }
  // No time in the gzip header: the same members give the same bytes.
  if (archive_write_set_options(a.get(), "gzip:!timestamp") != ARCHIVE_OK) {
    return LibarchiveError(a.get(), "gzip options");
  }
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) {
    return LibarchiveError(a.get(), "tar format");
  }
  // The gzip stream ends where it ends: no zero padding after it up to a tar block.
  if (archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) {
    return LibarchiveError(a.get(), "block size");
  }
  if (archive_write_open(a.get(), &bytes, nullptr, &AppendToString, nullptr) != ARCHIVE_OK) {
    return LibarchiveError(a.get(), "open");
  }
  const int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(mtime.time_since_epoch()).count();
  for (const ArchiveMember& m : members) {
    std::unique_ptr<archive_entry, ArchiveEntryDeleter> entry(archive_entry_new());
    if (!entry) return Internal("writing the archive: libarchive could not allocate an entry");
    archive_entry_set_pathname(entry.get(), m.path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(m.content.size()));
    archive_entry_set_mtime(entry.get(), static_cast<time_t>(seconds), 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return LibarchiveError(a.get(), m.path);
    }
    size_t written = 0;
    while (written < m.content.size()) {
      la_ssize_t n =
          archive_write_data(a.get(), m.content.data() + written, m.content.size() - written);
      if (n <= 0) return LibarchiveError(a.get(), m.path);
      written += static_cast<size_t>(n);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return LibarchiveError(a.get(), "close");
  return bytes;
}

// -----------------------------------------------------------------------------------------------

std::string CrArchiveService::DefaultFileName(const std::string& cr_id) {
  return SafePathComponent(cr_id, "CR") + "-archive.tar.gz";
}

Result<CrArchiveInput> CrArchiveService::Collect(const std::string& cr_id,
                                                 const std::string& actor) {
  std::string_view digits = std::string_view(cr_id).substr(std::min<size_t>(3, cr_id.size()));
  if (!StartsWith(cr_id, "CR-") || digits.empty() || digits.size() > 18 || digits[0] == '0' ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    std::string shown = cr_id.size() > 40 ? cr_id.substr(0, 40) + "..." : cr_id;
    return InvalidArgument(
        fmt::format("invalid change request id '{}': expected CR-<number>, e.g. CR-12",
                    EscapeForDisplay(shown)));
  }
  CrArchiveInput input;
  input.created_by = actor;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(input.cr, tx.GetChangeRequest(cr_id));
    if (!input.cr.patch_id.empty()) {
      Result<Patch> patch = tx.GetPatch(input.cr.patch_id);
      if (patch.ok()) {
        input.patch = std::move(*patch);
      } else if (patch.error().code() != StatusCode::kNotFound) {
        return patch.error();
      }
    }
    ASSIGN_OR_RETURN(std::vector<RunSummary> runs, tx.ListRuns(std::nullopt));
    for (const RunSummary& summary : runs) {
      if (summary.change_request != input.cr.id) continue;
      ArchivedRun record;
      ASSIGN_OR_RETURN(record.run, tx.GetRun(summary.id));
      ASSIGN_OR_RETURN(record.steps, tx.ListStepExecutions(summary.id));
      input.runs.push_back(std::move(record));
    }
    ASSIGN_OR_RETURN(std::vector<Watch> watches, tx.ListWatches(/*all=*/true));
    for (Watch& w : watches) {
      if (w.change_request == input.cr.id) input.watches.push_back(std::move(w));
    }
    std::set<std::string> wanted;
    for (const Attachment& a : input.cr.attachments) wanted.insert(a.sha256);
    for (const std::string& sha : wanted) {
      Result<std::string> content = tx.GetBlob(sha);
      if (!content.ok()) {
        return Corruption(fmt::format("an attachment of {} (sha256 {}) cannot be read: {}", cr_id,
                                      sha, content.error().message()));
      }
      input.blobs.push_back({sha, std::move(*content)});
    }
    return Status::Ok();
  }));

  // The audit events, then the head: the checkpoint is taken after the events were read, so the
  // chain it vouches for contains every one of them.
  std::vector<std::string> objects = {input.cr.id};
  if (!input.cr.patch_id.empty()) objects.push_back(input.cr.patch_id);
  for (const ArchivedRun& r : input.runs) objects.push_back(r.run.id);
  for (const std::string& object : objects) {
    ASSIGN_OR_RETURN(std::vector<AuditEvent> events, store_.AuditEventsFor(object));
    input.audit_events.insert(input.audit_events.end(), std::make_move_iterator(events.begin()),
                              std::make_move_iterator(events.end()));
  }
  input.created_at = clock_.Now();
  Result<AuditCheckpoint> checkpoint = CheckpointStore(store_, input.created_at);
  if (!checkpoint.ok()) {
    if (checkpoint.error().code() == StatusCode::kCorruption) {
      return Corruption(fmt::format(
          "the audit chain does not verify ({}); no archive of {} is made until it does "
          "(rollgate audit verify)",
          checkpoint.error().message(), cr_id));
    }
    return checkpoint.error();
  }
  input.checkpoint = std::move(*checkpoint);
  return input;
}

Result<CrArchiveResult> CrArchiveService::Archive(const std::string& cr_id,
                                                  const std::filesystem::path& path, bool force,
                                                  const std::string& actor) {
  ASSIGN_OR_RETURN(CrArchiveInput input, Collect(cr_id, actor));
  std::filesystem::path target =
      path.empty() ? std::filesystem::path(DefaultFileName(cr_id)) : path;
  std::error_code ec;
  std::filesystem::path directory = target.parent_path().empty() ? "." : target.parent_path();
  if (target.filename().empty() || std::filesystem::is_directory(target, ec)) {
    return InvalidArgument(fmt::format("--output {}: is a directory; name the archive file",
                                       EscapeForDisplay(target.string())));
  }
  if (!std::filesystem::is_directory(directory, ec)) {
    return InvalidArgument(fmt::format("--output {}: the directory {} does not exist",
                                       EscapeForDisplay(target.string()),
                                       EscapeForDisplay(directory.string())));
  }
  if (!force &&
      std::filesystem::symlink_status(target, ec).type() != std::filesystem::file_type::not_found) {
    return InvalidArgument(
        fmt::format("{} already exists; --force replaces it", EscapeForDisplay(target.string())));
  }

  CrArchiveResult result;
  result.path = target;
  ASSIGN_OR_RETURN(result.members, BuildCrArchiveFiles(input, config_, zone_));
  ASSIGN_OR_RETURN(std::string bytes, WriteTarGz(result.members, input.created_at));
  result.sha256 = Sha256Hex(bytes);
  result.size_bytes = static_cast<int64_t>(bytes.size());

  ASSIGN_OR_RETURN(std::filesystem::path temporary, WriteTemporary(target, bytes));
  if (Status placed = PlaceFile(temporary, target, force); !placed.ok()) {
    ::unlink(temporary.c_str());
    return placed;
  }
  SyncDirectory(target);

  json details = {{"file", std::filesystem::absolute(target, ec).string()},
                  {"sha256", result.sha256},
                  {"size_bytes", result.size_bytes},
                  {"members", result.members.size()},
                  {"checkpoint_seq", input.checkpoint.seq}};
  Status recorded = store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(
        result.audit_seq,
        tx.AppendAudit({clock_.Now(), actor, "cr.archive", input.cr.id,
                        details.dump(-1, ' ', false, json::error_handler_t::replace)}));
    return Status::Ok();
  });
  if (!recorded.ok()) {
    // An archive whose making is not in the audit log is not handed out.
    ::unlink(target.c_str());
    return recorded.WithContext(fmt::format("{} removed again: recording the archiving failed",
                                            EscapeForDisplay(target.string())));
  }
  return result;
}

}  // namespace rollgate
