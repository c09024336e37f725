// Inspection of patch package archives before they are accepted (RELIABILITY.md, "Bad input").
//
// A package is untrusted until inspected. The inspector reads every entry header and every byte of
// every entry's data through libarchive, writes nothing anywhere, and refuses the archive when any
// entry could do harm on extraction or when the archive is broken or too large:
//   - names: empty, absolute, containing a ".." component, longer than the path or component limit,
//     not valid UTF-8, containing control characters, or duplicated (same normalised path twice;
//     a leading "./" and trailing "/" do not make a name different);
//   - a path that goes through an entry that is a symbolic link ("link/file" after "link -> dir");
//   - symbolic links whose target is absolute or, resolved relative to the link's directory and
//     through the archive's other links, leaves the archive root; link loops;
//   - hard links to an absolute path, a ".." path, or a path that is not an earlier non-directory
//     entry of the archive;
//   - character and block devices, FIFOs, sockets and unknown entry types;
//   - setuid, setgid and sticky bits (a patch package never needs them; sticky is refused too
//     because it changes who may delete files in a directory on the target host);
//   - corrupt or truncated data, anything libarchive cannot read, and files that are not archives;
//   - decompression bombs: more entries than `max_entries`, more uncompressed bytes than
//     `max_total_bytes` (counted from declared sizes before reading and from data while reading),
//     or an expansion ratio above `max_ratio` once more than `ratio_floor_bytes` were produced.
//     Reading stops at the first limit exceeded.
// Accepted formats are tar (all variants), cpio, zip and 7-Zip, optionally compressed with gzip,
// bzip2, xz, lzma, zstd or lz4 — those of them this libarchive decodes inside the process. mtree is
// refused on purpose (its entries name files on the local disk) and no external decompressor
// program is ever run.
//
// Thread-safety: the functions are re-entrant; concurrent calls share nothing.
// Ownership: the caller owns the file or buffer; nothing is retained after a call returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rollgate {

struct ArchiveLimits {
  int64_t max_total_bytes = int64_t{2} << 30;  // uncompressed, all entries together
  int64_t max_entries = 100'000;
  double max_ratio = 200.0;                       // uncompressed bytes per archive byte read
  int64_t ratio_floor_bytes = int64_t{64} << 20;  // the ratio is judged only beyond this
  size_t max_path_bytes = 4096;
  size_t max_component_bytes = 255;
  size_t max_listed_paths = 200;  // how many paths ArchiveReport::paths keeps
};

// One offending entry and every reason it is refused.
struct RefusedEntry {
  int64_t index = 0;  // 1-based position in the archive; 0 for the archive itself
  std::string name;   // escaped for display (EscapeForDisplay)
  std::vector<std::string> reasons;
};

struct ArchiveReport {
  std::string format;       // libarchive's name, e.g. "POSIX pax interchange format", "ZIP 2.0 ..."
  std::string compression;  // outermost first, e.g. "gzip", "xz"; "none" when not compressed
  int64_t entry_count = 0;
  int64_t regular_files = 0;
  int64_t directories = 0;
  int64_t symlinks = 0;
  int64_t hardlinks = 0;
  int64_t total_bytes = 0;         // uncompressed data bytes read (or declared, when larger)
  int64_t compressed_bytes = 0;    // archive bytes consumed
  std::vector<std::string> paths;  // the first max_listed_paths normalised paths, escaped
  bool paths_truncated = false;
  std::vector<RefusedEntry> refused;  // empty when the archive is acceptable

  bool clean() const { return refused.empty(); }
};

// Reads the whole archive at `path` and reports on it. Offending entries, corrupt data and
// exceeded limits do not fail the call: they are listed in `refused` (in archive order).
// Fails with NotFound when the file does not exist and Unavailable when it cannot be read.
Result<ArchiveReport> ScanArchive(const std::filesystem::path& path, const ArchiveLimits& limits);
// The same over bytes in memory (used by the fuzz target). Never fails.
ArchiveReport ScanArchiveMemory(std::string_view bytes, const ArchiveLimits& limits);

// ScanArchive, then acceptance: the report of a clean archive, or InvalidArgument whose message
// lists every refused entry by name with its reasons. NotFound/Unavailable as for ScanArchive.
Result<ArchiveReport> InspectArchive(const std::filesystem::path& path,
                                     const ArchiveLimits& limits);
Result<ArchiveReport> InspectArchiveMemory(std::string_view bytes, const ArchiveLimits& limits);

// "3 offending entries: \"../x\" (entry 2): path has a \"..\" component; ...".
std::string DescribeRefusals(const std::vector<RefusedEntry>& refused);

}  // namespace rollgate
