#include <gtest/gtest.h>

#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

using testing::ValidateError;

std::map<std::string, std::string> WithUrl(const std::string& url) {
  return {{"database_url", url}, {"destination_dir", "/var/backups/rollgate"}};
}

TEST(BackupPostgresStep, AcceptsPostgresUrlsWithoutPasswords) {
  EXPECT_EQ(ValidateError("backup-postgres", WithUrl("postgresql://demo@db.example:5432/demo")),
            "");
  EXPECT_EQ(ValidateError("backup-postgres", WithUrl("postgres://{host}/demo?sslmode=require")),
            "");
  EXPECT_EQ(ValidateError("backup-postgres", WithUrl("postgresql:///demo")), "");
  auto params = WithUrl("postgresql://demo@db/demo");
  params["label"] = "orders_db";
  EXPECT_EQ(ValidateError("backup-postgres", params, {{"PGPASSWORD", "env:DB_PASSWORD"}}), "");
}

TEST(BackupPostgresStep, APasswordInTheUrlIsRejectedWithoutRepeatingIt) {
  for (const std::string url :
       {"postgresql://demo:hunter2@db/demo", "postgresql://demo@db/demo?password=hunter2",
        "postgresql://demo@db/demo?sslmode=require&PASSWORD=hunter2",
        "postgresql://demo@db/demo?pass%77ord=hunter2", "postgresql://demo:hunter2 x@db/demo"}) {
    std::string error = ValidateError("backup-postgres", WithUrl(url));
    EXPECT_NE(error.find("secret PGPASSWORD"), std::string::npos) << url << ": " << error;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  }
}

TEST(BackupPostgresStep, RejectsOtherUrlsAndHostileValues) {
  for (const std::string url :
       {"http://db/demo", "mysql://db/demo", "demo", "-c postgresql://db/demo",
        "postgresql://db/demo'; DROP TABLE orders; --", "postgresql://db/demo name",
        "postgresql://db/$(touch x)`id`\"", "postgresql://db/demo\\", "postgresql://db/demo\nx",
        "postgresql://db/demo\x01"}) {
    EXPECT_NE(ValidateError("backup-postgres", WithUrl(url)), "") << url;
  }
  auto params = WithUrl("postgresql://db/demo");
  params["label"] = "db; rm -rf /";
  EXPECT_NE(ValidateError("backup-postgres", params), "");
  EXPECT_NE(ValidateError("backup-postgres", {{"database_url", "postgresql://db/demo"}}), "");
  EXPECT_NE(ValidateError("backup-postgres", {{"destination_dir", "/var/backups"}}), "");
  EXPECT_NE(ValidateError("backup-postgres", WithUrl("postgresql://db/demo"),
                          {{"PGPASSWORD", "hunter2"}}),
            "");
}

}  // namespace
}  // namespace rollgate
