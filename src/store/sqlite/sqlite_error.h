// The one place where SQLite result codes become Rollgate Statuses (STYLE.md 6).
//
// Every call into the SQLite C API that can fail goes through SqliteStatus, which names what was
// being done (the context), classifies the code for the caller to branch on and keeps SQLite's
// own wording:
//   SQLITE_BUSY, SQLITE_LOCKED              -> Unavailable ("the store is busy ...")
//   SQLITE_FULL                             -> Unavailable ("disk full ...")
//   SQLITE_IOERR                            -> Unavailable ("I/O error ...")
//   SQLITE_CANTOPEN, SQLITE_PERM, READONLY  -> Unavailable
//   SQLITE_CORRUPT, SQLITE_NOTADB           -> Corruption
//   SQLITE_CONSTRAINT                       -> Conflict
//   anything else (ERROR, MISUSE, NOMEM...) -> Internal
// Pure functions; thread-safe as long as `db` is not used concurrently by another thread.
#pragma once

#include <string_view>

#include "common/status.h"

struct sqlite3;

namespace rollgate::sqlite {

// The Status for SQLite result `code` returned while doing `context` ("inserting change request
// CR-3"). `db` (may be null) supplies sqlite3_errmsg and the extended code. OK for SQLITE_OK,
// SQLITE_ROW and SQLITE_DONE.
Status SqliteStatus(int code, std::string_view context, sqlite3* db);

}  // namespace rollgate::sqlite
