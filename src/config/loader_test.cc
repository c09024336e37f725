#include "config/loader.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/starter.h"
#include "domain/triggers.h"

namespace rollgate {
namespace {

using std::chrono::hours;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

LoadResult Load(std::string_view yaml) {
  FixedOffsetZone utc(Seconds(0));
  return LoadConfigText(yaml, "rollgate.yaml", utc);
}

// Every error of `yaml`, formatted.
std::vector<std::string> Errors(std::string_view yaml) {
  std::vector<std::string> out;
  for (const ConfigError& error : Load(yaml).errors) out.push_back(FormatConfigError(error));
  return out;
}

// A small valid file with people, to which tests append.
constexpr const char* kPeople = R"(version: 1
people:
  - {name: alice, unix_user: alice, roles: [development-lead]}
  - {name: bob, unix_user: bob, roles: [test-manager]}
  - {name: erin, unix_user: erin, roles: [cab-chair]}
)";

// ---------------------------------------------------------------------------------------------
// Valid files and defaults

TEST(LoadConfigTest, MinimalFileGetsThePlaybookDefaults) {
  LoadResult result = Load("version: 1\n");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  const Config& config = *result.config;
  EXPECT_EQ(config.source_file, "rollgate.yaml");
  ASSERT_EQ(config.environments.size(), 3u);
  EXPECT_EQ(config.FindEnvironment("PROD")->approval.lead_time, LeadTime::BusinessDays(5));
  EXPECT_EQ(config.escalation.size(), 3u);
  EXPECT_EQ(config.contacts.size(), 5u);
  EXPECT_FALSE(config.allow_as);
  EXPECT_TRUE(config.separation_of_duties);
}

TEST(LoadConfigTest, GivenEnvironmentKeepsDefaultsForWhatItOmits) {
  LoadResult result = Load(R"(version: 1
environments:
  - name: DEV
  - name: PROD
    approval: {quorum: 2}
    thresholds: {regression_pass_rate_percent: 97.5}
)");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  const Config& config = *result.config;
  ASSERT_EQ(config.environments.size(), 2u);
  const Environment& prod = *config.FindEnvironment("PROD");
  EXPECT_EQ(prod.order, 1);
  EXPECT_EQ(prod.approval.quorum, 2);
  EXPECT_EQ(prod.approval.lead_time, LeadTime::BusinessDays(5));
  EXPECT_EQ(prod.approval.approver_roles, (std::vector<std::string>{"cab-member", "cab-chair"}));
  EXPECT_TRUE(prod.requires_maintenance_window);
  EXPECT_DOUBLE_EQ(prod.thresholds.regression_pass_rate_percent, 97.5);
  EXPECT_DOUBLE_EQ(prod.thresholds.min_free_disk_percent, 20.0);
  EXPECT_EQ(config.NextEnvironment("DEV")->name, "PROD");
}

TEST(LoadConfigTest, ReadsEveryKindOfValue) {
  LoadResult result = Load(R"(version: 1
identity: {allow_as: true}
policy: {separation_of_duties: false, required_attachments_p1_p2: [security-impact-assessment, rollback-procedure]}
roles: [release-manager]
calendar:
  weekend: [friday, saturday]
  holidays: ["2026-12-25"]
  windows:
    - {name: nightly, environments: [STAGING], days: [mon, wed], start: "22:00", end: "02:00"}
    - {name: once, from: "2026-12-01 20:00", until: "2026-12-01T23:00:00Z"}
  freezes:
    - {name: year-end, from: "2026-12-21 00:00", until: "2027-01-04 00:00", reason: Holidays}
environments:
  - name: DEV
    approval: {roles: [development-lead, release-manager], lead_time: 2h, emergency_lead_time: 1h}
    notify: {recipients: [development-team, alice], before_min: immediately, channels: [email]}
  - name: STAGING
    approval: {roles: [release-manager], lead_time: 3bd}
    signoffs: [{kind: staging-ok, roles: [release-manager]}]
    rollback_approvers: [release-manager]
    rolling: true
    batch: 25%
people:
  - {name: alice, full_name: Alice Archer, email: alice@example.com, phone: "+1 555 0101", unix_user: alice, roles: [development-lead, release-manager]}
systems:
  - name: billing
    owner: alice
    hosts: {DEV: ["deploy@10.0.0.5:2222", "[::1]:22"], STAGING: [billing-stg.example.com]}
    service: billing.service
    port: 8080
    database: {url: "postgresql://billing@db/billing", password: "file:/etc/rollgate/db.pass"}
    critical_tables: [invoices, public.payments]
    dependencies: ["db:5432", "https://auth.example.com/health"]
    targeted_tests: /opt/billing/tests/targeted.sh --suite payments
escalation:
  - name: standard
    levels: [{contact: alice, response_time: immediate}, {contact: release-manager, response_time: 1h}]
)");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  const Config& config = *result.config;
  EXPECT_TRUE(config.allow_as);
  EXPECT_FALSE(config.separation_of_duties);
  EXPECT_EQ(config.required_attachments_p1_p2.size(), 2u);
  EXPECT_EQ(config.roles.back(), "release-manager");
  EXPECT_EQ(config.weekend,
            (std::vector<std::chrono::weekday>{std::chrono::Friday, std::chrono::Saturday}));
  ASSERT_EQ(config.holidays.size(), 1u);
  EXPECT_EQ(config.holidays[0],
            std::chrono::year_month_day(std::chrono::year(2026), std::chrono::December,
                                        std::chrono::day(25)));
  ASSERT_EQ(config.windows.size(), 2u);
  EXPECT_EQ(config.windows[0].start_time, hours(22));
  EXPECT_EQ(config.windows[0].end_time, hours(2));
  EXPECT_EQ(config.windows[0].days,
            (std::vector<std::chrono::weekday>{std::chrono::Monday, std::chrono::Wednesday}));
  EXPECT_EQ(FormatRfc3339Utc(*config.windows[1].from), "2026-12-01T20:00:00Z");
  EXPECT_EQ(FormatRfc3339Utc(*config.windows[1].until), "2026-12-01T23:00:00Z");
  EXPECT_EQ(config.freezes[0].reason, "Holidays");
  const Environment& staging = *config.FindEnvironment("STAGING");
  EXPECT_EQ(staging.approval.lead_time, LeadTime::BusinessDays(3));
  EXPECT_EQ(staging.batch, "25%");
  EXPECT_TRUE(staging.rolling);
  const Environment& dev = *config.FindEnvironment("DEV");
  EXPECT_EQ(dev.approval.lead_time, LeadTime::Hours(hours(2)));
  EXPECT_EQ(dev.notification.channels, std::vector<std::string>{"email"});
  const System& billing = *config.FindSystem("billing");
  EXPECT_EQ(billing.app_dir, "/opt/billing");
  EXPECT_EQ(billing.log_file, "/var/log/billing/application.log");
  EXPECT_EQ(billing.service, "billing.service");
  EXPECT_EQ(billing.endpoints.size(), 3u);
  ASSERT_EQ(billing.hosts.size(), 2u);
  EXPECT_EQ(billing.hosts[0].hosts[1], "[::1]:22");
  EXPECT_EQ(billing.database_password, "file:/etc/rollgate/db.pass");
  EXPECT_EQ(billing.targeted_test_command, "/opt/billing/tests/targeted.sh --suite payments");
  EXPECT_EQ(config.escalation.size(), 1u);
  EXPECT_EQ(config.escalation[0].levels[1].level, 2);
}

TEST(LoadConfigTest, EmptyKeysForListsAndSectionsMeanEmpty) {
  LoadResult result = Load("version: 1\nidentity:\npeople:\ncalendar: {holidays: }\n");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  EXPECT_TRUE(result.config->people.empty());
  EXPECT_TRUE(result.config->holidays.empty());
  EXPECT_FALSE(result.config->allow_as);
}

// ---------------------------------------------------------------------------------------------
// One test per error class, with the exact FILE:LINE:COL and message.

TEST(LoadConfigErrorsTest, YamlSyntax) {
  EXPECT_THAT(Errors("version: 1\nenvironments: [DEV, TEST\npeople: []\n"),
              ElementsAre("rollgate.yaml:3:7: YAML syntax error: end of sequence flow not found"));
  EXPECT_THAT(Errors("version: 1\n  bad indent: x\n"),
              ElementsAre(HasSubstr("rollgate.yaml:2:13: YAML syntax error: ")));
}

TEST(LoadConfigErrorsTest, UnknownKeyWithDidYouMean) {
  EXPECT_THAT(Errors("version: 1\nenviroments: []\n"),
              ElementsAre("rollgate.yaml:2:1: unknown key 'enviroments' in the configuration "
                          "(did you mean 'environments'?)"));
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: DEV\n    aproval: {}\n"),
              ElementsAre("rollgate.yaml:4:5: unknown key 'aproval' in an environment "
                          "(did you mean 'approval'?)"));
}

TEST(LoadConfigErrorsTest, UnknownKeyWithoutSuggestionListsTheKnownOnes) {
  EXPECT_THAT(Errors("version: 1\nidentity: {zzzzzzzz: 1}\n"),
              ElementsAre("rollgate.yaml:2:12: unknown key 'zzzzzzzz' in 'identity' "
                          "(expected one of: allow_as)"));
}

TEST(LoadConfigErrorsTest, DuplicateKey) {
  EXPECT_THAT(Errors("version: 1\nidentity: {allow_as: true, allow_as: false}\n"),
              ElementsAre("rollgate.yaml:2:28: duplicate key 'allow_as' (first at 2:12)"));
}

TEST(LoadConfigErrorsTest, WrongTypes) {
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: DEV\n    approval: {quorum: two}\n"),
              ElementsAre("rollgate.yaml:4:24: 'quorum' must be an integer, got 'two'"));
  EXPECT_THAT(Errors("version: 1\npeople: {name: alice}\n"),
              ElementsAre("rollgate.yaml:2:9: 'people' must be a list, got a mapping"));
  EXPECT_THAT(Errors("version: 1\nidentity: {allow_as: maybe}\n"),
              ElementsAre("rollgate.yaml:2:22: 'allow_as' must be true or false, got 'maybe'"));
  EXPECT_THAT(Errors(std::string(kPeople) + "  - name: [carol]\n"),
              ElementsAre("rollgate.yaml:6:11: 'name' must be a single value, got a list"));
  EXPECT_THAT(Errors(std::string(kPeople) + "  - carol\n"),
              ElementsAre("rollgate.yaml:6:5: each entry of 'people' must be a mapping, got "
                          "'carol'"));
  EXPECT_THAT(Errors("- version\n"),
              ElementsAre("rollgate.yaml:1:1: the configuration must be a mapping, got a list"));
  EXPECT_THAT(Errors(std::string(kPeople) + "  - name:\n"),
              ElementsAre("rollgate.yaml:6:5: 'name' has no value"));
}

TEST(LoadConfigErrorsTest, MissingRequiredKeys) {
  EXPECT_THAT(Errors("identity: {allow_as: false}\n"),
              ElementsAre("rollgate.yaml:1:1: missing required key 'version' (write "
                          "'version: 1')"));
  EXPECT_THAT(Errors(std::string(kPeople) + "  - {full_name: Carol}\n"),
              ElementsAre("rollgate.yaml:6:5: missing required key 'name'"));
  EXPECT_THAT(Errors("version: 1\nchannels:\n  - {name: email, type: email}\n"
                     "  - {name: teams, type: webhook}\n  - name: phone\n"),
              ElementsAre("rollgate.yaml:5:5: missing required key 'type'"));
}

TEST(LoadConfigErrorsTest, UnsupportedVersion) {
  EXPECT_THAT(Errors("version: 2\n"),
              ElementsAre("rollgate.yaml:1:10: unsupported configuration version 2 (this "
                          "Rollgate reads version 1)"));
}

TEST(LoadConfigErrorsTest, UnknownReferencesWithDidYouMean) {
  std::string yaml = std::string(kPeople) + R"(environments:
  - name: DEV
    approval: {roles: [developmnet-lead]}
  - name: PROD
    rollback_approvers: [cab-chair, it-ops-manager]
    notify: {recipients: [all-stakeholder], channels: [emial]}
systems:
  - name: billing
    owner: alcie
    hosts: {PRDO: [app1]}
calendar:
  windows: [{name: w, environments: [TEST], days: [sat], start: "01:00", end: "02:00"}]
escalation:
  - name: standard
    levels: [{contact: it-operations-oncall, response_time: 15m}]
groups:
  - {name: all-stakeholders, people: [bobb]}
  - {name: development-team}
  - {name: security-team}
)";
  EXPECT_THAT(
      Errors(yaml),
      ElementsAre("rollgate.yaml:8:24: unknown role 'developmnet-lead' (did you mean "
                  "'development-lead'?)",
                  "rollgate.yaml:10:37: unknown role 'it-ops-manager'",
                  "rollgate.yaml:11:27: unknown recipient (contact group, role or person) "
                  "'all-stakeholder' (did you mean 'all-stakeholders'?)",
                  "rollgate.yaml:11:56: unknown channel 'emial' (did you mean 'email'?)",
                  "rollgate.yaml:14:12: unknown person 'alcie' (did you mean 'alice'?)",
                  "rollgate.yaml:15:13: unknown environment 'PRDO' (did you mean 'PROD'?)",
                  "rollgate.yaml:17:38: unknown environment 'TEST'",
                  "rollgate.yaml:20:24: unknown escalation contact (contact, person or role) "
                  "'it-operations-oncall' (did you mean 'it-operations-on-call'?)",
                  "rollgate.yaml:22:39: unknown person 'bobb' (did you mean 'bob'?)"));
}

TEST(LoadConfigTest, ServerSection) {
  LoadResult defaults = Load("version: 1\n");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.config->server.listen, "127.0.0.1:8420");
  EXPECT_EQ(defaults.config->server.max_body_bytes, 1 << 20);
  EXPECT_THAT(defaults.config->server.read_only_roles, ElementsAre("help-desk"));
  LoadResult given = Load(R"(version: 1
server:
  listen: "[::1]:9000"
  tls_cert: cert.pem
  tls_key: key.pem
  max_body_kib: 64
  max_connections: 8
  workers: 3
  read_timeout: 3s
  max_page_size: 20
  token_admin_roles: [admin]
  read_only_roles: [help-desk, test-engineer]
)");
  ASSERT_TRUE(given.ok()) << FormatConfigError(given.errors.at(0));
  const ServerSettings& server = given.config->server;
  EXPECT_EQ(server.listen, "[::1]:9000");
  EXPECT_EQ(server.tls_cert, "cert.pem");
  EXPECT_EQ(server.max_body_bytes, 64 * 1024);
  EXPECT_EQ(server.max_connections, 8);
  EXPECT_EQ(server.workers, 3);
  EXPECT_EQ(server.read_timeout, Seconds(3));
  EXPECT_EQ(server.max_page_size, 20);
  EXPECT_THAT(server.token_admin_roles, ElementsAre("admin"));
  EXPECT_THAT(server.read_only_roles, ElementsAre("help-desk", "test-engineer"));
  EXPECT_THAT(Errors(R"(version: 1
server: {listen: "localhost", tls_cert: c.pem, max_connections: 0, read_only_roles: [help-dsk], port: 1}
)"),
              Contains(HasSubstr("rollgate.yaml:2:97: unknown key 'port' in 'server'")));
  EXPECT_THAT(
      Errors(R"(version: 1
server: {listen: "localhost", tls_cert: c.pem, max_connections: 0, read_only_roles: [help-dsk]}
)"),
      ElementsAre(HasSubstr("rollgate.yaml:2:9: 'server.tls_cert' and 'server.tls_key' go "
                            "together"),
                  HasSubstr("rollgate.yaml:2:18: 'server.listen' must be HOST:PORT"),
                  HasSubstr("rollgate.yaml:2:65: 'max_connections' must be from 1 to 4096"),
                  "rollgate.yaml:2:86: unknown role 'help-dsk' (did you mean 'help-desk'?)"));
  EXPECT_THAT(Errors("version: 1\nserver: {listen: \"127.0.0.1:70000\"}\n"),
              ElementsAre(HasSubstr("'server.listen' must be HOST:PORT")));
  EXPECT_THAT(Errors("version: 1\nserver: {workers: -1}\n"),
              ElementsAre(HasSubstr("'workers' must be from 0 to 256")));
}

TEST(LoadConfigTest, ExecutionSection) {
  LoadResult defaults = Load("version: 1\n");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.config->command_nice, 10);
  LoadResult given = Load("version: 1\nexecution: {command_nice: 0}\n");
  ASSERT_TRUE(given.ok()) << FormatConfigError(given.errors.at(0));
  EXPECT_EQ(given.config->command_nice, 0);
  EXPECT_THAT(Errors("version: 1\nexecution: {command_nice: 20}\n"),
              ElementsAre("rollgate.yaml:2:27: 'command_nice' must be from 0 to 19, got '20'"));
  EXPECT_THAT(Errors("version: 1\nexecution: {command_nice: -5}\n"),
              ElementsAre(HasSubstr("'command_nice' must be from 0 to 19")));
  EXPECT_THAT(Errors("version: 1\nexecution: {nice: 5}\n"),
              ElementsAre(HasSubstr("unknown key 'nice' in 'execution'")));
  EXPECT_THAT(Errors("version: 1\nexecution: [command_nice]\n"),
              ElementsAre(HasSubstr("'execution'")));
}

TEST(LoadConfigTest, ReviewPolicy) {
  LoadResult defaults = Load("version: 1\n");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.config->review_within_business_days, 5);
  EXPECT_THAT(defaults.config->review_closer_roles,
              ElementsAre("cab-chair", "it-operations-manager"));
  LoadResult given = Load(R"(version: 1
roles: [change-manager]
policy: {review_within_business_days: 3, review_closer_roles: [change-manager]}
)");
  ASSERT_TRUE(given.ok()) << FormatConfigError(given.errors.at(0));
  EXPECT_EQ(given.config->review_within_business_days, 3);
  EXPECT_THAT(given.config->review_closer_roles, ElementsAre("change-manager"));
  EXPECT_THAT(
      Errors(R"(version: 1
policy: {review_within_business_days: 0, review_closer_roles: [cab-chiar]}
)"),
      ElementsAre(HasSubstr("rollgate.yaml:2:39: "),
                  "rollgate.yaml:2:64: unknown role 'cab-chiar' (did you mean 'cab-chair'?)"));
  EXPECT_THAT(Errors("version: 1\npolicy: {review_closer_roles: []}\n"),
              ElementsAre(HasSubstr("'review_closer_roles' must name at least one role")));
}

TEST(LoadConfigErrorsTest, DefaultsThatReferToSomethingTheFileRemoved) {
  // The file replaces the channels, so DEV's default "teams" channel no longer exists.
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: DEV\nchannels:\n  - {name: email, "
                     "type: email}\n  - {name: phone, type: command}\n"),
              ElementsAre("rollgate.yaml:1:1: unknown channel 'teams' (the playbook's emergency "
                          "default; set it under 'emergency')",
                          "rollgate.yaml:3:5: unknown channel 'teams' (the playbook's default "
                          "for DEV; set it in this environment)"));
}

TEST(LoadConfigErrorsTest, DuplicateNames) {
  std::vector<std::string> duplicates;
  for (const std::string& error : Errors(R"(version: 1
environments: [{name: DEV}, {name: DEV}]
people:
  - {name: alice, unix_user: al}
  - {name: alice, unix_user: al}
systems: [{name: billing}, {name: billing}]
contacts: [{name: oncall}, {name: oncall}]
groups: [{name: g}, {name: g}]
channels: [{name: c, type: email}, {name: c, type: file}]
escalation: [{name: e, levels: [{contact: oncall, response_time: 1m}]}, {name: e, levels: [{contact: oncall, response_time: 1m}]}]
roles: [x, x]
)")) {
    // The replaced groups and channels also break the defaults' references; not the point here.
    if (error.find("duplicate") != std::string::npos) duplicates.push_back(error);
  }
  EXPECT_THAT(duplicates,
              ElementsAre("rollgate.yaml:2:36: duplicate environment 'DEV' (first defined at 2:23)",
                          "rollgate.yaml:5:12: duplicate person 'alice' (first defined at 4:12)",
                          "rollgate.yaml:5:30: duplicate unix_user 'al' (first defined at 4:30)",
                          "rollgate.yaml:6:35: duplicate system 'billing' (first defined at 6:18)",
                          "rollgate.yaml:7:35: duplicate contact 'oncall' (first defined at 7:19)",
                          "rollgate.yaml:8:28: duplicate contact group 'g' (first defined at 8:17)",
                          "rollgate.yaml:9:43: duplicate channel 'c' (first defined at 9:19)",
                          "rollgate.yaml:10:80: duplicate escalation path 'e' (first defined at "
                          "10:21)",
                          "rollgate.yaml:11:12: duplicate role 'x' (first defined at 11:9)"));
}

TEST(LoadConfigErrorsTest, InvalidDurationsTimesDatesPercentagesWeekdaysLeadTimes) {
  EXPECT_THAT(
      Errors(R"(version: 1
environments:
  - name: PROD
    approval: {lead_time: next week, emergency_lead_time: 0h}
    thresholds: {regression_pass_rate_percent: 120, max_rollback_duration: quick, rollback_security_cvss: 11}
calendar:
  weekend: [saturday, sundy]
  holidays: ["2026-02-30"]
  windows: [{name: w, days: [monday], start: "25:00", end: "02:00"}]
  freezes: [{name: f, from: tomorrow, until: "2026-01-01 00:00"}]
)"),
      ElementsAre(
          "rollgate.yaml:4:27: 'lead_time': invalid lead time 'next week': expected same-day, a "
          "duration such as 24h, or a number of business days such as '5 business days' or 5bd",
          "rollgate.yaml:4:59: 'emergency_lead_time': invalid lead time '0h': expected "
          "same-day, a duration such as 24h, or a number of business days such as '5 business "
          "days' or 5bd",
          "rollgate.yaml:5:48: 'regression_pass_rate_percent' must be a percentage from 0 to "
          "100, got '120'",
          "rollgate.yaml:5:76: 'max_rollback_duration' must be a duration such as 15m, 24h, "
          "4h30m or 2d, got 'quick'",
          "rollgate.yaml:5:107: 'rollback_security_cvss' must be a CVSS score from 0.0 to 10.0, "
          "got '11'",
          "rollgate.yaml:7:23: invalid weekday 'sundy' (did you mean 'sunday'?)",
          "rollgate.yaml:8:14: 'holidays' entries must be dates such as 2026-12-25, got "
          "'2026-02-30'",
          "rollgate.yaml:9:46: 'start' must be a time of day such as 22:00, got '25:00'",
          "rollgate.yaml:10:29: 'from' must be a time such as 2026-12-24T18:00:00Z or "
          "'2026-12-24 18:00' (local), got 'tomorrow'"));
}

TEST(LoadConfigErrorsTest, WindowAndFreezeShapes) {
  EXPECT_THAT(
      Errors(R"(version: 1
calendar:
  windows:
    - {name: both, days: [mon], start: "01:00", end: "02:00", from: "2026-01-01 00:00"}
    - {name: none}
    - {name: same, days: [mon], start: "01:00", end: "01:00"}
  freezes:
    - {name: backwards, from: "2026-02-01 00:00", until: "2026-01-01 00:00"}
)"),
      ElementsAre("rollgate.yaml:4:7: a maintenance window is either weekly (days, start, end) "
                  "or one-off (from, until), not both",
                  "rollgate.yaml:5:7: a maintenance window needs either days, start and end "
                  "(weekly) or from and until (one-off)",
                  "rollgate.yaml:6:54: 'end' must differ from 'start' (use 00:00 to 24:00 for a "
                  "whole day)",
                  "rollgate.yaml:8:58: 'until' must be after 'from'"));
}

TEST(LoadConfigTest, RecurringFreezesCalendarKeysAndPageChannels) {
  LoadResult result = Load(std::string(kPeople) + R"(calendar:
  default_duration: 90m
  freeze_override_roles: [cab-chair]
  freezes:
    - {name: year-end, environments: [PROD], yearly: {from: "12-15", until: "01-05"}}
    - {name: friday, days: [friday], start: "12:00", end: "24:00", reason: weekend}
channels:
  - {name: email, type: email}
  - {name: teams, type: webhook}
  - {name: phone, type: command}
  - {name: pages, type: file, settings: {path: pages.log}}
oncall:
  channels: [pages]
)");
  ASSERT_TRUE(result.config.has_value())
      << (result.errors.empty() ? "" : FormatConfigError(result.errors[0]));
  const Config& config = *result.config;
  EXPECT_EQ(config.calendar_default_duration, std::chrono::minutes(90));
  EXPECT_EQ(config.freeze_override_roles, std::vector<std::string>{"cab-chair"});
  EXPECT_EQ(config.page_channels, std::vector<std::string>{"pages"});
  ASSERT_EQ(config.freezes.size(), 2u);
  EXPECT_EQ(config.freezes[0].recurrence, Freeze::Recurrence::kYearly);
  EXPECT_EQ(config.freezes[0].yearly_from, std::chrono::December / 15);
  EXPECT_EQ(config.freezes[0].yearly_until, std::chrono::January / 5);
  EXPECT_EQ(config.freezes[1].recurrence, Freeze::Recurrence::kWeekly);
  EXPECT_EQ(config.freezes[1].days, std::vector<std::chrono::weekday>{std::chrono::Friday});
  EXPECT_EQ(config.freezes[1].end_time, std::chrono::hours(24));
}

TEST(LoadConfigErrorsTest, RecurringFreezeShapes) {
  EXPECT_THAT(
      Errors(R"(version: 1
calendar:
  freeze_override_roles: [cab-chairs]
  freezes:
    - {name: both, yearly: {from: "12-15", until: "01-05"}, from: "2026-01-01 00:00"}
    - {name: bad-day, yearly: {from: "02-30", until: "01-05"}}
    - {name: no-end, days: [fri], start: "12:00"}
oncall:
  channels: [pager]
)"),
      ElementsAre("rollgate.yaml:3:27: unknown role 'cab-chairs' (did you mean 'cab-chair'?)",
                  "rollgate.yaml:5:7: a freeze is either one-off (from, until), yearly (yearly: "
                  "{from: MM-DD, until: MM-DD}) or weekly (days, start, end), not several of them",
                  "rollgate.yaml:6:38: 'from' must be a month and day such as 12-15, got '02-30'",
                  "rollgate.yaml:7:7: missing required key 'end'",
                  "rollgate.yaml:9:14: unknown channel 'pager'"));
}

TEST(LoadConfigErrorsTest, QuorumBelowOne) {
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: DEV\n    approval: {quorum: 0}\n"),
              ElementsAre("rollgate.yaml:4:24: 'quorum' must be from 1 to 100, got '0'"));
}

TEST(LoadConfigErrorsTest, QuorumLargerThanThePeopleHoldingTheRole) {
  std::string yaml = std::string(kPeople) + R"(environments:
  - name: DEV
  - name: PROD
    approval: {quorum: 2}
)";
  EXPECT_THAT(Errors(yaml), ElementsAre("rollgate.yaml:9:24: quorum 2 for environment 'PROD' "
                                        "needs 2 people holding cab-member or cab-chair; only 1 "
                                        "does (erin)"));
  // Without people the file describes policy only, and the quorum is not checked.
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: PROD\n    approval: {quorum: 3}\n"),
              ::testing::IsEmpty());
  // A defaulted quorum is reported at the environment.
  EXPECT_THAT(Errors("version: 1\npeople: [{name: alice, roles: [development-lead]}]\n"
                     "environments:\n  - name: DEV\n  - name: TEST\n"),
              ElementsAre("rollgate.yaml:5:5: quorum 1 for environment 'TEST' needs 1 person "
                          "holding test-manager; nobody does"));
}

TEST(LoadConfigErrorsTest, EnvironmentWithoutApproverRole) {
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: STAGING\n"),
              ElementsAre("rollgate.yaml:3:5: environment 'STAGING' has no approver role: set "
                          "'approval: {roles: [...]}'"));
  EXPECT_THAT(Errors("version: 1\nenvironments:\n  - name: DEV\n    approval: {roles: []}\n"),
              ElementsAre("rollgate.yaml:4:23: environment 'DEV' has no approver role: set "
                          "'approval: {roles: [...]}'"));
  EXPECT_THAT(Errors("version: 1\nenvironments: []\n"),
              ElementsAre("rollgate.yaml:2:15: 'environments' must list at least one "
                          "environment (or be left out for the playbook's DEV, TEST and PROD)"));
}

TEST(LoadConfigErrorsTest, HostileHostNames) {
  std::string yaml = R"yaml(version: 1
systems:
  - name: billing
    hosts:
      DEV:
        - "-oProxyCommand=x"
        - "a;b"
        - "$(id)"
        - "`id`"
        - "it's"
        - "a b"
        - "a\nb"
        - "h:0"
        - "h:65536"
        - ")yaml" + std::string(300, 'a') +
                     R"yaml("
        - "ok.example.com"
        - "ok.example.com"
)yaml";
  std::vector<std::string> errors = Errors(yaml);
  ASSERT_EQ(errors.size(), 11u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "rollgate.yaml:6:11: invalid host '-oProxyCommand=x': must not start with '-' "
            "(expected [user@]host[:port] with an RFC 1123 name, an IPv4 address or an IPv6 "
            "address)");
  EXPECT_THAT(errors[1], HasSubstr("rollgate.yaml:7:11: invalid host 'a;b': contains the "
                                   "character ';'"));
  EXPECT_THAT(errors[2], HasSubstr("8:11: invalid host '$(id)': contains the character '$'"));
  EXPECT_THAT(errors[3], HasSubstr("9:11: invalid host '`id`': contains the character '`'"));
  EXPECT_THAT(errors[4], HasSubstr("10:11: invalid host 'it's': contains the character '''"));
  EXPECT_THAT(errors[5], HasSubstr("11:11: invalid host 'a b': contains whitespace"));
  // The newline is shown escaped, never raw.
  EXPECT_THAT(errors[6], HasSubstr("12:11: invalid host 'a\\nb': contains whitespace"));
  EXPECT_THAT(errors[7], HasSubstr("13:11: invalid host 'h:0': port must be a number"));
  EXPECT_THAT(errors[8], HasSubstr("14:11: invalid host 'h:65536': port must be a number"));
  EXPECT_THAT(errors[9], HasSubstr("15:11: invalid host '" + std::string(80, 'a') +
                                   "...': longer than 253 characters"));
  EXPECT_EQ(errors[10],
            "rollgate.yaml:17:11: duplicate host 'ok.example.com' (first defined at "
            "16:11)");
}

TEST(LoadConfigErrorsTest, PersonNamesAndUnixUsers) {
  EXPECT_THAT(
      Errors(std::string(kPeople) + R"(  - {name: Carol, unix_user: "carol;rm"}
  - {name: dave, unix_user: "-dave", email: "dave at example", phone: "call me"}
)"),
      ElementsAre("rollgate.yaml:6:12: invalid person name 'Carol': use a lowercase letter "
                  "first, then lowercase letters, digits, '.', '_' or '-' (at most 64)",
                  "rollgate.yaml:6:30: invalid unix user 'carol;rm': use a lowercase letter or "
                  "'_' first, then lowercase letters, digits, '_' or '-' (at most 32)",
                  "rollgate.yaml:7:29: invalid unix user '-dave': use a lowercase letter or '_' "
                  "first, then lowercase letters, digits, '_' or '-' (at most 32)",
                  "rollgate.yaml:7:45: invalid e-mail address 'dave at example'",
                  "rollgate.yaml:7:71: invalid phone number 'call me': use digits, spaces and "
                  "+-(). only"));
}

TEST(LoadConfigErrorsTest, LiteralPasswordIsRefusedWithoutEchoingIt) {
  std::vector<std::string> errors = Errors(R"(version: 1
systems:
  - name: billing
    database: {url: "postgresql://billing:Canary-S3cret@db/billing", password: Canary-S3cret}
channels:
  - {name: teams, type: webhook, settings: {url: "https://example.com/x", token: Canary-S3cret}}
  - {name: email, type: email}
  - {name: phone, type: command}
)");
  ASSERT_EQ(errors.size(), 3u);
  for (const std::string& error : errors) {
    EXPECT_THAT(error, ::testing::Not(HasSubstr("Canary-S3cret")));
  }
  EXPECT_EQ(errors[0],
            "rollgate.yaml:4:21: database url must not contain a password; put it in 'password' "
            "as a reference such as env:BILLING_DB_PASSWORD or file:/etc/rollgate/billing-db.pass");
  EXPECT_EQ(errors[1],
            "rollgate.yaml:4:80: 'password': a literal secret is not allowed here: write a "
            "reference to the secret, not the secret itself: 'env:NAME' (an environment "
            "variable) or 'file:/absolute/path' (a file readable only by rollgate)");
  EXPECT_THAT(errors[2], HasSubstr("rollgate.yaml:6:82: setting 'token': a literal secret"));
}

TEST(LoadConfigErrorsTest, SystemValues) {
  EXPECT_THAT(
      Errors(R"(version: 1
systems:
  - name: billing
    app_dir: /
    config_dir: etc/billing
    port: 70000
    service: {name: "-x", manager: sytemd}
    health: [{name: health, path: "health"}]
    critical_tables: ["invoices; drop table x"]
    dependencies: [db]
    targeted_tests: " "
)"),
      ElementsAre("rollgate.yaml:4:14: 'app_dir' must not be the root directory",
                  "rollgate.yaml:5:17: 'config_dir': invalid path 'etc/billing': must be an "
                  "absolute path starting with '/'",
                  "rollgate.yaml:6:11: 'port' must be from 1 to 65535, got '70000'",
                  "rollgate.yaml:7:21: invalid service name '-x': use letters, digits and "
                  ":_.@- (not starting with '-')",
                  "rollgate.yaml:7:36: 'manager' must be systemd or command, got 'sytemd' (did "
                  "you mean 'systemd'?)",
                  "rollgate.yaml:8:35: invalid endpoint path 'health': expected a URL path such "
                  "as /health",
                  "rollgate.yaml:9:23: invalid table name 'invoices; drop table x': expected "
                  "[schema.]table made of letters, digits and '_'",
                  "rollgate.yaml:10:20: invalid dependency 'db': expected host:port or an "
                  "http(s) URL",
                  "rollgate.yaml:11:21: 'targeted_tests' is empty"));
}

// ---------------------------------------------------------------------------------------------
// Rollback triggers, metrics and advisory names (playbook §6.1)

const TriggerPolicy& Policy(const std::vector<TriggerPolicy>& policies, TriggerKind kind) {
  const TriggerPolicy* policy = FindPolicy(policies, kind);
  EXPECT_NE(policy, nullptr) << TriggerKindName(kind);
  static const TriggerPolicy none;
  return policy != nullptr ? *policy : none;
}

TEST(LoadConfigTriggersTest, EveryEnvironmentGetsEveryKindFromThePlaybook) {
  for (const char* yaml : {"version: 1\n",
                           "version: 1\nenvironments: [{name: DEV}, {name: PROD}, "
                           "{name: DR, approval: {roles: [cab-chair]}}]\n"}) {
    LoadResult result = Load(yaml);
    ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
    const Config& config = *result.config;
    for (const Environment& env : config.environments) {
      EXPECT_EQ(env.triggers, DefaultTriggerPolicies(config, env)) << env.name;
      EXPECT_EQ(env.triggers.size(), AllTriggerKinds().size());
    }
    // Smoke evaluates only in the last environment.
    const Environment& last = config.environments.back();
    EXPECT_EQ(Policy(last.triggers, TriggerKind::kSmoke).action, TriggerAction::kEvaluate);
    EXPECT_EQ(Policy(config.environments.front().triggers, TriggerKind::kSmoke).action,
              TriggerAction::kRollback);
  }
}

TEST(LoadConfigTriggersTest, EnvironmentAndSystemOverrides) {
  LoadResult result = Load(R"(version: 1
environments:
  - name: DEV
    triggers:
      smoke: off
      response-time: rollback
  - name: PROD
    thresholds: {availability_window: 5m, watch_interval: 30s, emergency_checkins_for: 12h}
    triggers:
      smoke: {action: evaluate, deadline: 10m}
      availability: {action: evaluate, deadline: 1h, default: continue}
      security: evaluate
systems:
  - name: billing
    advisory_names: [billing, "Northwind Billing"]
    on_writes_since_backup: restore
    metrics:
      path: /internal/metrics
      requests_metric: http_requests_total
      errors_metric: http_errors_total
      prometheus_url: http://127.0.0.1:9090
      prometheus_query: 'sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m])) * 100'
    triggers:
      PROD:
        response-time: {action: evaluate, default: rollback}
        health: off
  - name: payroll
)");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  const Config& config = *result.config;
  const Environment& dev = *config.FindEnvironment("DEV");
  EXPECT_EQ(Policy(dev.triggers, TriggerKind::kSmoke).action, TriggerAction::kOff);
  EXPECT_EQ(Policy(dev.triggers, TriggerKind::kResponseTime).action, TriggerAction::kRollback);
  EXPECT_EQ(Policy(dev.triggers, TriggerKind::kHealth).action, TriggerAction::kRollback);
  EXPECT_EQ(dev.triggers.size(), AllTriggerKinds().size());

  const Environment& prod = *config.FindEnvironment("PROD");
  EXPECT_EQ(prod.thresholds.availability_window, std::chrono::minutes(5));
  EXPECT_EQ(prod.thresholds.watch_interval, Seconds(30));
  EXPECT_EQ(prod.thresholds.emergency_checkins_for, hours(12));
  EXPECT_EQ(dev.thresholds.availability_window, std::chrono::minutes(10));
  const TriggerPolicy& smoke = Policy(prod.triggers, TriggerKind::kSmoke);
  EXPECT_EQ(smoke.action, TriggerAction::kEvaluate);
  EXPECT_EQ(smoke.decision_deadline, std::chrono::minutes(10));
  EXPECT_EQ(smoke.on_deadline, DecisionDefault::kRollback);
  const TriggerPolicy& availability = Policy(prod.triggers, TriggerKind::kAvailability);
  EXPECT_EQ(availability.action, TriggerAction::kEvaluate);
  EXPECT_EQ(availability.decision_deadline, hours(1));
  EXPECT_EQ(availability.on_deadline, DecisionDefault::kContinue);
  EXPECT_EQ(Policy(prod.triggers, TriggerKind::kSecurity).action, TriggerAction::kEvaluate);
  EXPECT_EQ(Policy(prod.triggers, TriggerKind::kUsersAffected).action, TriggerAction::kRollback);

  const System& billing = *config.FindSystem("billing");
  EXPECT_EQ(billing.advisory_names, (std::vector<std::string>{"billing", "Northwind Billing"}));
  EXPECT_EQ(billing.on_writes_since_backup, "restore");
  EXPECT_EQ(billing.metrics.metrics_path, "/internal/metrics");
  EXPECT_EQ(billing.metrics.requests_metric, "http_requests_total");
  EXPECT_EQ(billing.metrics.errors_metric, "http_errors_total");
  EXPECT_EQ(billing.metrics.prometheus_url, "http://127.0.0.1:9090");
  EXPECT_THAT(billing.metrics.prometheus_query, HasSubstr("sum(rate(http_errors_total[5m]))"));
  ASSERT_EQ(billing.triggers.size(), 1u);
  const auto& overrides = billing.triggers.at("PROD");
  ASSERT_EQ(overrides.size(), 2u);  // only the kinds given
  const TriggerPolicy& response = Policy(overrides, TriggerKind::kResponseTime);
  EXPECT_EQ(response.action, TriggerAction::kEvaluate);
  EXPECT_EQ(response.on_deadline, DecisionDefault::kRollback);
  EXPECT_EQ(Policy(overrides, TriggerKind::kHealth).action, TriggerAction::kOff);
  auto policies = TriggerPoliciesFor(config, billing, prod);
  EXPECT_EQ(Policy(policies, TriggerKind::kHealth).action, TriggerAction::kOff);
  EXPECT_EQ(Policy(policies, TriggerKind::kSmoke).decision_deadline, std::chrono::minutes(10));

  // Defaults of a system that says nothing.
  const System& payroll = *config.FindSystem("payroll");
  EXPECT_EQ(payroll.advisory_names, (std::vector<std::string>{"payroll"}));
  EXPECT_EQ(payroll.on_writes_since_backup, "hold");
  EXPECT_EQ(payroll.metrics.metrics_path, "/metrics");
  EXPECT_TRUE(payroll.metrics.prometheus_url.empty());
  EXPECT_TRUE(payroll.triggers.empty());
}

TEST(LoadConfigTriggersTest, BadTriggersNameTheirKeyPath) {
  EXPECT_THAT(Errors(R"(version: 1
environments:
  - name: DEV
    triggers:
      availabilty: rollback
      smoke: rollbak
      health: {action: rollback, deadline: 10m}
      security: {deadline: 10m}
      response-time: {action: evaluate, deadline: soon, default: proceed}
      data-integrity: [rollback]
  - name: PROD
    triggers: [smoke]
)"),
              ElementsAre("rollgate.yaml:5:7: unknown key 'availabilty' in 'triggers' (did you "
                          "mean 'availability'?)",
                          "rollgate.yaml:6:14: 'triggers.smoke' must be rollback, evaluate or off, "
                          "got 'rollbak' (did you mean 'rollback'?)",
                          "rollgate.yaml:7:44: 'triggers.health.deadline' applies only to action: "
                          "evaluate (the action is rollback)",
                          "rollgate.yaml:8:17: 'triggers.security' needs an 'action': rollback, "
                          "evaluate or off",
                          "rollgate.yaml:9:51: 'triggers.response-time.deadline' must be a "
                          "duration such as 15m, 1h or 1h30m, got 'soon'",
                          "rollgate.yaml:9:66: 'triggers.response-time.default' must be rollback "
                          "or continue, got 'proceed'",
                          "rollgate.yaml:10:23: 'triggers.data-integrity' must be an action "
                          "(rollback, evaluate, off) or a mapping {action, deadline, default}, got "
                          "a list",
                          "rollgate.yaml:12:15: 'triggers' must be a mapping of trigger to action, "
                          "got a list"));
}

TEST(LoadConfigTest, BackupVerificationPerEnvironment) {
  LoadResult result = Load(R"(version: 1
environments:
  - name: DEV
    backup_verification: required
  - name: TEST
  - name: PROD
    backup_verification: off
)");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  EXPECT_EQ(result.config->FindEnvironment("DEV")->backup_verification,
            BackupVerification::kRequired);
  // Left out: the playbook's default (off outside PROD).
  EXPECT_EQ(result.config->FindEnvironment("TEST")->backup_verification, BackupVerification::kOff);
  EXPECT_EQ(result.config->FindEnvironment("PROD")->backup_verification, BackupVerification::kOff);
}

TEST(LoadConfigErrorsTest, BackupVerificationIsOneOfThreeModes) {
  EXPECT_THAT(Errors(R"(version: 1
environments:
  - name: DEV
    backup_verification: requird
  - name: PROD
    backup_verification: [required]
)"),
              ElementsAre("rollgate.yaml:4:26: 'backup_verification' must be required, optional "
                          "or off, got 'requird' (did you mean 'required'?)",
                          HasSubstr("rollgate.yaml:6:26: ")));
}

TEST(LoadConfigTriggersTest, BadSystemValuesNameTheirKeyPath) {
  EXPECT_THAT(
      Errors(R"(version: 1
systems:
  - name: billing
    triggers:
      STAGE: {smoke: off}
      PROD: {smok: off, health: sometimes}
    metrics:
      path: metrics
      requests_metric: 5xx-total
      prometheus_url: ftp://prom
    on_writes_since_backup: keep
    advisory_names: ["", ok]
  - name: payroll
    metrics: {prometheus_query: up}
    advisory_names: []
)"),
      ElementsAre("rollgate.yaml:5:7: 'triggers.STAGE': unknown environment 'STAGE'",
                  "rollgate.yaml:6:14: unknown key 'smok' in 'triggers.PROD' (did you mean "
                  "'smoke'?)",
                  "rollgate.yaml:6:33: 'triggers.PROD.health' must be rollback, evaluate "
                  "or off, got 'sometimes'",
                  "rollgate.yaml:8:7: 'metrics.errors_metric' is missing: requests_metric "
                  "and errors_metric go together (the error share is errors / requests)",
                  "rollgate.yaml:8:7: 'metrics.prometheus_query' is missing: "
                  "prometheus_url needs the query whose value is the percentage of "
                  "requests in error",
                  "rollgate.yaml:8:13: 'metrics.path' must be a URL path such as /metrics, "
                  "got 'metrics'",
                  "rollgate.yaml:9:24: 'metrics.requests_metric': invalid metric name "
                  "'5xx-total': expected letters, digits, '_' and ':', not starting with a "
                  "digit",
                  "rollgate.yaml:10:23: 'metrics.prometheus_url': invalid URL 'ftp://prom': "
                  "expected http:// or https:// without spaces, quotes or control "
                  "characters",
                  "rollgate.yaml:11:29: 'on_writes_since_backup' must be hold or restore, "
                  "got 'keep'",
                  "rollgate.yaml:12:22: 'advisory_names': invalid product name ''",
                  "rollgate.yaml:14:14: 'metrics.prometheus_url' is missing: "
                  "prometheus_query needs the Prometheus server to ask (http:// or "
                  "https://)",
                  "rollgate.yaml:15:21: 'advisory_names' must name at least one product "
                  "(or be left out for the system's name)"));
}

TEST(LoadConfigTriggersTest, AlertmanagerSectionAndTheCriticalAlertsTrigger) {
  LoadResult result = Load(R"(version: 1
environments:
  - name: TEST
  - name: PROD
    triggers:
      critical-alerts: {action: rollback}
systems:
  - name: billing
    alertmanager:
      url: "http://127.0.0.1:9093"
      matchers: ["system=billing", "environment={environment}", 'team=~"ops|dba"']
      severities: [critical, page]
  - name: payroll
    alertmanager: {url: "https://alerts.example.com/"}
    triggers:
      TEST: {critical-alerts: off}
  - name: web
)");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  const Config& config = *result.config;
  const System& billing = *config.FindSystem("billing");
  EXPECT_EQ(billing.alertmanager.url, "http://127.0.0.1:9093");
  EXPECT_THAT(billing.alertmanager.matchers,
              ElementsAre("system=billing", "environment={environment}", "team=~\"ops|dba\""));
  EXPECT_THAT(billing.alertmanager.severities, ElementsAre("critical", "page"));
  // Defaults: the system's own alerts, critical only.
  const System& payroll = *config.FindSystem("payroll");
  EXPECT_EQ(payroll.alertmanager.url, "https://alerts.example.com/");
  EXPECT_THAT(payroll.alertmanager.matchers, ElementsAre("system=payroll"));
  EXPECT_THAT(payroll.alertmanager.severities, ElementsAre("critical"));
  // Not configured: nothing asked.
  EXPECT_TRUE(config.FindSystem("web")->alertmanager.url.empty());

  const Environment& test = *config.FindEnvironment("TEST");
  const Environment& prod = *config.FindEnvironment("PROD");
  EXPECT_EQ(Policy(test.triggers, TriggerKind::kCriticalAlerts).action, TriggerAction::kEvaluate);
  EXPECT_EQ(Policy(prod.triggers, TriggerKind::kCriticalAlerts).action, TriggerAction::kRollback);
  EXPECT_EQ(Policy(TriggerPoliciesFor(config, payroll, test), TriggerKind::kCriticalAlerts).action,
            TriggerAction::kOff);
}

TEST(LoadConfigErrorsTest, BadAlertmanagerValuesNameTheirPosition) {
  EXPECT_THAT(Errors(R"(version: 1
systems:
  - name: billing
    alertmanager:
      url: "ftp://127.0.0.1:9093"
      matchers: ["system=billing", "billing", "9x=y"]
      severities: ["crit ical"]
  - name: payroll
    alertmanager: {matchers: [], severities: [], silence: true}
  - name: web
    alertmanager: {url: "http://am:9093", matchers: []}
    triggers: {PROD: {critical-alert: off}}
)"),
              ElementsAre(HasSubstr("rollgate.yaml:5:12: 'alertmanager.url': invalid URL"),
                          HasSubstr("rollgate.yaml:6:36: 'alertmanager.matchers': alert "
                                    "matcher \"billing\": expected an operator"),
                          HasSubstr("rollgate.yaml:6:47: 'alertmanager.matchers': alert "
                                    "matcher \"9x=y\""),
                          HasSubstr("rollgate.yaml:7:20: 'alertmanager.severities' entries are "
                                    "severity label values"),
                          HasSubstr("rollgate.yaml:9:19: missing required key 'url'"),
                          HasSubstr("rollgate.yaml:9:30: 'alertmanager.matchers' is empty: name "
                                    "at least one label (system=NAME)"),
                          HasSubstr("rollgate.yaml:9:46: 'alertmanager.severities' is empty"),
                          HasSubstr("rollgate.yaml:9:50: unknown key 'silence' in "
                                    "'alertmanager'"),
                          HasSubstr("rollgate.yaml:11:53: 'alertmanager.matchers' is empty"),
                          HasSubstr("rollgate.yaml:12:23: unknown key 'critical-alert' in "
                                    "'triggers.PROD' (did you mean 'critical-alerts'?)")));
}

TEST(LoadConfigErrorsTest, AllErrorsReportedTogetherInFileOrder) {
  std::vector<std::string> errors = Errors(R"(version: 1
enviroments: []
people:
  - {name: alice, roles: [cab-chiar]}
environments:
  - name: PROD
    approval: {quorum: two, lead_time: soon}
systems:
  - {name: billing, hosts: {PROD: ["a;b"]}}
)");
  ASSERT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("rollgate.yaml:2:1: unknown key 'enviroments'"));
  EXPECT_THAT(errors[1], HasSubstr("rollgate.yaml:4:27: unknown role 'cab-chiar' (did you mean "
                                   "'cab-chair'?)"));
  EXPECT_THAT(errors[2], HasSubstr("rollgate.yaml:7:24: 'quorum' must be an integer"));
  EXPECT_THAT(errors[3], HasSubstr("rollgate.yaml:7:40: 'lead_time': invalid lead time"));
  EXPECT_THAT(errors[4], HasSubstr("rollgate.yaml:9:36: invalid host 'a;b'"));
}

TEST(LoadConfigErrorsTest, ValuesAreEscapedInMessages) {
  std::vector<std::string> errors =
      Errors("version: 1\nenvironments:\n  - name: \"PROD\\e[31m\\u202e\"\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "rollgate.yaml:3:11: invalid environment name 'PROD\\x1b[31m\\u202E': "
            "use a letter or digit first, then letters, digits, '.', '_' or '-' (at "
            "most 64)");
}

TEST(LoadConfigErrorsTest, EscalationChannelsEmergencyAndNotification) {
  EXPECT_THAT(
      Errors(R"(version: 1
escalation:
  - name: standard
    levels:
      - {contact: it-operations-on-call, response_time: 1h}
      - {contact: development-lead, response_time: 15m}
  - name: empty
    levels: []
channels:
  - {name: email, type: e-mail}
  - {name: teams, type: webhook, settings: {url: "ftp://example.com"}}
  - {name: phone, type: command}
emergency:
  approver_roles: [cab-chair, ciso-office]
  notify: {before_min: 2h, before_max: 1h}
environments:
  - name: DEV
    batch: "0"
systems:
  - name: app
    service: {manager: command, start_command: "/opt/app/bin/start"}
)"),
      ElementsAre("rollgate.yaml:6:52: 'response_time' must not be shorter than the previous "
                  "level's",
                  "rollgate.yaml:8:13: 'levels' must list at least one level",
                  "rollgate.yaml:10:25: unknown channel type 'e-mail' (did you mean 'email'?)",
                  "rollgate.yaml:11:50: invalid URL 'ftp://example.com': expected http:// or "
                  "https:// without spaces, quotes or control characters",
                  "rollgate.yaml:14:31: unknown role 'ciso-office'",
                  "rollgate.yaml:15:40: 'before_max' (1h) must not be less than 'before_min' "
                  "(2h)",
                  "rollgate.yaml:18:12: invalid batch '0': expected a number of hosts (1-10000) "
                  "or a percentage such as 25%",
                  "rollgate.yaml:21:14: missing required key 'stop_command' (manager: "
                  "command)",
                  "rollgate.yaml:21:14: missing required key 'status_command' (manager: "
                  "command)"));
}

TEST(LoadConfigTest, CustomRolesAreUsableEverywhere) {
  LoadResult result = Load(R"(version: 1
roles: [release-manager]
people: [{name: rita, roles: [release-manager, development-lead, test-manager, cab-chair]}]
environments:
  - name: DEV
    approval: {roles: [release-manager]}
    rollback_approvers: [release-manager]
emergency: {approver_roles: [release-manager]}
escalation: [{name: standard, levels: [{contact: release-manager, response_time: 5m}]}]
)");
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  EXPECT_EQ(result.config->emergency_approver_roles, std::vector<std::string>{"release-manager"});
  EXPECT_TRUE(result.config->PersonHasRole("rita", "release-manager"));
}

// ---------------------------------------------------------------------------------------------
// Hostile files

TEST(LoadConfigHostileTest, NotUtf8) {
  EXPECT_THAT(Errors("version: 1\npeople:\n  - {name: \xff}\n"),
              ElementsAre("rollgate.yaml:3:12: the file is not valid UTF-8 (byte 0xff)"));
  EXPECT_THAT(Errors("version: 1\n# \xc3\x28\n"),
              ElementsAre("rollgate.yaml:2:3: the file is not valid UTF-8 (byte 0xc3)"));
}

TEST(LoadConfigHostileTest, ControlCharactersAndNul) {
  EXPECT_THAT(Errors(std::string("version: 1\nidentity: {allow_as: tr\0ue}\n", 39)),
              ElementsAre("rollgate.yaml:2:24: control character 0x00 is not allowed in the "
                          "file"));
  EXPECT_THAT(Errors("version: 1\x1b\n"),
              ElementsAre("rollgate.yaml:1:11: control character 0x1b is not allowed in the "
                          "file"));
}

TEST(LoadConfigHostileTest, OversizedFile) {
  std::string yaml = "version: 1\n# " + std::string(kMaxConfigBytes, 'x') + "\n";
  EXPECT_THAT(Errors(yaml), ElementsAre(HasSubstr("rollgate.yaml: the file is larger than "
                                                  "4194304 bytes")));
}

TEST(LoadConfigHostileTest, DeepNesting) {
  std::string yaml = "version: 1\nroles: " + std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_THAT(Errors(yaml), ElementsAre("rollgate.yaml:2:39: nesting deeper than 32 levels"));
  std::string deeper = "version: 1\nroles: " + std::string(5000, '[') + "\n";
  EXPECT_THAT(Errors(deeper), ElementsAre(HasSubstr("YAML syntax error")));
}

TEST(LoadConfigHostileTest, AliasBomb) {
  std::string yaml = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    yaml += fmt::format("a{}: &a{} [*a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}]\n",
                        i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  }
  std::vector<std::string> errors = Errors(yaml);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("the document is too large: more than 200000 values"));
}

TEST(LoadConfigHostileTest, EmptyAndMultipleDocuments) {
  EXPECT_THAT(Errors(""), ElementsAre("rollgate.yaml:1:1: the configuration is empty: expected "
                                      "a mapping starting with 'version: 1'"));
  EXPECT_THAT(Errors("# only a comment\n"), ElementsAre(HasSubstr("the configuration is empty")));
  EXPECT_THAT(Errors("version: 1\n---\nversion: 1\n"),
              ElementsAre("rollgate.yaml:2:1: only one YAML document is allowed in the "
                          "configuration"));
  // yaml-cpp 0.7's LoadAll never returns on this; the loader must.
  EXPECT_THAT(Errors("\n\"$(id)\", \" - name: 1\n"),
              ElementsAre("rollgate.yaml:2:8: unexpected text after the end of the YAML "
                          "document"));
}

TEST(LoadConfigHostileTest, NonScalarKeys) {
  EXPECT_THAT(Errors("version: 1\n[a]: 1\n"),
              ElementsAre("rollgate.yaml:2:1: keys in the configuration must be plain names, "
                          "got a list"));
}

// ---------------------------------------------------------------------------------------------
// Files

class LoadConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollgate-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LoadConfigFileTest, MissingFileIsOneErrorWithoutPosition) {
  std::filesystem::path path = dir_ / "missing.yaml";
  LoadResult result = LoadConfigFile(path);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_EQ(FormatConfigError(result.errors[0]),
            path.string() +
                ": the configuration file does not exist (run 'rollgate init' to "
                "write one)");
}

TEST_F(LoadConfigFileTest, DirectoryIsRefused) {
  LoadResult result = LoadConfigFile(dir_);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].message, HasSubstr("is a directory"));
}

TEST_F(LoadConfigFileTest, ReadsTheStarterAndNamesTheFileInErrors) {
  std::filesystem::path good = dir_ / "rollgate.yaml";
  std::ofstream(good) << StarterConfigYaml();
  LoadResult result = LoadConfigFile(good);
  ASSERT_TRUE(result.ok()) << FormatConfigError(result.errors.at(0));
  EXPECT_EQ(result.config->source_file, good.string());

  std::filesystem::path bad = dir_ / "bad.yaml";
  std::ofstream(bad) << "version: 1\nenviroments: []\n";
  result = LoadConfigFile(bad);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].file, bad.string());
  EXPECT_EQ(result.errors[0].line, 2);
  EXPECT_EQ(result.errors[0].column, 1);
}

TEST_F(LoadConfigFileTest, OversizedFileIsRefusedBeforeParsing) {
  std::filesystem::path big = dir_ / "big.yaml";
  {
    std::ofstream out(big);
    out << "version: 1\n#";
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 5; ++i) out << chunk;
  }
  LoadResult result = LoadConfigFile(big);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_THAT(result.errors[0].message, HasSubstr("larger than 4194304 bytes"));
}

}  // namespace
}  // namespace rollgate
