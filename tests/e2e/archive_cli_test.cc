// `rollgate cr archive` through the real binary (playbook §4.3 step 3): a CR with an approval, a
// deployment on the simulated transport (its notification sent through a file channel), a run of
// its own on the local transport (real step output) and a JUnit report attached is archived;
// the system `tar` extracts it, the system `sha256sum -c SHA256SUMS` passes, the files hold what
// was recorded; after one file is changed `sha256sum -c` fails. Then the refusals: an existing
// file without --force, an unknown CR, a malformed id, a missing directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const std::map<std::string, std::string> kSystemPath = {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The outcome document a streaming command (deploy, run exec with --output json) prints last.
nlohmann::json LastLine(const CommandOutput& r) {
  std::istringstream lines(r.out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  nlohmann::json doc = nlohmann::json::parse(last, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << Describe(r);
  return doc.is_discarded() ? nlohmann::json::object() : doc;
}

class ArchiveCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    // Notifications through a file channel, so the deployment's notice is delivered and
    // recorded as sent (webhooks need a server).
    std::string config = h_.ReadFile("rollgate.yaml");
    const std::string teams =
        "  - name: teams\n    type: file\n    settings: {path: outbox/teams.txt}\n";
    auto at = config.find(teams);
    ASSERT_NE(at, std::string::npos) << "the starter configuration's teams channel changed";
    config.replace(at, teams.size(),
                   "  - name: teams\n    type: file\n    settings: {path: notifications.log}\n");
    h_.WriteConfig(config);
    h_.SetNow(kMonday);

    // A package billing-2.4.1/app/... (the layout a deployment installs), made with the system tar.
    fs::create_directories(h_.dir() / "pkg" / "billing-2.4.1" / "app");
    h_.WriteFile("pkg/billing-2.4.1/app/VERSION", "2.4.1\n");
    CommandOutput tar =
        RunProgram({"tar", "czf", "billing-2.4.1.tar.gz", "-C", "pkg", "billing-2.4.1"}, h_.dir(),
                   kSystemPath);
    ASSERT_EQ(tar.exit_code, 0) << Describe(tar);

    cr_ = SubmittedCr(h_, {"--cvss", kHighVector, "--version", "2.4.1", "--package",
                           (h_.dir() / "billing-2.4.1.tar.gz").string()});
    ASSERT_FALSE(cr_.empty());
    Ok(h_, "alice", {"cr", "approve", cr_, "--env", "DEV"});
    Ok(h_, "heidi", {"cr", "schedule", cr_, "--env", "DEV", "--at", "2026-11-30 10:00"});

    // The DEV deployment on simulated hosts: a recorded run with every step execution.
    // The database backup step's password reference (env:BILLING_DB_PASSWORD) must resolve.
    CommandOutput deploy = h_.Run({"--as", "heidi", "--output", "json", "deploy", cr_, "--env",
                                   "DEV", "--transport", "simulated"},
                                  {{"BILLING_DB_PASSWORD", "not-used-by-simulated-hosts"}});
    ASSERT_EQ(deploy.exit_code, 0) << Describe(deploy);
    deploy_run_ = LastLine(deploy).value("run", "");
    ASSERT_FALSE(deploy_run_.empty()) << Describe(deploy);

    // A run of the CR on the local transport whose step prints something.
    h_.WriteFile("plan.json", R"({"name": "smoke", "phases": [{"name": "verify", "steps": [
        {"name": "smoke", "argv": ["echo", "smoke: 4 of 4 checks passed on billing"]}]}]})");
    CommandOutput exec =
        h_.Run({"--as", "heidi", "--output", "json", "run", "exec", "--plan",
                (h_.dir() / "plan.json").string(), "--hosts", "localhost", "--transport", "local",
                "--cr", cr_, "--env", "DEV", "--system", "billing"});
    ASSERT_EQ(exec.exit_code, 0) << Describe(exec);
    exec_run_ = LastLine(exec).value("id", "");
    ASSERT_FALSE(exec_run_.empty()) << Describe(exec);

    h_.WriteFile(
        "regression.xml",
        R"(<testsuite name="regression" tests="1"><testcase name="invoice"/></testsuite>)");
    Ok(h_, "ivan", {"cr", "attach", cr_, "--kind", "test-results", "regression.xml"});
  }

  // Extracts `archive` with the system tar into a new directory; returns it.
  fs::path Extract(const fs::path& archive, const std::string& name) {
    fs::path into = h_.dir() / name;
    fs::create_directories(into);
    CommandOutput tar =
        RunProgram({"tar", "xzf", archive.string(), "-C", into.string()}, h_.dir(), kSystemPath);
    EXPECT_EQ(tar.exit_code, 0) << Describe(tar);
    return into;
  }

  CommandOutput Sha256sumCheck(const fs::path& directory) {
    return RunProgram({"sha256sum", "-c", "SHA256SUMS"}, directory, kSystemPath);
  }

  CliHarness h_;
  std::string cr_;
  std::string deploy_run_;
  std::string exec_run_;
};

TEST_F(ArchiveCliTest, AnAuditorChecksTheArchiveWithTarAndSha256sum) {
  int64_t events_before = h_.AuditEvents();
  fs::create_directories(h_.dir() / "out");
  CommandOutput archived =
      h_.RunJson({"cr", "archive", cr_, "--output", "out/evidence.tar.gz"}, "heidi");
  ASSERT_EQ(archived.exit_code, 0) << Describe(archived);
  nlohmann::json doc = archived.Json();
  ASSERT_TRUE(doc.contains("archive") && doc.contains("sha256") && doc.contains("files"))
      << doc.dump();
  fs::path archive = h_.dir() / "out" / "evidence.tar.gz";
  EXPECT_EQ(doc["archive"], "out/evidence.tar.gz");
  CommandOutput sum = RunProgram({"sha256sum", archive.string()}, h_.dir(), kSystemPath);
  ASSERT_EQ(sum.exit_code, 0);
  EXPECT_EQ(sum.out.substr(0, 64), doc["sha256"].get<std::string>());

  // What `tar` lists is what the JSON lists, and each file's sum and size match.
  fs::path dir = Extract(archive, "extracted");
  std::set<std::string> listed;
  for (const auto& file : doc["files"]) {
    std::string path = file["path"];
    listed.insert(path);
    ASSERT_TRUE(fs::is_regular_file(dir / path)) << path;
    EXPECT_EQ(fs::file_size(dir / path), file["size"].get<uint64_t>()) << path;
  }
  std::set<std::string> extracted;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) extracted.insert(fs::relative(entry.path(), dir).string());
  }
  EXPECT_EQ(listed, extracted);
  for (const std::string& path : std::vector<std::string>{
           "README.txt", "SHA256SUMS", "approvals/approvals.json", "audit/checkpoint.txt",
           "audit/events.jsonl", "change-request/" + cr_ + ".md", "change-request/" + cr_ + ".json",
           "communications/notifications.json", "deployment-logs/" + deploy_run_ + ".json",
           "deployment-logs/" + deploy_run_ + ".log", "deployment-logs/" + exec_run_ + ".log",
           "deployment-logs/evidence.json", "monitoring/evidence.json", "monitoring/watches.json",
           "test-results/evidence.json"}) {
    EXPECT_EQ(extracted.count(path), 1U) << path;
  }

  // The system sha256sum verifies every file of the manifest; the manifest lists all but itself.
  CommandOutput check = Sha256sumCheck(dir);
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_THAT(check.out, HasSubstr("README.txt: OK"));
  EXPECT_THAT(check.out, Not(HasSubstr("FAILED")));
  int ok_lines = 0;
  std::istringstream lines(check.out);
  for (std::string line; std::getline(lines, line);) ok_lines += line.ends_with(": OK");
  EXPECT_EQ(ok_lines, static_cast<int>(extracted.size()) - 1);

  // The CR document is `cr show --format markdown`, byte for byte.
  CommandOutput show = h_.Run({"cr", "show", cr_, "--format", "markdown"});
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_EQ(Slurp(dir / "change-request" / (cr_ + ".md")), show.out);

  // The approval, the notification that was sent, the step output, the attachment.
  nlohmann::json approvals = nlohmann::json::parse(Slurp(dir / "approvals/approvals.json"));
  ASSERT_EQ(approvals["approvals"].size(), 1U);
  EXPECT_EQ(approvals["approvals"][0]["approver"], "alice");
  EXPECT_EQ(approvals["approvals"][0]["environment"], "DEV");
  nlohmann::json notifications =
      nlohmann::json::parse(Slurp(dir / "communications/notifications.json"))["notifications"];
  bool sent_by_file = false;
  for (const auto& n : notifications) {
    EXPECT_EQ(n["kind"], "notification");
    sent_by_file |= n["fields"].value("channel", "") == "teams" && n["passed"] == true;
  }
  EXPECT_TRUE(sent_by_file) << notifications.dump(2);
  EXPECT_THAT(Slurp(dir / "deployment-logs" / (exec_run_ + ".log")),
              HasSubstr("smoke: 4 of 4 checks passed on billing"));
  std::string report_member;
  nlohmann::json index = nlohmann::json::parse(Slurp(dir / "change-request/attachments.json"));
  for (const auto& a : index["attachments"]) {
    if (a["file_name"] == "regression.xml") report_member = a["member"];
  }
  EXPECT_THAT(report_member, ::testing::StartsWith("test-results/"));
  EXPECT_EQ(Slurp(dir / report_member), h_.ReadFile("regression.xml"));

  // The deployment's record is the run `run show` gives: each step's state and exit code.
  nlohmann::json shown = h_.RunJson({"run", "show", deploy_run_}, "heidi").Json();
  nlohmann::json logged =
      nlohmann::json::parse(Slurp(dir / "deployment-logs" / (deploy_run_ + ".json")));
  EXPECT_EQ(logged["state"], shown["state"]);
  ASSERT_EQ(logged["steps"].size(), shown["steps"].size());
  ASSERT_FALSE(logged["steps"].empty());
  for (size_t i = 0; i < logged["steps"].size(); ++i) {
    for (const char* field : {"step", "host", "state", "exit_code", "started", "finished"}) {
      EXPECT_EQ(logged["steps"][i][field], shown["steps"][i][field]) << i << " " << field;
    }
  }
  nlohmann::json deployment =
      nlohmann::json::parse(Slurp(dir / "deployment-logs/evidence.json"))["evidence"];
  bool deployment_recorded = false;
  for (const auto& e : deployment) deployment_recorded |= e["kind"] == "deployment";
  EXPECT_TRUE(deployment_recorded) << deployment.dump(2);

  // The audit events of the CR, its patch and its runs; the checkpoint verifies the live chain.
  std::string events = Slurp(dir / "audit/events.jsonl");
  EXPECT_THAT(events, HasSubstr(R"("action":"cr.approve")"));
  EXPECT_THAT(events, HasSubstr(R"("object":"PATCH-1")"));
  EXPECT_THAT(events, HasSubstr(R"("object":")" + deploy_run_ + "\""));
  CommandOutput against =
      h_.RunJson({"audit", "verify", "--against", (dir / "audit/checkpoint.txt").string()});
  EXPECT_EQ(against.exit_code, 0) << Describe(against);
  EXPECT_EQ(against.Json()["ok"], true);

  // The archiving is an audit event on the CR naming the archive's SHA-256.
  EXPECT_EQ(h_.AuditEvents(), events_before + 1);
  CommandOutput exported = h_.Run({"audit", "export", "--format", "jsonl"});
  std::string last = exported.out.substr(exported.out.rfind('\n', exported.out.size() - 2) + 1);
  nlohmann::json event = nlohmann::json::parse(last);
  EXPECT_EQ(event["action"], "cr.archive");
  EXPECT_EQ(event["object"], cr_);
  EXPECT_EQ(event["actor"], "heidi");
  EXPECT_EQ(event["details"]["sha256"], doc["sha256"]);

  // One changed byte in one file: sha256sum -c fails and names the file.
  fs::path notice = dir / "communications/notifications.json";
  std::string content = Slurp(notice);
  content[content.find("teams")] = 'T';
  std::ofstream(notice, std::ios::binary | std::ios::trunc) << content;
  CommandOutput tampered = Sha256sumCheck(dir);
  EXPECT_NE(tampered.exit_code, 0) << Describe(tampered);
  EXPECT_THAT(tampered.out, HasSubstr("communications/notifications.json: FAILED"));
}

TEST_F(ArchiveCliTest, DefaultNameRefusalsAndForce) {
  // Default file name in the current directory; text output says how to verify.
  CommandOutput first = h_.RunAs("heidi", {"cr", "archive", cr_});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  fs::path archive = h_.dir() / (cr_ + "-archive.tar.gz");
  ASSERT_TRUE(fs::is_regular_file(archive));
  EXPECT_THAT(first.out, HasSubstr("sha256sum -c SHA256SUMS"));
  std::string original = Slurp(archive);

  // An existing file is refused (exit 2, named) and left as it was; nothing is recorded.
  int64_t events = h_.AuditEvents();
  std::string store = h_.StoreDump();
  CommandOutput again = h_.RunAs("heidi", {"cr", "archive", cr_});
  EXPECT_EQ(again.exit_code, 2) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr(cr_ + "-archive.tar.gz already exists; --force replaces it"));
  EXPECT_EQ(Slurp(archive), original);
  EXPECT_EQ(h_.StoreDump(), store);

  // Unknown CR: 3; malformed id, missing directory, two files: 2 — none changes anything.
  CommandOutput unknown = h_.RunJson({"cr", "archive", "CR-99"}, "heidi");
  EXPECT_EQ(unknown.exit_code, 3) << Describe(unknown);
  EXPECT_EQ(unknown.Json()["error"]["code"], "NOT_FOUND") << unknown.out;
  CommandOutput malformed = h_.RunAs("heidi", {"cr", "archive", "CR-1;touch x"});
  EXPECT_EQ(malformed.exit_code, 2) << Describe(malformed);
  EXPECT_THAT(malformed.err, HasSubstr("invalid change request id"));
  CommandOutput nowhere =
      h_.RunAs("heidi", {"cr", "archive", cr_, "--output", "no/such/dir/a.tar.gz"});
  EXPECT_EQ(nowhere.exit_code, 2) << Describe(nowhere);
  EXPECT_THAT(nowhere.err, HasSubstr("does not exist"));
  CommandOutput two =
      h_.RunAs("heidi", {"cr", "archive", cr_, "--output", "a.tar.gz", "--output", "b.tar.gz"});
  EXPECT_EQ(two.exit_code, 2) << Describe(two);
  EXPECT_THAT(two.err, HasSubstr("--output names two files"));
  CommandOutput flag = h_.RunAs("heidi", {"cr", "archive", cr_, "--forse"});
  EXPECT_EQ(flag.exit_code, 2) << Describe(flag);
  EXPECT_EQ(h_.StoreDump(), store);
  EXPECT_FALSE(fs::exists(h_.dir() / "a.tar.gz"));
  EXPECT_FALSE(fs::exists(h_.dir() / "x"));

  // --force replaces the file; the new archive verifies too.
  CommandOutput forced = h_.RunJson({"cr", "archive", cr_, "--force"}, "heidi");
  ASSERT_EQ(forced.exit_code, 0) << Describe(forced);
  EXPECT_EQ(forced.Json()["archive"], cr_ + "-archive.tar.gz");
  EXPECT_EQ(h_.AuditEvents(), events + 1);
  CommandOutput check = Sha256sumCheck(Extract(archive, "forced"));
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
}

}  // namespace
}  // namespace rollgate::e2e
