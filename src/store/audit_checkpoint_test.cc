#include "store/audit_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/store_contract.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;
using testing::MondayMorning;

const std::string kHead(64, 'a');

TEST(HmacSha256Test, MatchesRfc4231) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(AuditCheckpointTest, FormatsAsOneLineAndParsesBack) {
  AuditCheckpoint checkpoint = MakeCheckpoint(57, kHead, MondayMorning());
  std::string line = FormatCheckpoint(checkpoint);
  EXPECT_EQ(line, "rollgate-checkpoint v1 seq=57 head=" + kHead +
                      " at=2026-11-30T09:00:00Z stamp=" + checkpoint.stamp);
  EXPECT_THAT(checkpoint.stamp, ::testing::StartsWith("sha256:"));
  auto parsed = ParseCheckpoint("  " + line + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->seq, 57);
  EXPECT_EQ(parsed->head_hash, kHead);
  EXPECT_EQ(parsed->at, MondayMorning());
  EXPECT_EQ(parsed->stamp, checkpoint.stamp);
  EXPECT_TRUE(CheckStamp(*parsed).ok());
}

TEST(AuditCheckpointTest, AlteredOrMistypedCheckpointIsRefused) {
  std::string line = FormatCheckpoint(MakeCheckpoint(57, kHead, MondayMorning()));
  std::string altered = line;
  altered.replace(altered.find("seq=57"), 6, "seq=58");
  auto parsed = ParseCheckpoint(altered);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.error().message(), HasSubstr("altered or mistyped"));
}

TEST(AuditCheckpointTest, MalformedLinesAreRefusedNamingTheProblem) {
  std::string stamp = "sha256:" + std::string(64, '0');
  struct Case {
    std::string text;
    const char* problem;
  };
  for (const Case& c : {
           Case{"", "does not start"},
           Case{"hello v1", "does not start"},
           Case{"rollgate-checkpoint v2 seq=1", "unknown version"},
           Case{"rollgate-checkpoint v1 seq=1 head=" + kHead + " at=2026-11-30T09:00:00Z",
                "'stamp' is missing"},
           Case{"rollgate-checkpoint v1 seq=x head=" + kHead +
                    " at=2026-11-30T09:00:00Z stamp=" + stamp,
                "seq 'x'"},
           Case{"rollgate-checkpoint v1 seq=-1 head=" + kHead +
                    " at=2026-11-30T09:00:00Z stamp=" + stamp,
                "seq '-1'"},
           Case{"rollgate-checkpoint v1 seq=1 head=XYZ at=2026-11-30T09:00:00Z stamp=" + stamp,
                "head 'XYZ'"},
           Case{"rollgate-checkpoint v1 seq=1 head=" + kHead + " at=soon stamp=" + stamp, "soon"},
           Case{"rollgate-checkpoint v1 seq=1 head=" + kHead +
                    " at=2026-11-30T09:00:00Z stamp=md5:abc",
                "neither"},
           Case{"rollgate-checkpoint v1 seq=1 seq=2", "appears twice"},
           Case{"rollgate-checkpoint v1 seq=1 colour=red", "unknown field 'colour'"},
           Case{"rollgate-checkpoint v1 seq", "not key=value"},
       }) {
    auto parsed = ParseCheckpoint(c.text);
    SCOPED_TRACE(c.text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.problem));
  }
}

TEST(AuditCheckpointTest, HmacStampNeedsTheRightKey) {
  AuditCheckpoint checkpoint = MakeCheckpoint(3, kHead, MondayMorning(), "secret key");
  EXPECT_THAT(checkpoint.stamp, ::testing::StartsWith("hmac-sha256:"));
  auto parsed = ParseCheckpoint(FormatCheckpoint(checkpoint));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_TRUE(CheckStamp(*parsed, "secret key").ok());
  EXPECT_THAT(CheckStamp(*parsed).message(), HasSubstr("key is needed"));
  EXPECT_THAT(CheckStamp(*parsed, "other key").message(), HasSubstr("another key"));
  // The stamp covers the documented input.
  EXPECT_EQ(checkpoint.stamp,
            "hmac-sha256:" +
                HmacSha256Hex("secret key", CheckpointStampInput(3, kHead, MondayMorning())));
  EXPECT_EQ(CheckpointStampInput(3, kHead, MondayMorning()),
            "rollgate-checkpoint-v1|3|" + kHead + "|2026-11-30T09:00:00Z");
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = testing::MakeTempDirectory("rollgate-checkpoint");
    auto store = OpenSqliteStore(directory_ / "state.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(directory_);
  }
  std::filesystem::path directory_;
  std::unique_ptr<Store> store_;
};

TEST_F(CheckpointStoreTest, EmptyChainCheckpointsAtGenesis) {
  auto checkpoint = CheckpointStore(*store_, MondayMorning());
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->seq, 0);
  EXPECT_EQ(checkpoint->head_hash, kAuditGenesisHash);
  auto against = VerifyAgainst(*store_, *checkpoint);
  ASSERT_TRUE(against.ok());
  EXPECT_TRUE(against->ok);
}

TEST_F(CheckpointStoreTest, HmacCheckpointVerifiesOnlyWithItsKey) {
  ASSERT_TRUE(store_
                  ->Write([](Transaction& txn) {
                    return txn.AppendAudit(testing::SampleAuditRecord(1)).status();
                  })
                  .ok());
  auto checkpoint = CheckpointStore(*store_, MondayMorning(), "k");
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->seq, 1);
  auto with_key = VerifyAgainst(*store_, *checkpoint, "k");
  ASSERT_TRUE(with_key.ok());
  EXPECT_TRUE(with_key->ok);
  auto without_key = VerifyAgainst(*store_, *checkpoint);
  ASSERT_FALSE(without_key.ok());
  EXPECT_EQ(without_key.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckpointStoreTest, CheckpointBeyondTheChainIsReported) {
  AuditCheckpoint future = MakeCheckpoint(5, kHead, MondayMorning());
  auto against = VerifyAgainst(*store_, future);
  ASSERT_TRUE(against.ok());
  EXPECT_FALSE(against->ok);
  EXPECT_EQ(against->first_bad, 1);
  EXPECT_THAT(against->reason, HasSubstr("the chain ends at event 0 but the checkpoint"));
}

}  // namespace
}  // namespace rollgate
