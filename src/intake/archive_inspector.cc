#include "intake/archive_inspector.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <locale.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/strings.h"

namespace rollgate {
namespace {

constexpr int kMaxSymlinkHops = 40;  // as Linux's ELOOP limit
constexpr size_t kReadBlockBytes = size_t{64} * 1024;
constexpr std::string_view kArchiveItself = "(archive)";

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadDeleter>;

// EscapeForDisplay, plus \xNN for the bytes of a name that is not valid UTF-8, so that error
// messages and JSON output stay valid text.
std::string Displayable(std::string_view raw) {
  if (IsValidUtf8(raw)) return EscapeForDisplay(raw);
  std::string ascii;
  for (char c : raw) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      ascii += fmt::format("\\x{:02x}", byte);
    } else {
      ascii.push_back(c);
    }
  }
  return EscapeForDisplay(ascii);
}

// The one place libarchive's error state becomes text.
std::string LibarchiveError(archive* a) {
  const char* message = archive_error_string(a);
  if (message == nullptr || *message == '\0') return "unknown libarchive error";
  return Displayable(message);
}

// libarchive converts entry names between the archive's charset and the calling thread's locale;
// in the "C" locale a non-ASCII UTF-8 name (a zip entry with the UTF-8 flag) fails to convert.
// A thread-local UTF-8 locale for the duration of a scan makes that conversion a pass-through,
// whatever the process's locale is. Without C.UTF-8 on the system the scan runs in the process's
// locale, which refuses such names as damaged: safe, only stricter.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() : locale_(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
    if (locale_ != nullptr) previous_ = uselocale(locale_);
  }
  ~ScopedUtf8Locale() {
    if (locale_ == nullptr) return;
    uselocale(previous_);
    freelocale(locale_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t locale_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

using SupportFunction = int (*)(archive*);

// The compression filters this libarchive decodes in-process, probed once per process. A filter
// built without its library answers ARCHIVE_WARN and would run an external program (gzip -d,
// zstd -d, ...) on hostile input: such filters are left out, and archives using them are then
// refused as unreadable.
const std::vector<SupportFunction>& InProcessFilters() {
  static const std::vector<SupportFunction> filters = [] {
    std::vector<SupportFunction> usable;
    for (SupportFunction filter :
         {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
          archive_read_support_filter_xz, archive_read_support_filter_lzma,
          archive_read_support_filter_zstd, archive_read_support_filter_lz4}) {
      ArchiveReader probe(archive_read_new());
      if (probe && filter(probe.get()) == ARCHIVE_OK) usable.push_back(filter);
    }
    return usable;
  }();
  return filters;
}

// A reader that decodes only the accepted formats and in-process filters.
Result<ArchiveReader> NewReader() {
  ArchiveReader reader(archive_read_new());
  if (!reader) return Internal("libarchive: cannot allocate a reader");
  for (SupportFunction filter : InProcessFilters()) {
    if (filter(reader.get()) != ARCHIVE_OK) {
      return Internal("libarchive: cannot enable a filter: " + LibarchiveError(reader.get()));
    }
  }
  struct Format {
    const char* name;
    SupportFunction function;
  };
  static constexpr Format kFormats[] = {
      {"tar", archive_read_support_format_tar},
      {"cpio", archive_read_support_format_cpio},
      {"zip", archive_read_support_format_zip},
      {"7zip", archive_read_support_format_7zip},
  };
  for (const Format& format : kFormats) {
    if (format.function(reader.get()) != ARCHIVE_OK) {
      return Internal(fmt::format("libarchive cannot read the {} format: {}", format.name,
                                  LibarchiveError(reader.get())));
    }
  }
  return reader;
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

// Splits `path` on '/', dropping empty and "." components.
std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  for (std::string& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    out.push_back(std::move(part));
  }
  return out;
}

// The normalised form of an entry name ("./a//b/" -> "a/b"), appending what is wrong with it.
std::string NormaliseName(std::string_view raw, const ArchiveLimits& limits,
                          std::vector<std::string>* reasons) {
  if (raw.empty()) {
    reasons->push_back("empty name");
    return "";
  }
  if (!IsValidUtf8(raw)) reasons->push_back("name is not valid UTF-8");
  if (HasControlCharacter(raw)) reasons->push_back("name contains control characters");
  if (raw.size() > limits.max_path_bytes) {
    reasons->push_back(fmt::format("path is {} bytes, longer than the limit of {}", raw.size(),
                                   limits.max_path_bytes));
  }
  if (raw.front() == '/') reasons->push_back("absolute path");
  std::vector<std::string> parts = Components(raw);
  bool has_dot_dot = false;
  size_t longest = 0;
  for (const std::string& part : parts) {
    has_dot_dot = has_dot_dot || part == "..";
    longest = std::max(longest, part.size());
  }
  if (has_dot_dot) reasons->push_back("path has a \"..\" component");
  if (longest > limits.max_component_bytes) {
    reasons->push_back(fmt::format("a path component is {} bytes, longer than the limit of {}",
                                   longest, limits.max_component_bytes));
  }
  return Join(parts, "/");
}

struct EntryRecord {
  int64_t index = 0;
  std::string path;  // normalised
  std::string display;
};

struct SymlinkRecord {
  int64_t index = 0;
  std::string display;
  std::string target;  // raw
};

class Scanner {
 public:
  explicit Scanner(const ArchiveLimits& limits) : limits_(limits) {}

  // Reads every header and all data of an opened reader, then checks links across entries.
  ArchiveReport Run(archive* reader) {
    ReadEntries(reader);
    CheckPathsThroughSymlinks();
    CheckSymlinkTargets();
    report_.compressed_bytes = archive_filter_bytes(reader, -1);
    for (auto& [index, entry] : refused_) report_.refused.push_back(std::move(entry));
    return std::move(report_);
  }

  // Records a refusal of the archive as a whole (opening failed).
  ArchiveReport RefuseWhole(std::string reason) {
    Refuse(0, std::string(kArchiveItself), std::move(reason));
    for (auto& [index, entry] : refused_) report_.refused.push_back(std::move(entry));
    return std::move(report_);
  }

 private:
  void Refuse(int64_t index, const std::string& display, std::string reason) {
    RefusedEntry& entry = refused_[index];
    entry.index = index;
    entry.name = display;
    entry.reasons.push_back(std::move(reason));
  }

  void RecordFormat(archive* reader) {
    if (!report_.format.empty()) return;
    const char* format = archive_format_name(reader);
    report_.format = format != nullptr ? format : "unknown";
    std::vector<std::string> filters;
    for (int i = archive_filter_count(reader) - 2; i >= 0; --i) {
      const char* name = archive_filter_name(reader, i);
      filters.push_back(name != nullptr ? name : "unknown");
    }
    report_.compression = filters.empty() ? "none" : Join(filters, "+");
  }

  void ReadEntries(archive* reader) {
    int64_t index = 0;
    std::string previous_display;
    while (true) {
      archive_entry* entry = nullptr;
      int status = archive_read_next_header(reader, &entry);
      if (status == ARCHIVE_EOF) break;
      if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
        if (index == 0) {
          Refuse(0, std::string(kArchiveItself),
                 "not a readable archive: " + LibarchiveError(reader));
        } else {
          Refuse(index, previous_display,
                 "corrupt or truncated archive after this entry: " + LibarchiveError(reader));
        }
        return;
      }
      RecordFormat(reader);
      ++index;
      if (index > limits_.max_entries) {
        Refuse(index, DisplayName(entry),
               fmt::format("the archive has more than {} entries", limits_.max_entries));
        return;
      }
      previous_display = DisplayName(entry);
      if (status == ARCHIVE_WARN) {
        // Damaged headers, names that cannot be converted, malformed pax attributes.
        Refuse(index, previous_display, "damaged entry header: " + LibarchiveError(reader));
      }
      if (!InspectEntry(reader, entry, index, previous_display)) return;
    }
    if (index == 0) Refuse(0, std::string(kArchiveItself), "the archive has no entries");
    report_.entry_count = index;
  }

  static std::string RawName(archive_entry* entry) {
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) name = archive_entry_pathname_utf8(entry);
    return name != nullptr ? name : "";
  }

  static std::string DisplayName(archive_entry* entry) { return Displayable(RawName(entry)); }

  // Checks one entry and reads its data. False when reading must stop.
  bool InspectEntry(archive* reader, archive_entry* entry, int64_t index,
                    const std::string& display) {
    report_.entry_count = index;
    std::vector<std::string> reasons;
    const std::string raw = RawName(entry);
    std::string path = NormaliseName(raw, limits_, &reasons);
    const mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (hardlink == nullptr) hardlink = archive_entry_hardlink_utf8(entry);

    if (hardlink != nullptr) {
      ++report_.hardlinks;
      CheckHardlink(hardlink, &reasons);
    } else {
      switch (type) {
        case AE_IFREG:
          ++report_.regular_files;
          break;
        case AE_IFDIR:
          ++report_.directories;
          break;
        case AE_IFLNK: {
          ++report_.symlinks;
          const char* target = archive_entry_symlink(entry);
          if (target == nullptr) target = archive_entry_symlink_utf8(entry);
          if (target == nullptr || *target == '\0') {
            reasons.push_back("symbolic link with an empty target");
          } else if (target[0] == '/') {
            reasons.push_back(
                fmt::format("symbolic link to the absolute path \"{}\"", Displayable(target)));
          } else if (!path.empty()) {
            symlinks_[path] = SymlinkRecord{index, display, target};
          }
          break;
        }
        case AE_IFCHR:
          reasons.push_back("character device");
          break;
        case AE_IFBLK:
          reasons.push_back("block device");
          break;
        case AE_IFIFO:
          reasons.push_back("FIFO (named pipe)");
          break;
        case AE_IFSOCK:
          reasons.push_back("socket");
          break;
        default:
          reasons.push_back(fmt::format("unknown entry type {:o}", type));
          break;
      }
    }

    const mode_t mode = archive_entry_mode(entry);
    if ((mode & 04000) != 0) reasons.push_back("setuid bit");
    if ((mode & 02000) != 0) reasons.push_back("setgid bit");
    if ((mode & 01000) != 0) reasons.push_back("sticky bit");

    if (path.empty()) {
      // "./" or "." names the archive root: harmless as a directory, meaningless otherwise.
      if (!raw.empty() && (type != AE_IFDIR || hardlink != nullptr)) {
        reasons.push_back("name denotes the archive root");
      }
    } else {
      auto [it, inserted] = first_index_.emplace(path, index);
      if (!inserted) {
        reasons.push_back(fmt::format("duplicate of entry {}", it->second));
      } else {
        is_directory_[path] = hardlink == nullptr && type == AE_IFDIR;
      }
      entries_.push_back(EntryRecord{index, path, display});
      if (report_.paths.size() < limits_.max_listed_paths) {
        report_.paths.push_back(Displayable(path));
      } else {
        report_.paths_truncated = true;
      }
    }
    for (std::string& reason : reasons) Refuse(index, display, std::move(reason));

    return ReadData(reader, entry, index, display);
  }

  void CheckHardlink(std::string_view target, std::vector<std::string>* reasons) {
    const std::string shown = Displayable(target);
    if (target.empty()) {
      reasons->push_back("hard link with an empty target");
      return;
    }
    if (target.front() == '/') {
      reasons->push_back(fmt::format("hard link to the absolute path \"{}\"", shown));
      return;
    }
    std::vector<std::string> parts = Components(target);
    if (std::find(parts.begin(), parts.end(), "..") != parts.end()) {
      reasons->push_back(fmt::format("hard link to \"{}\", outside the archive", shown));
      return;
    }
    auto it = is_directory_.find(Join(parts, "/"));
    if (it == is_directory_.end()) {
      reasons->push_back(
          fmt::format("hard link to \"{}\", which is not an earlier entry of the archive", shown));
    } else if (it->second) {
      reasons->push_back(fmt::format("hard link to the directory \"{}\"", shown));
    }
  }

  // Reads the entry's data to its end, enforcing the size and ratio limits.
  bool ReadData(archive* reader, archive_entry* entry, int64_t index, const std::string& display) {
    const int64_t declared =
        archive_entry_size_is_set(entry) != 0 ? std::max<int64_t>(0, archive_entry_size(entry)) : 0;
    if (declared > limits_.max_total_bytes - committed_bytes_) {
      Refuse(index, display,
             fmt::format("declares {} bytes; the archive would exceed the limit of {} "
                         "uncompressed bytes",
                         declared, limits_.max_total_bytes));
      return false;
    }
    int64_t produced = 0;  // end of the furthest data block (sparse holes count)
    while (true) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int status = archive_read_data_block(reader, &block, &size, &offset);
      if (status == ARCHIVE_EOF) break;
      if (status != ARCHIVE_OK) {
        // libarchive reports a bad CRC or a wrong size as ARCHIVE_WARN: corrupt all the same.
        Refuse(index, display, "corrupt or truncated data: " + LibarchiveError(reader));
        return false;
      }
      data_bytes_ += static_cast<int64_t>(size);
      produced = std::max(produced, static_cast<int64_t>(offset) + static_cast<int64_t>(size));
      if (committed_bytes_ + std::max(declared, produced) > limits_.max_total_bytes) {
        Refuse(index, display,
               fmt::format("the archive exceeds the limit of {} uncompressed bytes",
                           limits_.max_total_bytes));
        return false;
      }
      const int64_t consumed = std::max<int64_t>(1, archive_filter_bytes(reader, -1));
      if (data_bytes_ > limits_.ratio_floor_bytes &&
          static_cast<double>(data_bytes_) > limits_.max_ratio * static_cast<double>(consumed)) {
        Refuse(index, display,
               fmt::format("expands {} archive bytes to more than {} bytes (ratio above {:g}:1): "
                           "a decompression bomb",
                           consumed, data_bytes_, limits_.max_ratio));
        return false;
      }
    }
    committed_bytes_ += std::max(declared, produced);
    report_.total_bytes = committed_bytes_;
    return true;
  }

  // An entry below a symbolic link of the archive would be written through that link.
  void CheckPathsThroughSymlinks() {
    if (symlinks_.empty()) return;
    for (const EntryRecord& entry : entries_) {
      for (size_t slash = entry.path.find('/'); slash != std::string::npos;
           slash = entry.path.find('/', slash + 1)) {
        auto it = symlinks_.find(entry.path.substr(0, slash));
        if (it == symlinks_.end()) continue;
        Refuse(entry.index, entry.display,
               fmt::format("path goes through the symbolic link \"{}\" (entry {})",
                           Displayable(it->first), it->second.index));
        break;
      }
    }
  }

  // Resolves each link relative to its directory, following the archive's other links.
  void CheckSymlinkTargets() {
    for (const auto& [path, link] : symlinks_) {
      std::vector<std::string> resolved = Components(path);
      resolved.pop_back();  // the link's directory
      std::vector<std::string> first = Components(link.target);
      std::deque<std::string> pending(first.begin(), first.end());
      int hops = 0;
      std::string problem;
      while (!pending.empty() && problem.empty()) {
        std::string part = std::move(pending.front());
        pending.pop_front();
        if (part == "..") {
          if (resolved.empty()) {
            problem = "resolves outside the archive";
          } else {
            resolved.pop_back();
          }
          continue;
        }
        resolved.push_back(std::move(part));
        auto next = symlinks_.find(Join(resolved, "/"));
        if (next == symlinks_.end()) continue;
        if (++hops > kMaxSymlinkHops) {
          problem = "is part of a symbolic link loop";
          continue;
        }
        resolved.pop_back();
        std::vector<std::string> more = Components(next->second.target);
        pending.insert(pending.begin(), more.begin(), more.end());
      }
      if (!problem.empty()) {
        Refuse(link.index, link.display,
               fmt::format("symbolic link to \"{}\" {}", Displayable(link.target), problem));
      }
    }
  }

  const ArchiveLimits& limits_;
  ArchiveReport report_;
  std::map<int64_t, RefusedEntry> refused_;
  std::unordered_map<std::string, int64_t> first_index_;
  std::unordered_map<std::string, bool> is_directory_;
  std::vector<EntryRecord> entries_;
  std::map<std::string, SymlinkRecord> symlinks_;
  int64_t committed_bytes_ = 0;  // max(declared, read) over finished entries
  int64_t data_bytes_ = 0;       // data actually produced by the decoder
};

Result<ArchiveReport> Accept(ArchiveReport report) {
  if (report.clean()) return report;
  return InvalidArgument("archive refused: " + DescribeRefusals(report.refused));
}

}  // namespace

Result<ArchiveReport> ScanArchive(const std::filesystem::path& path, const ArchiveLimits& limits) {
  {
    std::unique_ptr<FILE, int (*)(FILE*)> probe(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!probe) {
      int error = errno;
      if (error == ENOENT) return NotFound(fmt::format("{}: no such file", path.string()));
      return Unavailable(fmt::format("{}: {}", path.string(), std::strerror(error)));
    }
  }
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return InvalidArgument(fmt::format("{}: is a directory, not an archive", path.string()));
  }
  ScopedUtf8Locale utf8_names;
  ASSIGN_OR_RETURN(ArchiveReader reader, NewReader());
  Scanner scanner(limits);
  if (archive_read_open_filename(reader.get(), path.c_str(), kReadBlockBytes) != ARCHIVE_OK) {
    return scanner.RefuseWhole("not a readable archive: " + LibarchiveError(reader.get()));
  }
  return scanner.Run(reader.get());
}

ArchiveReport ScanArchiveMemory(std::string_view bytes, const ArchiveLimits& limits) {
  ScopedUtf8Locale utf8_names;
  Scanner scanner(limits);
  Result<ArchiveReader> reader = NewReader();
  if (!reader.ok()) return scanner.RefuseWhole(reader.error().message());
  if (archive_read_open_memory(reader->get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return scanner.RefuseWhole("not a readable archive: " + LibarchiveError(reader->get()));
  }
  return scanner.Run(reader->get());
}

Result<ArchiveReport> InspectArchive(const std::filesystem::path& path,
                                     const ArchiveLimits& limits) {
  ASSIGN_OR_RETURN(ArchiveReport report, ScanArchive(path, limits));
  return Accept(std::move(report));
}

Result<ArchiveReport> InspectArchiveMemory(std::string_view bytes, const ArchiveLimits& limits) {
  return Accept(ScanArchiveMemory(bytes, limits));
}

std::string DescribeRefusals(const std::vector<RefusedEntry>& refused) {
  std::vector<std::string> lines;
  lines.reserve(refused.size());
  for (const RefusedEntry& entry : refused) {
    if (entry.index == 0) {
      lines.push_back(fmt::format("{}: {}", entry.name, Join(entry.reasons, ", ")));
    } else {
      lines.push_back(
          fmt::format("\"{}\" (entry {}): {}", entry.name, entry.index, Join(entry.reasons, ", ")));
    }
  }
  size_t entries = static_cast<size_t>(
      std::count_if(refused.begin(), refused.end(), [](const RefusedEntry& e) { return e.index; }));
  std::string head =
      entries == 1 ? "1 offending entry" : fmt::format("{} offending entries", entries);
  if (entries == 0) head = "refused";
  return head + ": " + Join(lines, "; ");
}

}  // namespace rollgate
