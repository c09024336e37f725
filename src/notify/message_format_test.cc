#include "notify/message_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace rollgate::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Timestamp At(int64_t seconds) { return Timestamp(Seconds(seconds)); }

OutgoingMessage Sample() {
  OutgoingMessage m;
  m.id = 7;
  m.subject = "[DEPLOYMENT START] billing - PROD - 2026-11-30 09:00";
  m.body = "Deployment has commenced.\n.\nChange: CR-3\n";
  m.change_request = "CR-3";
  m.environment = "PROD";
  m.run = "RUN-4";
  m.person = "alice";
  return m;
}

TEST(MessageFormat, EmailHasTheRfc5322HeadersAndCrlfLineEnds) {
  EmailEnvelope envelope{"rollgate@example.com",
                         {"ops@example.com", "dev@example.com"},
                         MakeMessageId(7, At(1796029980), "rollgate@example.com")};
  std::string text = RenderEmail(envelope, Sample(), At(1796029980));
  EXPECT_THAT(text, HasSubstr("From: rollgate@example.com\r\n"));
  EXPECT_THAT(text, HasSubstr("To: ops@example.com, dev@example.com\r\n"));
  EXPECT_THAT(text, HasSubstr("Subject: [DEPLOYMENT START] billing - PROD - 2026-11-30 09:00\r\n"));
  EXPECT_THAT(text, HasSubstr("Date: Mon, 30 Nov 2026 09:13:00 +0000\r\n"));
  EXPECT_THAT(text, HasSubstr("Message-ID: <rollgate.7.1796029980@example.com>\r\n"));
  EXPECT_THAT(text, HasSubstr("Content-Type: text/plain; charset=utf-8\r\n"));
  EXPECT_THAT(text, HasSubstr("\r\n\r\nDeployment has commenced.\r\n.\r\nChange: CR-3\r\n"));
  // Every LF is part of a CRLF.
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ASSERT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(MessageFormat, NonAsciiSubjectIsEncodedAndFolded) {
  OutgoingMessage m = Sample();
  m.subject = "Änderung für Zürich — Größe ✓ und noch ein bisschen mehr Text dazu";
  std::string encoded = EncodeHeaderText(m.subject);
  EXPECT_TRUE(encoded.starts_with("=?UTF-8?B?"));
  EXPECT_THAT(encoded, HasSubstr("?=\r\n =?UTF-8?B?"));
  EXPECT_THAT(encoded, Not(HasSubstr("Ä")));
  EXPECT_EQ(EncodeHeaderText("plain ASCII"), "plain ASCII");
  EXPECT_EQ(EncodeHeaderText("Ä"), "=?UTF-8?B?w4Q=?=");
}

TEST(MessageFormat, HeaderInjectionThroughTheSubjectIsStripped) {
  OutgoingMessage m = Sample();
  m.subject = "hello\r\nBcc: victim@example.com\nX-Evil: 1";
  EmailEnvelope envelope{"rollgate@example.com", {"ops@example.com"}, "<x@example.com>"};
  std::string text = RenderEmail(envelope, m, At(0));
  EXPECT_THAT(text, HasSubstr("Subject: hello Bcc: victim@example.com X-Evil: 1\r\n"));
  EXPECT_THAT(text, Not(HasSubstr("\r\nBcc:")));
  EXPECT_THAT(text, Not(HasSubstr("\nX-Evil")));
}

TEST(MessageFormat, AddressesWithLineBreaksOrQuotingAreRefused) {
  EXPECT_TRUE(ValidateMailAddress("ops@example.com").ok());
  EXPECT_FALSE(ValidateMailAddress("ops@example.com\r\nBcc: x@y.z").ok());
  EXPECT_FALSE(ValidateMailAddress("Ops <ops@example.com>").ok());
  EXPECT_FALSE(ValidateMailAddress("no-at-sign").ok());
  EXPECT_FALSE(ValidateMailAddress("a@b@c").ok());
  EXPECT_FALSE(ValidateMailAddress("").ok());
  Result<std::vector<std::string>> list = ParseAddressList(" a@example.com , b@example.com,");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"a@example.com", "b@example.com"}));
  EXPECT_FALSE(ParseAddressList("a@example.com,evil\n@x").ok());
  EXPECT_FALSE(ParseAddressList(" , ").ok());
}

TEST(MessageFormat, SlackPayloadPutsTheSubjectInBold) {
  auto doc = nlohmann::json::parse(RenderWebhookPayload(WebhookFormat::kSlack, Sample()));
  EXPECT_EQ(doc, nlohmann::json({{"text", "*" + Sample().subject + "*\n" + Sample().body}}));
}

TEST(MessageFormat, TeamsPayloadIsAMessageCard) {
  auto doc = nlohmann::json::parse(RenderWebhookPayload(WebhookFormat::kTeams, Sample()));
  EXPECT_EQ(doc["@type"], "MessageCard");
  EXPECT_EQ(doc["@context"], "https://schema.org/extensions");
  EXPECT_EQ(doc["summary"], Sample().subject);
  EXPECT_EQ(doc["title"], Sample().subject);
  EXPECT_EQ(doc["text"], Sample().body);
}

TEST(MessageFormat, GenericPayloadCarriesTheCrAndRun) {
  auto doc = nlohmann::json::parse(RenderWebhookPayload(WebhookFormat::kGeneric, Sample()));
  EXPECT_EQ(doc, nlohmann::json({{"subject", Sample().subject},
                                 {"body", Sample().body},
                                 {"cr", "CR-3"},
                                 {"environment", "PROD"},
                                 {"run", "RUN-4"},
                                 {"recipient", "alice"}}));
}

TEST(MessageFormat, InvalidUtf8InAPayloadIsReplacedNotThrown) {
  OutgoingMessage m = Sample();
  m.body = "bad \xff byte";
  std::string payload = RenderWebhookPayload(WebhookFormat::kGeneric, m);
  EXPECT_TRUE(nlohmann::json::accept(payload));
}

TEST(MessageFormat, WebhookFormatNames) {
  EXPECT_EQ(ParseWebhookFormat("slack").value(), WebhookFormat::kSlack);
  EXPECT_EQ(ParseWebhookFormat("teams").value(), WebhookFormat::kTeams);
  EXPECT_EQ(ParseWebhookFormat("").value(), WebhookFormat::kGeneric);
  EXPECT_FALSE(ParseWebhookFormat("discord").ok());
}

TEST(MessageFormat, AlertNamesComeFromTheSubjectsTag) {
  EXPECT_EQ(AlertNameFor("[DEPLOYMENT START] billing - PROD - CR-1"), "RollgateDeploymentStart");
  EXPECT_EQ(AlertNameFor("ROLLBACK COMPLETE - billing - 2026-11-30"), "RollgateRollbackComplete");
  EXPECT_EQ(AlertNameFor("[DECISION NEEDED] ROLLBACK? - billing"), "RollgateDecisionNeeded");
  EXPECT_EQ(AlertNameFor("EMERGENCY PATCH APPROVAL REQUEST AT ONCE - CR-1"),
            "RollgateEmergencyPatchApprovalRequest");
  EXPECT_EQ(AlertNameFor(""), "RollgateNotification");
  EXPECT_EQ(AlertNameFor("[123] 456"), "RollgateNotification");
}

TEST(MessageFormat, AlertmanagerPayloadIsOneAlertWithCleanLabels) {
  OutgoingMessage m;
  m.subject = "[DIAGNOSED] CR-1 PROD:\r\nfake";
  m.body = "line one\nline two";
  m.change_request = "CR-1";
  m.environment = "PROD";
  Timestamp now = Timestamp(Seconds(1796029980));
  auto doc = nlohmann::json::parse(
      RenderAlertmanagerPayload(m, "critical", {{"team", "ops\x01"}}, now, Seconds(3600)));
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["labels"]["alertname"], "RollgateDiagnosed");
  EXPECT_EQ(doc[0]["labels"]["severity"], "critical");
  EXPECT_EQ(doc[0]["labels"]["team"], "ops");
  EXPECT_FALSE(doc[0]["labels"].contains("system"));
  EXPECT_EQ(doc[0]["annotations"]["summary"], "[DIAGNOSED] CR-1 PROD: fake");
  EXPECT_EQ(doc[0]["annotations"]["description"], "line one\nline two");
  EXPECT_EQ(doc[0]["startsAt"], FormatRfc3339Utc(now));
  EXPECT_EQ(doc[0]["endsAt"], FormatRfc3339Utc(now + Seconds(3600)));
}

}  // namespace
}  // namespace rollgate::notify
