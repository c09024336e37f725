// The configuration through the real binary: `init` writes a valid starter file, `validate`
// reports every error as FILE:LINE:COL (text) or {"valid","errors":[...]} (JSON), and every
// other command refuses to run on an invalid configuration (exit 2) without touching the store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ConfigCliTest : public ::testing::Test {
 protected:
  std::string Path() const { return (h_.dir() / "rollgate.yaml").string(); }

  // Writes `yaml`, runs validate in both forms, and expects exactly one error at LINE:COL whose
  // message contains `message`. Then checks that a command needing the configuration refuses.
  void ExpectOneError(const std::string& yaml, int line, int column, const std::string& message) {
    h_.WriteConfig(yaml);
    CommandOutput json = h_.RunJson({"validate"});
    EXPECT_EQ(json.exit_code, 2) << Describe(json);
    nlohmann::json doc = json.Json();
    EXPECT_EQ(doc["valid"], false);
    ASSERT_EQ(doc["errors"].size(), 1u) << doc;
    const nlohmann::json& e = doc["errors"][0];
    EXPECT_EQ(e["file"], Path());
    EXPECT_EQ(e["line"], line) << e;
    EXPECT_EQ(e["column"], column) << e;
    EXPECT_THAT(e["message"].get<std::string>(), HasSubstr(message));

    CommandOutput text = h_.Run({"validate"});
    EXPECT_EQ(text.exit_code, 2);
    EXPECT_EQ(text.out, "");
    std::string location =
        Path() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    EXPECT_EQ(text.err, location + e["message"].get<std::string>() + "\n");

    CommandOutput list = h_.Run({"cr", "list"});
    EXPECT_EQ(list.exit_code, 2) << Describe(list);
    EXPECT_THAT(list.err, HasSubstr(location));
    EXPECT_THAT(list.err, HasSubstr("invalid configuration"));
    EXPECT_FALSE(std::filesystem::exists(h_.StorePath())) << "no store for an invalid config";
  }

  CliHarness h_;
};

TEST_F(ConfigCliTest, InitWritesAValidStarterAndNeverOverwrites) {
  CommandOutput init = h_.Run({"init", h_.dir().string()});
  ASSERT_EQ(init.exit_code, 0) << Describe(init);
  CommandOutput valid = h_.RunJson({"validate"});
  ASSERT_EQ(valid.exit_code, 0) << Describe(valid);
  EXPECT_EQ(valid.Json(), (nlohmann::json{{"valid", true}, {"errors", nlohmann::json::array()}}));
  CommandOutput text = h_.Run({"validate"});
  EXPECT_THAT(text.out, HasSubstr("valid (3 environments, 14 people, 1 systems)"));
  EXPECT_EQ(text.err, "");

  std::string before = h_.ReadFile("rollgate.yaml");
  h_.WriteConfig(before + "# my edits\n");
  CommandOutput again = h_.Run({"init", h_.dir().string()});
  EXPECT_EQ(again.exit_code, 2) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("--force"));
  EXPECT_EQ(h_.ReadFile("rollgate.yaml"), before + "# my edits\n");
  CommandOutput force = h_.Run({"init", h_.dir().string(), "--force"});
  EXPECT_EQ(force.exit_code, 0);
  EXPECT_EQ(h_.ReadFile("rollgate.yaml"), before);
}

TEST_F(ConfigCliTest, UnknownKeyIsNamedWithADidYouMean) {
  ExpectOneError("version: 1\nidentity:\n  allow_as: true\nenvironmnts: []\n", 4, 1,
                 "unknown key 'environmnts' in the configuration (did you mean 'environments'?)");
}

TEST_F(ConfigCliTest, NestedUnknownKeyIsLocatedExactly) {
  ExpectOneError("version: 1\npolicy:\n  separation_of_dutie: true\n", 3, 3,
                 "did you mean 'separation_of_duties'");
}

TEST_F(ConfigCliTest, WrongTypeIsNamed) {
  ExpectOneError("version: 1\nidentity:\n  allow_as: yes please\n", 3, 13,
                 "'allow_as' must be true or false, got 'yes please'");
}

TEST_F(ConfigCliTest, BadDurationIsNamed) {
  ExpectOneError(
      "version: 1\nenvironments:\n  - name: DEV\n    approval:\n      roles: "
      "[development-lead]\n      lead_time: 3 fortnights\n",
      6, 18, "invalid lead time '3 fortnights'");
}

TEST_F(ConfigCliTest, UnknownRoleReferenceIsLocatedAtTheRole) {
  ExpectOneError("version: 1\nenvironments:\n  - name: DEV\n    approval:\n      roles: [wizard]\n",
                 5, 15, "unknown role 'wizard'");
}

TEST_F(ConfigCliTest, YamlSyntaxErrorIsLocated) {
  h_.WriteConfig("version: 1\nidentity: [\n");
  CommandOutput r = h_.RunJson({"validate"});
  EXPECT_EQ(r.exit_code, 2);
  nlohmann::json doc = r.Json();
  ASSERT_EQ(doc["errors"].size(), 1u);
  EXPECT_THAT(doc["errors"][0]["message"].get<std::string>(), HasSubstr("YAML"));
  EXPECT_GT(doc["errors"][0]["line"].get<int>(), 0);
}

TEST_F(ConfigCliTest, EveryErrorIsReportedNotOnlyTheFirst) {
  h_.WriteConfig(
      "version: 1\nidentity:\n  allow_as: maybe\npolicy:\n  separation_of_dutie: true\n"
      "environmnts: []\n");
  CommandOutput r = h_.RunJson({"validate"});
  EXPECT_EQ(r.exit_code, 2);
  nlohmann::json doc = r.Json();
  EXPECT_GE(doc["errors"].size(), 3u) << doc;
  CommandOutput text = h_.Run({"validate"});
  EXPECT_GE(std::count(text.err.begin(), text.err.end(), '\n'), 3) << text.err;
}

TEST_F(ConfigCliTest, MissingConfigurationIsBadUsageExceptForCommandsThatNeedNone) {
  CommandOutput validate = h_.RunJson({"validate"});
  EXPECT_EQ(validate.exit_code, 2);
  EXPECT_THAT(validate.Json()["errors"][0]["message"].get<std::string>(),
              HasSubstr("rollgate init"));
  CommandOutput list = h_.Run({"cr", "list"});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_THAT(list.err, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(h_.StorePath()));
  CommandOutput cvss = h_.Run({"cvss", kCriticalVector});
  EXPECT_EQ(cvss.exit_code, 0) << Describe(cvss);

  // --config wins over $ROLLGATE_CONFIG.
  CommandOutput init = h_.Run({"init", (h_.dir() / "other").string()});
  ASSERT_EQ(init.exit_code, 0);
  CommandOutput other =
      h_.Run({"--config", (h_.dir() / "other" / "rollgate.yaml").string(), "validate"});
  EXPECT_EQ(other.exit_code, 0) << Describe(other);
}

}  // namespace
}  // namespace rollgate::e2e
