// The Store: where Rollgate's state lives (patches, change requests, blobs, runs, watches, the
// audit log).
//
// Every state change happens inside Store::Write, one durable transaction, together with the
// audit event(s) describing it: either all of it is stored or none of it. Reads see a consistent
// snapshot. Implementations: store/sqlite (embedded default); PostgreSQL follows behind the same
// interface. A Store is safe to use from one thread at a time; separate processes (or several
// Store objects) may share one database (writers are serialised by the backend). Transactions do
// not nest: calling the Store from inside a Write/Read body or an audit sink returns Internal.
// The Store owns its connection; a Transaction is valid only during the body it is passed to.
// Formats: docs/store-schema.md (schema) and docs/audit-chain.md (the chain and checkpoints).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/audit.h"
#include "domain/change_request.h"
#include "domain/diagnostics.h"
#include "domain/notification.h"
#include "domain/oncall.h"
#include "domain/patch.h"
#include "domain/run.h"
#include "domain/token.h"
#include "domain/watch.h"

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

// The outcome of walking the chain. A broken chain is reported here (ok = false), not as an error
// Status; errors are kept for failures to read the store.
struct AuditVerification {
  bool ok = true;
  int64_t events = 0;                // events stored in the log (all of them, good or bad)
  std::optional<int64_t> first_bad;  // seq of the first event that fails to verify
  std::string reason;                // why it fails, in words, naming the event
  std::string head_hash;             // hash of the last event that verified (genesis if none)
  int64_t head_seq = 0;              // seq of the last event that verified (0 if none)
};

// Operations available inside one transaction.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Every method that changes state returns Internal when called inside Store::Read. Failures to
  // reach the backend are Unavailable (busy, disk full, I/O error) or Corruption (damaged file).

  // The next number for a kind ("PATCH", "CR"): 1, 2, 3 ... per kind, never reused once the
  // transaction commits; ids are "KIND-N". InvalidArgument for an empty kind.
  virtual Result<int> NextNumber(const std::string& kind) = 0;

  // Insert or replace, keyed by patch.id. InvalidArgument for an empty id or text that is not
  // valid UTF-8.
  virtual Status PutPatch(const Patch& patch) = 0;
  virtual Result<Patch> GetPatch(const std::string& id) = 0;  // NotFound naming the id
  virtual Result<std::vector<Patch>> ListPatches() = 0;       // by number, then id

  // Insert or replace the whole aggregate, keyed by cr.id. InvalidArgument for an empty id;
  // Conflict when another CR already has cr.number.
  virtual Status PutChangeRequest(const ChangeRequest& cr) = 0;
  virtual Result<ChangeRequest> GetChangeRequest(const std::string& id) = 0;  // NotFound
  // Summaries by ascending number, filtered (all conditions must hold), at most filter.limit.
  // Built from indexed columns, not by loading aggregates. next_deadline is the earliest
  // written-confirmation deadline (approval time + kVerbalConfirmationDue) among verbal
  // approvals not yet confirmed.
  virtual Result<std::vector<ChangeRequestSummary>> ListChangeRequests(
      const ChangeRequestFilter& filter) = 0;

  // Content-addressed documents: stored once per SHA-256 (a second Put of the same content is a
  // no-op). InvalidArgument when `sha256` is not the lowercase hex SHA-256 of `content`.
  virtual Status PutBlob(const std::string& sha256, const std::string& content) = 0;
  // NotFound when absent; Corruption when the stored content no longer matches its address.
  virtual Result<std::string> GetBlob(const std::string& sha256) = 0;

  // Runs, step executions and run locks (domain/run.h; the engine's journal, engine/executor.h).

  // Insert or replace, keyed by run.id. InvalidArgument for an empty id or invalid UTF-8.
  virtual Status PutRun(const Run& run) = 0;
  virtual Result<Run> GetRun(const std::string& id) = 0;  // NotFound naming the id
  // A number that rises with every change to what the run's document shows: the run, its step
  // executions, its change request. Equal numbers: the same document. NotFound naming the id.
  virtual Result<int64_t> GetRunRevision(const std::string& id) = 0;
  // Newest first (by number), at most `limit` when given; InvalidArgument for a negative limit.
  virtual Result<std::vector<RunSummary>> ListRuns(std::optional<int> limit) = 0;

  // Insert or replace, keyed by (run_id, phase, step, host, attempt); a replaced row keeps its
  // place in the listing order. NotFound when the run does not exist; InvalidArgument for an
  // empty run id or host, or an attempt < 1.
  virtual Status PutStepExecution(const StepExecution& execution) = 0;
  // Every step execution of the run in the order they were first recorded (empty when none).
  virtual Result<std::vector<StepExecution>> ListStepExecutions(const std::string& run_id) = 0;

  // The lock row of (system, environment), held or released (run_id empty), or nullopt when no
  // run ever took it. Its fencing token never decreases: release it by storing run_id "".
  virtual Result<std::optional<RunLock>> GetRunLock(const std::string& system,
                                                    const std::string& environment) = 0;
  // Insert or replace, keyed by (system, environment). Conflict when lock.fencing_token is lower
  // than the stored one (a stale owner writing back).
  virtual Status PutRunLock(const RunLock& lock) = 0;

  // Enhanced-monitoring watches (domain/watch.h), stored whole.
  // Insert or replace, keyed by (change_request, environment, run_id). InvalidArgument for an
  // empty key part or text that is not valid UTF-8.
  virtual Status PutWatch(const Watch& watch) = 0;
  // NotFound naming the CR, environment and run.
  virtual Result<Watch> GetWatch(const std::string& change_request, const std::string& environment,
                                 const std::string& run_id) = 0;
  // Active watches only (by next_probe_at), or every watch (`all`, by started_at, newest last).
  virtual Result<std::vector<Watch>> ListWatches(bool all) = 0;

  // Diagnostics of runs (domain/diagnostics.h), appended. Returns the report's id (ascending
  // across the store). NotFound when report.run_id names no run; InvalidArgument for text that is
  // not valid UTF-8.
  virtual Result<int64_t> AddDiagnosticReport(const DiagnosticReport& report) = 0;
  // The reports of `run_id`, oldest first, with their ids (empty when none).
  virtual Result<std::vector<DiagnosticReport>> ListDiagnosticReports(
      const std::string& run_id) = 0;

  // API tokens (domain/token.h): only the secret's hash is stored. Insert or replace by id;
  // Conflict when another token has the same hash; InvalidArgument for an empty id, person or
  // hash.
  virtual Status PutToken(const ApiToken& token) = 0;
  // NotFound when no token has this hash (the message never repeats the hash).
  virtual Result<ApiToken> GetTokenByHash(const std::string& hash) = 0;
  // NotFound naming the id.
  virtual Result<ApiToken> GetToken(const std::string& id) = 0;
  // Every token, by number (TOK-1, TOK-2, ...).
  virtual Result<std::vector<ApiToken>> ListTokens() = 0;

  // Appends an event to the chain (seq = head + 1, prev_hash = head hash, hash computed) in this
  // transaction, so it commits or rolls back with the state change it describes. Returns its
  // seq. InvalidArgument for an empty actor or action; an empty `details` is stored as "{}".
  virtual Result<int64_t> AppendAudit(const AuditRecord& record) = 0;

  // Pages (domain/oncall.h), stored whole with their history. Insert or replace by id.
  // InvalidArgument for an empty id or text that is not valid UTF-8.
  virtual Status PutPage(const Page& page) = 0;
  virtual Result<Page> GetPage(const std::string& id) = 0;  // NotFound naming the id
  // Every page (`open_only`: those not acknowledged yet, open or exhausted), by opening time
  // then id.
  virtual Result<std::vector<Page>> ListPages(bool open_only) = 0;
  // Notifications queued for delivery (domain/notification.h, docs/notifications.md).
  // Inserts `notification` (its id is ignored) and returns its id (ascending across the store).
  // InvalidArgument for an empty change request, channel or subject, or text that is not valid
  // UTF-8.
  virtual Result<int64_t> AddNotification(const Notification& notification) = 0;
  // Replaces the stored notification with the same id. NotFound naming the id.
  virtual Status UpdateNotification(const Notification& notification) = 0;
  virtual Result<Notification> GetNotification(int64_t id) = 0;  // NotFound naming the id
  // Oldest first (by id), filtered (all conditions must hold), at most filter.limit.
  virtual Result<std::vector<Notification>> ListNotifications(const NotificationFilter& filter) = 0;
  // How many notifications are in `state` (for /metrics: a count, not the rows).
  virtual Result<int64_t> CountNotifications(NotificationState state) = 0;
};

// Where the stored data stood when read through one connection (Store::ChangeStamp).
struct StoreStamp {
  uint64_t connection = 0;  // unique to the Store object in this process
  uint64_t version = 0;     // changes whenever any connection or process commits
  bool operator==(const StoreStamp&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // For caches of what was read: a stamp that differs whenever the data may have changed since
  // (a commit by this or any other connection or process). nullopt when the backend cannot tell
  // or a transaction is open: nothing may be cached then. Cheap: no transaction.
  virtual std::optional<StoreStamp> ChangeStamp() { return std::nullopt; }

  // Runs `body` in one write transaction; commits durably if it returns OK, else rolls back and
  // returns its Status. Conflicting writers wait (busy timeout) then get Unavailable.
  virtual Status Write(const std::function<Status(Transaction&)>& body) = 0;
  // Runs `body` in a read transaction (a consistent snapshot); never commits changes.
  virtual Status Read(const std::function<Status(Transaction&)>& body) = 0;

  // Walks the whole audit chain in seq order over one snapshot, streaming (constant memory).
  // A broken chain is reported in the result; an error Status means the store could not be read.
  virtual Result<AuditVerification> VerifyAudit() = 0;
  // Calls `sink` for events in seq order over one snapshot (for export); stops at and returns
  // the first non-OK Status of `sink`. `sink` must not call the Store.
  virtual Status ForEachAuditEvent(const std::function<Status(const AuditEvent&)>& sink) = 0;
  // Events whose object is `object`, in seq order (empty when there are none).
  virtual Result<std::vector<AuditEvent>> AuditEventsFor(const std::string& object) = 0;

  // The backend's full consistency check (SQLite: PRAGMA integrity_check). OK when clean;
  // Corruption listing the first problems otherwise.
  virtual Status CheckIntegrity() = 0;
};

// How long after a verbal emergency approval its written confirmation is due (playbook §5.2).
inline constexpr Seconds kVerbalConfirmationDue{24 * 3600};

// Opens the store a URL names: "sqlite:/path/state.db" or "sqlite:relative/state.db" (created
// with its directory if missing; pending schema migrations are applied). InvalidArgument for an
// unknown or malformed URL (naming it); Unavailable for "postgresql://" / "postgres://" in this
// build, or when the file cannot be opened or created; Corruption when the file is not a
// database or its schema is newer than this binary. The full integrity check is CheckIntegrity.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

}  // namespace rollgate
