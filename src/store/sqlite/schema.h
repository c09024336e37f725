// The SQLite store's schema and its versioned migrations (docs/store-schema.md).
//
// The schema version lives in `PRAGMA user_version`. Migrations are ordered; opening a store
// applies every migration newer than the file's version in one IMMEDIATE transaction, so a
// store is never left half migrated and two processes opening an old file at once migrate it
// once. A file whose version is newer than this binary knows is refused, never downgraded.
// Thread-safety: the functions use only the connection passed in.
#pragma once

#include <vector>

#include "common/status.h"

struct sqlite3;

namespace rollgate::sqlite {

struct Migration {
  int version;              // the user_version after this migration; 1, 2, 3 ...
  const char* description;  // for docs and error messages
  const char* sql;          // one or more statements
};

// All migrations, in order; the last one's version is kSchemaVersion.
const std::vector<Migration>& Migrations();
inline constexpr int kSchemaVersion = 8;

// The file's schema version (0 for a new, empty database). Unavailable/Corruption from SQLite.
Result<int> ReadSchemaVersion(sqlite3* db);

// Brings `db` to kSchemaVersion. OK when already current or migrated; Corruption ("store schema
// version N is newer than this rollgate (knows M); upgrade rollgate") when the file is newer;
// the translated SQLite error when a migration fails (the transaction is rolled back, the file
// keeps its old version).
Status Migrate(sqlite3* db);

}  // namespace rollgate::sqlite
