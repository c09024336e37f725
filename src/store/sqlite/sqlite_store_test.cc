// The SQLite store: the contract suite, plus what is specific to SQLite (files, schema versions,
// locking, disk full, damaged records).
#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "common/sha256.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_test_util.h"
#include "testing/store_contract.h"

namespace rollgate::testing {
namespace {

using ::testing::HasSubstr;

Result<std::unique_ptr<Store>> OpenSqliteIn(const std::filesystem::path& directory) {
  return OpenSqliteStore(directory / "state.db");
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreContractParam{"sqlite", OpenSqliteIn}),
                         StoreContractParamName);

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory("rollgate-sqlite-store");
    path_ = directory_ / "nested" / "dir" / "state.db";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  std::unique_ptr<Store> Open(const SqliteStoreOptions& options = {}) {
    auto store = OpenSqliteStore(path_, options);
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::filesystem::path directory_;
  std::filesystem::path path_;
};

TEST_F(SqliteStoreTest, OpeningCreatesTheDirectoryInWalModeAtTheCurrentSchema) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_EQ(QuerySql(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QuerySql(path_, "PRAGMA user_version"), std::to_string(sqlite::kSchemaVersion));
}

TEST_F(SqliteStoreTest, MigrationsAreOrderedAndEndAtTheSchemaVersion) {
  const auto& migrations = sqlite::Migrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i + 1));
  }
  EXPECT_EQ(migrations.back().version, sqlite::kSchemaVersion);
}

TEST_F(SqliteStoreTest, ReopeningKeepsEverything) {
  std::string document = "rollback procedure";
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->Write([&](Transaction& txn) {
                      RETURN_IF_ERROR(txn.NextNumber("CR").status());
                      RETURN_IF_ERROR(txn.PutPatch(SamplePatch(1)));
                      RETURN_IF_ERROR(txn.PutChangeRequest(SampleChangeRequest(1)));
                      RETURN_IF_ERROR(txn.PutBlob(Sha256Hex(document), document));
                      return txn.AppendAudit(SampleAuditRecord(1)).status();
                    })
                    .ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Write([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(Patch patch, txn.GetPatch("PATCH-1"));
                    ExpectSamePatch(patch, SamplePatch(1));
                    ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest("CR-1"));
                    ExpectSameChangeRequest(cr, SampleChangeRequest(1));
                    ASSIGN_OR_RETURN(std::string blob, txn.GetBlob(Sha256Hex(document)));
                    EXPECT_EQ(blob, document);
                    EXPECT_EQ(txn.NextNumber("CR").value_or(0), 2);
                    EXPECT_EQ(txn.AppendAudit(SampleAuditRecord(2)).value_or(0), 2);
                    return Status::Ok();
                  })
                  .ok());
  auto verification = store->VerifyAudit();
  ASSERT_TRUE(verification.ok());
  EXPECT_TRUE(verification->ok) << verification->reason;
  EXPECT_EQ(verification->events, 2);
  EXPECT_TRUE(store->CheckIntegrity().ok());
}

TEST_F(SqliteStoreTest, SchemaNewerThanThisBinaryIsRefused) {
  Open().reset();
  int newer = sqlite::kSchemaVersion + 1;
  ExecSql(path_, "PRAGMA user_version = " + std::to_string(newer));
  auto store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), StatusCode::kCorruption);
  EXPECT_THAT(store.error().message(),
              HasSubstr("store schema version " + std::to_string(newer) +
                        " is newer than this rollgate (knows " +
                        std::to_string(sqlite::kSchemaVersion) + "); upgrade rollgate"));
  // Nothing was changed: the version is still the newer one.
  EXPECT_EQ(QuerySql(path_, "PRAGMA user_version"), std::to_string(newer));
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsCorruption) {
  std::filesystem::create_directories(path_.parent_path());
  std::ofstream(path_) << std::string(8192, 'x');
  auto store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), StatusCode::kCorruption) << store.error().ToString();
  EXPECT_THAT(store.error().message(), HasSubstr(path_.string()));
}

TEST_F(SqliteStoreTest, ADirectoryThatCannotBeCreatedIsUnavailable) {
  std::ofstream(directory_ / "file") << "in the way";
  auto store = OpenSqliteStore(directory_ / "file" / "sub" / "state.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable) << store.error().ToString();
}

TEST_F(SqliteStoreTest, WriterGivesUpAfterTheBusyTimeoutWithUnavailable) {
  Open().reset();
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &holder), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> holder_handle(holder, &sqlite3_close_v2);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto store = Open({.busy_timeout = std::chrono::milliseconds(50)});
  ASSERT_NE(store, nullptr);
  Status status = store->Write([](Transaction& txn) { return txn.PutPatch(SamplePatch(1)); });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("busy"));
  // Readers are not blocked by a writer in WAL mode.
  EXPECT_TRUE(store->Read([](Transaction& txn) { return txn.ListPatches().status(); }).ok());

  ASSERT_EQ(sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_TRUE(store->Write([](Transaction& txn) { return txn.PutPatch(SamplePatch(1)); }).ok());
}

TEST_F(SqliteStoreTest, WriterWaitsForAnotherWritersLock) {
  Open().reset();
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &holder), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> holder_handle(holder, &sqlite3_close_v2);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  // A real second process holding the lock briefly; the store must wait, not fail.
  std::thread release([holder] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  });
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Status status = store->Write([](Transaction& txn) { return txn.PutPatch(SamplePatch(1)); });
  release.join();
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(SqliteStoreTest, DiskFullFailsTheWriteClearlyAndKeepsEarlierData) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->Write([](Transaction& txn) {
                      RETURN_IF_ERROR(txn.PutChangeRequest(SampleChangeRequest(1)));
                      return txn.AppendAudit(SampleAuditRecord(1)).status();
                    })
                    .ok());
  }
  int64_t pages = std::stoll(QuerySql(path_, "PRAGMA page_count"));
  {
    auto store = Open({.max_page_count = pages + 2});
    ASSERT_NE(store, nullptr);
    std::string large(1 << 20, 'z');
    Status status = store->Write([&](Transaction& txn) {
      RETURN_IF_ERROR(txn.AppendAudit(SampleAuditRecord(2)).status());
      return txn.PutBlob(Sha256Hex(large), large);
    });
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr("disk full"));
    // The failed store object is still usable for reads.
    EXPECT_TRUE(
        store->Read([](Transaction& txn) { return txn.GetChangeRequest("CR-1").status(); }).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->CheckIntegrity().ok());
  ASSERT_TRUE(store
                  ->Read([](Transaction& txn) {
                    ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest("CR-1"));
                    ExpectSameChangeRequest(cr, SampleChangeRequest(1));
                    return Status::Ok();
                  })
                  .ok());
  auto verification = store->VerifyAudit();
  ASSERT_TRUE(verification.ok());
  EXPECT_TRUE(verification->ok);
  EXPECT_EQ(verification->events, 1);
}

TEST_F(SqliteStoreTest, UnreadableStoredRecordsAreCorruption) {
  std::string document = "notes";
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->Write([&](Transaction& txn) {
                      RETURN_IF_ERROR(txn.PutPatch(SamplePatch(1)));
                      RETURN_IF_ERROR(txn.PutChangeRequest(SampleChangeRequest(1)));
                      return txn.PutBlob(Sha256Hex(document), document);
                    })
                    .ok());
  }
  ExecSql(path_,
          "UPDATE change_request_bodies SET body = '{\"state\": \"teleported\"}';"
          "UPDATE patches SET body = 'not json';"
          "UPDATE blobs SET content = x'00';");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Read([&](Transaction& txn) {
                    Status cr = txn.GetChangeRequest("CR-1").status();
                    EXPECT_EQ(cr.code(), StatusCode::kCorruption);
                    EXPECT_THAT(cr.message(), HasSubstr("teleported"));
                    EXPECT_EQ(txn.GetPatch("PATCH-1").status().code(), StatusCode::kCorruption);
                    EXPECT_EQ(txn.ListPatches().status().code(), StatusCode::kCorruption);
                    EXPECT_EQ(txn.GetBlob(Sha256Hex(document)).status().code(),
                              StatusCode::kCorruption);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteStoreTest, AuditEventsAreAppendOnlyInTheSchema) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store
            ->Write([](Transaction& txn) { return txn.AppendAudit(SampleAuditRecord(1)).status(); })
            .ok());
  }
  EXPECT_EQ(QuerySql(path_,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                     "tbl_name = 'audit_events'"),
            "2");
  // The triggers stop accidents (and rollgate's own code); a determined person drops them, and
  // the hash chain is what catches that (audit_tamper_test.cc).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> handle(db, &sqlite3_close_v2);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE audit_events SET actor = 'x'", nullptr, nullptr, nullptr),
            SQLITE_CONSTRAINT);
  EXPECT_EQ(sqlite3_exec(db, "DELETE FROM audit_events", nullptr, nullptr, nullptr),
            SQLITE_CONSTRAINT);
}

TEST_F(SqliteStoreTest, NotificationsRoundTripAndFilter) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Notification n;
  n.change_request = "CR-1";
  n.environment = "PROD";
  n.run_id = "RUN-2";
  n.channel = "mail";
  n.type = "email";
  n.person = "tina";
  n.role = "test-manager";
  n.recipient_name = "Tina Test";
  n.recipient_email = "tina@example.com";
  n.recipient_phone = "+1 555";
  n.subject = "Subject";
  n.body = "Body\nline";
  n.fields = {{"audience", "qa"}};
  n.actor = "eve";
  n.attempts = 1;
  n.next_attempt = Timestamp(Seconds(1000));
  n.last_error = "refused";
  n.created = Timestamp(Seconds(970));
  int64_t first = 0, second = 0;
  ASSERT_TRUE(store
                  ->Write([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(first, txn.AddNotification(n));
                    Notification other = n;
                    other.change_request = "CR-2";
                    other.state = NotificationState::kSent;
                    other.next_attempt.reset();
                    other.sent_at = Timestamp(Seconds(980));
                    ASSIGN_OR_RETURN(second, txn.AddNotification(other));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(second, first + 1);
  ASSERT_TRUE(store
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(Notification got, txn.GetNotification(first));
                    EXPECT_EQ(got.id, first);
                    EXPECT_EQ(got.recipient_email, "tina@example.com");
                    EXPECT_EQ(got.recipient_phone, "+1 555");
                    EXPECT_EQ(got.fields, n.fields);
                    EXPECT_EQ(got.next_attempt, n.next_attempt);
                    EXPECT_EQ(got.state, NotificationState::kPending);
                    EXPECT_FALSE(got.sent_at.has_value());
                    NotificationFilter due;
                    due.due_by = Timestamp(Seconds(999));
                    ASSIGN_OR_RETURN(auto none, txn.ListNotifications(due));
                    EXPECT_TRUE(none.empty());
                    due.due_by = Timestamp(Seconds(1000));
                    ASSIGN_OR_RETURN(auto one, txn.ListNotifications(due));
                    EXPECT_EQ(one.size(), 1u);
                    NotificationFilter by_cr;
                    by_cr.change_request = "CR-2";
                    ASSIGN_OR_RETURN(auto cr2, txn.ListNotifications(by_cr));
                    EXPECT_EQ(cr2.size(), 1u);
                    EXPECT_EQ(cr2[0].state, NotificationState::kSent);
                    EXPECT_EQ(txn.CountNotifications(NotificationState::kPending).value(), 1);
                    EXPECT_EQ(txn.CountNotifications(NotificationState::kSent).value(), 1);
                    EXPECT_EQ(txn.CountNotifications(NotificationState::kFailed).value(), 0);
                    EXPECT_EQ(txn.GetNotification(99).error().code(), StatusCode::kNotFound);
                    EXPECT_EQ(txn.AddNotification(n).error().code(), StatusCode::kInternal);
                    return Status::Ok();
                  })
                  .ok());
  Notification updated = n;
  updated.id = first;
  updated.state = NotificationState::kFailed;
  updated.next_attempt.reset();
  ASSERT_TRUE(store->Write([&](Transaction& txn) { return txn.UpdateNotification(updated); }).ok());
  Notification missing = n;
  missing.id = 99;
  EXPECT_EQ(store->Write([&](Transaction& txn) { return txn.UpdateNotification(missing); }).code(),
            StatusCode::kNotFound);
  Notification bad = n;
  bad.subject = "bad \xff";
  EXPECT_EQ(
      store->Write([&](Transaction& txn) { return txn.AddNotification(bad).status(); }).code(),
      StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rollgate::testing
