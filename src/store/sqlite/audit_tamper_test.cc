// Tampering with the audit log directly in the SQLite file, as a person with write access to it
// would: every kind of edit is detected and the first bad event is named; truncation is
// detected against a checkpoint kept elsewhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/audit_checkpoint.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_test_util.h"
#include "testing/fake_clock.h"
#include "testing/store_contract.h"

namespace rollgate::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kEvents = 10;
constexpr const char* kDropGuards =
    "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;";

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory("rollgate-audit-tamper");
    path_ = directory_ / "state.db";
    auto store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    for (int n = 1; n <= kEvents; ++n) {
      ASSERT_TRUE(
          store_
              ->Write([&](Transaction& txn) {
                return txn.AppendAudit(SampleAuditRecord(n, n % 2 ? "CR-1" : "CR-2")).status();
              })
              .ok());
    }
    auto checkpoint = CheckpointStore(*store_, MondayMorning());
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().ToString();
    checkpoint_ = *checkpoint;
    ASSERT_EQ(checkpoint_.seq, kEvents);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  // Tampers with the file (guards dropped first, as a tamperer would), then reopens the store.
  void Tamper(const std::string& sql) {
    store_.reset();
    ExecSql(path_, std::string(kDropGuards) + sql);
    auto store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
  }

  AuditEvent Event(int64_t seq) {
    AuditEvent found;
    EXPECT_TRUE(store_
                    ->ForEachAuditEvent([&](const AuditEvent& event) {
                      if (event.seq == seq) found = event;
                      return Status::Ok();
                    })
                    .ok());
    return found;
  }

  AuditVerification Verify() {
    auto verification = store_->VerifyAudit();
    EXPECT_TRUE(verification.ok()) << verification.error().ToString();
    return verification.ok() ? *verification : AuditVerification{};
  }

  std::filesystem::path directory_;
  std::filesystem::path path_;
  std::unique_ptr<Store> store_;
  AuditCheckpoint checkpoint_;
};

TEST_F(AuditTamperTest, UntouchedChainVerifiesAlsoAgainstTheCheckpoint) {
  AuditVerification verification = Verify();
  EXPECT_TRUE(verification.ok);
  EXPECT_EQ(verification.events, kEvents);
  auto against = VerifyAgainst(*store_, checkpoint_);
  ASSERT_TRUE(against.ok()) << against.error().ToString();
  EXPECT_TRUE(against->ok) << against->reason;
}

TEST_F(AuditTamperTest, EditedDetailsAreDetected) {
  Tamper("UPDATE audit_events SET details = '{\"n\":999}' WHERE seq = 4;");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.first_bad, 4);
  EXPECT_THAT(verification.reason, HasSubstr("event 4 was modified"));
  EXPECT_EQ(verification.events, kEvents);
  EXPECT_EQ(verification.head_seq, 3);
}

TEST_F(AuditTamperTest, EditWithARecomputedHashBreaksTheNextLink) {
  AuditEvent event = Event(4);
  event.actor = "mallory";
  std::string hash = ComputeAuditHash(event);
  Tamper("UPDATE audit_events SET actor = 'mallory', hash = '" + hash + "' WHERE seq = 4;");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.first_bad, 5);
  EXPECT_THAT(verification.reason, HasSubstr("event 5 does not link to the hash of event 4"));
}

TEST_F(AuditTamperTest, DeletedMiddleEventIsDetected) {
  Tamper("DELETE FROM audit_events WHERE seq = 5;");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.first_bad, 6);
  EXPECT_THAT(verification.reason, HasSubstr("event 6 follows event 4"));
  EXPECT_EQ(verification.events, kEvents - 1);
}

TEST_F(AuditTamperTest, InsertedForgedEventIsDetected) {
  // The forger makes room at seq 5 and inserts an event that links correctly to event 4 and
  // carries a correct hash of its own: the old event 5 (now 6) no longer links.
  AuditEvent forged;
  forged.seq = 5;
  forged.at = MondayMorning();
  forged.actor = "mallory";
  forged.action = "cr.approve";
  forged.object = "CR-1";
  forged.details = "{}";
  forged.prev_hash = Event(4).hash;
  forged.hash = ComputeAuditHash(forged);
  Tamper(
      "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 5;"
      "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1005;"
      "INSERT INTO audit_events(seq, at, actor, action, object, details, prev_hash, hash) "
      "VALUES(5, " +
      std::to_string(forged.at.time_since_epoch().count()) +
      ", 'mallory', 'cr.approve', 'CR-1', '{}', '" + forged.prev_hash + "', '" + forged.hash +
      "');");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.first_bad, 6);
  EXPECT_EQ(verification.events, kEvents + 1);
}

TEST_F(AuditTamperTest, InsertedEventWithAGuessedHashIsDetectedItself) {
  Tamper(
      "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3;"
      "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1003;"
      "INSERT INTO audit_events(seq, at, actor, action, object, details, prev_hash, hash) "
      "SELECT 3, at, 'mallory', action, object, details, hash, hash FROM audit_events "
      "WHERE seq = 2;");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.first_bad, 3);
  EXPECT_THAT(verification.reason, HasSubstr("event 3 was modified"));
}

TEST_F(AuditTamperTest, ReorderedEventsAreDetected) {
  Tamper(
      "UPDATE audit_events SET seq = -1 WHERE seq = 3;"
      "UPDATE audit_events SET seq = 3 WHERE seq = 4;"
      "UPDATE audit_events SET seq = 4 WHERE seq = -1;");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.first_bad, 3);
  EXPECT_THAT(verification.reason, HasSubstr("event 3"));
}

TEST_F(AuditTamperTest, DeletedNewestEventsAreDetectedOnlyAgainstACheckpoint) {
  Tamper("DELETE FROM audit_events WHERE seq > 7;");
  // The shorter chain is internally consistent...
  AuditVerification verification = Verify();
  EXPECT_TRUE(verification.ok);
  EXPECT_EQ(verification.events, 7);
  // ...but not against the head written down before.
  auto against = VerifyAgainst(*store_, checkpoint_);
  ASSERT_TRUE(against.ok()) << against.error().ToString();
  EXPECT_FALSE(against->ok);
  EXPECT_EQ(against->first_bad, 8);
  EXPECT_THAT(against->reason, HasSubstr("the chain ends at event 7 but the checkpoint"));
  EXPECT_THAT(against->reason, HasSubstr("records event 10"));
}

TEST_F(AuditTamperTest, ConsistentlyRewrittenChainIsDetectedOnlyAgainstACheckpoint) {
  // Someone with write access rewrites event 2 and recomputes every later hash.
  std::vector<AuditEvent> events;
  ASSERT_TRUE(store_
                  ->ForEachAuditEvent([&](const AuditEvent& event) {
                    events.push_back(event);
                    return Status::Ok();
                  })
                  .ok());
  events[1].details = R"({"n":"rewritten"})";
  std::string sql;
  for (size_t i = 1; i < events.size(); ++i) {
    events[i].prev_hash = events[i - 1].hash;
    events[i].hash = ComputeAuditHash(events[i]);
    sql += "UPDATE audit_events SET details = '" + events[i].details + "', prev_hash = '" +
           events[i].prev_hash + "', hash = '" + events[i].hash +
           "' WHERE seq = " + std::to_string(events[i].seq) + ";";
  }
  Tamper(sql);
  EXPECT_TRUE(Verify().ok);
  auto against = VerifyAgainst(*store_, checkpoint_);
  ASSERT_TRUE(against.ok());
  EXPECT_FALSE(against->ok);
  EXPECT_EQ(against->first_bad, kEvents);
  EXPECT_THAT(against->reason, HasSubstr("rewritten"));
}

TEST_F(AuditTamperTest, LaterEventsDoNotInvalidateAnOlderCheckpoint) {
  ASSERT_TRUE(store_
                  ->Write([](Transaction& txn) {
                    return txn.AppendAudit(SampleAuditRecord(kEvents + 1)).status();
                  })
                  .ok());
  auto against = VerifyAgainst(*store_, checkpoint_);
  ASSERT_TRUE(against.ok());
  EXPECT_TRUE(against->ok) << against->reason;
  EXPECT_EQ(against->events, kEvents + 1);
}

TEST_F(AuditTamperTest, BrokenChainIsNeverCheckpointed) {
  Tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2;");
  auto checkpoint = CheckpointStore(*store_, MondayMorning());
  ASSERT_FALSE(checkpoint.ok());
  EXPECT_EQ(checkpoint.error().code(), StatusCode::kCorruption);
  EXPECT_THAT(checkpoint.error().message(), HasSubstr("event 2"));
}

}  // namespace
}  // namespace rollgate::testing
