// OpenStore: which URLs open what, and how bad ones are refused.
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/store_contract.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class OpenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { directory_ = testing::MakeTempDirectory("rollgate-open-store"); }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::filesystem::path directory_;
};

TEST_F(OpenStoreTest, SqliteUrlOpensAFileCreatingItsDirectory) {
  auto path = directory_ / ".rollgate" / "state.db";
  auto store = OpenStore("sqlite:" + path.string());
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_TRUE((*store)->Write([](Transaction& txn) { return txn.NextNumber("CR").status(); }).ok());
}

TEST_F(OpenStoreTest, UrlStyleTripleSlashIsAnAbsolutePath) {
  auto path = directory_ / "url.db";
  auto store = OpenStore("sqlite://" + path.string());
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(OpenStoreTest, MalformedSqliteUrlsAreInvalidArgument) {
  for (const char* url : {"sqlite:", "sqlite://host/state.db"}) {
    auto store = OpenStore(url);
    SCOPED_TRACE(url);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(store.error().message(), HasSubstr(url));
  }
}

TEST_F(OpenStoreTest, PostgresqlIsRefusedInThisBuildWithoutEchoingThePassword) {
  for (const char* url : {"postgresql://rollgate:s3cret-canary@db.example/rollgate",
                          "postgres://rollgate:s3cret-canary@db.example/rollgate"}) {
    auto store = OpenStore(url);
    SCOPED_TRACE(url);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);
    EXPECT_THAT(store.error().message(),
                HasSubstr("PostgreSQL store is not available in this build"));
    EXPECT_THAT(store.error().message(), Not(HasSubstr("s3cret-canary")));
    EXPECT_THAT(store.error().message(), HasSubstr("db.example"));
  }
}

TEST_F(OpenStoreTest, UnknownSchemesAreInvalidArgument) {
  for (const char* url : {"", "state.db", "mysql://u:s3cret-canary@h/db", "SQLITE:/x"}) {
    auto store = OpenStore(url);
    SCOPED_TRACE(url);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(store.error().message(), HasSubstr("unknown store URL"));
    EXPECT_THAT(store.error().message(), Not(HasSubstr("s3cret-canary")));
  }
}

}  // namespace
}  // namespace rollgate
