// Trusted intake through the real binary: advisories imported, packages verified and inspected,
// signatures checked, downloads digest-checked — and nothing stored when anything is refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

const std::filesystem::path kAdvisories =
    std::filesystem::path(ROLLGATE_SOURCE_DIR) / "tests" / "data" / "advisories";

int CountAuditEvents(const CliHarness& h) {
  CommandOutput v = h.RunJson({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  return v.Json().value("events", -1);
}

// Runs a shell snippet in the harness directory (test fixtures only: building archives).
void Shell(const CliHarness& h, const std::string& script) {
  std::string command = "cd '" + h.dir().string() + "' && " + script;
  ASSERT_EQ(std::system(command.c_str()), 0) << script;
}

class IntakeCliTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.InitDemoConfig(); }

  void TrustKeyFromFile(const std::string& pub) {
    std::ifstream in(h_.dir() / pub);
    std::string comment, key;
    std::getline(in, comment);
    std::getline(in, key);
    std::ifstream config_in(h_.dir() / "rollgate.yaml");
    std::string config((std::istreambuf_iterator<char>(config_in)),
                       std::istreambuf_iterator<char>());
    auto pos = config.find("trusted_keys: []");
    ASSERT_NE(pos, std::string::npos);
    config.replace(pos, 16, "trusted_keys: [\"" + key + "\"]");
    h_.WriteConfig(config);
  }

  CliHarness h_;
};

TEST_F(IntakeCliTest, ImportsOsvAdvisoryAsCriticalEmergencyPatch) {
  CommandOutput out = h_.RunJson(
      {"patch", "import", (kAdvisories / "osv-critical-exploited.json").string()}, "heidi");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto doc = out.Json();
  EXPECT_EQ(doc["classification"], "P1");
  EXPECT_TRUE(doc["emergency"]);
  EXPECT_EQ(doc["cves"], nlohmann::json::array({"CVE-2026-31337"}));
  EXPECT_EQ(doc["cvss"]["version"], "3.1");
  EXPECT_DOUBLE_EQ(doc["cvss"]["base_score"].get<double>(), 9.8);
  EXPECT_EQ(doc["advisory"]["format"], "osv");
  EXPECT_FALSE(doc["version"].get<std::string>().empty());
}

// §6.1 "Security Vulnerability | CVSS >= 7.0 discovered": an advisory imported after a deployment
// names the version deployed; the import records the trigger on the CR and prints it.
TEST_F(IntakeCliTest, ImportedAdvisoryAgainstTheDeployedVersionFiresTheSecurityTrigger) {
  std::ifstream in(h_.dir() / "rollgate.yaml");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string names = "    advisory_names: [billing]\n";
  auto pos = config.find(names);
  ASSERT_NE(pos, std::string::npos);
  config.replace(pos, names.size(), "    advisory_names: [billing, invoicegen]\n");
  h_.WriteConfig(config);

  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector, "--version", "2.4.6-1"});
  ASSERT_FALSE(cr.empty());
  // DEV runs an affected version (listed in the advisory), TEST the fixed one.
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "deployment", "--passed", "--field",
      "version=2.4.6-1", "--field", "run=RUN-1"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "TEST", "--kind", "deployment", "--passed", "--field",
      "version=2.4.7-1+deb12u1"});
  int events = CountAuditEvents(h_);

  CommandOutput out = h_.RunJson(
      {"patch", "import", (kAdvisories / "osv-critical-exploited.json").string()}, "heidi");
  ASSERT_EQ(out.exit_code, 0) << Describe(out);
  auto doc = out.Json();
  ASSERT_TRUE(doc["triggers"].is_array()) << out.out;
  ASSERT_EQ(doc["triggers"].size(), 1u) << out.out;
  const auto& trigger = doc["triggers"][0];
  EXPECT_EQ(trigger["change_request"], cr);
  EXPECT_EQ(trigger["environment"], "DEV");
  EXPECT_EQ(trigger["system"], "billing");
  EXPECT_EQ(trigger["version"], "2.4.6-1");
  EXPECT_EQ(trigger["kind"], "security");
  EXPECT_EQ(trigger["action"], "rollback");
  EXPECT_DOUBLE_EQ(trigger["measurement"].get<double>(), 9.8);
  EXPECT_DOUBLE_EQ(trigger["threshold"].get<double>(), 7.0);
  EXPECT_NE(trigger["detail"].get<std::string>().find("affects the deployed version 2.4.6-1"),
            std::string::npos)
      << trigger.dump();
  // The patch and the trigger's evidence, each with its audit event.
  EXPECT_EQ(CountAuditEvents(h_), events + 2);

  // The CR carries the trigger as evidence; importing the same advisory again adds nothing.
  CommandOutput shown = h_.RunJson({"cr", "show", cr});
  ASSERT_EQ(shown.exit_code, 0) << Describe(shown);
  int triggers = 0;
  nlohmann::json shown_cr = shown.Json();
  for (const auto& e : shown_cr["evidence"]) triggers += e.value("kind", "") == "trigger";
  EXPECT_EQ(triggers, 1) << shown.out;
  CommandOutput again = h_.RunAs(
      "heidi", {"patch", "import", (kAdvisories / "osv-critical-exploited.json").string()});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(again.out.find("Trigger:"), std::string::npos) << again.out;

  // A second CR deployed to DEV later: the text output names it.
  std::string second = SubmittedCr(h_, {"--cvss", kHighVector, "--version", "2.4.5-1"});
  Ok(h_, "heidi",
     {"cr", "evidence", second, "--env", "DEV", "--kind", "deployment", "--passed", "--field",
      "version=2.4.5-1"});
  CommandOutput text = h_.RunAs(
      "heidi", {"patch", "import", (kAdvisories / "osv-critical-exploited.json").string()});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("Trigger: " + second + " must roll back in DEV (security): advisory "),
            std::string::npos)
      << text.out;
}

TEST_F(IntakeCliTest, ImportsCsafWithBothVersionsAndExploitation) {
  CommandOutput out =
      h_.RunJson({"patch", "import", (kAdvisories / "csaf-multi.json").string()}, "heidi");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto doc = out.Json();
  EXPECT_EQ(doc["cves"].size(), 2u);
  EXPECT_TRUE(doc["exploited"]);
  EXPECT_EQ(doc["classification"], "P1");
  EXPECT_EQ(doc["cvss"]["version"], "4.0");  // 4.0 preferred when both are present
  EXPECT_EQ(doc["cvss_all"].size(), 2u);
  bool exploitation_reason = false;
  for (const auto& c : doc["emergency_criteria"]) exploitation_reason |= c == "active-exploitation";
  EXPECT_TRUE(exploitation_reason);
}

TEST_F(IntakeCliTest, RefusesBrokenAdvisoriesAndStoresNothing) {
  int before = CountAuditEvents(h_);
  for (const char* name :
       {"csaf-score-mismatch.json", "broken-invalid-json.json", "broken-unknown-format.json",
        "broken-csaf-version.json", "broken-osv-missing-id.json", "broken-osv-wrong-type.json"}) {
    CommandOutput out = h_.RunAs("heidi", {"patch", "import", (kAdvisories / name).string()});
    EXPECT_EQ(out.exit_code, 2) << name << ": " << out.err;
    EXPECT_FALSE(out.err.empty()) << name;
  }
  CommandOutput mismatch =
      h_.RunAs("heidi", {"patch", "import", (kAdvisories / "csaf-score-mismatch.json").string()});
  EXPECT_NE(mismatch.err.find("does not match the vector"), std::string::npos) << mismatch.err;
  EXPECT_EQ(CountAuditEvents(h_), before);
  EXPECT_EQ(h_.RunJson({"patch", "list"}).Json().size(), 0u);
}

TEST_F(IntakeCliTest, AcceptsCleanSignedPackage) {
  Shell(h_,
        "mkdir -p pkg/opt/app && echo 1.1 > pkg/opt/app/VERSION && tar -czf good.tgz -C pkg . "
        "&& minisign -G -W -p k.pub -s k.sec >/dev/null && minisign -S -s k.sec -m good.tgz "
        ">/dev/null");
  TrustKeyFromFile("k.pub");
  CommandOutput out =
      h_.RunJson({"patch", "add", "--title", "app 1.1", "--source", "development-team", "--package",
                  "good.tgz", "--signature", "good.tgz.minisig"},
                 "heidi");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto package = out.Json()["package"];
  EXPECT_TRUE(package["signature_verified"]);
  EXPECT_EQ(package["sha256"].get<std::string>().size(), 64u);
  EXPECT_TRUE(std::filesystem::exists(h_.dir() / ".rollgate" / "packages" /
                                      (package["sha256"].get<std::string>() + ".pkg")));
}

TEST_F(IntakeCliTest, RefusesBadSignaturesAndStoresNothing) {
  Shell(h_,
        "mkdir -p pkg && echo 1 > pkg/a && tar -czf good.tgz -C pkg . && cp good.tgz other.tgz "
        "&& echo 2 > pkg/b && tar -czf other.tgz -C pkg . "
        "&& minisign -G -W -p k.pub -s k.sec >/dev/null && minisign -G -W -p k2.pub -s k2.sec "
        ">/dev/null && minisign -S -s k.sec -m good.tgz >/dev/null && minisign -S -s k2.sec -m "
        "other.tgz -x other-by-k2.minisig >/dev/null && minisign -S -s k.sec -m other.tgz -x "
        "other.minisig >/dev/null");
  int before = CountAuditEvents(h_);
  // No trusted keys configured yet.
  CommandOutput untrusted =
      h_.RunAs("heidi", {"patch", "add", "--title", "t", "--source", "development-team",
                         "--package", "good.tgz", "--signature", "good.tgz.minisig"});
  EXPECT_EQ(untrusted.exit_code, 2);
  TrustKeyFromFile("k.pub");
  struct Case {
    const char* package;
    const char* signature;
    const char* expect;
  };
  for (const Case& c : {Case{"other.tgz", "other-by-k2.minisig", "unknown key"},
                        Case{"good.tgz", "other.minisig", "does not match"},
                        Case{"other.tgz", "good.tgz.minisig", "does not match"}}) {
    CommandOutput out =
        h_.RunAs("heidi", {"patch", "add", "--title", "t", "--source", "development-team",
                           "--package", c.package, "--signature", c.signature});
    EXPECT_EQ(out.exit_code, 2) << c.package << " " << c.signature;
    EXPECT_NE(out.err.find(c.expect), std::string::npos) << out.err;
  }
  // Corrupt the global signature: its first character becomes a different one, whatever it was.
  Shell(h_, "sed -i '$ { s/^A/B/; t; s/^./A/; }' good.tgz.minisig");
  CommandOutput corrupt =
      h_.RunAs("heidi", {"patch", "add", "--title", "t", "--source", "development-team",
                         "--package", "good.tgz", "--signature", "good.tgz.minisig"});
  EXPECT_EQ(corrupt.exit_code, 2) << corrupt.err;
  EXPECT_EQ(CountAuditEvents(h_), before);
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(h_.dir() / ".rollgate" / "packages", ec)) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

TEST_F(IntakeCliTest, RefusesHostileArchivesNamingTheEntry) {
  // Each archive is built with Python's tarfile so the hostile entry is exactly as written.
  Shell(h_, R"(python3 - <<'PY'
import io, tarfile
def build(name, mutate):
    with tarfile.open(name, "w:gz") as t:
        ok = tarfile.TarInfo("ok.txt"); data = b"fine\n"; ok.size = len(data)
        t.addfile(ok, io.BytesIO(data))
        info = tarfile.TarInfo("x"); mutate(info)
        t.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
def traversal(i): i.name = "../escape.txt"; i.size = 1
def absolute(i): i.name = "/etc/cron.d/evil"; i.size = 1
def symlink(i): i.name = "link"; i.type = tarfile.SYMTYPE; i.linkname = "../../etc/shadow"
def hardlink(i): i.name = "hard"; i.type = tarfile.LNKTYPE; i.linkname = "/etc/passwd"
def device(i): i.name = "dev"; i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3
def fifo(i): i.name = "pipe"; i.type = tarfile.FIFOTYPE
def setuid(i): i.name = "suid-shell"; i.size = 1; i.mode = 0o4755
build("traversal.tgz", traversal); build("absolute.tgz", absolute); build("symlink.tgz", symlink)
build("hardlink.tgz", hardlink); build("device.tgz", device); build("fifo.tgz", fifo)
build("setuid.tgz", setuid)
open("truncated.tgz", "wb").write(open("setuid.tgz", "rb").read()[:40])
PY)");
  int before = CountAuditEvents(h_);
  struct Case {
    const char* file;
    const char* entry;
  };
  for (const Case& c :
       {Case{"traversal.tgz", "../escape.txt"}, Case{"absolute.tgz", "/etc/cron.d/evil"},
        Case{"symlink.tgz", "link"}, Case{"hardlink.tgz", "hard"}, Case{"device.tgz", "dev"},
        Case{"fifo.tgz", "pipe"}, Case{"setuid.tgz", "suid-shell"}, Case{"truncated.tgz", ""}}) {
    CommandOutput out = h_.RunAs("heidi", {"patch", "add", "--title", "t", "--source",
                                           "development-team", "--package", c.file});
    EXPECT_EQ(out.exit_code, 2) << c.file << ": " << out.err;
    EXPECT_NE(out.err.find("refused"), std::string::npos) << c.file << ": " << out.err;
    EXPECT_NE(out.err.find(c.entry), std::string::npos) << c.file << ": " << out.err;
  }
  EXPECT_EQ(CountAuditEvents(h_), before);
}

// A one-shot HTTP server on loopback serving one body, in a child process.
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::string body) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) {
        int client = accept(fd_, nullptr, nullptr);
        if (client < 0) _exit(0);
        char buffer[4096];
        (void)!read(client, buffer, sizeof buffer);
        std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\nConnection: close\r\n\r\n" + body;
        (void)!write(client, response.data(), response.size());
        close(client);
      }
    }
  }
  ~TinyHttpServer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(IntakeCliTest, DownloadsByUrlOnlyWithTheExpectedDigest) {
  Shell(h_, "mkdir -p pkg && echo 1 > pkg/a && tar -czf good.tgz -C pkg .");
  std::ifstream in(h_.dir() / "good.tgz", std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TinyHttpServer server(body);
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/good.tgz";
  // Plain http is refused unless the configuration allows it (tests only).
  CommandOutput plain =
      h_.RunAs("heidi", {"patch", "add", "--title", "t", "--source", "vendor-advisory", "--package",
                         url, "--sha256", std::string(64, 'a')});
  EXPECT_EQ(plain.exit_code, 2) << plain.err;
  std::ifstream config_in(h_.dir() / "rollgate.yaml");
  std::string config((std::istreambuf_iterator<char>(config_in)), std::istreambuf_iterator<char>());
  config.replace(config.find("max_size_mib: 2048"), 18,
                 "max_size_mib: 2048\n  allow_plain_http: true");
  h_.WriteConfig(config);
  CommandOutput no_digest = h_.RunAs(
      "heidi", {"patch", "add", "--title", "t", "--source", "vendor-advisory", "--package", url});
  EXPECT_EQ(no_digest.exit_code, 2);
  EXPECT_NE(no_digest.err.find("--sha256"), std::string::npos) << no_digest.err;
  CommandOutput wrong =
      h_.RunAs("heidi", {"patch", "add", "--title", "t", "--source", "vendor-advisory", "--package",
                         url, "--sha256", std::string(64, 'a')});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  Shell(h_, "sha256sum good.tgz | cut -c1-64 > digest");
  std::ifstream digest_in(h_.dir() / "digest");
  std::string digest;
  digest_in >> digest;
  CommandOutput good = h_.RunJson({"patch", "add", "--title", "t", "--source", "vendor-advisory",
                                   "--package", url, "--sha256", digest},
                                  "heidi");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(good.Json()["package"]["sha256"], digest);
  EXPECT_EQ(good.Json()["package"]["source_url"], url);
}

}  // namespace
}  // namespace rollgate::e2e
