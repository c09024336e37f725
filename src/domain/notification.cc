#include "domain/notification.h"

#include <algorithm>

namespace rollgate {

std::string_view NotificationStateName(NotificationState state) {
  switch (state) {
    case NotificationState::kPending:
      return "pending";
    case NotificationState::kSent:
      return "sent";
    case NotificationState::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<NotificationState> ParseNotificationState(std::string_view name) {
  for (NotificationState state :
       {NotificationState::kPending, NotificationState::kSent, NotificationState::kFailed}) {
    if (NotificationStateName(state) == name) return state;
  }
  return std::nullopt;
}

std::optional<Seconds> RetryDelay(const std::vector<Seconds>& backoff, int max_attempts,
                                  int failed_attempts) {
  if (failed_attempts >= max_attempts) return std::nullopt;
  if (backoff.empty()) return Seconds(60);
  size_t index = failed_attempts < 1 ? 0 : static_cast<size_t>(failed_attempts - 1);
  return backoff[std::min(index, backoff.size() - 1)];
}

}  // namespace rollgate
