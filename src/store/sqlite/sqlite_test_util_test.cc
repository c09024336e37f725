// Implementation of sqlite_test_util.h (named *_test.cc so it is built only into store_test).
#include "store/sqlite/sqlite_test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>

namespace rollgate::testing {

namespace {

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

std::unique_ptr<sqlite3, Closer> OpenRaw(const std::filesystem::path& db) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, Closer> handle(raw);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errstr(rc);
  sqlite3_busy_timeout(raw, 5000);
  return handle;
}

}  // namespace

void ExecSql(const std::filesystem::path& db, const std::string& sql) {
  auto handle = OpenRaw(db);
  char* error = nullptr;
  int rc = sqlite3_exec(handle.get(), sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  sqlite3_free(error);
}

std::string QuerySql(const std::filesystem::path& db, const std::string& sql) {
  auto handle = OpenRaw(db);
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(handle.get(), sql.c_str(), -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw, &sqlite3_finalize);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(handle.get());
  if (rc != SQLITE_OK || sqlite3_step(statement.get()) != SQLITE_ROW) return "";
  const unsigned char* text = sqlite3_column_text(statement.get(), 0);
  return text ? reinterpret_cast<const char*>(text) : "";
}

}  // namespace rollgate::testing
