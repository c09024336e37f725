// Durable notifications against real receivers on 127.0.0.1: an SMTP sink (Debian's
// python3-aiosmtpd running tests/tools/smtp_sink.py) and an HTTP receiver (cpp-httplib). The
// service's clock is fake (backoff without sleeping); the network is real.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "service/notification_service.h"
#include "testing/fake_clock.h"
#include "testing/local_process.h"
#include "testing/sample_config.h"
#include "tests/tools/webhook_receiver.h"

namespace rollgate {
namespace {

using rollgate::testing::ChildProcess;
using rollgate::testing::FakeClock;
using rollgate::testing::ScratchDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCanaryPassword = "canary-smtp-password-4f1d";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The SMTP sink on 127.0.0.1:port, requiring user "rollgate" with kCanaryPassword.
class SmtpSink {
 public:
  explicit SmtpSink(int port) : port_(port) {}
  Status Start() {
    ::setenv("ROLLGATE_TEST_SINK_PASSWORD", kCanaryPassword, 1);
    std::filesystem::remove(dir_.path() / "ready");
    RETURN_IF_ERROR(process_.Start(
        {"/usr/bin/python3", std::string(ROLLGATE_SOURCE_DIR) + "/tests/tools/smtp_sink.py",
         "--listen", fmt::format("127.0.0.1:{}", port_), "--dir", (dir_.path() / "mail").string(),
         "--user", "rollgate", "--password-env", "ROLLGATE_TEST_SINK_PASSWORD"},
        dir_.path() / "sink.log"));
    if (!rollgate::testing::WaitForLoopbackPort(port_, std::chrono::seconds(20))) {
      return Unavailable("the SMTP sink did not start: " + ReadFile(dir_.path() / "sink.log"));
    }
    return Status::Ok();
  }
  void Stop() { process_.Stop(); }
  // The messages received so far, oldest first: (data, envelope JSON).
  std::vector<std::pair<std::string, nlohmann::json>> Messages() {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (int i = 1;; ++i) {
      std::filesystem::path base = dir_.path() / "mail" / fmt::format("{:04}", i);
      if (!std::filesystem::exists(base.string() + ".eml")) break;
      out.emplace_back(ReadFile(base.string() + ".eml"),
                       nlohmann::json::parse(ReadFile(base.string() + ".json")));
    }
    return out;
  }

 private:
  int port_;
  ScratchDir dir_{"rollgate-smtp-sink"};
  ChildProcess process_;
};

class NotificationSmtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenStore("sqlite:" + (dir_.path() / "state.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    store_ = std::move(*opened);
    port_ = rollgate::testing::FreeLoopbackPort();
    ASSERT_NE(port_, 0);
    config_.channels = {Channel{"mail",
                                "email",
                                {{"url", fmt::format("smtp://127.0.0.1:{}", port_)},
                                 {"from", "rollgate@example.com"},
                                 {"username", "rollgate"},
                                 {"password_env", "ROLLGATE_SMTP_PASSWORD"},
                                 {"timeout", "10s"}}}};
    rule_.channels = {"mail"};
    ChangeRequest cr =
        rollgate::testing::SampleChangeRequest(config_, rollgate::testing::SamplePatch());
    cr.id = "CR-1";
    cr.number = 1;
    cr.state = CrState::kInProgress;
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutChangeRequest(cr); }).ok());
  }

  NotificationService Service() {
    return NotificationService(config_, *store_, clock_, zone_, notify::Deliver,
                               [this](const std::string& name) -> std::optional<std::string> {
                                 if (name == "ROLLGATE_SMTP_PASSWORD") return password_;
                                 return std::nullopt;
                               });
  }

  // Everything the store holds, as bytes (database, WAL) plus the audit log and the CR.
  std::string EverythingStored() {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      all += ReadFile(entry.path());
    }
    EXPECT_TRUE(store_
                    ->ForEachAuditEvent([&](const AuditEvent& e) {
                      all += e.details + e.action;
                      return Status::Ok();
                    })
                    .ok());
    return all;
  }

  ScratchDir dir_{"rollgate-notify-smtp"};
  std::unique_ptr<Store> store_;
  int port_ = 0;
  Config config_ = rollgate::testing::SampleConfig();
  NotificationRule rule_;
  FakeClock clock_{Timestamp(Seconds(1796029980))};
  FixedOffsetZone zone_{Seconds(0)};
  std::string password_ = kCanaryPassword;
  Message message_{"[DEPLOYMENT START] billing - TEST – Zürich",
                   "Deployment has commenced.\n"
                   ".a line starting with a dot\n",
                   "",
                   {}};
  NotificationRecipient tina_{"tina", "Tina Test", "tina@example.com", "", "test-manager"};
};

TEST_F(NotificationSmtpTest, DeliversAProperMessageWithAuthentication) {
  SmtpSink sink(port_);
  ASSERT_TRUE(sink.Start().ok());
  NotificationService service = Service();
  auto evidence = service.Send("CR-1", "TEST", rule_, message_, "RUN-1", "eve", {tina_}, {});
  ASSERT_TRUE(evidence.ok()) << evidence.error().message();
  ASSERT_EQ(evidence->size(), 1u);
  EXPECT_EQ((*evidence)[0].passed, true) << (*evidence)[0].detail;
  auto messages = sink.Messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& [data, envelope] = messages[0];
  EXPECT_EQ(envelope["mail_from"], "rollgate@example.com");
  EXPECT_EQ(envelope["rcpt_tos"], nlohmann::json::array({"tina@example.com"}));
  EXPECT_EQ(envelope["auth_user"], "rollgate");
  EXPECT_THAT(data, HasSubstr("From: rollgate@example.com\r\n"));
  EXPECT_THAT(data, HasSubstr("To: tina@example.com\r\n"));
  EXPECT_THAT(data, HasSubstr("Subject: =?UTF-8?B?"));
  EXPECT_THAT(data, HasSubstr("Date: Mon, 30 Nov 2026 09:13:00 +0000\r\n"));
  EXPECT_THAT(data, HasSubstr("Message-ID: <rollgate.1.1796029980@example.com>\r\n"));
  EXPECT_THAT(data, HasSubstr("Content-Type: text/plain; charset=utf-8\r\n"));
  // Dot-stuffed on the wire by curl, unstuffed by the server: the line arrives as written.
  EXPECT_THAT(data, HasSubstr("\r\n.a line starting with a dot\r\n"));
  EXPECT_THAT(EverythingStored(), Not(HasSubstr(kCanaryPassword)));
}

TEST_F(NotificationSmtpTest, UnreachableServerLeavesItPendingUntilAFlushAfterItCameBack) {
  NotificationService service = Service();
  auto evidence = service.Send("CR-1", "TEST", rule_, message_, "RUN-1", "eve", {tina_}, {});
  ASSERT_TRUE(evidence.ok()) << evidence.error().message();
  EXPECT_EQ((*evidence)[0].passed, false);
  auto n = service.Get(1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->state, NotificationState::kPending);
  EXPECT_EQ(n->next_attempt, clock_.Now() + Seconds(30));
  EXPECT_THAT(n->last_error, HasSubstr(fmt::format("SMTP to smtp://127.0.0.1:{} failed", port_)));

  SmtpSink sink(port_);
  ASSERT_TRUE(sink.Start().ok());
  clock_.Advance(Seconds(30));
  auto flushed = service.Flush("rollgate");
  ASSERT_TRUE(flushed.ok()) << flushed.error().message();
  EXPECT_EQ(flushed->sent, 1);
  EXPECT_EQ(service.Get(1)->state, NotificationState::kSent);
  EXPECT_EQ(sink.Messages().size(), 1u);
  EXPECT_THAT(EverythingStored(), Not(HasSubstr(kCanaryPassword)));
}

TEST_F(NotificationSmtpTest, RefusedLoginIsAFailedAttemptWithoutThePassword) {
  SmtpSink sink(port_);
  ASSERT_TRUE(sink.Start().ok());
  password_ = "wrong-canary-password-77";
  config_.notification_max_attempts = 2;
  NotificationService service = Service();
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {tina_}, {}).ok());
  auto n = service.Get(1);
  EXPECT_EQ(n->state, NotificationState::kPending);
  EXPECT_FALSE(n->last_error.empty());
  EXPECT_THAT(n->last_error, Not(HasSubstr("wrong-canary-password-77")));
  clock_.Advance(Seconds(30));
  ASSERT_TRUE(service.Flush("rollgate").ok());
  EXPECT_EQ(service.Get(1)->state, NotificationState::kFailed);
  EXPECT_TRUE(sink.Messages().empty());
  EXPECT_THAT(EverythingStored(), Not(HasSubstr("wrong-canary-password-77")));
}

TEST_F(NotificationSmtpTest, WebhookAnswering500IsRetriedUntilItAccepts) {
  rollgate::testing::WebhookReceiver receiver;
  receiver.set_status(500, "database is down");
  config_.channels.push_back(
      Channel{"slack", "webhook", {{"url", receiver.url("/hook")}, {"format", "slack"}}});
  rule_.channels = {"slack"};
  NotificationService service = Service();
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {}).ok());
  auto n = service.Get(1);
  EXPECT_EQ(n->state, NotificationState::kPending);
  EXPECT_THAT(n->last_error, HasSubstr("HTTP 500"));
  EXPECT_THAT(n->last_error, HasSubstr("database is down"));
  receiver.set_status(200);
  clock_.Advance(Seconds(30));
  auto flushed = service.Flush("rollgate");
  ASSERT_TRUE(flushed.ok());
  EXPECT_EQ(flushed->sent, 1);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(requests[1].body)["text"],
            "*" + message_.subject + "*\n" + message_.body);
}

}  // namespace
}  // namespace rollgate
