// notify list | show | retry | flush through the real binary, with the e-mail channel pointing at
// a real SMTP sink on 127.0.0.1 (tests/tools/smtp_sink.py, Debian's python3-aiosmtpd) that the
// test starts after the first attempts failed.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

extern char** environ;

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCanary[] = "canary-e2e-smtp-secret-9c2e";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// The SMTP sink as a child process, killed when the object goes.
class Sink {
 public:
  Sink(int port, std::filesystem::path dir) : port_(port), dir_(std::move(dir)) {}
  ~Sink() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool Start() {
    std::string script = std::string(ROLLGATE_SOURCE_DIR) + "/tests/tools/smtp_sink.py";
    std::string listen = "127.0.0.1:" + std::to_string(port_);
    std::vector<std::string> args = {
        "/usr/bin/python3", script,   "--listen", listen,           "--dir",
        dir_.string(),      "--user", "rollgate", "--password-env", "ROLLGATE_SMTP_PASSWORD"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return false;
    for (int i = 0; i < 200; ++i) {
      if (std::filesystem::exists(dir_ / "ready")) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  int Messages() const {
    int n = 0;
    char name[16];
    while (true) {
      std::snprintf(name, sizeof(name), "%04d.eml", n + 1);
      if (!std::filesystem::exists(dir_ / name)) return n;
      ++n;
    }
  }

 private:
  int port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

class NotifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("ROLLGATE_SMTP_PASSWORD", kCanary, 1);
    port_ = FreePort();
    ASSERT_NE(port_, 0);
    h_.InitDemoConfig();
    h_.SetNow(kMonday);
    std::string yaml = h_.ReadFile("rollgate.yaml");
    auto replace = [&](const std::string& from, const std::string& to) {
      size_t at = yaml.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      yaml.replace(at, from.size(), to);
    };
    // The emergency approvers are asked by e-mail only, through the sink; one attempt each.
    replace("channels: [phone, teams]", "channels: [email]");
    replace("type: file\n    settings: {path: outbox/email.txt}",
            "type: email\n    settings: {url: \"smtp://127.0.0.1:" + std::to_string(port_) +
                "\", from: rollgate@example.com, username: rollgate, "
                "password_env: ROLLGATE_SMTP_PASSWORD, timeout: 10s}");
    yaml += "\nnotifications:\n  backoff: [1m]\n  max_attempts: 2\n";
    h_.WriteConfig(yaml);
  }

  std::string EmergencyCr() {
    std::string cr =
        SubmittedCr(h_, {"--cvss", kCriticalVector, "--exploited", "--cve", "CVE-2026-4242"});
    Ok(h_, "heidi",
       {"cr", "justify", cr, "--incident", "CVE-2026-4242: remote code execution", "--why",
        "exploitation is under way"});
    Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
    Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30T09:30:00Z"});
    Ok(h_, "heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "deployment", "--passed"});
    Ok(h_, "heidi",
       {"cr", "evidence", cr, "--env", "DEV", "--kind", "smoke", "--passed", "--value", "100"});
    Ok(h_, "alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"});
    return cr;
  }

  bool ApproversContacted(const std::string& cr) {
    nlohmann::json checklist = h_.RunJson({"cr", "checklist", cr, "--env", "PROD"}).Json();
    for (const auto& item : checklist["items"]) {
      if (item["item"] == "Emergency approvers contacted") return item["done"].get<bool>();
    }
    ADD_FAILURE() << "no 'Emergency approvers contacted' item: " << checklist;
    return false;
  }

  CliHarness h_;
  int port_ = 0;
  std::string everything_printed_;
};

TEST_F(NotifyCliTest, FailedDeliveriesAreQueuedRetriedAndFlushedToTheSink) {
  std::string cr = EmergencyCr();
  // The sink is not running yet: every e-mail fails and waits for its second attempt.
  CommandOutput request = h_.RunJson({"cr", "request-approval", cr}, "heidi");
  ASSERT_EQ(request.exit_code, 1) << "reached nobody: " << Describe(request);
  EXPECT_EQ(request.Json()["reached_someone"], false);
  everything_printed_ += request.out + request.err;

  CommandOutput list = h_.RunJson({"notify", "list", "--cr", cr});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  everything_printed_ += list.out + list.err;
  nlohmann::json pending = list.Json();
  ASSERT_EQ(pending.size(), 3u) << pending;
  for (const auto& n : pending) {
    EXPECT_EQ(n["state"], "pending");
    EXPECT_EQ(n["channel"], "email");
    EXPECT_EQ(n["type"], "email");
    EXPECT_EQ(n["attempts"], 1);
    EXPECT_EQ(n["next_attempt"], "2026-11-30T09:01:00Z");
    EXPECT_THAT(n["last_error"].get<std::string>(),
                HasSubstr("SMTP to smtp://127.0.0.1:" + std::to_string(port_) + " failed"));
  }
  // The CR shows the failed deliveries.
  CommandOutput shown = h_.Run({"cr", "show", cr});
  EXPECT_THAT(shown.out, HasSubstr("NOT sent through email for erin"));
  everything_printed_ += shown.out;
  EXPECT_FALSE(ApproversContacted(cr)) << "nothing was delivered yet";

  // Not due yet at 09:00: nothing is attempted.
  CommandOutput early = h_.RunJson({"notify", "flush"});
  ASSERT_EQ(early.exit_code, 0) << Describe(early);
  EXPECT_EQ(early.Json()["attempted"].size(), 0u);

  // The sink comes up; the flush at 09:01 delivers all three (their second attempt).
  Sink sink(port_, h_.dir() / "mail");
  ASSERT_TRUE(sink.Start());
  h_.SetNow("2026-11-30T09:01:00Z");
  CommandOutput flushed = h_.RunJson({"notify", "flush"});
  ASSERT_EQ(flushed.exit_code, 0) << Describe(flushed);
  everything_printed_ += flushed.out + flushed.err;
  EXPECT_EQ(flushed.Json()["sent"], 3) << flushed.out;
  EXPECT_EQ(sink.Messages(), 3);
  EXPECT_TRUE(ApproversContacted(cr)) << "delivered now";

  CommandOutput sent = h_.RunJson({"notify", "list", "--state", "sent"});
  EXPECT_EQ(sent.Json().size(), 3u);
  CommandOutput show = h_.RunJson({"notify", "show", "2"});
  ASSERT_EQ(show.exit_code, 0) << Describe(show);
  everything_printed_ += show.out;
  EXPECT_EQ(show.Json()["state"], "sent");
  EXPECT_THAT(show.Json()["body"].get<std::string>(),
              HasSubstr("EMERGENCY PATCH APPROVAL REQUEST"));
  CommandOutput again = h_.RunAs("heidi", {"notify", "retry", "2"});
  EXPECT_NE(again.exit_code, 0) << "a sent message is not sent twice";

  // The password reached the server, never the output or the store.
  EXPECT_THAT(everything_printed_, Not(HasSubstr(kCanary)));
  EXPECT_THAT(h_.StoreDump(), Not(HasSubstr(kCanary)));
}

TEST_F(NotifyCliTest, MaxAttemptsThenRetryByHand) {
  std::string cr = EmergencyCr();
  ASSERT_EQ(h_.RunAs("heidi", {"cr", "request-approval", cr}).exit_code, 1);
  h_.SetNow("2026-11-30T09:01:00Z");
  CommandOutput flush = h_.RunJson({"notify", "flush"});
  ASSERT_EQ(flush.exit_code, 0) << Describe(flush);
  EXPECT_EQ(flush.Json()["failed"], 3);
  CommandOutput failed = h_.RunJson({"notify", "list", "--state", "failed"});
  ASSERT_EQ(failed.Json().size(), 3u);
  EXPECT_EQ(failed.Json()[0]["next_attempt"], nullptr);

  Sink sink(port_, h_.dir() / "mail");
  ASSERT_TRUE(sink.Start());
  CommandOutput retry = h_.RunAs("heidi", {"notify", "retry", "3"});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  CommandOutput flushed = h_.RunJson({"notify", "flush"});
  EXPECT_EQ(flushed.Json()["sent"], 1);
  EXPECT_EQ(sink.Messages(), 1);
  EXPECT_EQ(h_.RunJson({"notify", "list", "--state", "failed"}).Json().size(), 2u);
}

TEST_F(NotifyCliTest, BadInputIsRefused) {
  EXPECT_EQ(h_.Run({"notify", "show", "abc"}).exit_code, 2);
  EXPECT_EQ(h_.Run({"notify", "show", "42"}).exit_code, 3);
  EXPECT_EQ(h_.RunAs("heidi", {"notify", "retry", "42"}).exit_code, 3);
  CommandOutput state = h_.Run({"notify", "list", "--state", "lost"});
  EXPECT_EQ(state.exit_code, 2);
  EXPECT_THAT(state.err, HasSubstr("pending, sent or failed"));
  EXPECT_EQ(h_.RunJson({"notify", "list"}).Json(), nlohmann::json::array());
}

TEST_F(NotifyCliTest, TemplatesAndChannelSettingsAreValidated) {
  std::string yaml = h_.ReadFile("rollgate.yaml");
  h_.WriteConfig(yaml + "templates:\n  deployment-begin: {subject: x}\n");
  CommandOutput unknown = h_.RunJson({"validate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.out, HasSubstr("unknown message template"));
  nlohmann::json errors = unknown.Json()["errors"];
  ASSERT_EQ(errors.size(), 1u) << unknown.out;
  EXPECT_GT(errors[0]["line"].get<int>(), 1);
  EXPECT_EQ(errors[0]["column"], 3);
  h_.WriteConfig(yaml + "templates:\n  deployment-start: {subject: \"{cr} {colour}\"}\n");
  CommandOutput placeholder = h_.RunJson({"validate"});
  EXPECT_EQ(placeholder.exit_code, 2);
  EXPECT_THAT(placeholder.out, HasSubstr("unknown placeholder {colour}"));
  h_.WriteConfig(yaml + "templates:\n  deployment-start: {subject: \"Start {cr} {version}\"}\n");
  EXPECT_EQ(h_.Run({"validate"}).exit_code, 0);
}

}  // namespace
}  // namespace rollgate::e2e
