// What a notification looks like on the wire (docs/notifications.md): the RFC 5322 e-mail an
// SMTP channel sends, and the JSON a webhook channel posts (Slack, Teams or generic).
//
// Pure: no I/O, thread-safe. Text that reaches a header is checked here, so nothing a CR or a
// configuration says can add a header line (header injection).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace rollgate::notify {

// A message as the channels see it: one recipient, one channel.
struct OutgoingMessage {
  int64_t id = 0;  // the queued notification's id (Message-ID, logs)
  std::string subject;
  std::string body;
  std::string change_request;
  std::string environment;
  std::string system;  // the CR's system, when known (alertmanager channel labels)
  std::string run;
  std::string person;  // the addressee by name, empty for the channel's own audience
  std::string recipient_name;
  std::string recipient_email;  // one address or several separated by ','
  std::string recipient_phone;
  std::string role;
};

// OK when `address` is a plain mail address (local@domain, printable ASCII, no spaces, no
// control characters, no <>()[],;:\" quoting): InvalidArgument naming it otherwise.
Status ValidateMailAddress(std::string_view address);
// The addresses of a ','-separated list, trimmed and each validated; InvalidArgument when one is
// invalid or the list is empty.
Result<std::vector<std::string>> ParseAddressList(std::string_view list);

// A header value safe to send: CR, LF and other control characters become spaces, runs of
// spaces collapse, the result is trimmed.
std::string SanitizeHeaderText(std::string_view text);
// `text` as an RFC 2047 encoded-word sequence (=?UTF-8?B?...?=, folded) when it is not plain
// printable ASCII, else unchanged. Applied after SanitizeHeaderText.
std::string EncodeHeaderText(std::string_view text);

struct EmailEnvelope {
  std::string from;             // validated address
  std::vector<std::string> to;  // validated addresses
  std::string message_id;       // "<...@...>"
};
// The message text with CRLF line ends: From, To, Subject (encoded when not ASCII), Date (`now`,
// RFC 5322, UTC), Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
// Content-Transfer-Encoding 8bit, then the body (line ends normalised to CRLF). Dot-stuffing is
// the SMTP client's (libcurl's) job.
std::string RenderEmail(const EmailEnvelope& envelope, const OutgoingMessage& message,
                        Timestamp now);
// "<rollgate.ID.SECONDS@DOMAIN>" with DOMAIN the part of `from` after '@'.
std::string MakeMessageId(int64_t id, Timestamp now, std::string_view from);
// "Mon, 30 Nov 2026 09:13:00 +0000".
std::string FormatRfc5322Date(Timestamp t);

enum class WebhookFormat { kGeneric, kSlack, kTeams };
// "slack", "teams" or "generic" (also the default for ""); InvalidArgument otherwise.
Result<WebhookFormat> ParseWebhookFormat(std::string_view name);
// The JSON document posted: Slack {"text": "*subject*\nbody"}; Teams a MessageCard with summary,
// title and text; generic {"subject","body","cr","environment","run","recipient"}. Invalid UTF-8
// is replaced, never thrown.
std::string RenderWebhookPayload(WebhookFormat format, const OutgoingMessage& message);

// The alert name an alertmanager channel gives a message: "Rollgate" and the subject's tag in
// CamelCase — the text in its leading [...] or before its first " - " ("[DEPLOYMENT START] ..."
// gives RollgateDeploymentStart, "ROLLBACK COMPLETE - ..." RollgateRollbackComplete), letters
// only, at most four words; "RollgateNotification" when there is none.
std::string AlertNameFor(std::string_view subject);

// The JSON document an alertmanager channel posts to <url>/api/v2/alerts: a list of one alert
// with labels alertname (AlertNameFor), severity, system, environment, change_request (those
// not empty) and `extra_labels`, annotations summary (the subject) and description (the body),
// startsAt `now`, endsAt `now` + `lasting`. Label values pass SanitizeHeaderText (no control
// characters); invalid UTF-8 is replaced, never thrown.
std::string RenderAlertmanagerPayload(const OutgoingMessage& message, std::string_view severity,
                                      const std::map<std::string, std::string>& extra_labels,
                                      Timestamp now, Seconds lasting);

}  // namespace rollgate::notify
