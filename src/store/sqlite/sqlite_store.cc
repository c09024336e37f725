#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "common/sha256.h"
#include "common/strings.h"
#include "store/serialization.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_error.h"

namespace rollgate {

namespace {

using sqlite::SqliteStatus;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// A cached prepared statement while in use: bind, step, read columns. Going out of scope resets
// it and clears its bindings, so the cache never holds a statement mid-way (which would keep a
// read transaction open). Does not own the statement; the connection's cache does.
class Statement {
 public:
  Statement(sqlite3_stmt* statement, sqlite3* db, std::string_view context)
      : statement_(statement), db_(db), context_(context) {}
  Statement(Statement&& other) noexcept
      : statement_(std::exchange(other.statement_, nullptr)),
        db_(other.db_),
        context_(std::move(other.context_)),
        bind_status_(std::move(other.bind_status_)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (statement_ != nullptr) {
      sqlite3_reset(statement_);
      sqlite3_clear_bindings(statement_);
    }
  }

  // Parameters are 1-based, as in SQLite. Values are copied (SQLITE_TRANSIENT).
  void BindText(int index, std::string_view text) {
    Check(sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                              SQLITE_UTF8));
  }
  void BindBlob(int index, std::string_view bytes) {
    Check(sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  }
  void BindInt(int index, int64_t value) { Check(sqlite3_bind_int64(statement_, index, value)); }
  void BindNull(int index) { Check(sqlite3_bind_null(statement_, index)); }

  // Steps once: true when a row is available, false when the statement is done.
  Result<bool> Step() {
    RETURN_IF_ERROR(bind_status_);
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteStatus(rc, context_, db_);
  }
  // Steps to completion, ignoring rows (for statements run for their effect).
  Status Run() {
    while (true) {
      ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return Status::Ok();
    }
  }

  int64_t Int(int column) const { return sqlite3_column_int64(statement_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  std::string_view Text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    if (text == nullptr) return {};
    return {text, static_cast<size_t>(sqlite3_column_bytes(statement_, column))};
  }
  std::string_view Blob(int column) const {
    const void* data = sqlite3_column_blob(statement_, column);
    if (data == nullptr) return {};
    return {static_cast<const char*>(data),
            static_cast<size_t>(sqlite3_column_bytes(statement_, column))};
  }
  const std::string& context() const { return context_; }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = SqliteStatus(rc, context_, db_);
  }

  sqlite3_stmt* statement_;
  sqlite3* db_;
  std::string context_;
  Status bind_status_;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// One SQLite connection with its prepared-statement cache.
class Connection {
 public:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  sqlite3* db() const { return db_.get(); }

  // The cached statement for `sql` (prepared on first use). Internal when that statement is
  // already in use (a nested call into the store).
  Result<Statement> Prepare(std::string_view sql, std::string_view context) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      StatementHandle handle(raw);
      if (rc != SQLITE_OK) return SqliteStatus(rc, context, db_.get());
      it = cache_.emplace(std::string(sql), std::move(handle)).first;
    }
    if (sqlite3_stmt_busy(it->second.get()) != 0) {
      return Internal(
          fmt::format("{}: the statement is already in use (nested store call)", context));
    }
    return Statement(it->second.get(), db_.get(), context);
  }

  Status Exec(const char* sql, std::string_view context) {
    return SqliteStatus(sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr), context,
                        db_.get());
  }

  // Ends an open transaction after a failure; the failure is what the caller reports.
  void RollbackIfActive() {
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      (void)sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

 private:
  DbHandle db_;  // declared first: destroyed after the statements below
  std::unordered_map<std::string, StatementHandle, StringHash, std::equal_to<>> cache_;
};

Timestamp TimeFromColumn(int64_t seconds) { return Timestamp(Seconds(seconds)); }
int64_t TimeToColumn(Timestamp t) { return t.time_since_epoch().count(); }

// "PATCH-7" -> 7; nullopt when the id does not end in "-<digits>".
std::optional<int64_t> NumberOfId(std::string_view id) {
  size_t dash = id.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == id.size()) return std::nullopt;
  int64_t number = 0;
  auto [end, ec] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), number);
  if (ec != std::errc() || end != id.data() + id.size()) return std::nullopt;
  return number;
}

constexpr std::string_view kSelectTokens =
    "SELECT id, person, label, hash, created_by, created_at, expires_at, revoked_at, revoked_by, "
    "last_used_at FROM tokens";

constexpr std::string_view kSelectEvents =
    "SELECT seq, at, actor, action, object, details, prev_hash, hash FROM audit_events";

// Decodes a row of kSelectTokens.
ApiToken ReadToken(const Statement& row) {
  auto time = [&](int column) {
    return row.IsNull(column) ? std::optional<Timestamp>() : TimeFromColumn(row.Int(column));
  };
  ApiToken token;
  token.id.assign(row.Text(0));
  token.person.assign(row.Text(1));
  token.label.assign(row.Text(2));
  token.hash.assign(row.Text(3));
  token.created_by.assign(row.Text(4));
  token.created_at = TimeFromColumn(row.Int(5));
  token.expires_at = time(6);
  token.revoked_at = time(7);
  token.revoked_by.assign(row.Text(8));
  token.last_used_at = time(9);
  return token;
}

// Decodes a row of kSelectEvents into `event`, reusing its buffers.
void ReadEvent(const Statement& row, AuditEvent& event) {
  event.seq = row.Int(0);
  event.at = TimeFromColumn(row.Int(1));
  event.actor.assign(row.Text(2));
  event.action.assign(row.Text(3));
  event.object.assign(row.Text(4));
  event.details.assign(row.Text(5));
  event.prev_hash.assign(row.Text(6));
  event.hash.assign(row.Text(7));
}

constexpr std::string_view kSelectNotifications =
    "SELECT id, change_request, environment, run_id, channel, type, person, role, recipient, "
    "subject, body, fields, actor, state, attempts, next_attempt, last_error, created_at, sent_at "
    "FROM notifications";

Status CheckNotification(const Notification& n) {
  // A notification without a change request is one about an incident (a page without --cr).
  if (n.channel.empty() || n.subject.empty()) {
    return InvalidArgument("a notification needs a channel and a subject");
  }
  for (const std::string* text :
       {&n.change_request, &n.environment, &n.run_id, &n.channel, &n.type, &n.person, &n.role,
        &n.recipient_name, &n.recipient_email, &n.recipient_phone, &n.subject, &n.body, &n.actor,
        &n.last_error}) {
    if (!IsValidUtf8(*text)) {
      return InvalidArgument(fmt::format("notification for {}: text is not valid UTF-8",
                                         EscapeForDisplay(n.change_request)));
    }
  }
  for (const auto& [key, value] : n.fields) {
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
      return InvalidArgument(fmt::format("notification for {}: a field is not valid UTF-8",
                                         EscapeForDisplay(n.change_request)));
    }
  }
  return Status::Ok();
}

// Binds parameters 1..18 of the notifications insert/update statements.
void BindNotification(Statement& statement, const Notification& n) {
  statement.BindText(1, n.change_request);
  statement.BindText(2, n.environment);
  statement.BindText(3, n.run_id);
  statement.BindText(4, n.channel);
  statement.BindText(5, n.type);
  statement.BindText(6, n.person);
  statement.BindText(7, n.role);
  nlohmann::json recipient = {
      {"name", n.recipient_name}, {"email", n.recipient_email}, {"phone", n.recipient_phone}};
  statement.BindText(8, recipient.dump());
  statement.BindText(9, n.subject);
  statement.BindText(10, n.body);
  statement.BindText(11, nlohmann::json(n.fields).dump());
  statement.BindText(12, n.actor);
  statement.BindText(13, NotificationStateName(n.state));
  statement.BindInt(14, n.attempts);
  if (n.next_attempt) {
    statement.BindInt(15, TimeToColumn(*n.next_attempt));
  } else {
    statement.BindNull(15);
  }
  statement.BindText(16, n.last_error);
  statement.BindInt(17, TimeToColumn(n.created));
  if (n.sent_at) {
    statement.BindInt(18, TimeToColumn(*n.sent_at));
  } else {
    statement.BindNull(18);
  }
}

// Decodes a row of kSelectNotifications.
Result<Notification> ReadNotification(const Statement& row) {
  Notification n;
  n.id = row.Int(0);
  n.change_request = row.Text(1);
  n.environment = row.Text(2);
  n.run_id = row.Text(3);
  n.channel = row.Text(4);
  n.type = row.Text(5);
  n.person = row.Text(6);
  n.role = row.Text(7);
  n.subject = row.Text(9);
  n.body = row.Text(10);
  n.actor = row.Text(12);
  std::optional<NotificationState> state = ParseNotificationState(row.Text(13));
  nlohmann::json recipient = nlohmann::json::parse(row.Text(8), nullptr, false);
  nlohmann::json fields = nlohmann::json::parse(row.Text(11), nullptr, false);
  if (!state || !recipient.is_object() || !fields.is_object()) {
    return Corruption(fmt::format("stored notification {} is unreadable", n.id));
  }
  n.state = *state;
  n.recipient_name = recipient.value("name", "");
  n.recipient_email = recipient.value("email", "");
  n.recipient_phone = recipient.value("phone", "");
  for (const auto& [key, value] : fields.items()) {
    if (!value.is_string()) {
      return Corruption(fmt::format("stored notification {} is unreadable", n.id));
    }
    n.fields[key] = value.get<std::string>();
  }
  n.attempts = static_cast<int>(row.Int(14));
  if (!row.IsNull(15)) n.next_attempt = TimeFromColumn(row.Int(15));
  n.last_error = row.Text(16);
  n.created = TimeFromColumn(row.Int(17));
  if (!row.IsNull(18)) n.sent_at = TimeFromColumn(row.Int(18));
  return n;
}

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(Connection& connection, bool writable)
      : connection_(connection), writable_(writable) {}

  Result<int> NextNumber(const std::string& kind) override {
    RETURN_IF_ERROR(RequireWritable("NextNumber"));
    if (kind.empty()) return InvalidArgument("a counter kind must not be empty");
    ASSIGN_OR_RETURN(Statement statement,
                     connection_.Prepare("INSERT INTO counters(kind, next) VALUES(?1, 2) "
                                         "ON CONFLICT(kind) DO UPDATE SET next = next + 1 "
                                         "RETURNING next - 1",
                                         fmt::format("taking the next {} number", kind)));
    statement.BindText(1, kind);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return Internal(fmt::format("{}: no number returned", statement.context()));
    int64_t number = statement.Int(0);
    RETURN_IF_ERROR(statement.Run());
    return static_cast<int>(number);
  }

  Status PutPatch(const Patch& patch) override {
    RETURN_IF_ERROR(RequireWritable("PutPatch"));
    if (patch.id.empty()) return InvalidArgument("a patch needs an id to be stored");
    ASSIGN_OR_RETURN(std::string body, PatchToJson(patch));
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO patches(id, number, title, classification, emergency, created_at, body) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO UPDATE SET "
            "number = excluded.number, title = excluded.title, "
            "classification = excluded.classification, emergency = excluded.emergency, "
            "created_at = excluded.created_at, body = excluded.body",
            fmt::format("storing patch {}", EscapeForDisplay(patch.id))));
    statement.BindText(1, patch.id);
    if (auto number = NumberOfId(patch.id)) {
      statement.BindInt(2, *number);
    } else {
      statement.BindNull(2);
    }
    statement.BindText(3, patch.title);
    statement.BindInt(4, static_cast<int>(patch.classification.priority));
    statement.BindInt(5, patch.classification.emergency ? 1 : 0);
    statement.BindInt(6, TimeToColumn(patch.created_at));
    statement.BindText(7, body);
    return statement.Run();
  }

  Result<Patch> GetPatch(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement statement,
                     connection_.Prepare("SELECT body FROM patches WHERE id = ?1",
                                         fmt::format("reading patch {}", EscapeForDisplay(id))));
    statement.BindText(1, id);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return NotFound(fmt::format("no patch {}", EscapeForDisplay(id)));
    return DecodePatch(statement.Text(0), id);
  }

  Result<std::vector<Patch>> ListPatches() override {
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare("SELECT id, body FROM patches ORDER BY number, id", "listing patches"));
    std::vector<Patch> patches;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(Patch patch, DecodePatch(statement.Text(1), statement.Text(0)));
      patches.push_back(std::move(patch));
    }
    return patches;
  }

  Status PutChangeRequest(const ChangeRequest& cr) override {
    RETURN_IF_ERROR(RequireWritable("PutChangeRequest"));
    if (cr.id.empty()) return InvalidArgument("a change request needs an id to be stored");
    ASSIGN_OR_RETURN(std::string body, ChangeRequestToJson(cr));
    bool has_unconfirmed_verbal = false;
    std::optional<Timestamp> next_deadline;
    for (const Approval& approval : cr.approvals) {
      if (!approval.verbal || approval.confirmed_at) continue;
      has_unconfirmed_verbal = true;
      Timestamp due = approval.at + kVerbalConfirmationDue;
      if (!next_deadline || due < *next_deadline) next_deadline = due;
    }
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO change_requests(id, number, patch_id, title, state, system, "
            "classification, emergency, requester, created_at, updated_at, "
            "has_unconfirmed_verbal, next_deadline) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
            "ON CONFLICT(id) DO UPDATE SET number = excluded.number, "
            "patch_id = excluded.patch_id, title = excluded.title, state = excluded.state, "
            "system = excluded.system, classification = excluded.classification, "
            "emergency = excluded.emergency, requester = excluded.requester, "
            "created_at = excluded.created_at, updated_at = excluded.updated_at, "
            "has_unconfirmed_verbal = excluded.has_unconfirmed_verbal, "
            "next_deadline = excluded.next_deadline",
            fmt::format("storing change request {}", EscapeForDisplay(cr.id))));
    statement.BindText(1, cr.id);
    statement.BindInt(2, cr.number);
    statement.BindText(3, cr.patch_id);
    statement.BindText(4, cr.title);
    statement.BindText(5, CrStateName(cr.state));
    statement.BindText(6, cr.system);
    statement.BindInt(7, static_cast<int>(cr.classification));
    statement.BindInt(8, cr.emergency ? 1 : 0);
    statement.BindText(9, cr.requester);
    statement.BindInt(10, TimeToColumn(cr.created_at));
    statement.BindInt(11, TimeToColumn(cr.updated_at));
    statement.BindInt(12, has_unconfirmed_verbal ? 1 : 0);
    if (next_deadline) {
      statement.BindInt(13, TimeToColumn(*next_deadline));
    } else {
      statement.BindNull(13);
    }
    RETURN_IF_ERROR(statement.Run());

    ASSIGN_OR_RETURN(
        Statement body_statement,
        connection_.Prepare("INSERT INTO change_request_bodies(id, body) "
                            "VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET "
                            "body = excluded.body",
                            fmt::format("storing change request {}", EscapeForDisplay(cr.id))));
    body_statement.BindText(1, cr.id);
    body_statement.BindText(2, body);
    return body_statement.Run();
  }

  Result<ChangeRequest> GetChangeRequest(const std::string& id) override {
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare("SELECT body FROM change_request_bodies WHERE id = ?1",
                            fmt::format("reading change request {}", EscapeForDisplay(id))));
    statement.BindText(1, id);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return NotFound(fmt::format("no change request {}", EscapeForDisplay(id)));
    Result<ChangeRequest> cr = ChangeRequestFromJson(statement.Text(0));
    if (!cr.ok()) {
      return Corruption(fmt::format("stored change request {} is unreadable: {}",
                                    EscapeForDisplay(id), cr.error().message()));
    }
    return cr;
  }

  Result<std::vector<ChangeRequestSummary>> ListChangeRequests(
      const ChangeRequestFilter& filter) override {
    if (filter.limit && *filter.limit < 0) {
      return InvalidArgument(
          fmt::format("a list limit must not be negative (got {})", *filter.limit));
    }
    // The SQL depends only on which filters are set (16 shapes), so each shape is prepared once
    // and its plan uses the matching index.
    std::vector<std::string> conditions;
    int parameter = 0;
    if (filter.state) conditions.push_back(fmt::format("state = ?{}", ++parameter));
    if (filter.system) conditions.push_back(fmt::format("system = ?{}", ++parameter));
    if (filter.classification) {
      conditions.push_back(fmt::format("classification = ?{}", ++parameter));
    }
    if (filter.only_unconfirmed_verbal) conditions.emplace_back("has_unconfirmed_verbal = 1");
    std::string where = conditions.empty() ? "" : " WHERE " + Join(conditions, " AND ");
    auto bind_filter = [&](Statement& statement) {
      int index = 0;
      if (filter.state) statement.BindText(++index, CrStateName(*filter.state));
      if (filter.system) statement.BindText(++index, *filter.system);
      if (filter.classification) {
        statement.BindInt(++index, static_cast<int>(*filter.classification));
      }
      return index;
    };

    // Counting first lets the result be allocated once: growing a vector of 100,000 summaries
    // (about 20 MB) step by step costs more than the count.
    int64_t count = 0;
    {
      ASSIGN_OR_RETURN(Statement statement,
                       connection_.Prepare("SELECT count(*) FROM change_requests" + where,
                                           "counting change requests"));
      bind_filter(statement);
      ASSIGN_OR_RETURN(bool row, statement.Step());
      if (row) count = statement.Int(0);
    }
    if (filter.limit) count = std::min<int64_t>(count, *filter.limit);

    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "SELECT id, number, title, system, classification, emergency, state, requester, "
            "created_at, updated_at, next_deadline, has_unconfirmed_verbal FROM change_requests" +
                where + fmt::format(" ORDER BY number LIMIT ?{}", parameter + 1),
            "listing change requests"));
    statement.BindInt(bind_filter(statement) + 1, filter.limit ? *filter.limit : -1);

    std::vector<ChangeRequestSummary> summaries;
    summaries.reserve(static_cast<size_t>(count));
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) break;
      ChangeRequestSummary& s = summaries.emplace_back();
      s.id.assign(statement.Text(0));
      s.number = static_cast<int>(statement.Int(1));
      s.title.assign(statement.Text(2));
      s.system.assign(statement.Text(3));
      int64_t priority = statement.Int(4);
      if (priority < 1 || priority > 4) {
        return Corruption(fmt::format("change request {} has an invalid classification {}",
                                      EscapeForDisplay(s.id), priority));
      }
      s.classification = static_cast<Priority>(priority);
      s.emergency = statement.Int(5) != 0;
      Result<CrState> state = ParseCrState(statement.Text(6));
      if (!state.ok()) {
        return Corruption(
            fmt::format("change request {}: {}", EscapeForDisplay(s.id), state.error().message()));
      }
      s.state = *state;
      s.requester.assign(statement.Text(7));
      s.created_at = TimeFromColumn(statement.Int(8));
      s.updated_at = TimeFromColumn(statement.Int(9));
      if (!statement.IsNull(10)) s.next_deadline = TimeFromColumn(statement.Int(10));
      s.has_unconfirmed_verbal = statement.Int(11) != 0;
    }
    return summaries;
  }

  Status PutBlob(const std::string& sha256, const std::string& content) override {
    RETURN_IF_ERROR(RequireWritable("PutBlob"));
    std::string actual = Sha256Hex(content);
    if (sha256 != actual) {
      return InvalidArgument(fmt::format("blob address '{}' is not the SHA-256 of its content ({})",
                                         EscapeForDisplay(sha256), actual));
    }
    ASSIGN_OR_RETURN(Statement statement,
                     connection_.Prepare("INSERT INTO blobs(sha256, content, size) "
                                         "VALUES(?1, ?2, ?3) ON CONFLICT(sha256) DO NOTHING",
                                         fmt::format("storing blob {}", sha256)));
    statement.BindText(1, sha256);
    statement.BindBlob(2, content);
    statement.BindInt(3, static_cast<int64_t>(content.size()));
    return statement.Run();
  }

  Result<std::string> GetBlob(const std::string& sha256) override {
    ASSIGN_OR_RETURN(Statement statement,
                     connection_.Prepare("SELECT content FROM blobs WHERE sha256 = ?1",
                                         fmt::format("reading blob {}", EscapeForDisplay(sha256))));
    statement.BindText(1, sha256);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return NotFound(fmt::format("no stored document {}", EscapeForDisplay(sha256)));
    std::string content(statement.Blob(0));
    if (Sha256Hex(content) != sha256) {
      return Corruption(fmt::format(
          "stored document {} does not match its SHA-256: it was modified in the store", sha256));
    }
    return content;
  }

  Status PutRun(const Run& run) override {
    RETURN_IF_ERROR(RequireWritable("PutRun"));
    if (run.id.empty()) return InvalidArgument("a run needs an id to be stored");
    for (const std::string* text : {&run.id, &run.change_request, &run.environment, &run.system,
                                    &run.plan_json, &run.message, &run.attention}) {
      if (!IsValidUtf8(*text)) {
        return InvalidArgument(
            fmt::format("run {}: text is not valid UTF-8", EscapeForDisplay(run.id)));
      }
    }
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO runs(id, number, change_request, environment, system, state, plan, "
            "transport, created_by, created_at, started_at, finished_at, owner_pid, owner_host, "
            "owner_token, fencing_token, heartbeat_at, lease_expires_at, cancel_requested, "
            "message, attention) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
            "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) ON CONFLICT(id) DO UPDATE SET "
            "number = excluded.number, change_request = excluded.change_request, "
            "environment = excluded.environment, system = excluded.system, "
            "state = excluded.state, plan = excluded.plan, transport = excluded.transport, "
            "created_by = excluded.created_by, created_at = excluded.created_at, "
            "started_at = excluded.started_at, finished_at = excluded.finished_at, "
            "owner_pid = excluded.owner_pid, owner_host = excluded.owner_host, "
            "owner_token = excluded.owner_token, fencing_token = excluded.fencing_token, "
            "heartbeat_at = excluded.heartbeat_at, lease_expires_at = excluded.lease_expires_at, "
            "cancel_requested = excluded.cancel_requested, message = excluded.message, "
            "attention = excluded.attention",
            fmt::format("storing run {}", EscapeForDisplay(run.id))));
    statement.BindText(1, run.id);
    BindOptionalInt(statement, 2, NumberOfId(run.id));
    statement.BindText(3, run.change_request);
    statement.BindText(4, run.environment);
    statement.BindText(5, run.system);
    statement.BindText(6, RunStateName(run.state));
    statement.BindText(7, run.plan_json);
    statement.BindText(8, run.transport);
    statement.BindText(9, run.created_by);
    statement.BindInt(10, TimeToColumn(run.created_at));
    BindOptionalTime(statement, 11, run.started_at);
    BindOptionalTime(statement, 12, run.finished_at);
    statement.BindInt(13, run.owner_pid);
    statement.BindText(14, run.owner_host);
    statement.BindText(15, run.owner_token);
    statement.BindInt(16, run.fencing_token);
    BindOptionalTime(statement, 17, run.heartbeat_at);
    BindOptionalTime(statement, 18, run.lease_expires_at);
    statement.BindInt(19, run.cancel_requested ? 1 : 0);
    statement.BindText(20, run.message);
    statement.BindText(21, run.attention);
    return statement.Run();
  }

  Result<int64_t> GetRunRevision(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement row,
                     connection_.Prepare("SELECT revision FROM runs WHERE id = ?1",
                                         fmt::format("reading run {}", EscapeForDisplay(id))));
    row.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound(fmt::format("no run {}", EscapeForDisplay(id)));
    return row.Int(0);
  }

  Result<Run> GetRun(const std::string& id) override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(
            "SELECT id, change_request, environment, system, state, plan, transport, created_by, "
            "created_at, started_at, finished_at, owner_pid, owner_host, owner_token, "
            "fencing_token, heartbeat_at, lease_expires_at, cancel_requested, message, attention "
            "FROM runs WHERE id = ?1",
            fmt::format("reading run {}", EscapeForDisplay(id))));
    row.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound(fmt::format("no run {}", EscapeForDisplay(id)));
    Run run;
    run.id.assign(row.Text(0));
    run.change_request.assign(row.Text(1));
    run.environment.assign(row.Text(2));
    run.system.assign(row.Text(3));
    ASSIGN_OR_RETURN(run.state, DecodeRunState(row.Text(4), run.id));
    run.plan_json.assign(row.Text(5));
    run.transport.assign(row.Text(6));
    run.created_by.assign(row.Text(7));
    run.created_at = TimeFromColumn(row.Int(8));
    run.started_at = OptionalTime(row, 9);
    run.finished_at = OptionalTime(row, 10);
    run.owner_pid = row.Int(11);
    run.owner_host.assign(row.Text(12));
    run.owner_token.assign(row.Text(13));
    run.fencing_token = row.Int(14);
    run.heartbeat_at = OptionalTime(row, 15);
    run.lease_expires_at = OptionalTime(row, 16);
    run.cancel_requested = row.Int(17) != 0;
    run.message.assign(row.Text(18));
    run.attention.assign(row.Text(19));
    return run;
  }

  Result<std::vector<RunSummary>> ListRuns(std::optional<int> limit) override {
    if (limit && *limit < 0) {
      return InvalidArgument(fmt::format("a list limit must not be negative (got {})", *limit));
    }
    ASSIGN_OR_RETURN(Statement row,
                     connection_.Prepare("SELECT id, change_request, environment, system, state, "
                                         "created_at, finished_at FROM runs "
                                         "ORDER BY number DESC, id DESC LIMIT ?1",
                                         "listing runs"));
    row.BindInt(1, limit ? *limit : -1);
    std::vector<RunSummary> runs;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      RunSummary& summary = runs.emplace_back();
      summary.id.assign(row.Text(0));
      summary.change_request.assign(row.Text(1));
      summary.environment.assign(row.Text(2));
      summary.system.assign(row.Text(3));
      ASSIGN_OR_RETURN(summary.state, DecodeRunState(row.Text(4), summary.id));
      summary.created_at = TimeFromColumn(row.Int(5));
      summary.finished_at = OptionalTime(row, 6);
    }
    return runs;
  }

  Status PutStepExecution(const StepExecution& execution) override {
    RETURN_IF_ERROR(RequireWritable("PutStepExecution"));
    if (execution.run_id.empty() || execution.host.empty()) {
      return InvalidArgument("a step execution needs a run id and a host");
    }
    if (execution.attempt < 1) {
      return InvalidArgument(
          fmt::format("a step execution's attempt must be >= 1 (got {})", execution.attempt));
    }
    if (!IsValidUtf8(execution.output_tail) || !IsValidUtf8(execution.evidence) ||
        !IsValidUtf8(execution.step_name)) {
      return InvalidArgument("a step execution's text is not valid UTF-8");
    }
    std::string context =
        fmt::format("recording step {} on {} of run {}", EscapeForDisplay(execution.step_name),
                    EscapeForDisplay(execution.host), EscapeForDisplay(execution.run_id));
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO step_executions(run_id, phase, step, step_name, host, attempt, state, "
            "started_at, finished_at, exit_code, output_tail, status_file, probe_exit_code, "
            "evidence) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
            "ON CONFLICT(run_id, phase, step, host, attempt) DO UPDATE SET "
            "step_name = excluded.step_name, state = excluded.state, "
            "started_at = excluded.started_at, finished_at = excluded.finished_at, "
            "exit_code = excluded.exit_code, output_tail = excluded.output_tail, "
            "status_file = excluded.status_file, probe_exit_code = excluded.probe_exit_code, "
            "evidence = excluded.evidence",
            context));
    statement.BindText(1, execution.run_id);
    statement.BindInt(2, execution.phase);
    statement.BindInt(3, execution.step);
    statement.BindText(4, execution.step_name);
    statement.BindText(5, execution.host);
    statement.BindInt(6, execution.attempt);
    statement.BindText(7, StepStateName(execution.state));
    BindOptionalTime(statement, 8, execution.started_at);
    BindOptionalTime(statement, 9, execution.finished_at);
    BindOptionalInt(statement, 10, execution.exit_code);
    statement.BindText(11, execution.output_tail);
    statement.BindText(12, execution.status_file);
    BindOptionalInt(statement, 13, execution.probe_exit_code);
    statement.BindText(14, execution.evidence);
    Status status = statement.Run();
    if (status.code() == StatusCode::kConflict) {
      return NotFound(
          fmt::format("no run {} (for step {} on {})", EscapeForDisplay(execution.run_id),
                      EscapeForDisplay(execution.step_name), EscapeForDisplay(execution.host)));
    }
    return status;
  }

  Result<std::vector<StepExecution>> ListStepExecutions(const std::string& run_id) override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare("SELECT phase, step, step_name, host, attempt, state, started_at, "
                            "finished_at, exit_code, output_tail, status_file, probe_exit_code, "
                            "evidence FROM step_executions WHERE run_id = ?1 ORDER BY seq",
                            fmt::format("reading the steps of run {}", EscapeForDisplay(run_id))));
    row.BindText(1, run_id);
    std::vector<StepExecution> executions;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      StepExecution& e = executions.emplace_back();
      e.run_id = run_id;
      e.phase = static_cast<int>(row.Int(0));
      e.step = static_cast<int>(row.Int(1));
      e.step_name.assign(row.Text(2));
      e.host.assign(row.Text(3));
      e.attempt = static_cast<int>(row.Int(4));
      Result<StepState> state = ParseStepState(row.Text(5));
      if (!state.ok()) {
        return Corruption(
            fmt::format("run {}: {}", EscapeForDisplay(run_id), state.error().message()));
      }
      e.state = *state;
      e.started_at = OptionalTime(row, 6);
      e.finished_at = OptionalTime(row, 7);
      if (!row.IsNull(8)) e.exit_code = static_cast<int>(row.Int(8));
      e.output_tail.assign(row.Text(9));
      e.status_file.assign(row.Text(10));
      if (!row.IsNull(11)) e.probe_exit_code = static_cast<int>(row.Int(11));
      e.evidence.assign(row.Text(12));
    }
    return executions;
  }

  Result<std::optional<RunLock>> GetRunLock(const std::string& system,
                                            const std::string& environment) override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare("SELECT run_id, owner_pid, owner_host, owner_token, fencing_token, "
                            "acquired_at, lease_expires_at FROM run_locks "
                            "WHERE system = ?1 AND environment = ?2",
                            fmt::format("reading the run lock of {} in {}",
                                        EscapeForDisplay(system), EscapeForDisplay(environment))));
    row.BindText(1, system);
    row.BindText(2, environment);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return std::optional<RunLock>();
    RunLock lock;
    lock.system = system;
    lock.environment = environment;
    lock.run_id.assign(row.Text(0));
    lock.owner_pid = row.Int(1);
    lock.owner_host.assign(row.Text(2));
    lock.owner_token.assign(row.Text(3));
    lock.fencing_token = row.Int(4);
    lock.acquired_at = TimeFromColumn(row.Int(5));
    lock.lease_expires_at = TimeFromColumn(row.Int(6));
    return std::optional<RunLock>(std::move(lock));
  }

  Status PutRunLock(const RunLock& lock) override {
    RETURN_IF_ERROR(RequireWritable("PutRunLock"));
    ASSIGN_OR_RETURN(std::optional<RunLock> current, GetRunLock(lock.system, lock.environment));
    if (current && lock.fencing_token < current->fencing_token) {
      return Conflict(fmt::format(
          "the run lock of {} in {} has moved on (fencing token {} < {}); this owner is stale",
          EscapeForDisplay(lock.system), EscapeForDisplay(lock.environment), lock.fencing_token,
          current->fencing_token));
    }
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO run_locks(system, environment, run_id, owner_pid, owner_host, "
            "owner_token, fencing_token, acquired_at, lease_expires_at) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(system, environment) DO "
            "UPDATE SET run_id = excluded.run_id, owner_pid = excluded.owner_pid, "
            "owner_host = excluded.owner_host, owner_token = excluded.owner_token, "
            "fencing_token = excluded.fencing_token, acquired_at = excluded.acquired_at, "
            "lease_expires_at = excluded.lease_expires_at",
            fmt::format("storing the run lock of {} in {}", EscapeForDisplay(lock.system),
                        EscapeForDisplay(lock.environment))));
    statement.BindText(1, lock.system);
    statement.BindText(2, lock.environment);
    statement.BindText(3, lock.run_id);
    statement.BindInt(4, lock.owner_pid);
    statement.BindText(5, lock.owner_host);
    statement.BindText(6, lock.owner_token);
    statement.BindInt(7, lock.fencing_token);
    statement.BindInt(8, TimeToColumn(lock.acquired_at));
    statement.BindInt(9, TimeToColumn(lock.lease_expires_at));
    return statement.Run();
  }

  Status PutWatch(const Watch& watch) override {
    RETURN_IF_ERROR(RequireWritable("PutWatch"));
    if (watch.change_request.empty() || watch.environment.empty() || watch.run_id.empty()) {
      return InvalidArgument("a watch needs a change request, an environment and a run");
    }
    std::string what =
        fmt::format("watch of {} in {} (run {})", EscapeForDisplay(watch.change_request),
                    EscapeForDisplay(watch.environment), EscapeForDisplay(watch.run_id));
    Result<std::string> body = WatchToJson(watch);
    if (!body.ok()) return body.error();
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO watches(change_request, environment, run_id, system, state, emergency, "
            "started_at, ends_at, next_probe_at, updated_at, body) VALUES(?1, ?2, ?3, ?4, ?5, "
            "?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(change_request, environment, run_id) DO "
            "UPDATE SET system = excluded.system, state = excluded.state, "
            "emergency = excluded.emergency, started_at = excluded.started_at, "
            "ends_at = excluded.ends_at, next_probe_at = excluded.next_probe_at, "
            "updated_at = excluded.updated_at, body = excluded.body",
            "storing the " + what));
    statement.BindText(1, watch.change_request);
    statement.BindText(2, watch.environment);
    statement.BindText(3, watch.run_id);
    statement.BindText(4, watch.system);
    statement.BindText(5, WatchStateName(watch.state));
    statement.BindInt(6, watch.emergency ? 1 : 0);
    statement.BindInt(7, TimeToColumn(watch.started_at));
    statement.BindInt(8, TimeToColumn(watch.ends_at));
    statement.BindInt(9, TimeToColumn(watch.next_probe_at));
    statement.BindInt(10, TimeToColumn(watch.updated_at));
    statement.BindText(11, *body);
    return statement.Run();
  }

  Result<Watch> GetWatch(const std::string& change_request, const std::string& environment,
                         const std::string& run_id) override {
    std::string what = fmt::format("watch of {} in {} (run {})", EscapeForDisplay(change_request),
                                   EscapeForDisplay(environment), EscapeForDisplay(run_id));
    ASSIGN_OR_RETURN(Statement row,
                     connection_.Prepare("SELECT body FROM watches WHERE change_request = ?1 AND "
                                         "environment = ?2 AND run_id = ?3",
                                         "reading the " + what));
    row.BindText(1, change_request);
    row.BindText(2, environment);
    row.BindText(3, run_id);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound("no " + what);
    return DecodeWatch(row.Text(0), what);
  }

  Result<std::vector<Watch>> ListWatches(bool all) override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(all ? "SELECT body, change_request, environment, run_id FROM watches "
                                  "ORDER BY started_at, change_request, environment, run_id"
                                : "SELECT body, change_request, environment, run_id FROM watches "
                                  "WHERE state = 'active' ORDER BY next_probe_at, change_request, "
                                  "environment, run_id",
                            "listing watches"));
    std::vector<Watch> watches;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      std::string what = fmt::format("watch of {} in {} (run {})", EscapeForDisplay(row.Text(1)),
                                     EscapeForDisplay(row.Text(2)), EscapeForDisplay(row.Text(3)));
      ASSIGN_OR_RETURN(Watch watch, DecodeWatch(row.Text(0), what));
      watches.push_back(std::move(watch));
    }
    return watches;
  }

  Result<int64_t> AddDiagnosticReport(const DiagnosticReport& report) override {
    RETURN_IF_ERROR(RequireWritable("AddDiagnosticReport"));
    std::string what = fmt::format("diagnostics of run {}", EscapeForDisplay(report.run_id));
    ASSIGN_OR_RETURN(Statement exists, connection_.Prepare("SELECT 1 FROM runs WHERE id = ?1",
                                                           "storing the " + what));
    exists.BindText(1, report.run_id);
    ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return NotFound(fmt::format("no run {}", EscapeForDisplay(report.run_id)));
    ASSIGN_OR_RETURN(std::string body, DiagnosticReportToJson(report));
    ASSIGN_OR_RETURN(Statement statement,
                     connection_.Prepare("INSERT INTO diagnostics(run_id, created_at, body) "
                                         "VALUES(?1, ?2, ?3) RETURNING id",
                                         "storing the " + what));
    statement.BindText(1, report.run_id);
    statement.BindInt(2, TimeToColumn(report.at));
    statement.BindText(3, body);
    ASSIGN_OR_RETURN(bool inserted, statement.Step());
    if (!inserted) return Internal("storing the " + what + ": no id returned");
    return statement.Int(0);
  }

  Result<std::vector<DiagnosticReport>> ListDiagnosticReports(const std::string& run_id) override {
    std::string what = fmt::format("diagnostics of run {}", EscapeForDisplay(run_id));
    ASSIGN_OR_RETURN(Statement row,
                     connection_.Prepare("SELECT id, body FROM diagnostics WHERE run_id = ?1 "
                                         "ORDER BY id",
                                         "reading the " + what));
    row.BindText(1, run_id);
    std::vector<DiagnosticReport> reports;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      Result<DiagnosticReport> report = DiagnosticReportFromJson(row.Text(1));
      if (!report.ok()) {
        return Corruption(
            fmt::format("stored {} are unreadable: {}", what, report.error().message()));
      }
      report->id = row.Int(0);
      reports.push_back(std::move(*report));
    }
    return reports;
  }

  Status PutToken(const ApiToken& token) override {
    RETURN_IF_ERROR(RequireWritable("PutToken"));
    if (token.id.empty() || token.person.empty() || token.hash.empty()) {
      return InvalidArgument("a token needs an id, a person and a hash");
    }
    if (!IsValidUtf8(token.label) || !IsValidUtf8(token.person)) {
      return InvalidArgument(
          fmt::format("token {}: text is not valid UTF-8", EscapeForDisplay(token.id)));
    }
    std::string what = fmt::format("storing token {}", EscapeForDisplay(token.id));
    ASSIGN_OR_RETURN(
        Statement clash,
        connection_.Prepare("SELECT id FROM tokens WHERE hash = ?1 AND id <> ?2", what));
    clash.BindText(1, token.hash);
    clash.BindText(2, token.id);
    ASSIGN_OR_RETURN(bool clashes, clash.Step());
    if (clashes) return Conflict(what + ": another token has the same secret");
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO tokens(id, number, person, label, hash, created_by, created_at, "
            "expires_at, revoked_at, revoked_by, last_used_at) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(id) DO UPDATE SET "
            "person = excluded.person, label = excluded.label, hash = excluded.hash, "
            "created_by = excluded.created_by, created_at = excluded.created_at, "
            "expires_at = excluded.expires_at, revoked_at = excluded.revoked_at, "
            "revoked_by = excluded.revoked_by, last_used_at = excluded.last_used_at",
            what));
    auto bind_time = [&](int index, const std::optional<Timestamp>& t) {
      if (t) {
        statement.BindInt(index, TimeToColumn(*t));
      } else {
        statement.BindNull(index);
      }
    };
    statement.BindText(1, token.id);
    statement.BindInt(2, NumberOfId(token.id).value_or(0));
    statement.BindText(3, token.person);
    statement.BindText(4, token.label);
    statement.BindText(5, token.hash);
    statement.BindText(6, token.created_by);
    statement.BindInt(7, TimeToColumn(token.created_at));
    bind_time(8, token.expires_at);
    bind_time(9, token.revoked_at);
    statement.BindText(10, token.revoked_by);
    bind_time(11, token.last_used_at);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    (void)row;
    return Status::Ok();
  }

  Result<ApiToken> GetTokenByHash(const std::string& hash) override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(std::string(kSelectTokens) + " WHERE hash = ?1", "reading a token"));
    row.BindText(1, hash);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound("no such token");
    return ReadToken(row);
  }

  Result<ApiToken> GetToken(const std::string& id) override {
    std::string what = fmt::format("token {}", EscapeForDisplay(id));
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(std::string(kSelectTokens) + " WHERE id = ?1", "reading " + what));
    row.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound("no " + what);
    return ReadToken(row);
  }

  Result<std::vector<ApiToken>> ListTokens() override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(std::string(kSelectTokens) + " ORDER BY number, id", "listing tokens"));
    std::vector<ApiToken> tokens;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      tokens.push_back(ReadToken(row));
    }
    return tokens;
  }

  Result<int64_t> AddNotification(const Notification& notification) override {
    RETURN_IF_ERROR(RequireWritable("AddNotification"));
    RETURN_IF_ERROR(CheckNotification(notification));
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO notifications(change_request, environment, run_id, channel, type, "
            "person, role, recipient, subject, body, fields, actor, state, attempts, "
            "next_attempt, last_error, created_at, sent_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) RETURNING id",
            "queueing a notification"));
    BindNotification(statement, notification);
    ASSIGN_OR_RETURN(bool inserted, statement.Step());
    if (!inserted) return Internal("queueing a notification: no id returned");
    return statement.Int(0);
  }

  Status UpdateNotification(const Notification& notification) override {
    RETURN_IF_ERROR(RequireWritable("UpdateNotification"));
    RETURN_IF_ERROR(CheckNotification(notification));
    {
      ASSIGN_OR_RETURN(Statement exists,
                       connection_.Prepare("SELECT 1 FROM notifications WHERE id = ?1",
                                           "updating a notification"));
      exists.BindInt(1, notification.id);
      ASSIGN_OR_RETURN(bool found, exists.Step());
      if (!found) return NotFound(fmt::format("no notification {}", notification.id));
    }
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "UPDATE notifications SET change_request = ?1, environment = ?2, run_id = ?3, "
            "channel = ?4, type = ?5, person = ?6, role = ?7, recipient = ?8, subject = ?9, "
            "body = ?10, fields = ?11, actor = ?12, state = ?13, attempts = ?14, "
            "next_attempt = ?15, last_error = ?16, created_at = ?17, sent_at = ?18 "
            "WHERE id = ?19",
            "updating a notification"));
    BindNotification(statement, notification);
    statement.BindInt(19, notification.id);
    return statement.Run();
  }

  Result<Notification> GetNotification(int64_t id) override {
    ASSIGN_OR_RETURN(Statement row,
                     connection_.Prepare(std::string(kSelectNotifications) + " WHERE id = ?1",
                                         "reading a notification"));
    row.BindInt(1, id);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound(fmt::format("no notification {}", id));
    return ReadNotification(row);
  }

  Result<std::vector<Notification>> ListNotifications(const NotificationFilter& filter) override {
    if (filter.limit && *filter.limit < 0) {
      return InvalidArgument("a notification listing limit must not be negative");
    }
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(std::string(kSelectNotifications) +
                                " WHERE (?1 IS NULL OR change_request = ?1) AND (?2 IS NULL OR "
                                "state = ?2) AND (?3 IS NULL OR (state = 'pending' AND "
                                "next_attempt <= ?3)) ORDER BY id LIMIT ?4",
                            "listing notifications"));
    if (filter.change_request) {
      row.BindText(1, *filter.change_request);
    } else {
      row.BindNull(1);
    }
    if (filter.state) {
      row.BindText(2, NotificationStateName(*filter.state));
    } else {
      row.BindNull(2);
    }
    if (filter.due_by) {
      row.BindInt(3, TimeToColumn(*filter.due_by));
    } else {
      row.BindNull(3);
    }
    row.BindInt(4, filter.limit ? *filter.limit : -1);
    std::vector<Notification> out;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      ASSIGN_OR_RETURN(Notification n, ReadNotification(row));
      out.push_back(std::move(n));
    }
    return out;
  }

  Result<int64_t> CountNotifications(NotificationState state) override {
    ASSIGN_OR_RETURN(Statement row,
                     connection_.Prepare("SELECT count(*) FROM notifications WHERE state = ?1",
                                         "counting notifications"));
    row.BindText(1, NotificationStateName(state));
    ASSIGN_OR_RETURN(bool found, row.Step());
    return found ? row.Int(0) : 0;
  }

  Result<int64_t> AppendAudit(const AuditRecord& record) override {
    RETURN_IF_ERROR(RequireWritable("AppendAudit"));
    if (record.actor.empty() || record.action.empty()) {
      return InvalidArgument("an audit event needs an actor and an action");
    }
    if (!head_) {
      ASSIGN_OR_RETURN(Statement statement,
                       connection_.Prepare("SELECT seq, hash FROM audit_events "
                                           "ORDER BY seq DESC LIMIT 1",
                                           "reading the audit chain head"));
      ASSIGN_OR_RETURN(bool row, statement.Step());
      head_ =
          row ? Head{statement.Int(0), std::string(statement.Text(1))} : Head{0, kAuditGenesisHash};
    }
    AuditEvent event;
    event.seq = head_->seq + 1;
    event.at = record.at;
    event.actor = record.actor;
    event.action = record.action;
    event.object = record.object;
    event.details = record.details.empty() ? "{}" : record.details;
    event.prev_hash = head_->hash;
    event.hash = ComputeAuditHash(event);
    ASSIGN_OR_RETURN(Statement statement,
                     connection_.Prepare("INSERT INTO audit_events(seq, at, actor, action, "
                                         "object, details, prev_hash, hash) "
                                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                         "appending an audit event"));
    statement.BindInt(1, event.seq);
    statement.BindInt(2, TimeToColumn(event.at));
    statement.BindText(3, event.actor);
    statement.BindText(4, event.action);
    statement.BindText(5, event.object);
    statement.BindText(6, event.details);
    statement.BindText(7, event.prev_hash);
    statement.BindText(8, event.hash);
    RETURN_IF_ERROR(statement.Run());
    head_ = Head{event.seq, std::move(event.hash)};
    return event.seq;
  }

 private:
  struct Head {
    int64_t seq;
    std::string hash;
  };

  Status RequireWritable(std::string_view operation) const {
    if (writable_) return Status::Ok();
    return Internal(
        fmt::format("{} called inside Store::Read; changes need Store::Write", operation));
  }

  static void BindOptionalTime(Statement& statement, int index, std::optional<Timestamp> t) {
    if (t) {
      statement.BindInt(index, TimeToColumn(*t));
    } else {
      statement.BindNull(index);
    }
  }
  template <typename Int>
  static void BindOptionalInt(Statement& statement, int index, std::optional<Int> value) {
    if (value) {
      statement.BindInt(index, static_cast<int64_t>(*value));
    } else {
      statement.BindNull(index);
    }
  }
  static std::optional<Timestamp> OptionalTime(const Statement& row, int column) {
    if (row.IsNull(column)) return std::nullopt;
    return TimeFromColumn(row.Int(column));
  }
  static Result<RunState> DecodeRunState(std::string_view name, std::string_view id) {
    Result<RunState> state = ParseRunState(name);
    if (!state.ok()) {
      return Corruption(fmt::format("run {}: {}", EscapeForDisplay(id), state.error().message()));
    }
    return state;
  }

  Status PutPage(const Page& page) override {
    RETURN_IF_ERROR(RequireWritable("PutPage"));
    if (page.id.empty()) return InvalidArgument("a page needs an id");
    std::string body;
    try {
      body = PageToJson(page).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::exception&) {
      return InvalidArgument(
          fmt::format("page {} holds text that is not valid UTF-8", EscapeForDisplay(page.id)));
    }
    ASSIGN_OR_RETURN(
        Statement statement,
        connection_.Prepare(
            "INSERT INTO pages(id, path, state, level, opened_at, deadline, body) VALUES(?1, ?2, "
            "?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO UPDATE SET path = excluded.path, state = "
            "excluded.state, level = excluded.level, opened_at = excluded.opened_at, deadline = "
            "excluded.deadline, body = excluded.body",
            "storing page " + EscapeForDisplay(page.id)));
    statement.BindText(1, page.id);
    statement.BindText(2, page.path);
    statement.BindText(3, std::string(PageStateName(page.state)));
    statement.BindInt(4, page.level);
    statement.BindInt(5, TimeToColumn(page.opened_at));
    statement.BindInt(6, TimeToColumn(page.deadline));
    statement.BindText(7, body);
    return statement.Run();
  }

  Result<Page> GetPage(const std::string& id) override {
    ASSIGN_OR_RETURN(Statement row, connection_.Prepare("SELECT body FROM pages WHERE id = ?1",
                                                        "reading page " + EscapeForDisplay(id)));
    row.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, row.Step());
    if (!found) return NotFound(fmt::format("no page {}", EscapeForDisplay(id)));
    return DecodePage(row.Text(0), id);
  }

  Result<std::vector<Page>> ListPages(bool open_only) override {
    ASSIGN_OR_RETURN(
        Statement row,
        connection_.Prepare(open_only ? "SELECT body, id FROM pages WHERE state != "
                                        "'acknowledged' ORDER BY opened_at, id"
                                      : "SELECT body, id FROM pages ORDER BY opened_at, id",
                            "listing pages"));
    std::vector<Page> pages;
    while (true) {
      ASSIGN_OR_RETURN(bool found, row.Step());
      if (!found) break;
      ASSIGN_OR_RETURN(Page page, DecodePage(row.Text(0), row.Text(1)));
      pages.push_back(std::move(page));
    }
    return pages;
  }

  static Result<Page> DecodePage(std::string_view body, std::string_view id) {
    nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
    Result<Page> page =
        json.is_discarded() ? Result<Page>(InvalidArgument("not JSON")) : PageFromJson(json);
    if (!page.ok()) {
      return Corruption(fmt::format("stored page {} is unreadable: {}", EscapeForDisplay(id),
                                    page.error().message()));
    }
    return page;
  }

  static Result<Watch> DecodeWatch(std::string_view body, std::string_view what) {
    Result<Watch> watch = WatchFromJson(body);
    if (!watch.ok()) {
      return Corruption(fmt::format("stored {} is unreadable: {}", what, watch.error().message()));
    }
    return watch;
  }

  static Result<Patch> DecodePatch(std::string_view body, std::string_view id) {
    Result<Patch> patch = PatchFromJson(body);
    if (!patch.ok()) {
      return Corruption(fmt::format("stored patch {} is unreadable: {}", EscapeForDisplay(id),
                                    patch.error().message()));
    }
    return patch;
  }

  Connection& connection_;
  const bool writable_;
  // The chain head, read once per write transaction (which holds the write lock, so no other
  // writer can move it) and advanced by each append.
  std::optional<Head> head_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {}

  Status Write(const std::function<Status(Transaction&)>& body) override {
    RETURN_IF_ERROR(RequireNoTransaction("Write"));
    RETURN_IF_ERROR(connection_->Exec("BEGIN IMMEDIATE", "starting a write transaction"));
    in_transaction_ = true;
    SqliteTransaction transaction(*connection_, /*writable=*/true);
    Status status = RunGuarded([&] { return body(transaction); }, "write transaction");
    if (status.ok()) status = connection_->Exec("COMMIT", "committing a write transaction");
    if (!status.ok()) connection_->RollbackIfActive();
    if (status.ok()) ++own_commits_;  // PRAGMA data_version does not count this connection's
    in_transaction_ = false;
    return status;
  }

  std::optional<StoreStamp> ChangeStamp() override {
    if (in_transaction_) return std::nullopt;
    std::optional<StoreStamp> stamp;
    {
      Result<Statement> statement =
          connection_->Prepare("PRAGMA data_version", "reading the data version");
      if (!statement.ok()) return std::nullopt;
      Result<bool> row = statement->Step();
      if (!row.ok() || !*row) return std::nullopt;
      // Other connections' commits move data_version; this one's move own_commits_.
      stamp = StoreStamp{serial_, (static_cast<uint64_t>(statement->Int(0)) << 32) + own_commits_};
    }
    return stamp;
  }

  Status Read(const std::function<Status(Transaction&)>& body) override {
    return Snapshot("Read", [&] {
      SqliteTransaction transaction(*connection_, /*writable=*/false);
      return body(transaction);
    });
  }

  Result<AuditVerification> VerifyAudit() override {
    AuditChainVerifier verifier;
    int64_t events = 0;
    Status status = Snapshot("VerifyAudit", [&]() -> Status {
      ASSIGN_OR_RETURN(Statement statement,
                       connection_->Prepare(std::string(kSelectEvents) + " ORDER BY seq",
                                            "reading the audit log"));
      AuditEvent event;
      while (true) {
        ASSIGN_OR_RETURN(bool row, statement.Step());
        if (!row) return Status::Ok();
        ++events;
        if (!verifier.ok()) continue;  // keep counting; the first bad event is known
        ReadEvent(statement, event);
        verifier.Add(event);
      }
    });
    RETURN_IF_ERROR(status);
    AuditVerification verification;
    verification.ok = verifier.ok();
    verification.events = events;
    verification.first_bad = verifier.first_bad();
    verification.reason = verifier.reason();
    verification.head_hash = verifier.head_hash();
    verification.head_seq = verifier.head_seq();
    return verification;
  }

  Status ForEachAuditEvent(const std::function<Status(const AuditEvent&)>& sink) override {
    return Snapshot("ForEachAuditEvent", [&]() -> Status {
      ASSIGN_OR_RETURN(Statement statement,
                       connection_->Prepare(std::string(kSelectEvents) + " ORDER BY seq",
                                            "reading the audit log"));
      AuditEvent event;
      while (true) {
        ASSIGN_OR_RETURN(bool row, statement.Step());
        if (!row) return Status::Ok();
        ReadEvent(statement, event);
        RETURN_IF_ERROR(sink(event));
      }
    });
  }

  Result<std::vector<AuditEvent>> AuditEventsFor(const std::string& object) override {
    std::vector<AuditEvent> events;
    Status status = Snapshot("AuditEventsFor", [&]() -> Status {
      ASSIGN_OR_RETURN(
          Statement statement,
          connection_->Prepare(
              std::string(kSelectEvents) + " WHERE object = ?1 ORDER BY seq",
              fmt::format("reading the audit events of {}", EscapeForDisplay(object))));
      statement.BindText(1, object);
      while (true) {
        ASSIGN_OR_RETURN(bool row, statement.Step());
        if (!row) return Status::Ok();
        ReadEvent(statement, events.emplace_back());
      }
    });
    RETURN_IF_ERROR(status);
    return events;
  }

  Status CheckIntegrity() override {
    RETURN_IF_ERROR(RequireNoTransaction("CheckIntegrity"));
    ASSIGN_OR_RETURN(Statement statement,
                     connection_->Prepare("PRAGMA integrity_check", "checking store integrity"));
    std::vector<std::string> problems;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) break;
      std::string line(statement.Text(0));
      if (line != "ok" && problems.size() < 10) problems.push_back(std::move(line));
    }
    if (problems.empty()) return Status::Ok();
    return Corruption("store integrity check failed: " + Join(problems, "; "));
  }

 private:
  Status RequireNoTransaction(std::string_view operation) const {
    if (!in_transaction_) return Status::Ok();
    return Internal(fmt::format(
        "Store::{} called inside another store transaction (transactions do not nest)", operation));
  }

  // Runs `body`, turning an escaping exception into Internal (STYLE.md 5).
  template <typename Body>
  static Status RunGuarded(Body&& body, std::string_view what) {
    try {
      return body();
    } catch (const std::exception& e) {
      return Internal(fmt::format("{} aborted by an exception: {}", what, e.what()));
    } catch (...) {
      return Internal(fmt::format("{} aborted by an unknown exception", what));
    }
  }

  // Runs `body` in a read transaction (one consistent snapshot), then ends it without writing.
  template <typename Body>
  Status Snapshot(std::string_view operation, Body&& body) {
    RETURN_IF_ERROR(RequireNoTransaction(operation));
    RETURN_IF_ERROR(connection_->Exec("BEGIN DEFERRED", "starting a read transaction"));
    in_transaction_ = true;
    Status status = RunGuarded(std::forward<Body>(body), "read transaction");
    connection_->RollbackIfActive();
    in_transaction_ = false;
    return status;
  }

  std::unique_ptr<Connection> connection_;
  bool in_transaction_ = false;
  uint64_t own_commits_ = 0;
  const uint64_t serial_ = NextSerial();

  static uint64_t NextSerial() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1);
  }
};

// Runs a PRAGMA that returns one value and gives it back as text.
Result<std::string> PragmaValue(Connection& connection, const char* sql) {
  ASSIGN_OR_RETURN(Statement statement, connection.Prepare(sql, fmt::format("running {}", sql)));
  ASSIGN_OR_RETURN(bool row, statement.Step());
  std::string value = row ? std::string(statement.Text(0)) : std::string();
  RETURN_IF_ERROR(statement.Run());
  return value;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path,
                                               const SqliteStoreOptions& options) {
  std::string where = EscapeForDisplay(path.string());
  if (path.empty()) return InvalidArgument("the SQLite store needs a file path");
  std::filesystem::path directory = path.parent_path();
  if (!directory.empty()) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) {
      return Unavailable(fmt::format("cannot create the store directory {}: {}",
                                     EscapeForDisplay(directory.string()), error.message()));
    }
  }

  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) {
    return sqlite::SqliteStatus(rc, fmt::format("opening the store {}", where), db.get());
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  auto connection = std::make_unique<Connection>(std::move(db));

  auto configure = [&]() -> Status {
    ASSIGN_OR_RETURN(std::string mode, PragmaValue(*connection, "PRAGMA journal_mode = WAL"));
    if (ToLower(mode) != "wal") {
      return Unavailable(fmt::format(
          "the store's file system does not support write-ahead logging (journal mode {})", mode));
    }
    RETURN_IF_ERROR(connection->Exec("PRAGMA synchronous = FULL", "setting synchronous=FULL"));
    RETURN_IF_ERROR(connection->Exec("PRAGMA foreign_keys = ON", "enabling foreign keys"));
    if (options.max_page_count) {
      std::string sql = fmt::format("PRAGMA max_page_count = {}", *options.max_page_count);
      RETURN_IF_ERROR(PragmaValue(*connection, sql.c_str()).status());
    }
    return sqlite::Migrate(connection->db());
  };
  Status status = configure();
  if (!status.ok()) return status.WithContext(fmt::format("opening the store {}", where));
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(connection)));
}

}  // namespace rollgate
