// The notification keys of rollgate.yaml (docs/notifications.md): retries, templates, and the
// channel settings the notifier reads (SMTP URL, password_env, webhook headers).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"

namespace rollgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

LoadResult Load(std::string_view yaml) {
  FixedOffsetZone utc(Seconds(0));
  return LoadConfigText(yaml, "rollgate.yaml", utc);
}

std::vector<std::string> Errors(std::string_view yaml) {
  std::vector<std::string> out;
  for (const ConfigError& error : Load(yaml).errors) out.push_back(FormatConfigError(error));
  return out;
}

TEST(NotificationConfigTest, DefaultsAreThePlaybookBackoff) {
  LoadResult result = Load("version: 1\n");
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->notification_backoff,
            (std::vector<Seconds>{Seconds(30), Seconds(120), Seconds(600), Seconds(1800),
                                  Seconds(3600)}));
  EXPECT_EQ(result.config->notification_max_attempts, 6);
  EXPECT_TRUE(result.config->message_templates.empty());
}

TEST(NotificationConfigTest, ReadsBackoffTemplatesAndChannelSettings) {
  LoadResult result = Load(R"(version: 1
notifications: {backoff: [10s, 1m], max_attempts: 3}
templates:
  deployment-start: {subject: "Start {cr} {version}"}
  rollback-progress: {body: "{current_step}: {status}"}
channels:
  - name: email
    type: email
    settings: {url: "smtps://mail.example.com:465", from: rg@example.com, username: rg,
               password_env: SMTP_PASSWORD, starttls: true}
  - name: teams
    type: webhook
    settings:
      url: "https://example.com/hook"
      format: teams
      headers: {Authorization: "env:HOOK_TOKEN", X-Team: ops}
  - {name: phone, type: command}
)");
  ASSERT_TRUE(result.config.has_value())
      << (result.errors.empty() ? "" : FormatConfigError(result.errors[0]));
  const Config& c = *result.config;
  EXPECT_EQ(c.notification_backoff, (std::vector<Seconds>{Seconds(10), Seconds(60)}));
  EXPECT_EQ(c.notification_max_attempts, 3);
  EXPECT_EQ(c.message_templates.at("deployment-start").subject, "Start {cr} {version}");
  EXPECT_FALSE(c.message_templates.at("deployment-start").body.has_value());
  EXPECT_EQ(c.message_templates.at("rollback-progress").body, "{current_step}: {status}");
  EXPECT_EQ(c.channels[0].settings.at("url"), "smtps://mail.example.com:465");
  EXPECT_EQ(c.channels[0].settings.at("password_env"), "SMTP_PASSWORD");
  EXPECT_EQ(c.channels[1].settings.at("header:Authorization"), "env:HOOK_TOKEN");
  EXPECT_EQ(c.channels[1].settings.at("header:X-Team"), "ops");
}

TEST(NotificationConfigTest, AlertmanagerChannelSettings) {
  LoadResult result = Load(R"(version: 1
channels:
  - name: alerts
    type: alertmanager
    settings:
      url: "http://127.0.0.1:9093"
      severity: critical
      labels: {team: ops, cluster: eu-1}
  - {name: email, type: email}
  - {name: teams, type: webhook}
  - {name: phone, type: command}
)");
  ASSERT_TRUE(result.config.has_value())
      << (result.errors.empty() ? "" : FormatConfigError(result.errors[0]));
  const Channel& channel = result.config->channels.at(0);
  EXPECT_EQ(channel.type, "alertmanager");
  EXPECT_EQ(channel.settings.at("url"), "http://127.0.0.1:9093");
  EXPECT_EQ(channel.settings.at("severity"), "critical");
  EXPECT_EQ(channel.settings.at("label:team"), "ops");
  EXPECT_EQ(channel.settings.at("label:cluster"), "eu-1");

  EXPECT_THAT(Errors(R"(version: 1
channels:
  - {name: a, type: alertmanager, settings: {url: "am:9093", severity: "very bad"}}
  - {name: b, type: alertmanager, settings: {labels: {"1x": y, alertname: z, ok: "a\nb"}}}
  - {name: c, type: alertmanger}
  - {name: email, type: email}
  - {name: teams, type: webhook}
  - {name: phone, type: command}
)"),
              ElementsAre(HasSubstr("rollgate.yaml:3:51: invalid URL 'am:9093'"),
                          HasSubstr("rollgate.yaml:3:72: setting 'severity'"),
                          HasSubstr("rollgate.yaml:4:45: an alertmanager channel needs "
                                    "settings.url"),
                          HasSubstr("rollgate.yaml:4:55: a label name"),
                          HasSubstr("rollgate.yaml:4:64: label 'alertname' is set by Rollgate"),
                          HasSubstr("rollgate.yaml:4:82: a label value must be one line"),
                          HasSubstr("rollgate.yaml:5:21: unknown channel type 'alertmanger' "
                                    "(did you mean 'alertmanager'?)")));
}

TEST(NotificationConfigTest, BadValuesAreErrorsWithTheirPosition) {
  EXPECT_THAT(Errors(R"(version: 1
notifications: {backoff: [soon], max_attempts: 0}
templates:
  deployment-begin: {subject: x}
  deployment-start: {subject: "{cr} {colour}", body: "{cr"}
channels:
  - {name: email, type: email, settings: {url: "http://mail.example.com", password_env: "a b"}}
  - {name: teams, type: webhook, settings: {url: "https://x.example.com", headers: {"X Bad": 1}}}
  - {name: phone, type: command}
)"),
              ElementsAre(HasSubstr("rollgate.yaml:2:27: invalid duration 'soon'"),
                          HasSubstr("rollgate.yaml:2:48: 'max_attempts' must be from 1 to 100"),
                          HasSubstr("rollgate.yaml:4:3: unknown message template "
                                    "'deployment-begin' (did you mean 'deployment-start'?)"),
                          HasSubstr("rollgate.yaml:5:31: unknown placeholder {colour}"),
                          HasSubstr("rollgate.yaml:5:54: unclosed '{'"),
                          HasSubstr("rollgate.yaml:7:48: invalid SMTP URL"),
                          HasSubstr("rollgate.yaml:7:89: setting 'password_env'"),
                          HasSubstr("rollgate.yaml:8:85: a header name")));
}

}  // namespace
}  // namespace rollgate
