// The hostile archive corpus is built here, at run time, with libarchive's writer (and a
// hand-made ustar header where the writer refuses to produce the bad thing).
#include "intake/archive_inspector.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <random>

namespace rollgate {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rollgate-intake-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct WriterDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

// Builds an archive in memory, one entry at a time.
class ArchiveBuilder {
 public:
  enum class Format { kPax, kUstar, kZip, kCpio };

  explicit ArchiveBuilder(Format format = Format::kPax, const char* filter = nullptr)
      : writer_(archive_write_new()) {
    switch (format) {
      case Format::kPax:
        archive_write_set_format_pax_restricted(writer_.get());
        break;
      case Format::kUstar:
        archive_write_set_format_ustar(writer_.get());
        break;
      case Format::kZip:
        archive_write_set_format_zip(writer_.get());
        break;
      case Format::kCpio:
        archive_write_set_format_cpio_newc(writer_.get());
        break;
    }
    if (filter != nullptr) archive_write_add_filter_by_name(writer_.get(), filter);
    archive_write_set_bytes_in_last_block(writer_.get(), 1);
    int status =
        archive_write_open(writer_.get(), &bytes_, nullptr, &ArchiveBuilder::Append, nullptr);
    EXPECT_EQ(status, ARCHIVE_OK) << archive_error_string(writer_.get());
  }

  ArchiveBuilder& File(const std::string& name, std::string_view content, mode_t mode = 0644) {
    return Add(name, AE_IFREG, mode, content);
  }
  ArchiveBuilder& Dir(const std::string& name, mode_t mode = 0755) {
    return Add(name, AE_IFDIR, mode, "");
  }
  ArchiveBuilder& Symlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFLNK, 0777, "",
               [&](archive_entry* e) { archive_entry_set_symlink(e, target.c_str()); });
  }
  ArchiveBuilder& Hardlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFREG, 0644, "", [&](archive_entry* e) {
      archive_entry_set_hardlink(e, target.c_str());
      archive_entry_set_size(e, 0);
    });
  }
  ArchiveBuilder& Special(const std::string& name, mode_t type) {
    return Add(name, type, 0644, "", [](archive_entry* e) { archive_entry_set_rdev(e, 0x0103); });
  }

  std::string Finish() {
    EXPECT_EQ(archive_write_close(writer_.get()), ARCHIVE_OK)
        << archive_error_string(writer_.get());
    return bytes_;
  }

 private:
  template <typename Extra = void (*)(archive_entry*)>
  ArchiveBuilder& Add(
      const std::string& name, mode_t type, mode_t mode, std::string_view content,
      Extra extra = [](archive_entry*) {}) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                   &archive_entry_free);
    archive_entry_copy_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), type);
    archive_entry_set_perm(entry.get(), mode);
    archive_entry_set_mtime(entry.get(), 1'700'000'000, 0);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
    extra(entry.get());
    int status = archive_write_header(writer_.get(), entry.get());
    EXPECT_GE(status, ARCHIVE_WARN) << name << ": " << archive_error_string(writer_.get());
    if (!content.empty()) {
      EXPECT_EQ(archive_write_data(writer_.get(), content.data(), content.size()),
                static_cast<la_ssize_t>(content.size()));
    }
    return *this;
  }

  static la_ssize_t Append(archive*, void* data, const void* buffer, size_t length) {
    static_cast<std::string*>(data)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
  }

  std::unique_ptr<archive, WriterDeleter> writer_;
  std::string bytes_;
};

// gzip of `data`, through libarchive's raw format.
std::string Gzip(std::string_view data) {
  std::string out;
  std::unique_ptr<archive, WriterDeleter> writer(archive_write_new());
  archive_write_set_format_raw(writer.get());
  archive_write_add_filter_gzip(writer.get());
  archive_write_set_bytes_in_last_block(writer.get(), 1);
  archive_write_open(
      writer.get(), &out, nullptr,
      [](archive*, void* sink, const void* buffer, size_t length) -> la_ssize_t {
        static_cast<std::string*>(sink)->append(static_cast<const char*>(buffer), length);
        return static_cast<la_ssize_t>(length);
      },
      nullptr);
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                 &archive_entry_free);
  archive_entry_set_pathname(entry.get(), "data");
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
  EXPECT_EQ(archive_write_header(writer.get(), entry.get()), ARCHIVE_OK);
  archive_write_data(writer.get(), data.data(), data.size());
  EXPECT_EQ(archive_write_close(writer.get()), ARCHIVE_OK);
  return out;
}

// A ustar header written by hand, for names the libarchive writer will not produce.
std::string UstarHeader(std::string_view name, int64_t size, char type = '0') {
  std::string header(512, '\0');
  std::memcpy(header.data(), name.data(), std::min<size_t>(name.size(), 100));
  auto octal = [&](size_t offset, size_t width, uint64_t value) {
    std::string digits = fmt::format("{:0{}o}", value, width - 1);
    std::memcpy(header.data() + offset, digits.data(), width - 1);
  };
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, static_cast<uint64_t>(size));
  octal(136, 12, 1'700'000'000);
  std::memset(header.data() + 148, ' ', 8);
  header[156] = type;
  std::memcpy(header.data() + 257,
              "ustar\0"
              "00",
              8);
  unsigned sum = 0;
  for (char c : header) sum += static_cast<unsigned char>(c);
  std::string checksum = fmt::format("{:06o}", sum);
  std::memcpy(header.data() + 148, checksum.data(), 6);
  header[154] = '\0';
  header[155] = ' ';
  return header;
}

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(generator() & 0xFF);
  return out;
}

// The refused entry with this display name, or nullptr.
const RefusedEntry* FindRefused(const ArchiveReport& report, std::string_view name) {
  for (const RefusedEntry& entry : report.refused) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string AllReasons(const RefusedEntry& entry) {
  std::string out;
  for (const std::string& reason : entry.reasons) out += reason + ", ";
  return out;
}

// Inspects `bytes` written to a file and expects exactly the refusals named in `expected`
// (entry name -> a substring of one of its reasons), and the same names in the error message.
void ExpectRefused(const std::string& bytes,
                   const std::vector<std::pair<std::string, std::string>>& expected,
                   const ArchiveLimits& limits = {}) {
  TempDir dir;
  auto path = dir.path() / "package.tar";
  WriteFile(path, bytes);
  Result<ArchiveReport> scanned = ScanArchive(path, limits);
  ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
  for (const auto& [name, reason] : expected) {
    const RefusedEntry* entry = FindRefused(*scanned, name);
    ASSERT_NE(entry, nullptr) << "expected a refusal of \"" << name << "\"; got "
                              << DescribeRefusals(scanned->refused);
    EXPECT_THAT(AllReasons(*entry), HasSubstr(reason)) << name;
  }
  EXPECT_EQ(scanned->refused.size(), expected.size()) << DescribeRefusals(scanned->refused);
  Result<ArchiveReport> inspected = InspectArchive(path, limits);
  ASSERT_FALSE(inspected.ok());
  EXPECT_EQ(inspected.error().code(), StatusCode::kInvalidArgument);
  for (const auto& [name, reason] : expected) {
    EXPECT_THAT(inspected.error().message(), HasSubstr(name));
    EXPECT_THAT(inspected.error().message(), HasSubstr(reason));
  }
}

TEST(ArchiveInspectorTest, AcceptsCleanTarGzWithReport) {
  std::string bytes = ArchiveBuilder(ArchiveBuilder::Format::kPax, "gzip")
                          .Dir("./")
                          .Dir("app/")
                          .Dir("app/bin/")
                          .File("app/bin/tool", "#!/bin/sh\necho hi\n", 0755)
                          .Hardlink("app/bin/tool-again", "app/bin/tool")
                          .Dir("app/lib")
                          .File("app/lib/libx.so.1", RandomBytes(5000, 1))
                          .Symlink("app/lib/libx.so", "libx.so.1")
                          .Symlink("app/current", "lib/../bin/./tool")
                          .Symlink("app/lib/up", "../bin")
                          .File("app/etc/naïve.conf", "key=value\n")
                          .Finish();
  TempDir dir;
  WriteFile(dir.path() / "app.tar.gz", bytes);
  Result<ArchiveReport> report = InspectArchive(dir.path() / "app.tar.gz", {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entry_count, 11);
  EXPECT_EQ(report->regular_files, 3);
  EXPECT_EQ(report->directories, 4);
  EXPECT_EQ(report->symlinks, 3);
  EXPECT_EQ(report->hardlinks, 1);
  EXPECT_EQ(report->total_bytes, 5000 + 18 + 10);
  EXPECT_EQ(report->compression, "gzip");
  EXPECT_THAT(report->format, HasSubstr("tar"));
  EXPECT_GT(report->compressed_bytes, 0);
  EXPECT_THAT(report->paths, ::testing::Contains("app/bin/tool"));
  EXPECT_THAT(report->paths, ::testing::Contains("app/etc/naïve.conf"));
  EXPECT_TRUE(report->refused.empty());
}

TEST(ArchiveInspectorTest, AcceptsCleanZipAndListsAtMostTheLimit) {
  ArchiveBuilder builder(ArchiveBuilder::Format::kZip);
  for (int i = 0; i < 12; ++i) builder.File(fmt::format("docs/page{}.txt", i), "text\n");
  std::string bytes = builder.Finish();
  ArchiveLimits limits;
  limits.max_listed_paths = 5;
  Result<ArchiveReport> report = InspectArchiveMemory(bytes, limits);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entry_count, 12);
  EXPECT_THAT(report->format, HasSubstr("ZIP"));
  EXPECT_EQ(report->paths.size(), 5u);
  EXPECT_TRUE(report->paths_truncated);
}

// Replaces every occurrence of `from` by `to` (same length), e.g. a zip name in both the local
// header and the central directory.
std::string ReplaceAll(std::string bytes, std::string_view from, std::string_view to) {
  for (size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + 1)) {
    bytes.replace(at, from.size(), to);
  }
  return bytes;
}

TEST(ArchiveInspectorTest, ReadsZipNamesAsBytesWhateverTheLocale) {
  std::string zip = ArchiveBuilder(ArchiveBuilder::Format::kZip).File("docs/XXXXXX", "x").Finish();
  std::string utf8_zip = ReplaceAll(zip, "XXXXXX", "na\xC3\xAFve");
  // Set the "name is UTF-8" flag (bit 11) in the local header and the central directory, so
  // libarchive converts the name: this must not depend on the process's locale.
  utf8_zip[7] |= 0x08;
  utf8_zip[utf8_zip.find("PK\x01\x02") + 9] |= 0x08;
  Result<ArchiveReport> utf8 = InspectArchiveMemory(utf8_zip, {});
  ASSERT_TRUE(utf8.ok()) << utf8.status().ToString();
  EXPECT_THAT(utf8->paths, ::testing::ElementsAre("docs/naïve"));

  Result<ArchiveReport> latin1 = InspectArchiveMemory(ReplaceAll(zip, "XXXXXX", "caf\xE9__"), {});
  ASSERT_FALSE(latin1.ok());
  EXPECT_THAT(latin1.error().message(),
              HasSubstr("\"docs/caf\\xe9__\" (entry 1): name is not valid UTF-8"));
}

TEST(ArchiveInspectorTest, AcceptsEveryCompressionAndCpio) {
  for (const char* filter : {"gzip", "bzip2", "xz", "lzma", "zstd", "lz4"}) {
    std::string bytes =
        ArchiveBuilder(ArchiveBuilder::Format::kPax, filter).File("a", "x").Finish();
    Result<ArchiveReport> report = InspectArchiveMemory(bytes, {});
    ASSERT_TRUE(report.ok()) << filter << ": " << report.status().ToString();
    EXPECT_EQ(report->compression, filter);
  }
  std::string cpio = ArchiveBuilder(ArchiveBuilder::Format::kCpio).File("a", "x").Finish();
  Result<ArchiveReport> report = InspectArchiveMemory(cpio, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_THAT(report->format, HasSubstr("cpio"));
}

TEST(ArchiveInspectorTest, RefusesTraversalAndAbsolutePaths) {
  ExpectRefused(ArchiveBuilder()
                    .File("ok.txt", "fine")
                    .File("../evil.sh", "x")
                    .File("app/../../etc/cron.d/evil", "x")
                    .File("/etc/passwd", "root::0:0::/:/bin/sh\n")
                    .Finish(),
                {{"../evil.sh", "\"..\" component"},
                 {"app/../../etc/cron.d/evil", "\"..\" component"},
                 {"/etc/passwd", "absolute path"}});
}

TEST(ArchiveInspectorTest, RefusesSymlinkEscapes) {
  ExpectRefused(ArchiveBuilder()
                    .Dir("app")
                    .Symlink("app/up", "../../etc")
                    .Symlink("app/abs", "/etc/shadow")
                    // Each of these stays inside on its own; together they leave the root.
                    .Symlink("app/d/self", "..")
                    .Symlink("app/chain", "d/self/../..")
                    .Symlink("loop-a", "loop-b/x")
                    .Symlink("loop-b", "loop-a")
                    .Finish(),
                {{"app/up", "resolves outside the archive"},
                 {"app/abs", "absolute path \"/etc/shadow\""},
                 {"app/chain", "resolves outside the archive"},
                 {"loop-a", "loop"},
                 {"loop-b", "loop"}});
}

TEST(ArchiveInspectorTest, RefusesWritingThroughASymlinkOfTheArchive) {
  ExpectRefused(
      ArchiveBuilder().Dir("data").Symlink("link", "data").File("link/payload", "x").Finish(),
      {{"link/payload", "goes through the symbolic link \"link\" (entry 2)"}});
}

TEST(ArchiveInspectorTest, RefusesHardlinkEscapes) {
  ExpectRefused(ArchiveBuilder()
                    .File("real", "x")
                    .Hardlink("good", "real")
                    .Hardlink("to-parent", "../outside")
                    .Hardlink("to-abs", "/etc/passwd")
                    .Hardlink("to-absent", "not-here")
                    .Dir("dir")
                    .Hardlink("to-dir", "dir")
                    .Finish(),
                {{"to-parent", "outside the archive"},
                 {"to-abs", "absolute path \"/etc/passwd\""},
                 {"to-absent", "not an earlier entry"},
                 {"to-dir", "hard link to the directory"}});
}

TEST(ArchiveInspectorTest, RefusesDevicesFifosAndSockets) {
  ExpectRefused(
      ArchiveBuilder()
          .Special("dev/console", AE_IFCHR)
          .Special("dev/sda", AE_IFBLK)
          .Special("run/pipe", AE_IFIFO)
          .Finish(),
      {{"dev/console", "character device"}, {"dev/sda", "block device"}, {"run/pipe", "FIFO"}});
  ExpectRefused(
      ArchiveBuilder(ArchiveBuilder::Format::kCpio).Special("run/sock", AE_IFSOCK).Finish(),
      {{"run/sock", "socket"}});
}

TEST(ArchiveInspectorTest, RefusesSetuidSetgidAndStickyBits) {
  ExpectRefused(ArchiveBuilder()
                    .File("bin/su", "x", 04755)
                    .File("bin/wall", "x", 02755)
                    .Dir("tmp", 01777)
                    .File("bin/both", "x", 06755)
                    .Finish(),
                {{"bin/su", "setuid bit"},
                 {"bin/wall", "setgid bit"},
                 {"tmp/", "sticky bit"},
                 {"bin/both", "setuid bit, setgid bit"}});
}

TEST(ArchiveInspectorTest, RefusesDuplicateEntries) {
  ExpectRefused(ArchiveBuilder()
                    .File("config.yaml", "a")
                    .File("config.yaml", "b")
                    .File("./config.yaml", "c")
                    .Dir("lib/")
                    .Dir("lib")
                    .Finish(),
                {{"config.yaml", "duplicate of entry 1"},
                 {"./config.yaml", "duplicate of entry 1"},
                 {"lib/", "duplicate of entry 4"}});
}

TEST(ArchiveInspectorTest, RefusesLongNonUtf8ControlAndEmptyNames) {
  std::string long_path;
  while (long_path.size() <= 4096) long_path += std::string(200, 'd') + "/";
  long_path += "file";
  std::string long_component = "dir/" + std::string(300, 'c');
  std::string bytes = ArchiveBuilder()
                          .File(long_path, "x")
                          .File(long_component, "x")
                          .File("latin1-\xE9t\xE9.txt", "x")
                          .File("line\nforged", "x")
                          .Finish();
  ExpectRefused(bytes, {{long_path, "longer than the limit of 4096"},
                        {long_component, "component is 300 bytes"},
                        {"latin1-\\xe9t\\xe9.txt", "not valid UTF-8"},
                        {"line\\nforged", "control characters"}});

  std::string empty_name = UstarHeader("", 1) + std::string(512, 'x') + std::string(1024, '\0');
  ExpectRefused(empty_name, {{"", "empty name"}});
}

TEST(ArchiveInspectorTest, RefusesTruncatedGzip) {
  std::string bytes = ArchiveBuilder(ArchiveBuilder::Format::kPax, "gzip")
                          .File("small.txt", "hello")
                          .File("big.bin", RandomBytes(200'000, 2))
                          .Finish();
  std::string truncated = bytes.substr(0, bytes.size() / 2);
  ExpectRefused(truncated, {{"big.bin", "truncated"}});
}

TEST(ArchiveInspectorTest, RefusesCorruptZipData) {
  std::string content = RandomBytes(4000, 3) + std::string(4000, 'a');
  std::string bytes =
      ArchiveBuilder(ArchiveBuilder::Format::kZip).File("payload.bin", content).Finish();
  // The local header is 30 bytes plus the name; flip a byte inside the compressed data.
  bytes[30 + std::strlen("payload.bin") + 2000] ^= 0x5A;
  ExpectRefused(bytes, {{"payload.bin", "corrupt or truncated data"}});
}

TEST(ArchiveInspectorTest, RefusesCorruptTarHeaderAfterTheEntryBeforeIt) {
  std::string bytes = ArchiveBuilder().File("first.txt", "one").File("second.txt", "two").Finish();
  bytes[1024 + 148] = '9';  // the second header's checksum
  ExpectRefused(bytes, {{"first.txt", "corrupt or truncated archive after this entry"}});
}

TEST(ArchiveInspectorTest, RefusesWhatIsNotAnArchive) {
  ExpectRefused("just some text, not an archive\n", {{"(archive)", "not a readable archive"}});
  ExpectRefused(Gzip("gzip of plain text\n"), {{"(archive)", "not a readable archive"}});
  ExpectRefused("", {{"(archive)", "not a readable archive"}});
  ExpectRefused(std::string(10240, '\0'), {{"(archive)", "no entries"}});
  // mtree names files on the local disk; it is not an accepted format.
  ExpectRefused("#mtree\n./passwd type=file contents=/etc/passwd\n",
                {{"(archive)", "not a readable archive"}});
}

TEST(ArchiveInspectorTest, MissingFileIsNotFound) {
  TempDir dir;
  Result<ArchiveReport> report = InspectArchive(dir.path() / "absent.tar", {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code(), StatusCode::kNotFound);
}

// 4 GiB of zeros in a tar, gzip-compressed as concatenated 1 MiB members, so that neither this
// test nor the inspector ever holds more than 1 MiB of it (the file is about 4 MiB).
TEST(ArchiveInspectorTest, RefusesDecompressionBombs) {
  constexpr int64_t kMiB = 1 << 20;
  const std::string zeros_member = Gzip(std::string(kMiB, '\0'));
  TempDir dir;
  auto path = dir.path() / "bomb.tar.gz";
  {
    std::ofstream out(path, std::ios::binary);
    std::string first = Gzip(UstarHeader("zeros.bin", 4096 * kMiB));
    out.write(first.data(), static_cast<std::streamsize>(first.size()));
    for (int i = 0; i < 4096; ++i) {
      out.write(zeros_member.data(), static_cast<std::streamsize>(zeros_member.size()));
    }
  }
  ASSERT_LT(std::filesystem::file_size(path), uint64_t{8} * kMiB);

  // Default limits: the declared 4 GiB is above the 2 GiB limit, refused before reading.
  Result<ArchiveReport> declared = ScanArchive(path, {});
  ASSERT_TRUE(declared.ok());
  ASSERT_EQ(declared->refused.size(), 1u) << DescribeRefusals(declared->refused);
  EXPECT_EQ(declared->refused[0].name, "zeros.bin");
  EXPECT_THAT(AllReasons(declared->refused[0]), HasSubstr("declares 4294967296 bytes"));

  // With room for it, the expansion ratio stops reading after 64 MiB of output.
  ArchiveLimits generous;
  generous.max_total_bytes = int64_t{16} << 30;
  Result<ArchiveReport> streamed = ScanArchive(path, generous);
  ASSERT_TRUE(streamed.ok());
  ASSERT_EQ(streamed->refused.size(), 1u) << DescribeRefusals(streamed->refused);
  EXPECT_EQ(streamed->refused[0].name, "zeros.bin");
  EXPECT_THAT(AllReasons(streamed->refused[0]), HasSubstr("decompression bomb"));
}

TEST(ArchiveInspectorTest, RefusesArchivesAboveTheSizeLimit) {
  std::string four_mib(4 << 20, '\0');
  std::string bytes = ArchiveBuilder(ArchiveBuilder::Format::kPax, "gzip")
                          .File("a.bin", four_mib)
                          .File("b.bin", four_mib)
                          .File("c.bin", four_mib)
                          .Finish();
  ArchiveLimits limits;
  limits.max_total_bytes = 10 << 20;
  ExpectRefused(bytes, {{"c.bin", "limit of 10485760 uncompressed bytes"}}, limits);

  // A header that understates nothing but declares more than the limit is refused before
  // any of its data is read.
  std::string declared = UstarHeader("huge.bin", int64_t{3} << 30);
  ExpectRefused(declared, {{"huge.bin", "declares 3221225472 bytes"}});
}

TEST(ArchiveInspectorTest, RefusesTooManyEntries) {
  ArchiveBuilder builder;
  for (int i = 0; i < 20; ++i) builder.File(fmt::format("f{}", i), "");
  ArchiveLimits limits;
  limits.max_entries = 10;
  ExpectRefused(builder.Finish(), {{"f10", "more than 10 entries"}}, limits);
}

TEST(ArchiveInspectorTest, ListsEveryOffendingEntryInOneError) {
  std::string bytes = ArchiveBuilder()
                          .File("good.txt", "fine")
                          .File("../a", "x")
                          .File("/b", "x")
                          .Special("c", AE_IFIFO)
                          .File("d", "x", 04755)
                          .Symlink("e", "../../f")
                          .Finish();
  Result<ArchiveReport> report = InspectArchiveMemory(bytes, {});
  ASSERT_FALSE(report.ok());
  const std::string& message = report.error().message();
  EXPECT_THAT(message, HasSubstr("5 offending entries"));
  for (const char* name : {"\"../a\" (entry 2)", "\"/b\" (entry 3)", "\"c\" (entry 4)",
                           "\"d\" (entry 5)", "\"e\" (entry 6)"}) {
    EXPECT_THAT(message, HasSubstr(name));
  }
  EXPECT_THAT(message, ::testing::Not(HasSubstr("good.txt")));
}

}  // namespace
}  // namespace rollgate
