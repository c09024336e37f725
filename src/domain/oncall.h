// Pages and their escalation (playbook §9.1 on-call contact matrix, §9.2 escalation paths).
//
// A page is opened on an escalation path ("standard", "production", "security"): level 1 is
// notified and has the level's response time to acknowledge. A page not acknowledged when the
// current level's deadline passes escalates to the next level (notified, new deadline); after
// the last level it stays open and is marked exhausted. Everything that happened to a page is a
// PageEvent in its history, in order.
//
// Who is reached at a level (ResolveLevel): a level's contact is an on-call contact of the matrix
// (its primary; also its backup when the primary is not set or the level's response time is
// immediate, since an immediate response cannot wait for a fallback), a person, or a role (every
// person holding it). Who may acknowledge (MayAcknowledge): anyone notified on this page so far,
// and anyone a level of the path resolves to (a higher level may always take a page over).
//
// Pure: time is passed in; no I/O. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"

namespace rollgate {

enum class PageState { kOpen, kAcknowledged, kExhausted };
std::string_view PageStateName(PageState state);  // "open", "acknowledged", "exhausted"

// One step of a page's history. kind: "opened", "notified", "escalated", "exhausted",
// "acknowledged".
struct PageEvent {
  Timestamp at;
  std::string kind;
  int level = 0;
  std::string person;  // notified: the addressee; acknowledged: who; opened: who opened it
  std::string detail;  // a sentence; for notified, what the channel did
  std::optional<bool> delivered;  // notified: whether a channel delivered it
};

struct Page {
  std::string id;  // "PAGE-1"
  std::string path;
  std::string subject;
  std::string message;
  std::string change_request;  // may be empty
  std::string environment;     // may be empty
  std::string opened_by;
  Timestamp opened_at;
  PageState state = PageState::kOpen;
  int level = 1;       // the current level (1-based)
  Timestamp deadline;  // when the current level's response time runs out
  std::optional<Timestamp> acknowledged_at;
  std::string acknowledged_by;
  std::vector<PageEvent> events;
};

// A person reached at a level, and why ("it-operations-on-call primary", "cab-chair").
struct PageRecipient {
  std::string person;
  std::string reason;
};

const EscalationPath* FindEscalationPath(const Config& config, std::string_view name);

// The people `level` reaches, without duplicates, in configuration order. Empty when the contact
// resolves to nobody (an on-call contact without people, a role nobody holds).
std::vector<PageRecipient> ResolveLevel(const Config& config, const EscalationLevel& level);

// A new page at level 1 of `path`, opened at `now` (deadline now + level 1's response time), with
// its "opened" event. The caller adds the "notified" events. InvalidArgument when the path has
// no levels or the subject is empty.
Result<Page> OpenPage(const EscalationPath& path, std::string id, std::string subject,
                      std::string message, std::string change_request, std::string environment,
                      std::string opened_by, Timestamp now);

// What is due for `page` at `now`: an open page whose deadline has passed escalates by one level
// per elapsed deadline (a page not looked at for a long time catches up level by level, each new
// deadline counted from the previous one, so the times in its history are the times the playbook
// promised). Returns the levels newly reached, in order (empty when nothing is due), and updates
// `page` (level, deadline, "escalated" events; state exhausted with an "exhausted" event when the
// last level's deadline has passed). Acknowledged and exhausted pages are never due.
std::vector<int> EscalateDue(Page& page, const EscalationPath& path, Timestamp now);

// True when `person` may acknowledge `page` (see the header comment).
bool MayAcknowledge(const Page& page, const Config& config, const EscalationPath& path,
                    std::string_view person);

// Acknowledges `page` by `person` at `now`. Conflict when it is already acknowledged.
// An exhausted page may still be acknowledged. The caller checks MayAcknowledge.
Status Acknowledge(Page& page, std::string_view person, Timestamp now);

nlohmann::json PageToJson(const Page& page);
Result<Page> PageFromJson(const nlohmann::json& json);

}  // namespace rollgate
