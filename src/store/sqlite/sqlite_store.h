// The embedded store: a Store on one SQLite file (docs/store-schema.md).
//
// The connection runs in WAL mode with foreign keys on, synchronous=FULL (a Write that returned
// OK survives power loss) and a busy timeout, so several processes can share the file: readers
// never block, writers queue for up to the timeout and then get Unavailable. Writes are
// BEGIN IMMEDIATE ... COMMIT transactions; prepared statements are cached per connection.
// Thread-safety: one thread at a time per store object (the connection is not shared); open one
// store per thread to work concurrently. The store owns its connection and statements.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "store/store.h"

namespace rollgate {

struct SqliteStoreOptions {
  // How long a writer waits for another writer's lock before giving up with Unavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // Caps the file's size in pages (PRAGMA max_page_count): a write needing more fails as "disk
  // full". For quotas and for fault tests; unset means SQLite's default (no practical limit).
  std::optional<int64_t> max_page_count;
};

// Opens (creating it and its directory if missing) the SQLite store at `path` and applies
// pending migrations. Unavailable when the directory or file cannot be created or opened, or
// the file stays locked past the busy timeout; Corruption when it is not a SQLite database or
// its schema is newer than this binary.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path,
                                               const SqliteStoreOptions& options = {});

}  // namespace rollgate
