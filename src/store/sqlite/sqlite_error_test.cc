#include "store/sqlite/sqlite_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

namespace rollgate::sqlite {
namespace {

using ::testing::HasSubstr;

TEST(SqliteErrorTest, SuccessCodesAreOk) {
  EXPECT_TRUE(SqliteStatus(SQLITE_OK, "x", nullptr).ok());
  EXPECT_TRUE(SqliteStatus(SQLITE_ROW, "x", nullptr).ok());
  EXPECT_TRUE(SqliteStatus(SQLITE_DONE, "x", nullptr).ok());
}

TEST(SqliteErrorTest, CodesMapToWhatTheCallerBranchesOn) {
  struct Case {
    int code;
    StatusCode expected;
    const char* wording;
  };
  for (const Case& c : {
           Case{SQLITE_BUSY, StatusCode::kUnavailable, "busy"},
           Case{SQLITE_LOCKED, StatusCode::kUnavailable, "busy"},
           Case{SQLITE_FULL, StatusCode::kUnavailable, "disk full"},
           Case{SQLITE_IOERR, StatusCode::kUnavailable, "I/O error"},
           Case{SQLITE_IOERR_WRITE, StatusCode::kUnavailable, "I/O error"},
           Case{SQLITE_IOERR_FSYNC, StatusCode::kUnavailable, "I/O error"},
           Case{SQLITE_CANTOPEN, StatusCode::kUnavailable, "cannot be opened"},
           Case{SQLITE_READONLY, StatusCode::kUnavailable, "cannot be opened or written"},
           Case{SQLITE_CORRUPT, StatusCode::kCorruption, "damaged"},
           Case{SQLITE_NOTADB, StatusCode::kCorruption, "not a rollgate database"},
           Case{SQLITE_CONSTRAINT_UNIQUE, StatusCode::kConflict, "constraint"},
           Case{SQLITE_ERROR, StatusCode::kInternal, "SQL logic error"},
           Case{SQLITE_MISUSE, StatusCode::kInternal, "SQLite"},
       }) {
    Status status = SqliteStatus(c.code, "storing change request CR-3", nullptr);
    SCOPED_TRACE(status.ToString());
    EXPECT_EQ(status.code(), c.expected);
    EXPECT_THAT(status.message(), HasSubstr("storing change request CR-3: "));
    EXPECT_THAT(status.message(), HasSubstr(c.wording));
  }
}

TEST(SqliteErrorTest, UsesTheConnectionsMessage) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> handle(db, &sqlite3_close_v2);
  int rc = sqlite3_exec(db, "SELECT * FROM no_such_table", nullptr, nullptr, nullptr);
  Status status = SqliteStatus(rc, "listing", db);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("no such table: no_such_table"));
}

}  // namespace
}  // namespace rollgate::sqlite
