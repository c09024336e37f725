// `rollgate serve` and `rollgate token` through the real binary: a token created on the command
// line opens the API to its person, the server answers on loopback and stops cleanly on SIGTERM.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

extern char** environ;

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

class ServeCliTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.InitDemoConfig(); }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Starts `rollgate serve --listen 127.0.0.1:0 --output json` in the background; returns the
  // port it prints (0 when it did not come up within 20 s).
  int StartServer(const std::vector<std::string>& extra_args = {},
                  const std::vector<std::string>& extra_env = {}) {
    std::string out = (h_.dir() / "serve.out").string(), err = (h_.dir() / "serve.err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::string config = "ROLLGATE_CONFIG=" + (h_.dir() / "rollgate.yaml").string();
    std::vector<std::string> env_storage = {config, "TZ=UTC"};
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    for (char** e = environ; *e; ++e) {
      std::string entry(*e);
      if (entry.rfind("ROLLGATE_", 0) == 0 || entry.rfind("TZ=", 0) == 0) continue;
      env_storage.push_back(entry);
    }
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = {ROLLGATE_BINARY, "serve",    "--listen",
                                     "127.0.0.1:0",   "--output", "json"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, ROLLGATE_BINARY, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0);
    for (int i = 0; i < 200; ++i) {
      std::string line = h_.ReadFile("serve.out");
      if (!line.empty() && line.back() == '\n') {
        auto document = nlohmann::json::parse(line, nullptr, false);
        if (document.is_object() && document.contains("port")) return document["port"];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the server did not come up: " << h_.ReadFile("serve.err");
    return 0;
  }

  CommandOutput Curl(int port, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"curl", "-sS", "-w", "\n%{http_code}", "--max-time", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.back() = "http://127.0.0.1:" + std::to_string(port) + args.back();
    return RunProgram(args, h_.dir(), {});
  }
  static int Code(const CommandOutput& curl) {
    return std::stoi(curl.out.substr(curl.out.rfind('\n') + 1));
  }
  static nlohmann::json BodyOf(const CommandOutput& curl) {
    return nlohmann::json::parse(curl.out.substr(0, curl.out.rfind('\n')), nullptr, false);
  }

  CliHarness h_;
  pid_t pid_ = -1;
};

TEST_F(ServeCliTest, ATokenOpensTheApiToItsPersonAndSigtermStopsTheServer) {
  CommandOutput created = h_.RunJson({"token", "create", "--label", "ci"}, "heidi");
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  std::string token = created.Json()["token"];
  EXPECT_EQ(token.rfind("rg_", 0), 0u);
  EXPECT_EQ(created.Json()["person"], "heidi");
  // The store keeps the hash only.
  EXPECT_THAT(h_.StoreDump(), ::testing::Not(HasSubstr(token)));

  int port = StartServer();
  ASSERT_GT(port, 0);
  CommandOutput health = Curl(port, {"/health"});
  EXPECT_EQ(Code(health), 200) << health.out;
  CommandOutput whoami = Curl(port, {"-H", "Authorization: Bearer " + token, "/api/v1/whoami"});
  ASSERT_EQ(Code(whoami), 200) << whoami.out;
  EXPECT_EQ(BodyOf(whoami)["person"], "heidi");
  CommandOutput anonymous = Curl(port, {"/api/v1/crs"});
  EXPECT_EQ(Code(anonymous), 401);
  EXPECT_EQ(BodyOf(anonymous)["error"]["code"], "UNAUTHENTICATED");

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << h_.ReadFile("serve.err");
}

TEST_F(ServeCliTest, TokensAreListedRevokedAndOnlyTheirOwnersOrAdminsMayDoSo) {
  CommandOutput mine = h_.RunJson({"token", "create", "--expires", "1d"}, "heidi");
  ASSERT_EQ(mine.exit_code, 0) << Describe(mine);
  std::string id = mine.Json()["id"];
  EXPECT_FALSE(mine.Json()["expires"].is_null());

  // Someone else's token takes a token admin role.
  CommandOutput forged = h_.RunJson({"token", "create", "--person", "heidi"}, "ivan");
  EXPECT_EQ(forged.exit_code, 4) << Describe(forged);
  CommandOutput not_theirs = h_.RunJson({"token", "revoke", id}, "ivan");
  EXPECT_EQ(not_theirs.exit_code, 4) << Describe(not_theirs);
  CommandOutput bad_expiry = h_.RunJson({"token", "create", "--expires", "soon"}, "heidi");
  EXPECT_EQ(bad_expiry.exit_code, 2);
  EXPECT_THAT(bad_expiry.err, HasSubstr("--expires"));
  CommandOutput nobody = h_.RunJson({"token", "create", "--person", "nobody"}, "heidi");
  EXPECT_EQ(nobody.exit_code, 3) << Describe(nobody);

  CommandOutput revoked = h_.RunJson({"token", "revoke", id}, "heidi");
  ASSERT_EQ(revoked.exit_code, 0) << Describe(revoked);
  EXPECT_EQ(revoked.Json()["state"], "revoked");
  CommandOutput list = h_.RunJson({"token", "list"}, "heidi");
  ASSERT_EQ(list.exit_code, 0);
  ASSERT_EQ(list.Json().size(), 1u);
  EXPECT_EQ(list.Json()[0]["state"], "revoked");
  EXPECT_FALSE(list.Json()[0].contains("token"));
  CommandOutput missing = h_.RunJson({"token", "revoke", "TOK-99"}, "heidi");
  EXPECT_EQ(missing.exit_code, 3);
}

TEST_F(ServeCliTest, ADeploymentStartedThroughTheApiRunsInTheServerAndIsRecordedOnTheCr) {
  h_.SetNow(kMonday);
  // A package billing-2.4.1/app/... (the layout a deployment installs), made with the system tar.
  std::filesystem::create_directories(h_.dir() / "pkg" / "billing-2.4.1" / "app");
  h_.WriteFile("pkg/billing-2.4.1/app/VERSION", "2.4.1\n");
  CommandOutput tar =
      RunProgram({"tar", "czf", "billing-2.4.1.tar.gz", "-C", "pkg", "billing-2.4.1"}, h_.dir(),
                 {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}});
  ASSERT_EQ(tar.exit_code, 0) << Describe(tar);
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector, "--version", "2.4.1", "--package",
                                    (h_.dir() / "billing-2.4.1.tar.gz").string()});
  ASSERT_FALSE(cr.empty());
  Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30 10:00"});
  std::string heidi = h_.RunJson({"token", "create"}, "heidi").Json()["token"];
  std::string ivan = h_.RunJson({"token", "create"}, "ivan").Json()["token"];
  std::string auth = "Authorization: Bearer " + heidi;

  int port = StartServer(
      {"--transport", "simulated", "--tick", "1s"},
      {"ROLLGATE_NOW=" + std::string(kMonday), "BILLING_DB_PASSWORD=not-used-by-simulated-hosts"});
  ASSERT_GT(port, 0);
  // TEST's gates refuse: nothing was deployed to DEV yet.
  CommandOutput refused =
      Curl(port, {"-H", auth, "-H", "Content-Type: application/json", "-d",
                  R"({"change_request":")" + cr + R"(","environment":"TEST"})", "/api/v1/runs"});
  EXPECT_EQ(Code(refused), 409) << refused.out;
  EXPECT_EQ(BodyOf(refused)["error"]["code"], "REFUSED_BY_GATE") << refused.out;

  CommandOutput started =
      Curl(port, {"-H", auth, "-H", "Content-Type: application/json", "-d",
                  R"({"change_request":")" + cr + R"(","environment":"DEV"})", "/api/v1/runs"});
  ASSERT_EQ(Code(started), 202) << started.out << h_.ReadFile("serve.err");
  std::string run = BodyOf(started)["id"];
  ASSERT_FALSE(run.empty());
  nlohmann::json finished;
  for (int i = 0; i < 300; ++i) {
    finished = BodyOf(Curl(port, {"-H", auth, "/api/v1/runs/" + run}));
    if (finished.value("state", "") != "running" && finished.value("state", "") != "pending") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(finished["state"], "succeeded") << finished.dump(2) << h_.ReadFile("serve.err");
  EXPECT_EQ(finished["created_by"], "heidi");
  EXPECT_THAT(h_.ReadFile("serve.err"), HasSubstr(run + " started: deploy " + cr + " to DEV"));

  // The deployment is on the CR as evidence, as `deploy` records it; the next gate sees it.
  CommandOutput show = h_.RunJson({"cr", "show", cr}, "heidi");
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  bool deployed = false;
  nlohmann::json shown = show.Json();
  for (const auto& e : shown["evidence"]) {
    if (e.value("kind", "") == "deployment" && e.value("environment", "") == "DEV") {
      deployed = e.value("passed", false);
    }
  }
  EXPECT_TRUE(deployed) << show.out;

  // A rollback needs the rollback roles: ivan (QA) may not; the answer says why.
  CommandOutput not_allowed =
      Curl(port, {"-H", "Authorization: Bearer " + ivan, "-H", "Content-Type: application/json",
                  "-d", R"({"reason":"errors up"})", "/api/v1/runs/" + run + "/rollback"});
  EXPECT_EQ(Code(not_allowed), 403) << not_allowed.out;
  // Cancelling a finished run is a conflict.
  CommandOutput cancel = Curl(port, {"-H", auth, "-d", "", "/api/v1/runs/" + run + "/cancel"});
  EXPECT_EQ(Code(cancel), 409) << cancel.out;

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << h_.ReadFile("serve.err");
}

TEST_F(ServeCliTest, RemoteModeActsAsTheTokensPersonThroughTheServer) {
  h_.SetNow(kMonday);
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  ASSERT_FALSE(cr.empty());
  std::string alice = h_.RunJson({"token", "create"}, "alice").Json()["token"];
  std::string judy = h_.RunJson({"token", "create"}, "judy").Json()["token"];
  int port = StartServer({}, {"ROLLGATE_NOW=" + std::string(kMonday)});
  ASSERT_GT(port, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto remote = [&](const std::string& token, const std::vector<std::string>& args) {
    return h_.Run(args, {{"ROLLGATE_SERVER", url}, {"ROLLGATE_TOKEN", token}});
  };

  CommandOutput whoami = remote(alice, {"whoami"});
  ASSERT_EQ(whoami.exit_code, 0) << Describe(whoami);
  EXPECT_THAT(whoami.out, HasSubstr("alice"));
  CommandOutput list = remote(alice, {"--output", "json", "cr", "list"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_EQ(list.Json().at(0)["id"], cr) << list.out;

  // The help desk reads but may not approve; the server says why (exit 4, as locally).
  CommandOutput refused = remote(judy, {"cr", "approve", cr, "--env", "DEV"});
  EXPECT_EQ(refused.exit_code, 4) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("read"));
  CommandOutput approved = remote(alice, {"cr", "approve", cr, "--env", "DEV"});
  ASSERT_EQ(approved.exit_code, 0) << Describe(approved);
  EXPECT_THAT(approved.out, HasSubstr("approved for DEV by alice"));
  // The approval is in the store the server uses, by the token's person.
  CommandOutput show = h_.RunJson({"cr", "show", cr}, "heidi");
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  EXPECT_EQ(show.Json()["approvals"][0]["approver"], "alice");
  // Gates through the server: TEST's are not met (exit 4, each gate listed).
  CommandOutput gates = remote(alice, {"gate", "check", cr, "--env", "TEST"});
  EXPECT_EQ(gates.exit_code, 4) << Describe(gates);
  EXPECT_THAT(gates.out, HasSubstr("FAIL"));

  // What has no meaning remotely is refused before anything is sent.
  CommandOutput local_only = remote(alice, {"calendar"});
  EXPECT_EQ(local_only.exit_code, 2);
  EXPECT_THAT(local_only.err, HasSubstr("not available with --server"));
  CommandOutput as = remote(alice, {"--as", "dana", "cr", "list"});
  EXPECT_EQ(as.exit_code, 2);
  EXPECT_THAT(as.err, HasSubstr("the token"));
  CommandOutput no_token = remote("", {"cr", "list"});
  EXPECT_EQ(no_token.exit_code, 4) << Describe(no_token);
  EXPECT_THAT(no_token.err, HasSubstr("ROLLGATE_TOKEN"));
  CommandOutput bad_token = remote("rg_nonsense", {"cr", "list"});
  EXPECT_EQ(bad_token.exit_code, 4) << Describe(bad_token);
  CommandOutput bad_server =
      h_.Run({"--server", "ftp://x", "cr", "list"}, {{"ROLLGATE_TOKEN", alice}});
  EXPECT_EQ(bad_server.exit_code, 2) << Describe(bad_server);
  EXPECT_THAT(bad_server.err, HasSubstr("--server"));
  EXPECT_THAT(bad_server.err + bad_token.err + no_token.err, ::testing::Not(HasSubstr(alice)));
}

TEST_F(ServeCliTest, RemoteModeTakesPatchesAdvisoriesCrsDocumentsAndSchedules) {
  h_.SetNow(kMonday);
  std::string heidi = h_.RunJson({"token", "create"}, "heidi").Json()["token"];
  int port = StartServer({}, {"ROLLGATE_NOW=" + std::string(kMonday)});
  ASSERT_GT(port, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto remote = [&](const std::vector<std::string>& args) {
    std::vector<std::string> json_args = {"--output", "json"};
    json_args.insert(json_args.end(), args.begin(), args.end());
    return h_.Run(json_args, {{"ROLLGATE_SERVER", url}, {"ROLLGATE_TOKEN", heidi}});
  };

  // A patch: its package would be a file on the server, so a path is refused before sending.
  CommandOutput path = remote({"patch", "add", "--title", "libfoo", "--source", "vendor-advisory",
                               "--package", "/etc/passwd"});
  EXPECT_EQ(path.exit_code, 2) << Describe(path);
  EXPECT_THAT(path.err, HasSubstr("URL"));
  CommandOutput patch = remote({"patch", "add", "--title", "OpenSSL 3.0.15 for billing", "--source",
                                "vendor-advisory", "--cvss", kHighVector});
  ASSERT_EQ(patch.exit_code, 0) << Describe(patch);
  nlohmann::json p = patch.Json();
  EXPECT_EQ(p["created_by"], "heidi");
  EXPECT_EQ(p["classification"], "P2");
  const std::filesystem::path advisory = std::filesystem::path(ROLLGATE_SOURCE_DIR) / "tests" /
                                         "data" / "advisories" / "osv-critical-exploited.json";
  CommandOutput imported = remote({"patch", "import", advisory.string()});
  ASSERT_EQ(imported.exit_code, 0) << Describe(imported);
  EXPECT_EQ(imported.Json()["classification"], "P1");
  EXPECT_TRUE(imported.Json()["triggers"].empty());
  CommandOutput listed = remote({"patch", "list"});
  ASSERT_EQ(listed.exit_code, 0) << Describe(listed);
  EXPECT_EQ(listed.Json().size(), 2u);

  // A CR with its plans read here and sent; a document; a schedule.
  h_.WriteFile("rollback.md", "restore /opt/billing from the backup\n");
  h_.WriteFile("notes.bin", std::string("\x00\x01release notes\xff", 17));
  CommandOutput cr = remote({"cr", "create", "--patch", p["id"], "--system", "billing",
                             "--rollback-plan", "rollback.md", "--downtime", "15m"});
  ASSERT_EQ(cr.exit_code, 0) << Describe(cr);
  std::string id = cr.Json()["id"];
  EXPECT_EQ(cr.Json()["requester"], "heidi");
  CommandOutput bad_type =
      remote({"cr", "create", "--patch", p["id"], "--system", "billing", "--type", "cosmetic"});
  EXPECT_EQ(bad_type.exit_code, 2) << Describe(bad_type);
  EXPECT_THAT(bad_type.err, HasSubstr("type"));
  CommandOutput attached = remote({"cr", "attach", id, "--kind", "release-notes", "notes.bin"});
  ASSERT_EQ(attached.exit_code, 0) << Describe(attached);
  CommandOutput scheduled =
      remote({"cr", "schedule", id, "--env", "DEV", "--at", "2026-11-30T14:00:00Z"});
  ASSERT_EQ(scheduled.exit_code, 0) << Describe(scheduled);

  // All of it is in the store the server uses, by the token's person.
  CommandOutput show = h_.RunJson({"cr", "show", id}, "heidi");
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  nlohmann::json doc = show.Json();
  EXPECT_EQ(doc["rollback_plan"], "restore /opt/billing from the backup\n");
  ASSERT_EQ(doc["attachments"].size(), 1u) << show.out;
  EXPECT_EQ(doc["attachments"][0]["file_name"], "notes.bin");
  EXPECT_EQ(doc["attachments"][0]["size"], 17);
  EXPECT_THAT(show.out, HasSubstr("2026-11-30T14:00:00Z"));
  CommandOutput events = h_.Run({"--as", "heidi", "audit", "export"});
  EXPECT_THAT(events.out, HasSubstr("\"action\":\"cr.attach\""));
  EXPECT_THAT(events.out, ::testing::Not(HasSubstr("\"actor\":\"alice\"")));

  // No decision waits: the server says so (exit 3, as locally).
  CommandOutput decide = remote({"decide", id, "--env", "DEV", "continue"});
  EXPECT_EQ(decide.exit_code, 3) << Describe(decide);
}

}  // namespace
}  // namespace rollgate::e2e
