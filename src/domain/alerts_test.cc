#include "domain/alerts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/triggers.h"

namespace rollgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AlertMatcherTest, ParsesTheFourOperatorsAndQuotedValues) {
  EXPECT_EQ(*ParseAlertMatcher("system=billing"), (AlertMatcher{"system", "=", "billing"}));
  EXPECT_EQ(*ParseAlertMatcher(" team != web "), (AlertMatcher{"team", "!=", "web"}));
  EXPECT_EQ(*ParseAlertMatcher("env=~prod|stage"), (AlertMatcher{"env", "=~", "prod|stage"}));
  EXPECT_EQ(*ParseAlertMatcher("job!~\"node.*\""), (AlertMatcher{"job", "!~", "node.*"}));
  EXPECT_EQ(*ParseAlertMatcher(R"(x="a \"b\" \\ c")"), (AlertMatcher{"x", "=", R"(a "b" \ c)"}));
  EXPECT_EQ(*ParseAlertMatcher("absent="), (AlertMatcher{"absent", "=", ""}));
}

TEST(AlertMatcherTest, RefusesMalformedMatchers) {
  for (const char* bad : {"", "billing", "=billing", "9system=x", "sys tem=x", "system:billing",
                          "system=\"open", "system=a\"b", "system=\"a\"b\"", "system=x\ny"}) {
    Result<AlertMatcher> m = ParseAlertMatcher(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_THAT(ParseAlertMatcher("system:billing").error().message(),
              HasSubstr("expected an operator"));
  EXPECT_THAT(ParseAlertMatcher("system=" + std::string(300, 'x')).error().message(),
              HasSubstr("longer than 256"));
}

TEST(AlertMatcherTest, FilterQuotesAndEscapesTheValue) {
  EXPECT_EQ(AlertMatcherFilter({"system", "=", "billing"}), R"(system="billing")");
  EXPECT_EQ(AlertMatcherFilter({"x", "!~", R"(a"b\c)"}), R"(x!~"a\"b\\c")");
  // Round trip.
  AlertMatcher m{"x", "=~", R"(a"b\c&d)"};
  EXPECT_EQ(*ParseAlertMatcher(AlertMatcherFilter(m)), m);
}

TEST(AlertMatcherTest, ExpandsTheEnvironment) {
  EXPECT_EQ(ExpandAlertMatcher("environment={environment}", "PROD"), "environment=PROD");
  EXPECT_EQ(ExpandAlertMatcher("system=billing", "PROD"), "system=billing");
  EXPECT_EQ(ExpandAlertMatcher("e=~{environment}|{environment}-dr", "TEST"), "e=~TEST|TEST-dr");
}

constexpr const char* kAnswer = R"([
  {"labels": {"alertname": "HighErrorRate", "severity": "critical", "system": "billing"},
   "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
   "startsAt": "2026-11-30T10:00:00Z", "fingerprint": "a"},
  {"labels": {"alertname": "DiskAlmostFull", "severity": "warning", "system": "billing"},
   "status": {"state": "active"}, "startsAt": "2026-11-30T10:00:00Z"},
  {"labels": {"alertname": "Silenced", "severity": "critical", "system": "billing"},
   "status": {"state": "suppressed", "silencedBy": ["x"]}},
  {"labels": {"alertname": "NoStatus", "severity": "CRITICAL"}}
])";

TEST(AlertmanagerAnswerTest, KeepsActiveAlertsOfTheWantedSeverities) {
  Result<std::vector<FiringAlert>> alerts = ParseAlertmanagerAlerts(kAnswer, {"critical"});
  ASSERT_TRUE(alerts.ok()) << alerts.error().ToString();
  ASSERT_EQ(alerts->size(), 2u);
  EXPECT_EQ((*alerts)[0].name, "HighErrorRate");
  EXPECT_EQ((*alerts)[0].labels.at("system"), "billing");
  EXPECT_EQ((*alerts)[0].starts_at, "2026-11-30T10:00:00Z");
  EXPECT_EQ((*alerts)[1].name, "NoStatus");  // severity compared without case
  Result<std::vector<FiringAlert>> both = ParseAlertmanagerAlerts(kAnswer, {"critical", "warning"});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->size(), 3u);
  EXPECT_TRUE(ParseAlertmanagerAlerts("[]", {"critical"})->empty());
}

TEST(AlertmanagerAnswerTest, RefusesWhatIsNotTheApiList) {
  for (const char* bad : {"", "<html>", "{\"status\":\"success\"}", "[1, 2]", "null"}) {
    Result<std::vector<FiringAlert>> alerts = ParseAlertmanagerAlerts(bad, {"critical"});
    EXPECT_FALSE(alerts.ok()) << bad;
    if (!alerts.ok()) {
      EXPECT_EQ(alerts.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(AlertmanagerAnswerTest, DescribesDistinctNamesUpToALimit) {
  std::vector<FiringAlert> alerts;
  for (const char* name : {"A", "B", "A", "C", "D"}) alerts.push_back({name, "critical", "active"});
  EXPECT_EQ(DescribeAlerts(alerts), "A, B, C, D");
  EXPECT_EQ(DescribeAlerts(alerts, 2), "A, B and 2 more");
  EXPECT_EQ(DescribeAlerts({}), "");
}

TEST(AlertsEvidenceTest, PassedFiringAndUnreachable) {
  const std::vector<std::string> matchers = {"system=billing"};
  const std::vector<std::string> severities = {"critical"};
  Evidence none = AlertsEvidence(std::vector<FiringAlert>{}, "http://127.0.0.1:9093", matchers,
                                 severities, "PROD", "RUN-1");
  EXPECT_EQ(none.kind, kEvidenceAlerts);
  EXPECT_EQ(none.passed, true);
  EXPECT_EQ(none.value, 0);
  EXPECT_EQ(none.run_id, "RUN-1");
  EXPECT_THAT(none.detail, HasSubstr("no critical alert firing"));

  Evidence firing = AlertsEvidence(std::vector<FiringAlert>{{"HighErrorRate", "critical"}},
                                   "http://127.0.0.1:9093", matchers, severities, "PROD", "RUN-1");
  EXPECT_EQ(firing.passed, false);
  EXPECT_EQ(firing.value, 1);
  EXPECT_EQ(firing.fields.at("alerts"), "HighErrorRate");
  EXPECT_THAT(firing.detail, HasSubstr("HighErrorRate"));
  EXPECT_FALSE(firing.fields.contains("error"));

  Evidence down =
      AlertsEvidence(Result<std::vector<FiringAlert>>(Unavailable("connection refused")),
                     "http://127.0.0.1:9093", matchers, severities, "PROD", "RUN-1");
  EXPECT_EQ(down.passed, false);
  EXPECT_FALSE(down.value.has_value());
  EXPECT_THAT(down.detail, HasSubstr("unreachable"));
  EXPECT_EQ(down.fields.at("error"), "connection refused");
}

TEST(CriticalAlertsTriggerTest, FiresOnFiringAlertsAndEvaluatesByDefault) {
  Config config;
  config.environments = {{.name = "TEST", .order = 0}, {.name = "PROD", .order = 1}};
  for (const Environment& env : config.environments) {
    auto policies = DefaultTriggerPolicies(config, env);
    const TriggerPolicy* policy = FindPolicy(policies, TriggerKind::kCriticalAlerts);
    ASSERT_NE(policy, nullptr);
    EXPECT_EQ(policy->action, TriggerAction::kEvaluate) << env.name;
    EXPECT_EQ(policy->on_deadline, DecisionDefault::kRollback) << env.name;
  }
  EXPECT_EQ(TriggerKindName(TriggerKind::kCriticalAlerts), "critical-alerts");
  EXPECT_EQ(*ParseTriggerKind("critical-alerts"), TriggerKind::kCriticalAlerts);

  auto policies = DefaultTriggerPolicies(config, config.environments[1]);
  Measurements m;
  m.source = "alertmanager";
  m.critical_alerts = 0;
  EXPECT_TRUE(EvaluateMeasurements(m, policies, Thresholds{}).empty());
  m.critical_alerts = 2;
  m.critical_alerts_detail = "HighErrorRate, DiskFull";
  std::vector<TriggerFiring> fired = EvaluateMeasurements(m, policies, Thresholds{});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].kind, TriggerKind::kCriticalAlerts);
  EXPECT_EQ(fired[0].action, TriggerAction::kEvaluate);
  EXPECT_EQ(fired[0].measurement, 2);
  EXPECT_THAT(fired[0].detail,
              HasSubstr("2 critical alerts firing in Alertmanager: HighErrorRate"));
  // The firing survives its evidence.
  Result<TriggerFiring> back = TriggerFromEvidence(TriggerEvidence(fired[0], "PROD", "RUN-1"));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->kind, TriggerKind::kCriticalAlerts);

  for (TriggerPolicy& p : policies) p.action = TriggerAction::kOff;
  EXPECT_TRUE(EvaluateMeasurements(m, policies, Thresholds{}).empty());
}

}  // namespace
}  // namespace rollgate
