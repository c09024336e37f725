// The evidence archive of a change request (playbook §4.3 step 3, "Archive documentation"): one
// tar.gz holding the CR's deployment logs, test results, monitoring data, communication records,
// approvals and sign-offs, the CR document (Appendix B as `cr show --format markdown` renders it),
// its attachments, the audit events of the CR, its patch and its runs with the chain's checkpoint,
// a README.txt, and SHA256SUMS — a manifest in the format `sha256sum -c` reads covering every other
// member — so that a CAB or an auditor can check it with `tar xzf` and `sha256sum -c SHA256SUMS`
// without Rollgate. Layout and format: docs/audit-chain.md ("The evidence archive").
//
// Two parts:
//   - pure (no I/O, no clock): BuildCrArchiveFiles decides which members there are and what they
//     hold from a CrArchiveInput; Sha256Manifest writes the manifest; WriteTarGz encodes the
//     members as gzip-compressed POSIX tar in memory with libarchive. The same input always gives
//     the same members in the same (path) order, and the same archive bytes.
//   - CrArchiveService: reads that input from the store (one snapshot for the CR, its patch, runs,
//     watches and attachments; then the audit events and a checkpoint of the chain), writes the
//     file atomically and records the archiving as an audit event on the CR.
//
// Member paths are relative, '/'-separated, of the characters [A-Za-z0-9._-] per component, never
// empty, "." or "..": what users typed (attachment names, kinds) is reduced to that alphabet, so
// a member cannot land outside the extraction directory and every manifest line is plain.
//
// Thread-safety: the free functions are re-entrant; a CrArchiveService is used by one thread at a
// time (as the Store). Ownership: the service keeps references to the config, store and clock it
// is given; they must outlive it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/audit.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/patch.h"
#include "domain/run.h"
#include "domain/watch.h"
#include "store/audit_checkpoint.h"
#include "store/store.h"

namespace rollgate {

// One run of the CR with its step executions (in the order they were recorded).
struct ArchivedRun {
  Run run;
  std::vector<StepExecution> steps;
};

// An attachment's stored content (its Attachment is in cr.attachments, found by sha256).
struct ArchivedBlob {
  std::string sha256;
  std::string content;
};

// Everything an archive is built from.
struct CrArchiveInput {
  ChangeRequest cr;
  std::optional<Patch> patch;            // absent when it cannot be read
  std::vector<ArchivedRun> runs;         // every run of the CR
  std::vector<Watch> watches;            // every enhanced-monitoring watch of the CR
  std::vector<ArchivedBlob> blobs;       // the content of every attachment
  std::vector<AuditEvent> audit_events;  // of the CR, its patch and its runs (any order)
  AuditCheckpoint checkpoint;            // the chain's head when the events were read
  Timestamp created_at{};                // when the archive is made
  std::string created_by;                // who makes it
};

// One member of the archive.
struct ArchiveMember {
  std::string path;     // relative, safe (IsSafeMemberPath)
  std::string content;  // the bytes
  std::string sha256;   // of `content`, lowercase hex
};

inline constexpr const char* kArchiveManifestName = "SHA256SUMS";
inline constexpr const char* kArchiveReadmeName = "README.txt";

// The members of the archive of `input`, sorted by path, SHA256SUMS among them (covering every
// other member, README.txt included). The CR document is rendered in `zone` as of
// input.created_at. JSON members are indented with sorted keys; should a recorded text not be
// UTF-8 it is replaced by U+FFFD there, and kept byte for byte in the runs' .log members.
// Corruption naming the attachment when an attachment's content is missing from `input.blobs` or
// does not match its SHA-256.
Result<std::vector<ArchiveMember>> BuildCrArchiveFiles(const CrArchiveInput& input,
                                                       const Config& config, const TimeZone& zone);

// The manifest of `members` (SHA256SUMS itself skipped): one "<sha256>  <path>\n" line per
// member, in the members' order — exactly what `sha256sum -c` reads.
std::string Sha256Manifest(const std::vector<ArchiveMember>& members);

// True when `path` is a relative member path of non-empty components of [A-Za-z0-9._-], none of
// them "." or "..", at most 255 bytes each and 1024 in all.
bool IsSafeMemberPath(std::string_view path);

// `text` reduced to one safe path component: runs of characters outside [A-Za-z0-9._-] become
// '_', leading dots are dropped, at most `max_bytes` bytes; `fallback` when nothing is left.
std::string SafePathComponent(std::string_view text, std::string_view fallback,
                              size_t max_bytes = 80);

// The members as a gzip-compressed POSIX (pax restricted) tar: regular files, mode 0644, owner 0,
// modification time `mtime`, in the given order. InvalidArgument naming the path when a member
// path is not safe; Internal with libarchive's message when encoding fails.
Result<std::string> WriteTarGz(const std::vector<ArchiveMember>& members, Timestamp mtime);

// What CrArchiveService::Archive made.
struct CrArchiveResult {
  std::filesystem::path path;  // the archive file, as given (or the default name)
  std::string sha256;          // of the archive file
  int64_t size_bytes = 0;
  std::vector<ArchiveMember> members;  // what it holds, in archive order
  int64_t audit_seq = 0;               // the "cr.archive" event recorded
};

class CrArchiveService {
 public:
  CrArchiveService(const Config& config, Store& store, const Clock& clock, const TimeZone& zone)
      : config_(config), store_(store), clock_(clock), zone_(zone) {}

  // Reads what the archive of `cr_id` holds. InvalidArgument for a malformed id; NotFound for an
  // unknown CR; Corruption when the audit chain does not verify (naming the first bad event: no
  // archive vouches for a broken chain) or an attachment is missing or damaged; the store's error
  // when it cannot be read.
  Result<CrArchiveInput> Collect(const std::string& cr_id, const std::string& actor);

  // Builds the archive of `cr_id` and writes it to `path` (default when empty:
  // "CR-N-archive.tar.gz" in the current directory) through a temporary file in the same directory,
  // synced and then renamed into place; then records "cr.archive" on the CR (details: file, sha256,
  // size, members, checkpoint seq). Without `force` an existing `path` is refused (InvalidArgument
  // naming it) and never replaced, even by a file appearing meanwhile. Errors of Collect;
  // InvalidArgument when the directory does not exist or `path` is a directory; Unavailable with
  // the OS reason when the file cannot be written. On any failure nothing is left at `path` by this
  // call and no event is recorded; when recording the event fails the file written is removed
  // again.
  Result<CrArchiveResult> Archive(const std::string& cr_id, const std::filesystem::path& path,
                                  bool force, const std::string& actor);

  // "CR-12-archive.tar.gz".
  static std::string DefaultFileName(const std::string& cr_id);

 private:
  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
};

}  // namespace rollgate
