// Test helpers that reach into a SQLite store file directly, the way a person with write access
// to the file could (tampering, schema edits, fault setup). Not thread-safe; tests only.
#pragma once

#include <filesystem>
#include <string>

namespace rollgate::testing {

// Runs `sql` (one or more statements) on the database file; fails the test on an error.
void ExecSql(const std::filesystem::path& db, const std::string& sql);
// The first column of the first row of `sql` as text ("" when there is no row).
std::string QuerySql(const std::filesystem::path& db, const std::string& sql);

}  // namespace rollgate::testing
