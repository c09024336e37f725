#include "domain/deployment_messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rollgate {
namespace {

using ::testing::HasSubstr;

TEST(DeploymentMessagesTest, ThePlaybooksTemplatesFilledFromTheRun) {
  FixedOffsetZone zone(std::chrono::hours(1));
  DeploymentFacts f;
  f.system = "billing";
  f.environment = "PROD";
  f.change_request = "CR-7";
  f.patch = "PATCH-3 2.0";
  f.run = "RUN-9";
  f.started = *ParseTime("2026-12-08T21:00:00Z", zone);
  f.finished = f.started + std::chrono::minutes(25);
  f.expected_duration = std::chrono::hours(1);
  f.outcome = "SUCCESS";
  f.smoke = "Pass";
  f.errors = "None";
  Message start = DeploymentStartMessage(f, zone);
  EXPECT_EQ(start.subject, "[DEPLOYMENT START] billing - PROD - 2026-12-08 22:00");
  EXPECT_THAT(start.body, HasSubstr("- 2026-12-08 23:00 - Expected completion"));
  Message done = DeploymentCompleteMessage(f, zone);
  EXPECT_EQ(done.subject, "[DEPLOYMENT COMPLETE] billing - PROD - SUCCESS");
  EXPECT_THAT(done.body, HasSubstr("Duration: 25m"));
  EXPECT_THAT(done.body, HasSubstr("72-hour enhanced monitoring active"));
  f.environment = "TEST";
  EXPECT_THAT(DeploymentCompleteMessage(f, zone).body, HasSubstr("QA Team,"));
  f.reason = "smoke test failed";
  f.approved_by = "erin";
  Message rollback = RollbackStartMessage(f, zone);
  EXPECT_THAT(rollback.subject, HasSubstr("[EMERGENCY] ROLLBACK INITIATED - billing"));
  EXPECT_THAT(rollback.body, HasSubstr("ROLLBACK TRIGGER: smoke test failed"));
  EXPECT_THAT(RollbackCompleteMessage(f, zone).body, HasSubstr("ROLLBACK STATUS: COMPLETED"));
}

}  // namespace
}  // namespace rollgate
