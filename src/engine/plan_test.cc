#include "engine/plan.h"

#include <gtest/gtest.h>

#include "engine/step_type.h"

namespace rollgate {
namespace {

constexpr const char* kPlan = R"({
  "name": "demo", "hosts": ["web1", "deploy@web2:2222"], "batch": "50%", "failure_limit": 1,
  "concurrency": 4, "status_dir": "/var/tmp/rg",
  "phases": [
    {"name": "prepare", "steps": [
      {"name": "copy", "type": "file-transfer", "source": "/tmp/a", "destination": "/opt/a"}]},
    {"name": "deploy", "batch": "1", "steps": [
      {"name": "stop", "argv": ["systemctl", "stop", "demo"], "timeout": "30s",
       "idempotent": true, "retry": {"attempts": 3, "backoff": "2s"},
       "probe": {"argv": ["sh", "-c", "! systemctl is-active demo"], "timeout": "5s"}},
      {"name": "migrate", "script": "psql -f m.sql", "undo_argv": ["psql", "-f", "undo.sql"]}]}
  ]})";

TEST(PlanTest, ParsesEveryFieldAndRoundTrips) {
  Result<Plan> plan = PlanFromJson(kPlan);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_EQ(plan->hosts.size(), 2U);
  EXPECT_EQ(plan->batch, (HostCount{50, true}));
  EXPECT_EQ(plan->failure_limit, (HostCount{1, false}));
  EXPECT_EQ(plan->concurrency, 4);
  ASSERT_EQ(plan->phases.size(), 2U);
  EXPECT_EQ(plan->phases[1].batch, (HostCount{1, false}));
  const StepSpec& stop = plan->phases[1].steps[0];
  EXPECT_EQ(stop.type, "command");
  EXPECT_EQ(stop.timeout, Seconds(30));
  EXPECT_TRUE(stop.idempotent);
  EXPECT_EQ(stop.retry.attempts, 3);
  ASSERT_TRUE(stop.probe.has_value());
  EXPECT_EQ(stop.probe->timeout, Seconds(5));
  Result<Plan> again = PlanFromJson(PlanToJson(*plan));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, *plan);
  EXPECT_TRUE(ValidatePlan(*plan, DefaultStepTypes()).ok());
  EXPECT_EQ(StepDisplayName(*plan, 1, 1), "deploy/migrate");
}

TEST(PlanTest, RefusesBadInputNamingTheField) {
  auto error = [](const std::string& json) {
    Result<Plan> plan = PlanFromJson(json);
    return plan.ok() ? std::string("ok") : plan.error().message();
  };
  EXPECT_NE(error("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error(R"({"phases": []})").find("phases"), std::string::npos);
  EXPECT_NE(
      error(R"({"phases":[{"name":"p","steps":[{"name":"s","argv":["x"],"timeout":"soon"}]}]})")
          .find("phases[0].steps[0].timeout"),
      std::string::npos);
  EXPECT_NE(
      error(
          R"({"phases":[{"name":"p","steps":[{"name":"s","argv":["x"],"retry":{"attempts":2}}]}]})")
          .find("only idempotent steps are retried"),
      std::string::npos);
  EXPECT_NE(
      error(R"({"batch":"150%","phases":[{"name":"p","steps":[{"name":"s"}]}]})").find("batch"),
      std::string::npos);
  EXPECT_NE(error(R"({"phases":[{"name":"p","steps":[{"name":"s","argv":["x"],"argvv":[]}]}]})")
                .find("unknown field 'argvv'"),
            std::string::npos);
  EXPECT_NE(error(R"({"phases":[{"name":"a b","steps":[{"name":"s"}]}]})").find("not a name"),
            std::string::npos);
}

TEST(PlanTest, ValidationChecksStepTypesAndHostsByAllowList) {
  Result<Plan> plan = PlanFromJson(kPlan);
  ASSERT_TRUE(plan.ok());
  StepTypeTable types = DefaultStepTypes();
  Plan bad_host = *plan;
  bad_host.hosts.push_back("-oProxyCommand=sh");
  EXPECT_EQ(ValidatePlan(bad_host, types).code(), StatusCode::kInvalidArgument);
  Plan twice = *plan;
  twice.hosts.push_back("web1");
  EXPECT_NE(ValidatePlan(twice, types).message().find("twice"), std::string::npos);
  Plan unknown_type = *plan;
  unknown_type.phases[0].steps[0].type = "file-transfe";
  EXPECT_NE(ValidatePlan(unknown_type, types).message().find("file-transfer"), std::string::npos);
  Plan both = *plan;
  both.phases[1].steps[0].script = "true";
  EXPECT_NE(ValidatePlan(both, types).message().find("exactly one"), std::string::npos);
}

TEST(PlanTest, BatchSizesAndFailureLimits) {
  EXPECT_EQ(BatchSizeFor({25, true}, 10), 3);
  EXPECT_EQ(BatchSizeFor({1, true}, 10), 1);
  EXPECT_EQ(BatchSizeFor({100, true}, 10), 10);
  EXPECT_EQ(BatchSizeFor({50, false}, 10), 10);
  EXPECT_EQ(FailureLimitFor({25, true}, 10), 2);
  EXPECT_EQ(FailureLimitFor({0, false}, 10), 0);
  EXPECT_FALSE(ParseHostCount("-1").ok());
  EXPECT_FALSE(ParseHostCount("").ok());
  EXPECT_FALSE(ParseHostCount("1.5").ok());
  RetryPolicy retry{5, Seconds(2), Seconds(5)};
  EXPECT_EQ(retry.BackoffBefore(2), Seconds(2));
  EXPECT_EQ(retry.BackoffBefore(3), Seconds(4));
  EXPECT_EQ(retry.BackoffBefore(4), Seconds(5));
}

}  // namespace
}  // namespace rollgate
