#include "notify/channels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/fake_clock.h"
#include "tests/tools/webhook_receiver.h"

namespace rollgate::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

OutgoingMessage Sample() {
  OutgoingMessage m;
  m.id = 1;
  m.subject = "[DEPLOYMENT COMPLETE] billing - TEST - SUCCESS";
  m.body = "DEPLOYMENT STATUS: SUCCESS\n";
  m.change_request = "CR-1";
  m.environment = "TEST";
  m.run = "RUN-1";
  m.person = "bob";
  m.recipient_name = "Bob Builder";
  m.recipient_email = "bob@example.com";
  m.recipient_phone = "+100";
  return m;
}

class ChannelsTest : public ::testing::Test {
 protected:
  ChannelsTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollgate-notify-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    context_.now = Timestamp(Seconds(1796029980));
    context_.base_dir = dir_;
    context_.clock = &clock_;
    context_.environment = [](const std::string& name) -> std::optional<std::string> {
      if (name == "HOOK_TOKEN") return std::string("canary-token-123");
      return std::nullopt;
    };
  }
  ~ChannelsTest() override { std::filesystem::remove_all(dir_); }

  std::string Read(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
  rollgate::testing::FakeClock clock_{Timestamp(Seconds(1796029980))};
  DeliveryContext context_;
};

TEST_F(ChannelsTest, WebhookPostsTheSlackPayload) {
  rollgate::testing::WebhookReceiver receiver;
  Channel channel{"slack",
                  "webhook",
                  {{"url", receiver.url("/services/T0/B0/secretpath")},
                   {"format", "slack"},
                   {"header:X-Team", "ops"},
                   {"header:Authorization", "env:HOOK_TOKEN"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  EXPECT_THAT(*sent, HasSubstr("HTTP 200"));
  EXPECT_THAT(*sent, Not(HasSubstr("secretpath")));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/services/T0/B0/secretpath");
  EXPECT_EQ(requests[0].headers["Content-Type"], "application/json");
  EXPECT_EQ(requests[0].headers["X-Team"], "ops");
  EXPECT_EQ(requests[0].headers["Authorization"], "canary-token-123");
  auto doc = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(doc["text"], "*" + Sample().subject + "*\n" + Sample().body);
}

TEST_F(ChannelsTest, AlertmanagerChannelPostsOneAlertToTheApi) {
  rollgate::testing::WebhookReceiver receiver;
  Channel channel{"alerts",
                  "alertmanager",
                  {{"url", receiver.url("/") + "/"},
                   {"severity", "critical"},
                   {"label:team", "ops\r\nX-Injected: 1"}}};
  OutgoingMessage message = Sample();
  message.system = "billing";
  Result<std::string> sent = Deliver(channel, message, context_);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  EXPECT_THAT(*sent, HasSubstr("HTTP 200"));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/api/v2/alerts");
  EXPECT_EQ(requests[0].headers["Content-Type"], "application/json");
  auto doc = nlohmann::json::parse(requests[0].body);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 1u);
  const auto& labels = doc[0]["labels"];
  EXPECT_EQ(labels["alertname"], "RollgateDeploymentComplete");
  EXPECT_EQ(labels["severity"], "critical");
  EXPECT_EQ(labels["system"], "billing");
  EXPECT_EQ(labels["environment"], "TEST");
  EXPECT_EQ(labels["change_request"], "CR-1");
  EXPECT_EQ(labels["team"], "ops X-Injected: 1");  // control characters cleaned
  EXPECT_EQ(doc[0]["annotations"]["summary"], message.subject);
  EXPECT_EQ(doc[0]["annotations"]["description"], message.body);
  EXPECT_EQ(doc[0]["startsAt"], FormatRfc3339Utc(context_.now));
  EXPECT_EQ(doc[0]["endsAt"], FormatRfc3339Utc(context_.now + std::chrono::hours(1)));
}

TEST_F(ChannelsTest, AlertmanagerChannelDefaultsToWarningAndReportsErrors) {
  rollgate::testing::WebhookReceiver receiver;
  receiver.set_status(400, "bad alert");
  Channel channel{"alerts", "alertmanager", {{"url", receiver.url("")}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(sent.error().message(), HasSubstr("HTTP 400"));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  auto doc = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(doc[0]["labels"]["severity"], "warning");
  EXPECT_FALSE(doc[0]["labels"].contains("system"));  // not known: left out

  Channel no_url{"alerts", "alertmanager", {}};
  Result<std::string> refused = Deliver(no_url, Sample(), context_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ChannelsTest, WebhookErrorNamesTheStatusAndTheBodyButNotTheSecret) {
  rollgate::testing::WebhookReceiver receiver;
  receiver.set_status(500, "internal trouble canary-token-123");
  Channel channel{
      "teams",
      "webhook",
      {{"url", receiver.url()}, {"format", "teams"}, {"header:Authorization", "env:HOOK_TOKEN"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(sent.error().message(), HasSubstr("HTTP 500"));
  EXPECT_THAT(sent.error().message(), HasSubstr("internal trouble"));
  EXPECT_THAT(sent.error().message(), Not(HasSubstr("canary-token-123")));
}

TEST_F(ChannelsTest, WebhookToAClosedPortFailsWithCurlsMessage) {
  int port = 0;
  {
    rollgate::testing::WebhookReceiver receiver;
    port = receiver.port();
  }
  Channel channel{"hook",
                  "webhook",
                  {{"url", "http://127.0.0.1:" + std::to_string(port) + "/x"}, {"timeout", "2s"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_THAT(sent.error().message(), HasSubstr("POST to http://127.0.0.1:"));
}

TEST_F(ChannelsTest, UnknownWebhookFormatIsAConfigurationError) {
  Channel channel{"hook", "webhook", {{"url", "http://127.0.0.1:9/x"}, {"format", "irc"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ChannelsTest, FileChannelAppendsTheMessageWithItsRecipient) {
  Channel channel{"log", "file", {{"path", "notifications.log"}}};
  ASSERT_TRUE(Deliver(channel, Sample(), context_).ok());
  ASSERT_TRUE(Deliver(channel, Sample(), context_).ok());
  std::string text = Read(dir_ / "notifications.log");
  EXPECT_THAT(text, HasSubstr("To: Bob Builder <bob@example.com>\nSubject: " + Sample().subject +
                              "\n\nDEPLOYMENT STATUS: SUCCESS\n"));
  EXPECT_NE(text.find("To: Bob"), text.rfind("To: Bob"));  // appended, not replaced
}

TEST_F(ChannelsTest, FileChannelCreatesItsFolder) {
  Channel channel{"outbox", "file", {{"path", "outbox/email.txt"}}};
  ASSERT_TRUE(Deliver(channel, Sample(), context_).ok());
  EXPECT_THAT(Read(dir_ / "outbox" / "email.txt"), HasSubstr("Subject: " + Sample().subject));
}

TEST_F(ChannelsTest, CommandChannelSeesTheMessageAndTheRecipient) {
  std::filesystem::path out = dir_ / "out.txt";
  Channel channel{"page",
                  "command",
                  {{"command",
                    "{ echo \"$ROLLGATE_SUBJECT|$ROLLGATE_RECIPIENT|"
                    "$ROLLGATE_RECIPIENT_EMAIL|$ROLLGATE_RECIPIENT_PHONE\"; cat; } > '" +
                        out.string() + "'"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  std::string text = Read(out);
  EXPECT_THAT(text, HasSubstr(Sample().subject + "|bob|bob@example.com|+100\n"));
  EXPECT_THAT(text, HasSubstr("Subject: " + Sample().subject));
}

TEST_F(ChannelsTest, FailingCommandReportsItsExitAndOutput) {
  Channel channel{"page", "command", {{"command", "echo no route to pager >&2; exit 3"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_THAT(sent.error().message(), HasSubstr("exited 3"));
  EXPECT_THAT(sent.error().message(), HasSubstr("no route to pager"));
}

TEST_F(ChannelsTest, EmailRefusesAnInjectedRecipientBeforeConnecting) {
  OutgoingMessage m = Sample();
  m.recipient_email = "bob@example.com\r\nRCPT TO:<victim@example.com>";
  Channel channel{"mail", "email", {{"url", "smtp://127.0.0.1:9"}, {"from", "rg@example.com"}}};
  Result<std::string> sent = Deliver(channel, m, context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ChannelsTest, EmailWithoutItsPasswordVariableSaysWhichIsMissing) {
  Channel channel{"mail",
                  "email",
                  {{"url", "smtp://127.0.0.1:9"},
                   {"from", "rg@example.com"},
                   {"username", "rg"},
                   {"password_env", "SMTP_PASSWORD_NOT_SET"}}};
  Result<std::string> sent = Deliver(channel, Sample(), context_);
  ASSERT_FALSE(sent.ok());
  EXPECT_THAT(sent.error().message(), HasSubstr("SMTP_PASSWORD_NOT_SET"));
}

TEST_F(ChannelsTest, ChannelTimeoutSetting) {
  EXPECT_EQ(ChannelTimeout(Channel{"a", "webhook", {}}).value(), kDefaultDeliveryTimeout);
  EXPECT_EQ(ChannelTimeout(Channel{"a", "webhook", {{"timeout", "10"}}}).value(), Seconds(10));
  EXPECT_EQ(ChannelTimeout(Channel{"a", "webhook", {{"timeout", "2m"}}}).value(), Seconds(120));
  EXPECT_FALSE(ChannelTimeout(Channel{"a", "webhook", {{"timeout", "soon"}}}).ok());
}

}  // namespace
}  // namespace rollgate::notify
