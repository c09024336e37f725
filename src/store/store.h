// The Store: where Rollgate's state lives (patches, change requests, blobs, the audit log).
//
// Every state change happens inside Store::Write, one durable transaction, together with the
// audit event(s) describing it: either all of it is stored or none of it. Reads see a consistent
// snapshot. Implementations: store/sqlite (embedded default); PostgreSQL follows behind the same
// interface. A Store is safe to use from one thread at a time; separate processes may share one
// database (writers are serialised by the backend).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/audit.h"
#include "domain/change_request.h"
#include "domain/patch.h"

namespace rollgate {

struct ChangeRequestFilter {
  std::optional<CrState> state;
  std::optional<std::string> system;
  std::optional<Priority> classification;
  bool only_unconfirmed_verbal = false;  // candidates for --overdue
  std::optional<int> limit;
};

// What an audit event says before the store chains it (seq, prev_hash, hash are filled in).
struct AuditRecord {
  Timestamp at;
  std::string actor;
  std::string action;
  std::string object;
  std::string details;  // a JSON object, canonical (sorted keys)
};

struct AuditVerification {
  bool ok = true;
  int64_t events = 0;
  std::optional<int64_t> first_bad;
  std::string reason;
  std::string head_hash;
  int64_t head_seq = 0;
};

// Operations available inside one transaction.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // The next number for a kind ("PATCH", "CR"); ids are "KIND-N".
  virtual Result<int> NextNumber(const std::string& kind) = 0;

  virtual Status PutPatch(const Patch& patch) = 0;  // insert or replace
  virtual Result<Patch> GetPatch(const std::string& id) = 0;  // NotFound
  virtual Result<std::vector<Patch>> ListPatches() = 0;

  virtual Status PutChangeRequest(const ChangeRequest& cr) = 0;  // insert or replace, whole
  virtual Result<ChangeRequest> GetChangeRequest(const std::string& id) = 0;  // NotFound
  virtual Result<std::vector<ChangeRequestSummary>> ListChangeRequests(
      const ChangeRequestFilter& filter) = 0;

  // Content-addressed documents: stored once per SHA-256.
  virtual Status PutBlob(const std::string& sha256, const std::string& content) = 0;
  virtual Result<std::string> GetBlob(const std::string& sha256) = 0;

  // Appends an event to the chain; returns its seq.
  virtual Result<int64_t> AppendAudit(const AuditRecord& record) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `body` in one write transaction; commits durably if it returns OK, else rolls back and
  // returns its Status. Conflicting writers wait (busy timeout) then get Unavailable.
  virtual Status Write(const std::function<Status(Transaction&)>& body) = 0;
  // Runs `body` in a read transaction (a consistent snapshot); never commits changes.
  virtual Status Read(const std::function<Status(Transaction&)>& body) = 0;

  // Walks the whole audit chain in seq order.
  virtual Result<AuditVerification> VerifyAudit() = 0;
  // Calls `sink` for events in seq order (for export); stops at the first non-OK return.
  virtual Status ForEachAuditEvent(const std::function<Status(const AuditEvent&)>& sink) = 0;
  // Events whose object is `object`, in seq order.
  virtual Result<std::vector<AuditEvent>> AuditEventsFor(const std::string& object) = 0;
};

// Opens the store a URL names: "sqlite:/path/state.db" (created with its directory if missing).
// InvalidArgument for an unknown or malformed URL; Unavailable when it cannot be opened;
// Corruption when its schema is newer than this binary or fails its integrity check.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

}  // namespace rollgate
