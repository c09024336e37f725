// A notification on its way to one recipient through one channel (docs/notifications.md): queued
// in the store first, then attempted, retried with backoff until delivered (sent) or given up
// (failed). The retry schedule is pure and lives here; delivery is notify/'s.
//
// Pure: no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "domain/config.h"

namespace rollgate {

enum class NotificationState { kPending, kSent, kFailed };
// "pending", "sent", "failed".
std::string_view NotificationStateName(NotificationState state);
// The state a name names, or nullopt.
std::optional<NotificationState> ParseNotificationState(std::string_view name);

struct Notification {
  int64_t id = 0;  // assigned by the store
  std::string change_request;
  std::string environment;
  std::string run_id;   // empty when not about a run
  std::string channel;  // the channel's name in the configuration
  std::string type;     // its type when queued: email, webhook, command, file
  // The addressee when the message is for a person (empty for the channel's own audience).
  std::string person;
  std::string role;
  std::string recipient_name;
  std::string recipient_email;
  std::string recipient_phone;
  std::string subject;
  std::string body;
  std::map<std::string, std::string> fields;  // added to the CR's notification evidence
  std::string actor;                          // who caused it
  NotificationState state = NotificationState::kPending;
  int attempts = 0;                       // attempts made so far
  std::optional<Timestamp> next_attempt;  // when pending: the next attempt is due then
  std::string last_error;                 // the last failed attempt's error, empty if none
  Timestamp created{};
  std::optional<Timestamp> sent_at;
};

struct NotificationFilter {
  std::optional<std::string> change_request;
  std::optional<NotificationState> state;
  // Only pending notifications whose next attempt is due at or before this instant.
  std::optional<Timestamp> due_by;
  std::optional<int> limit;
};

// After `failed_attempts` failed attempts (>= 1): how long until the next one, or nullopt when
// the message has had its `max_attempts` and is failed for good. backoff[n-1] after the nth
// failure, the last entry repeating; an empty backoff retries after 60 s.
std::optional<Seconds> RetryDelay(const std::vector<Seconds>& backoff, int max_attempts,
                                  int failed_attempts);

}  // namespace rollgate
