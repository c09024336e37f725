// Durable notifications (docs/notifications.md): every message is queued in the store first,
// then attempted at once; a failed attempt is retried with the configured backoff by Flush
// (`rollgate notify flush`, the server's timer, and every later Send) until it is delivered or
// has had its attempts. Each attempt is an audit event on the CR; the CR's "notification"
// evidence says sent only once a message was delivered.
//
// Thread-compatible; one per command or request. Delivery goes through an injected function
// (notify::Deliver by default) so tests can fail it without a network.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/deployment_messages.h"
#include "domain/notification.h"
#include "notify/channels.h"
#include "store/store.h"

namespace rollgate {

// Someone a notification is addressed to, by name: file channels write a "To:" line, command
// channels see ROLLGATE_RECIPIENT (the person), ROLLGATE_RECIPIENT_NAME, ROLLGATE_RECIPIENT_EMAIL
// and ROLLGATE_RECIPIENT_PHONE, so one command can page or mail each person; e-mail channels
// without settings.to mail the person's address.
struct NotificationRecipient {
  std::string person;
  std::string full_name;
  std::string email;
  std::string phone;
  std::string role;  // why they are told (recorded on the evidence)
};

using DeliverFunction = std::function<Result<std::string>(
    const Channel&, const notify::OutgoingMessage&, const notify::DeliveryContext&)>;

class NotificationService {
 public:
  NotificationService(const Config& config, Store& store, const Clock& clock, const TimeZone& zone,
                      DeliverFunction deliver = notify::Deliver,
                      notify::EnvironmentReader environment = notify::ReadProcessEnvironment);

  // Queues `message` (after the configured template override, if any) for every channel of
  // `rule` (unknown channel names are skipped) and every recipient (once per channel without
  // recipients: to the rule's groups' e-mail), then attempts each once. Returns one
  // "notification" evidence per message as recorded on the CR: passed only when delivered, else
  // the error and the next attempt. Up to kFlushBeforeSend due messages queued earlier are
  // flushed first. Errors are the store's (or NotFound for an unknown CR).
  Result<std::vector<Evidence>> Send(const std::string& cr_id, const std::string& environment,
                                     const NotificationRule& rule, const Message& message,
                                     const std::string& run_id, const std::string& actor,
                                     const std::vector<NotificationRecipient>& recipients,
                                     const std::map<std::string, std::string>& fields);

  struct FlushReport {
    std::vector<Notification> attempted;  // as stored after their attempt
    int sent = 0;
    int failed = 0;         // failed for good in this flush
    int still_pending = 0;  // failed again, retried later
  };
  static constexpr int kFlushLimit = 1000;
  // How many due messages a new message flushes before it is sent itself.
  static constexpr int kFlushBeforeSend = 20;
  // Attempts the pending notifications whose next attempt is due now, oldest first, at most
  // `limit` of them (each attempt can take up to its channel's timeout).
  Result<FlushReport> Flush(const std::string& actor, int limit = kFlushLimit);
  // A failed (or pending) notification back to pending, due now, with its attempts reset
  // (audited). NotFound for an unknown id; Conflict for one already sent.
  Result<Notification> Retry(int64_t id, const std::string& actor);

  // The §2.5 pre-deployment notices due now (domain/advance_notice.h), sent as Send sends, each
  // with evidence fields audience=stakeholders, notice=advance, planned, late. Called by
  // `cr schedule`, `notify flush` and the server's timer. Returns one line per notice sent
  // ("CR-3 PROD 2026-12-03T22:00:00Z", with " (late)").
  Result<std::vector<std::string>> SendDueAdvanceNotices(const std::string& actor);

  Result<std::vector<Notification>> List(const NotificationFilter& filter);
  Result<Notification> Get(int64_t id);  // NotFound naming the id

 private:
  // One attempt of `n` (stored with its outcome and audit event); the evidence to record when
  // the attempt decided something the CR should show (delivered, failed for good, or
  // `first_attempt`).
  Result<std::optional<Evidence>> Attempt(Notification& n, const std::string& actor,
                                          bool first_attempt);

  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
  DeliverFunction deliver_;
  notify::EnvironmentReader environment_;
};

}  // namespace rollgate
