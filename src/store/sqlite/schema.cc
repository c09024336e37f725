#include "store/sqlite/schema.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <memory>

#include "store/sqlite/sqlite_error.h"

namespace rollgate::sqlite {

namespace {

// Version 1: the foundation. Aggregates are stored whole as JSON (`body`) next to the columns
// that lists filter and sort on; see docs/store-schema.md for why.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE patches (
  id             TEXT PRIMARY KEY NOT NULL,
  number         INTEGER,
  title          TEXT NOT NULL,
  classification INTEGER NOT NULL,
  emergency      INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  body           TEXT NOT NULL
) STRICT;
CREATE INDEX patches_by_number ON patches(number);

-- The columns `cr list` shows and filters on, keyed by number so that listing in number order is
-- a scan of a compact table; the aggregate's JSON lives in change_request_bodies.
CREATE TABLE change_requests (
  number                 INTEGER PRIMARY KEY,
  id                     TEXT NOT NULL UNIQUE,
  patch_id               TEXT NOT NULL,
  title                  TEXT NOT NULL,
  state                  TEXT NOT NULL,
  system                 TEXT NOT NULL,
  classification         INTEGER NOT NULL,
  emergency              INTEGER NOT NULL,
  requester              TEXT NOT NULL,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  has_unconfirmed_verbal INTEGER NOT NULL,
  next_deadline          INTEGER
) STRICT;
CREATE INDEX change_requests_by_state ON change_requests(state, number);
CREATE INDEX change_requests_by_system ON change_requests(system, number);
CREATE INDEX change_requests_by_classification ON change_requests(classification, number);
CREATE INDEX change_requests_by_patch ON change_requests(patch_id);
CREATE INDEX change_requests_unconfirmed_verbal ON change_requests(number)
  WHERE has_unconfirmed_verbal = 1;

CREATE TABLE change_request_bodies (
  id   TEXT PRIMARY KEY NOT NULL
       REFERENCES change_requests(id) ON DELETE CASCADE ON UPDATE CASCADE,
  body TEXT NOT NULL
) STRICT;

CREATE TABLE blobs (
  sha256  TEXT PRIMARY KEY NOT NULL,
  content BLOB NOT NULL,
  size    INTEGER NOT NULL
) STRICT;

CREATE TABLE counters (
  kind TEXT PRIMARY KEY NOT NULL,
  next INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
  seq       INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  object    TEXT NOT NULL,
  details   TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_by_object ON audit_events(object, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;
)sql";

// Version 2: the engine's journal. A run row per run (its plan as JSON), one row per step
// execution (intent, then result), and one lock row per (system, environment).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE runs (
  id               TEXT PRIMARY KEY NOT NULL,
  number           INTEGER,
  change_request   TEXT NOT NULL,
  environment      TEXT NOT NULL,
  system           TEXT NOT NULL,
  state            TEXT NOT NULL,
  plan             TEXT NOT NULL,
  transport        TEXT NOT NULL,
  created_by       TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  owner_pid        INTEGER NOT NULL,
  owner_host       TEXT NOT NULL,
  owner_token      TEXT NOT NULL,
  fencing_token    INTEGER NOT NULL,
  heartbeat_at     INTEGER,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL,
  message          TEXT NOT NULL,
  attention        TEXT NOT NULL
) STRICT;
CREATE INDEX runs_by_number ON runs(number);
CREATE INDEX runs_by_target ON runs(system, environment, number);

CREATE TABLE step_executions (
  seq             INTEGER PRIMARY KEY,
  run_id          TEXT NOT NULL REFERENCES runs(id),
  phase           INTEGER NOT NULL,
  step            INTEGER NOT NULL,
  step_name       TEXT NOT NULL,
  host            TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  state           TEXT NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  exit_code       INTEGER,
  output_tail     TEXT NOT NULL,
  status_file     TEXT NOT NULL,
  probe_exit_code INTEGER,
  evidence        TEXT NOT NULL,
  UNIQUE(run_id, phase, step, host, attempt)
) STRICT;

CREATE TABLE run_locks (
  system           TEXT NOT NULL,
  environment      TEXT NOT NULL,
  run_id           TEXT NOT NULL,
  owner_pid        INTEGER NOT NULL,
  owner_host       TEXT NOT NULL,
  owner_token      TEXT NOT NULL,
  fencing_token    INTEGER NOT NULL,
  acquired_at      INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  PRIMARY KEY(system, environment)
) STRICT;
)sql";

// Version 3: the enhanced-monitoring watches (domain/watch.h). One row per (CR, environment,
// deployment run); the whole watch, its probe history included, is the JSON `body`, beside the
// columns `watch list` and the scheduler filter and sort on.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE watches (
  change_request TEXT NOT NULL,
  environment    TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  system         TEXT NOT NULL,
  state          TEXT NOT NULL,
  emergency      INTEGER NOT NULL,
  started_at     INTEGER NOT NULL,
  ends_at        INTEGER NOT NULL,
  next_probe_at  INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  body           TEXT NOT NULL,
  PRIMARY KEY(change_request, environment, run_id)
) STRICT;
CREATE INDEX watches_active ON watches(next_probe_at) WHERE state = 'active';
)sql";

// Version 4: the diagnostics of failed runs (domain/diagnostics.h, playbook §7). One row per
// diagnosis of a run; the report, every check's output included, is the JSON `body`.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE diagnostics (
  id         INTEGER PRIMARY KEY,
  run_id     TEXT NOT NULL REFERENCES runs(id),
  created_at INTEGER NOT NULL,
  body       TEXT NOT NULL
) STRICT;
CREATE INDEX diagnostics_by_run ON diagnostics(run_id, id);
)sql";

// Version 5: pages and their escalation (domain/oncall.h, playbook §9). One row per page; its
// history (opened, each notification, each escalation, the acknowledgement) is in the JSON
// `body`, beside the columns `page list` and the escalation tick filter and sort on.
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE pages (
  id          TEXT PRIMARY KEY,
  path        TEXT NOT NULL,
  state       TEXT NOT NULL,
  level       INTEGER NOT NULL,
  opened_at   INTEGER NOT NULL,
  deadline    INTEGER NOT NULL,
  body        TEXT NOT NULL
) STRICT;
CREATE INDEX pages_open ON pages(deadline) WHERE state = 'open';
)sql";

// Version 6: API tokens of `rollgate serve` (domain/token.h). Only the SHA-256 of a secret is
// kept; a token is never deleted (revoking it sets revoked_at), so the audit trail can name it.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE tokens (
  id           TEXT PRIMARY KEY,
  number       INTEGER NOT NULL,
  person       TEXT NOT NULL,
  label        TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  revoked_at   INTEGER,
  revoked_by   TEXT NOT NULL,
  last_used_at INTEGER
) STRICT;
)sql";

// Version 7: notifications queued for delivery, with their attempts (docs/notifications.md).
// recipient (name, email, phone) and fields are JSON objects; next_attempt is set while pending.
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE notifications (
  id             INTEGER PRIMARY KEY,
  change_request TEXT NOT NULL,
  environment    TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  channel        TEXT NOT NULL,
  type           TEXT NOT NULL,
  person         TEXT NOT NULL,
  role           TEXT NOT NULL,
  recipient      TEXT NOT NULL,
  subject        TEXT NOT NULL,
  body           TEXT NOT NULL,
  fields         TEXT NOT NULL,
  actor          TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts       INTEGER NOT NULL,
  next_attempt   INTEGER,
  last_error     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  sent_at        INTEGER
) STRICT;
CREATE INDEX notifications_due ON notifications(state, next_attempt);
CREATE INDEX notifications_by_cr ON notifications(change_request, id);
)sql";

// Version 8: a revision per run, raised by every change to what its document shows (the run row,
// its step executions, its CR with the evidence of its triggers): a reader that kept the document
// compares one number to know whether it is still current (the API's document cache). Triggers
// raise it, so no write path can forget to. Rows are never deleted, so it never goes back.
constexpr const char* kSchemaV8 = R"sql(
ALTER TABLE runs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_by_change_request ON runs(change_request);
CREATE TRIGGER runs_revision AFTER UPDATE ON runs WHEN NEW.revision = OLD.revision
BEGIN
  UPDATE runs SET revision = OLD.revision + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER step_executions_insert_revision AFTER INSERT ON step_executions
BEGIN
  UPDATE runs SET revision = revision + 1 WHERE id = NEW.run_id;
END;
CREATE TRIGGER step_executions_update_revision AFTER UPDATE ON step_executions
BEGIN
  UPDATE runs SET revision = revision + 1 WHERE id IN (OLD.run_id, NEW.run_id);
END;
CREATE TRIGGER change_requests_update_revision AFTER UPDATE ON change_requests
BEGIN
  UPDATE runs SET revision = revision + 1 WHERE change_request IN (OLD.id, NEW.id);
END;
CREATE TRIGGER change_request_bodies_insert_revision AFTER INSERT ON change_request_bodies
BEGIN
  UPDATE runs SET revision = revision + 1 WHERE change_request = NEW.id;
END;
CREATE TRIGGER change_request_bodies_update_revision AFTER UPDATE ON change_request_bodies
BEGIN
  UPDATE runs SET revision = revision + 1 WHERE change_request IN (OLD.id, NEW.id);
END;
)sql";

Status Exec(sqlite3* db, const char* sql, std::string_view context) {
  return SqliteStatus(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), context, db);
}

void RollbackQuietly(sqlite3* db) {
  if (sqlite3_get_autocommit(db) == 0) {
    // The original error is what the caller reports; a failed rollback leaves the transaction to
    // be discarded when the connection closes.
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Status CheckNotNewer(int version) {
  if (version > kSchemaVersion) {
    return Corruption(fmt::format(
        "store schema version {} is newer than this rollgate (knows {}); upgrade rollgate", version,
        kSchemaVersion));
  }
  if (version < 0) {
    return Corruption(fmt::format("store schema version {} is invalid", version));
  }
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> migrations = {
      {1, "patches, change requests, blobs, counters and the audit chain", kSchemaV1},
      {2, "runs, step executions and run locks", kSchemaV2},
      {3, "enhanced-monitoring watches", kSchemaV3},
      {4, "diagnostics of failed runs", kSchemaV4},
      {5, "pages and their escalation", kSchemaV5},
      {6, "API tokens", kSchemaV6},
      {7, "notifications queued for delivery", kSchemaV7},
      {8, "a revision per run for readers that keep its document", kSchemaV8},
  };
  return migrations;
}

Result<int> ReadSchemaVersion(sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "reading the store schema version", db);
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteStatus(rc, "reading the store schema version", db);
  return sqlite3_column_int(stmt.get(), 0);
}

Status Migrate(sqlite3* db) {
  ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  RETURN_IF_ERROR(CheckNotNewer(version));
  if (version == kSchemaVersion) return Status::Ok();

  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "starting the schema migration"));
  auto migrate = [&]() -> Status {
    // Another process may have migrated between the first read and taking the write lock.
    ASSIGN_OR_RETURN(int current, ReadSchemaVersion(db));
    RETURN_IF_ERROR(CheckNotNewer(current));
    for (const Migration& migration : Migrations()) {
      if (migration.version <= current) continue;
      std::string context = fmt::format("applying store schema migration {} ({})",
                                        migration.version, migration.description);
      RETURN_IF_ERROR(Exec(db, migration.sql, context));
      std::string set_version = fmt::format("PRAGMA user_version = {}", migration.version);
      RETURN_IF_ERROR(Exec(db, set_version.c_str(), context));
    }
    return Exec(db, "COMMIT", "committing the schema migration");
  };
  Status status = migrate();
  if (!status.ok()) RollbackQuietly(db);
  return status;
}

}  // namespace rollgate::sqlite
