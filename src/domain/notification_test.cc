#include "domain/notification.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

TEST(Notification, DefaultBackoffIsThePlaybookScheduleThenFailed) {
  Config config;
  const auto& b = config.notification_backoff;
  int max = config.notification_max_attempts;
  EXPECT_EQ(max, 6);
  EXPECT_EQ(RetryDelay(b, max, 1), Seconds(30));
  EXPECT_EQ(RetryDelay(b, max, 2), Seconds(120));
  EXPECT_EQ(RetryDelay(b, max, 3), Seconds(600));
  EXPECT_EQ(RetryDelay(b, max, 4), Seconds(1800));
  EXPECT_EQ(RetryDelay(b, max, 5), Seconds(3600));
  EXPECT_EQ(RetryDelay(b, max, 6), std::nullopt);
}

TEST(Notification, LastDelayRepeatsAndEmptyBackoffWaitsAMinute) {
  std::vector<Seconds> backoff = {Seconds(10), Seconds(20)};
  EXPECT_EQ(RetryDelay(backoff, 10, 5), Seconds(20));
  EXPECT_EQ(RetryDelay({}, 10, 1), Seconds(60));
  EXPECT_EQ(RetryDelay(backoff, 1, 1), std::nullopt);
}

TEST(Notification, StateNames) {
  for (auto state :
       {NotificationState::kPending, NotificationState::kSent, NotificationState::kFailed}) {
    EXPECT_EQ(ParseNotificationState(NotificationStateName(state)), state);
  }
  EXPECT_EQ(ParseNotificationState("lost"), std::nullopt);
}

}  // namespace
}  // namespace rollgate
