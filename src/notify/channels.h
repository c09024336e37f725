// Delivery of one message through one configured channel (docs/notifications.md): e-mail over
// SMTP (libcurl), a webhook (HTTP POST of JSON, libcurl), an alert posted to a Prometheus
// Alertmanager (libcurl), a command (sh -c, the message on its standard input) or a file
// (appended). One attempt, bounded by the channel's timeout; retrying
// is the caller's (service/notification_service.h).
//
// Thread-compatible: a Deliverer holds no state between calls beyond its configuration.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "notify/message_format.h"

namespace rollgate::notify {

// Bounds of one attempt.
inline constexpr Seconds kDefaultDeliveryTimeout{30};
inline constexpr size_t kMaxResponseBytes = 64UL * 1024;  // read from a webhook, the rest dropped
inline constexpr size_t kErrorBodyBytes = 200;            // of a response body, in an error text

// Reads an environment variable (injected so tests and the password canary stay in-process).
using EnvironmentReader = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
std::optional<std::string> ReadProcessEnvironment(const std::string& name);

struct DeliveryContext {
  Timestamp now{};
  std::filesystem::path base_dir;  // relative file paths are resolved against it
  const Clock* clock = nullptr;    // for the command channel's timeout; required for commands
  EnvironmentReader environment = ReadProcessEnvironment;
};

// What an attempt did, in words ("sent to ops@example.com through mail", "HTTP 204 from ...").
// Error Statuses: InvalidArgument for a channel that cannot work as configured (no url, bad
// address, unknown format: retrying will not help), Unavailable for a failed attempt (curl's
// message, the HTTP status and the first bytes of the body, the command's exit and output).
// Never contains a password.
Result<std::string> Deliver(const Channel& channel, const OutgoingMessage& message,
                            const DeliveryContext& context);

Result<std::string> DeliverEmail(const Channel& channel, const OutgoingMessage& message,
                                 const DeliveryContext& context);
Result<std::string> DeliverWebhook(const Channel& channel, const OutgoingMessage& message,
                                   const DeliveryContext& context);
Result<std::string> DeliverCommand(const Channel& channel, const OutgoingMessage& message,
                                   const DeliveryContext& context);
// POSTs the message as one alert (RenderAlertmanagerPayload) to <settings.url>/api/v2/alerts;
// settings: url, severity (default warning), labels (stored as "label:NAME"), timeout (default
// 10 s). A 2xx answer is a delivery.
Result<std::string> DeliverAlertmanager(const Channel& channel, const OutgoingMessage& message,
                                        const DeliveryContext& context);
Result<std::string> DeliverFile(const Channel& channel, const OutgoingMessage& message,
                                const DeliveryContext& context);

// The text file and command channels write: "To: NAME <EMAIL>\n" when addressed to a person,
// "Subject: ...\n\n", then the body.
std::string PlainText(const OutgoingMessage& message);

// The channel's `timeout` setting ("30s", "2m", or seconds), else kDefaultDeliveryTimeout.
// InvalidArgument for a malformed value.
Result<Seconds> ChannelTimeout(const Channel& channel);

}  // namespace rollgate::notify
