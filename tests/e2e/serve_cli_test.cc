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
  int StartServer() {
    std::string out = (h_.dir() / "serve.out").string(), err = (h_.dir() / "serve.err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::string config = "ROLLGATE_CONFIG=" + (h_.dir() / "rollgate.yaml").string();
    std::vector<std::string> env_storage = {config, "TZ=UTC"};
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

}  // namespace
}  // namespace rollgate::e2e
