#include "service/cr_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/sha256.h"
#include "common/strings.h"
#include "domain/cr_document.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/faulty_store.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const FixedOffsetZone kUtc{Seconds(0)};

Evidence MakeEvidence(std::string env, std::string kind, std::string detail, bool passed = true) {
  Evidence e;
  e.environment = std::move(env);
  e.kind = std::move(kind);
  e.passed = passed;
  e.detail = std::move(detail);
  e.recorded_by = "eve";
  e.at = testing::MondayMorning() + hours(2);
  e.run_id = "RUN-2";
  return e;
}

StepExecution MakeStep(const std::string& run, const std::string& name, std::string host,
                       StepState state, std::optional<int> exit_code, std::string tail) {
  StepExecution s;
  s.run_id = run;
  s.step_name = name;
  s.host = std::move(host);
  s.state = state;
  s.exit_code = exit_code;
  s.output_tail = std::move(tail);
  s.started_at = testing::MondayMorning() + hours(1);
  s.finished_at = testing::MondayMorning() + hours(1) + seconds(42);
  s.evidence = "exit-status file";
  return s;
}

ArchivedRun MakeRun(const std::string& id, RunState state, std::vector<StepExecution> steps) {
  ArchivedRun r;
  r.run.id = id;
  r.run.change_request = "CR-1";
  r.run.environment = "DEV";
  r.run.system = "billing";
  r.run.state = state;
  r.run.transport = "simulated";
  r.run.created_by = "eve";
  r.run.created_at = testing::MondayMorning() + hours(1);
  r.run.plan_json = R"({"name":"dev"})";
  r.steps = std::move(steps);
  for (size_t i = 0; i < r.steps.size(); ++i) r.steps[i].step = static_cast<int>(i);
  return r;
}

// A CR with something of every §4.3 step 3 kind recorded, two runs, a watch and two attachments
// (one a JUnit report, one with a hostile name).
CrArchiveInput SampleInput(const Config& config) {
  CrArchiveInput input;
  Patch patch = testing::SamplePatch(7.5);
  input.patch = patch;
  ChangeRequest& cr = input.cr;
  cr = testing::SampleChangeRequest(config, patch);
  cr.state = CrState::kInProgress;
  Approval approval;
  approval.environment = "DEV";
  approval.approver = "dana";
  approval.role = "development-lead";
  approval.at = testing::MondayMorning() + minutes(30);
  approval.cr_revision = 1;
  cr.approvals.push_back(approval);
  Signoff signoff;
  signoff.environment = "DEV";
  signoff.kind = "dev-lead";
  signoff.person = "dana";
  signoff.role = "development-lead";
  signoff.at = testing::MondayMorning() + hours(3);
  signoff.cr_revision = 1;
  cr.signoffs.push_back(signoff);
  cr.evidence = {
      MakeEvidence("DEV", kEvidenceNotification, "teams: sent to development-team"),
      MakeEvidence("DEV", kEvidenceDeployment, "RUN-2 succeeded on 1 host"),
      MakeEvidence("DEV", kEvidenceSmoke, "4 of 4 smoke tests passed"),
      MakeEvidence("DEV", kEvidenceMetrics, "p95 180 ms against a baseline of 170 ms"),
      MakeEvidence("DEV", kEvidenceRiskAcceptance, "accepted by chris"),
      MakeEvidence("DEV", "diagnostics", "a kind this build does not know"),
  };
  std::string junit = R"(<testsuite name="regression" tests="2"><testcase name="a"/></testsuite>)";
  std::string sia = "exposed TLS endpoint\n";
  Attachment report{
      "test-results", "regression.xml",        Sha256Hex(junit), static_cast<int64_t>(junit.size()),
      "eve",          testing::MondayMorning()};
  Attachment hostile{"security impact/../x",
                     "../../etc/passwd me",
                     Sha256Hex(sia),
                     static_cast<int64_t>(sia.size()),
                     "eve",
                     testing::MondayMorning()};
  cr.attachments = {report, hostile};
  input.blobs = {{Sha256Hex(sia), sia}, {Sha256Hex(junit), junit}};

  input.runs.push_back(MakeRun("RUN-10", RunState::kFailed,
                               {MakeStep("RUN-10", "rollout/start", "deploy@billing-dev1",
                                         StepState::kFailed, 1, "port 8080 in use\n")}));
  input.runs.push_back(
      MakeRun("RUN-2", RunState::kSucceeded,
              {MakeStep("RUN-2", "readiness/disk", "deploy@billing-dev1", StepState::kSucceeded, 0,
                        "free 71%\n"),
               MakeStep("RUN-2", "rollout/install", "deploy@billing-dev1", StepState::kSucceeded, 0,
                        std::string("installed billing 2.4.1 \xff\xfe bytes"))}));
  Watch watch;
  watch.change_request = cr.id;
  watch.environment = "PROD";
  watch.run_id = "RUN-10";
  watch.system = "billing";
  watch.baseline_ms = 170;
  watch.summary = "availability 100%";
  input.watches.push_back(watch);

  AuditEvent created{1,
                     testing::MondayMorning(),
                     "eve",
                     "cr.create",
                     cr.id,
                     R"({"title":"x"})",
                     kAuditGenesisHash,
                     std::string(64, 'a')};
  AuditEvent run_event{3,
                       testing::MondayMorning(),
                       "eve",
                       "run.created",
                       "RUN-2",
                       "{}",
                       std::string(64, 'a'),
                       std::string(64, 'b')};
  input.audit_events = {run_event, created};  // any order: the archive sorts them by seq
  input.checkpoint = MakeCheckpoint(3, std::string(64, 'b'), testing::MondayMorning() + hours(4));
  input.created_at = testing::MondayMorning() + hours(4);
  input.created_by = "eve";
  return input;
}

std::map<std::string, std::string> ByPath(const std::vector<ArchiveMember>& members) {
  std::map<std::string, std::string> out;
  for (const ArchiveMember& m : members) out[m.path] = m.content;
  return out;
}

std::vector<std::string> Paths(const std::vector<ArchiveMember>& members) {
  std::vector<std::string> out;
  out.reserve(members.size());
  for (const ArchiveMember& m : members) out.push_back(m.path);
  return out;
}

class CrArchiveFilesTest : public ::testing::Test {
 protected:
  Config config_ = testing::SampleConfig();
  CrArchiveInput input_ = SampleInput(config_);

  std::vector<ArchiveMember> Build() {
    auto built = BuildCrArchiveFiles(input_, config_, kUtc);
    EXPECT_TRUE(built.ok()) << built.error().ToString();
    return built.ok() ? *built : std::vector<ArchiveMember>{};
  }
};

TEST_F(CrArchiveFilesTest, HoldsEveryPartOfTheRecordInPathOrder) {
  std::vector<ArchiveMember> members = Build();
  EXPECT_THAT(Paths(members), ElementsAreArray({
                                  "README.txt",
                                  "SHA256SUMS",
                                  "approvals/approvals.json",
                                  "attachments/02-security_impact_.._x-_.._etc_passwd_me",
                                  "audit/checkpoint.txt",
                                  "audit/events.jsonl",
                                  "change-request/CR-1.json",
                                  "change-request/CR-1.md",
                                  "change-request/PATCH-1.json",
                                  "change-request/attachments.json",
                                  "communications/notifications.json",
                                  "deployment-logs/RUN-10.json",
                                  "deployment-logs/RUN-10.log",
                                  "deployment-logs/RUN-2.json",
                                  "deployment-logs/RUN-2.log",
                                  "deployment-logs/evidence.json",
                                  "monitoring/evidence.json",
                                  "monitoring/watches.json",
                                  "test-results/01-test-results-regression.xml",
                                  "test-results/evidence.json",
                              }));
  for (const ArchiveMember& m : members) {
    EXPECT_TRUE(IsSafeMemberPath(m.path)) << m.path;
    EXPECT_EQ(m.sha256, Sha256Hex(m.content)) << m.path;
  }
}

TEST_F(CrArchiveFilesTest, EachSectionHoldsItsRecords) {
  auto files = ByPath(Build());
  using nlohmann::json;
  // The CR document exactly as `cr show --format markdown` renders it.
  EXPECT_EQ(files["change-request/CR-1.md"],
            RenderCrMarkdown(input_.cr, &*input_.patch, config_, input_.created_at, kUtc));
  json cr = json::parse(files["change-request/CR-1.json"]);
  EXPECT_EQ(cr["id"], "CR-1");

  json notifications = json::parse(files["communications/notifications.json"]);
  ASSERT_EQ(notifications["notifications"].size(), 1U);
  EXPECT_EQ(notifications["notifications"][0]["detail"], "teams: sent to development-team");
  EXPECT_EQ(notifications["notifications"][0]["index"], 1);

  json approvals = json::parse(files["approvals/approvals.json"]);
  ASSERT_EQ(approvals["approvals"].size(), 1U);
  EXPECT_EQ(approvals["approvals"][0]["approver"], "dana");
  EXPECT_EQ(approvals["signoffs"][0]["kind"], "dev-lead");
  EXPECT_EQ(approvals["evidence"][0]["kind"], "risk-acceptance");

  json tests = json::parse(files["test-results/evidence.json"]);
  ASSERT_EQ(tests["evidence"].size(), 1U);
  EXPECT_EQ(tests["evidence"][0]["kind"], "smoke");
  EXPECT_EQ(files["test-results/01-test-results-regression.xml"],
            R"(<testsuite name="regression" tests="2"><testcase name="a"/></testsuite>)");
  EXPECT_EQ(files["attachments/02-security_impact_.._x-_.._etc_passwd_me"],
            "exposed TLS endpoint\n");
  json index = json::parse(files["change-request/attachments.json"]);
  EXPECT_EQ(index["attachments"][0]["member"], "test-results/01-test-results-regression.xml");
  EXPECT_EQ(index["attachments"][1]["file_name"], "../../etc/passwd me") << "recorded as it was";

  json monitoring = json::parse(files["monitoring/evidence.json"]);
  ASSERT_EQ(monitoring["evidence"].size(), 1U);
  EXPECT_EQ(monitoring["evidence"][0]["kind"], "metrics");
  json watches = json::parse(files["monitoring/watches.json"]);
  EXPECT_EQ(watches["watches"][0]["baseline_ms"], 170.0);

  // Deployment evidence keeps the kinds no other section claims, unknown ones included.
  json deployment = json::parse(files["deployment-logs/evidence.json"]);
  ASSERT_EQ(deployment["evidence"].size(), 2U);
  EXPECT_EQ(deployment["evidence"][0]["kind"], "deployment");
  EXPECT_EQ(deployment["evidence"][1]["kind"], "diagnostics");
  EXPECT_EQ(deployment["runs"], json::array({"RUN-2", "RUN-10"})) << "by run number";

  // Each step's state, exit code, times and output tail; the log keeps the bytes as recorded.
  json run = json::parse(files["deployment-logs/RUN-2.json"]);
  ASSERT_EQ(run["steps"].size(), 2U);
  EXPECT_EQ(run["steps"][0]["step"], "readiness/disk");
  EXPECT_EQ(run["steps"][0]["state"], "succeeded");
  EXPECT_EQ(run["steps"][0]["exit_code"], 0);
  EXPECT_EQ(run["steps"][0]["started"], "2026-11-30T10:00:00Z");
  EXPECT_EQ(run["steps"][0]["finished"], "2026-11-30T10:00:42Z");
  EXPECT_EQ(run["steps"][0]["output_tail"], "free 71%\n");
  EXPECT_EQ(run["steps"][1]["output_tail"],
            "installed billing 2.4.1 \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  EXPECT_EQ(run["plan"]["name"], "dev");
  std::string log = files["deployment-logs/RUN-2.log"];
  EXPECT_THAT(log, HasSubstr("== readiness/disk on deploy@billing-dev1 (attempt 1): succeeded, "
                             "exit code 0\n"));
  EXPECT_THAT(log, HasSubstr("installed billing 2.4.1 \xff\xfe bytes\n"));
  EXPECT_THAT(files["deployment-logs/RUN-10.log"],
              HasSubstr("rollout/start on deploy@billing-dev1 (attempt 1): failed, exit code 1"));

  // Audit events in seq order, as `audit export` prints them; the checkpoint in its text form.
  std::vector<std::string> lines = Split(files["audit/events.jsonl"], '\n');
  ASSERT_EQ(lines.size(), 3U);  // two events and the empty piece after the last newline
  EXPECT_EQ(json::parse(lines[0])["seq"], 1);
  EXPECT_EQ(json::parse(lines[0])["details"]["title"], "x");
  EXPECT_EQ(json::parse(lines[1])["object"], "RUN-2");
  EXPECT_EQ(json::parse(lines[1])["hash"], std::string(64, 'b'));
  auto checkpoint = ParseCheckpoint(files["audit/checkpoint.txt"]);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().ToString();
  EXPECT_EQ(checkpoint->seq, 3);

  std::string readme = files["README.txt"];
  EXPECT_THAT(readme, HasSubstr("sha256sum -c SHA256SUMS"));
  EXPECT_THAT(readme, HasSubstr("Evidence archive of CR-1"));
  for (const auto& [path, content] : files) EXPECT_THAT(readme, HasSubstr(path)) << path;
}

TEST_F(CrArchiveFilesTest, ManifestIsWhatSha256sumReadsAndCoversEveryOtherMember) {
  std::vector<ArchiveMember> members = Build();
  auto files = ByPath(members);
  std::vector<std::string> lines = Split(files["SHA256SUMS"], '\n');
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "") << "ends with a newline";
  lines.pop_back();
  ASSERT_EQ(lines.size(), members.size() - 1);
  std::set<std::string> covered;
  for (const std::string& line : lines) {
    ASSERT_GT(line.size(), 66U) << line;
    std::string sha = line.substr(0, 64);
    EXPECT_EQ(line.substr(64, 2), "  ") << "text mode: two spaces";
    std::string path = line.substr(66);
    ASSERT_EQ(files.count(path), 1U) << path;
    EXPECT_EQ(sha, Sha256Hex(files[path])) << path;
    covered.insert(path);
  }
  EXPECT_EQ(covered.count("SHA256SUMS"), 0U);
  EXPECT_EQ(covered.count("README.txt"), 1U);
  EXPECT_EQ(covered.size(), members.size() - 1);
  EXPECT_EQ(files["SHA256SUMS"], Sha256Manifest(members));
}

TEST_F(CrArchiveFilesTest, TheSameRecordGivesTheSameMembersAndBytes) {
  std::vector<ArchiveMember> first = Build();
  std::reverse(input_.runs.begin(), input_.runs.end());
  std::reverse(input_.blobs.begin(), input_.blobs.end());
  std::vector<ArchiveMember> second = Build();
  ASSERT_EQ(Paths(first), Paths(second));
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].content, second[i].content);
  auto a = WriteTarGz(first, input_.created_at);
  auto b = WriteTarGz(second, input_.created_at);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST_F(CrArchiveFilesTest, AMissingOrDamagedAttachmentIsCorruptionNotAnIncompleteArchive) {
  CrArchiveInput missing = input_;
  missing.blobs.pop_back();
  auto built = BuildCrArchiveFiles(missing, config_, kUtc);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().code(), StatusCode::kCorruption);
  EXPECT_THAT(built.error().message(), HasSubstr("regression.xml"));

  CrArchiveInput damaged = input_;
  damaged.blobs[0].content = "changed\n";
  built = BuildCrArchiveFiles(damaged, config_, kUtc);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().code(), StatusCode::kCorruption);
  EXPECT_THAT(built.error().message(), HasSubstr("does not match"));
}

TEST_F(CrArchiveFilesTest, ACrWithNothingRecordedStillHasEverySection) {
  CrArchiveInput bare;
  bare.cr = testing::SampleChangeRequest(config_, testing::SamplePatch());
  bare.checkpoint = MakeCheckpoint(0, kAuditGenesisHash, testing::MondayMorning());
  bare.created_at = testing::MondayMorning();
  bare.created_by = "eve";
  auto built = BuildCrArchiveFiles(bare, config_, kUtc);
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  auto files = ByPath(*built);
  for (const char* path :
       {"approvals/approvals.json", "communications/notifications.json",
        "deployment-logs/evidence.json", "monitoring/evidence.json", "monitoring/watches.json",
        "test-results/evidence.json", "audit/events.jsonl", "audit/checkpoint.txt",
        "change-request/CR-1.md"}) {
    EXPECT_EQ(files.count(path), 1U) << path;
  }
  EXPECT_EQ(files.count("change-request/PATCH-1.json"), 0U) << "no patch was given";
  EXPECT_EQ(nlohmann::json::parse(files["communications/notifications.json"])["notifications"],
            nlohmann::json::array());
}

// Reads a tar.gz back with libarchive: (path, mode, content) in archive order.
struct ReadEntry {
  std::string path;
  int mode = 0;
  bool regular = false;
  int64_t mtime = 0;
  std::string content;
};
std::vector<ReadEntry> ReadTarGz(const std::string& bytes, std::string* filter_name) {
  std::vector<ReadEntry> entries;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), &archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  EXPECT_EQ(archive_read_open_memory(a.get(), bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
    ReadEntry e;
    e.path = archive_entry_pathname(entry);
    e.mode = static_cast<int>(archive_entry_perm(entry));
    e.regular = archive_entry_filetype(entry) == AE_IFREG;
    e.mtime = archive_entry_mtime(entry);
    char buffer[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0) {
      e.content.append(buffer, static_cast<size_t>(n));
    }
    entries.push_back(std::move(e));
  }
  if (filter_name != nullptr) *filter_name = archive_filter_name(a.get(), 0);
  return entries;
}

TEST_F(CrArchiveFilesTest, TarGzRoundTripsEveryMemberInOrder) {
  std::vector<ArchiveMember> members = Build();
  auto bytes = WriteTarGz(members, input_.created_at);
  ASSERT_TRUE(bytes.ok()) << bytes.error().ToString();
  ASSERT_GE(bytes->size(), 2U);
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[0]), 0x1f) << "gzip magic";
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[1]), 0x8b);
  std::string filter;
  std::vector<ReadEntry> entries = ReadTarGz(*bytes, &filter);
  EXPECT_EQ(filter, "gzip");
  ASSERT_EQ(entries.size(), members.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].path, members[i].path);
    EXPECT_EQ(entries[i].content, members[i].content) << members[i].path;
    EXPECT_TRUE(entries[i].regular);
    EXPECT_EQ(entries[i].mode, 0644);
    EXPECT_EQ(entries[i].mtime, system_clock::to_time_t(input_.created_at));
  }
}

TEST(CrArchivePathsTest, UnsafeMemberPathsAreRefused) {
  for (const char* path :
       {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a b", "a\\b", "a/\n"}) {
    EXPECT_FALSE(IsSafeMemberPath(path)) << path;
    ArchiveMember m{path, "x", Sha256Hex("x")};
    auto written = WriteTarGz({m}, testing::MondayMorning());
    ASSERT_FALSE(written.ok()) << path;
    EXPECT_EQ(written.error().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(IsSafeMemberPath("deployment-logs/RUN-2.log"));
  EXPECT_TRUE(IsSafeMemberPath(".hidden/x")) << "only . and .. themselves are refused";
}

TEST(CrArchivePathsTest, SafePathComponentKeepsOnlyAPlainName) {
  EXPECT_EQ(SafePathComponent("regression.xml", "f"), "regression.xml");
  EXPECT_EQ(SafePathComponent("../../etc/passwd", "f"), "_.._etc_passwd");
  EXPECT_EQ(SafePathComponent("..", "f"), "f");
  EXPECT_EQ(SafePathComponent("...hidden", "f"), "hidden");
  EXPECT_EQ(SafePathComponent("", "f"), "f");
  EXPECT_EQ(SafePathComponent("rapport été.pdf", "f"), "rapport_t_.pdf");
  EXPECT_EQ(SafePathComponent("a\nb", "f"), "a_b");
  EXPECT_EQ(SafePathComponent(std::string(300, 'x'), "f", 80), std::string(80, 'x'));
}

// ---------------------------------------------------------------------------------------------
// CrArchiveService over a real SQLite store in a scratch directory.

std::filesystem::path MakeTempDirectory() {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("rollgate-cr-archive-" + std::to_string(::getpid()) + "-" +
                                std::to_string(steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(path);
  return path;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A store whose audit chain reports a break at event 2 (the store's data is otherwise real).
class BrokenChainStore final : public Store {
 public:
  explicit BrokenChainStore(Store& store) : store_(store) {}
  Status Write(const std::function<Status(Transaction&)>& body) override {
    return store_.Write(body);
  }
  Status Read(const std::function<Status(Transaction&)>& body) override {
    return store_.Read(body);
  }
  Result<AuditVerification> VerifyAudit() override {
    AuditVerification v;
    v.ok = false;
    v.events = 3;
    v.first_bad = 2;
    v.reason = "event 2 was modified";
    return v;
  }
  Status ForEachAuditEvent(const std::function<Status(const AuditEvent&)>& sink) override {
    return store_.ForEachAuditEvent(sink);
  }
  Result<std::vector<AuditEvent>> AuditEventsFor(const std::string& object) override {
    return store_.AuditEventsFor(object);
  }
  Status CheckIntegrity() override { return store_.CheckIntegrity(); }

 private:
  Store& store_;
};

class CrArchiveServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory();
    auto store = OpenSqliteStore(directory_ / "state.db");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    CrArchiveInput sample = SampleInput(config_);
    Status stored = store_->Write([&](Transaction& tx) -> Status {
      RETURN_IF_ERROR(tx.PutPatch(*sample.patch));
      RETURN_IF_ERROR(tx.PutChangeRequest(sample.cr));
      for (const ArchivedBlob& b : sample.blobs) {
        RETURN_IF_ERROR(tx.PutBlob(b.sha256, b.content));
      }
      for (const ArchivedRun& r : sample.runs) {
        RETURN_IF_ERROR(tx.PutRun(r.run));
        for (const StepExecution& s : r.steps) {
          // The store keeps step output as UTF-8 text (the pure tests cover other bytes).
          StepExecution stored_step = s;
          if (!IsValidUtf8(stored_step.output_tail)) stored_step.output_tail = "installed";
          RETURN_IF_ERROR(tx.PutStepExecution(stored_step));
        }
      }
      // A developer run (no CR) and another CR's events stay out.
      rollgate::Run other;
      other.id = "RUN-3";
      other.state = RunState::kSucceeded;
      RETURN_IF_ERROR(tx.PutRun(other));
      for (const auto& [action, object] :
           std::vector<std::pair<std::string, std::string>>{{"patch.add", "PATCH-1"},
                                                            {"cr.create", "CR-1"},
                                                            {"run.created", "RUN-2"},
                                                            {"run.created", "RUN-3"},
                                                            {"cr.create", "CR-2"}}) {
        RETURN_IF_ERROR(tx.AppendAudit({clock_.Now(), "eve", action, object, "{}"}).status());
      }
      return Status::Ok();
    });
    ASSERT_TRUE(stored.ok()) << stored.ToString();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(directory_);
  }

  Config config_ = testing::SampleConfig();
  testing::FakeClock clock_{testing::MondayMorning() + hours(5)};
  std::filesystem::path directory_;
  std::unique_ptr<Store> store_;
};

TEST_F(CrArchiveServiceTest, WritesTheArchiveAndRecordsTheArchivingOnTheCr) {
  CrArchiveService service(config_, *store_, clock_, kUtc);
  std::filesystem::path target = directory_ / "CR-1.tar.gz";
  auto archived = service.Archive("CR-1", target, /*force=*/false, "eve");
  ASSERT_TRUE(archived.ok()) << archived.error().ToString();
  std::string bytes = Slurp(target);
  EXPECT_EQ(archived->sha256, Sha256Hex(bytes));
  EXPECT_EQ(archived->size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(std::filesystem::status(target).permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0644));
  // No temporary file is left beside it.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    files += entry.path().filename().string().rfind(".CR-1.tar.gz.tmp", 0) == 0;
  }
  EXPECT_EQ(files, 0);

  std::map<std::string, std::string> read;
  for (const ReadEntry& e : ReadTarGz(bytes, nullptr)) read[e.path] = e.content;
  EXPECT_THAT(read["deployment-logs/RUN-2.log"], HasSubstr("free 71%"));
  EXPECT_EQ(read.count("deployment-logs/RUN-3.json"), 0U) << "not a run of CR-1";
  EXPECT_EQ(read["test-results/01-test-results-regression.xml"],
            R"(<testsuite name="regression" tests="2"><testcase name="a"/></testsuite>)");
  std::string events = read["audit/events.jsonl"];
  EXPECT_THAT(events, HasSubstr(R"("object":"PATCH-1")"));
  EXPECT_THAT(events, HasSubstr(R"("object":"CR-1")"));
  EXPECT_THAT(events, HasSubstr(R"("object":"RUN-2")"));
  EXPECT_THAT(events, Not(HasSubstr("RUN-3")));
  EXPECT_THAT(events, Not(HasSubstr("CR-2")));
  EXPECT_EQ(Split(events, '\n').size(), 4U);
  auto checkpoint = ParseCheckpoint(read["audit/checkpoint.txt"]);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->seq, 5) << "the head when the archive was made";
  auto against = VerifyAgainst(*store_, *checkpoint);
  ASSERT_TRUE(against.ok());
  EXPECT_TRUE(against->ok);

  auto recorded = store_->AuditEventsFor("CR-1");
  ASSERT_TRUE(recorded.ok());
  const AuditEvent& last = recorded->back();
  EXPECT_EQ(last.action, "cr.archive");
  EXPECT_EQ(last.actor, "eve");
  EXPECT_EQ(last.seq, archived->audit_seq);
  auto details = nlohmann::json::parse(last.details);
  EXPECT_EQ(details["sha256"], archived->sha256);
  EXPECT_EQ(details["members"], archived->members.size());
  EXPECT_EQ(details["checkpoint_seq"], 5);
  EXPECT_THAT(details["file"].get<std::string>(), HasSubstr("CR-1.tar.gz"));
}

TEST_F(CrArchiveServiceTest, AnExistingFileIsKeptUnlessForced) {
  CrArchiveService service(config_, *store_, clock_, kUtc);
  std::filesystem::path target = directory_ / "CR-1.tar.gz";
  std::ofstream(target) << "keep me";
  int64_t events = store_->VerifyAudit()->events;
  auto refused = service.Archive("CR-1", target, /*force=*/false, "eve");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message(), HasSubstr("already exists; --force replaces it"));
  EXPECT_EQ(Slurp(target), "keep me");
  EXPECT_EQ(store_->VerifyAudit()->events, events) << "nothing recorded";

  auto forced = service.Archive("CR-1", target, /*force=*/true, "eve");
  ASSERT_TRUE(forced.ok()) << forced.error().ToString();
  EXPECT_EQ(Sha256Hex(Slurp(target)), forced->sha256);
  EXPECT_EQ(store_->VerifyAudit()->events, events + 1);
}

TEST_F(CrArchiveServiceTest, BadInputAndUnknownCrsChangeNothing) {
  CrArchiveService service(config_, *store_, clock_, kUtc);
  int64_t events = store_->VerifyAudit()->events;
  auto unknown = service.Archive("CR-9", directory_ / "a.tar.gz", false, "eve");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  auto malformed = service.Archive("CR-01; rm -rf /", directory_ / "a.tar.gz", false, "eve");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code(), StatusCode::kInvalidArgument);
  auto no_directory = service.Archive("CR-1", directory_ / "missing" / "a.tar.gz", false, "eve");
  ASSERT_FALSE(no_directory.ok());
  EXPECT_EQ(no_directory.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_directory.error().message(), HasSubstr("does not exist"));
  auto a_directory = service.Archive("CR-1", directory_, false, "eve");
  ASSERT_FALSE(a_directory.ok());
  EXPECT_EQ(a_directory.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(directory_ / "a.tar.gz"));
  EXPECT_EQ(store_->VerifyAudit()->events, events);
}

TEST_F(CrArchiveServiceTest, ABrokenAuditChainIsNotVouchedFor) {
  BrokenChainStore broken(*store_);
  CrArchiveService service(config_, broken, clock_, kUtc);
  auto archived = service.Archive("CR-1", directory_ / "a.tar.gz", false, "eve");
  ASSERT_FALSE(archived.ok());
  EXPECT_EQ(archived.error().code(), StatusCode::kCorruption);
  EXPECT_THAT(archived.error().message(), HasSubstr("event 2 was modified"));
  EXPECT_FALSE(std::filesystem::exists(directory_ / "a.tar.gz"));
}

TEST_F(CrArchiveServiceTest, WhenTheEventCannotBeRecordedTheFileIsRemoved) {
  testing::FaultyStore faulty(*store_);
  faulty.FailWrite(1);
  CrArchiveService service(config_, faulty, clock_, kUtc);
  auto archived = service.Archive("CR-1", directory_ / "a.tar.gz", false, "eve");
  ASSERT_FALSE(archived.ok());
  EXPECT_EQ(archived.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(archived.error().message(), HasSubstr("removed again"));
  EXPECT_FALSE(std::filesystem::exists(directory_ / "a.tar.gz"));
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    EXPECT_THAT(entry.path().filename().string(), Not(StartsWith(".a.tar.gz.tmp")))
        << "a temporary file was left behind";
  }
}

TEST(CrArchiveServiceNameTest, DefaultFileName) {
  EXPECT_EQ(CrArchiveService::DefaultFileName("CR-12"), "CR-12-archive.tar.gz");
}

}  // namespace
}  // namespace rollgate
