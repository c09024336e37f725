// Who is acting, through the real binary: the OS user mapped through people[].unix_user, and
// `--as` only where the configuration allows it. The tests run as root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

std::string OsUser() {
  struct passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "";
}

class IdentityCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandOutput init = h_.Run({"init", h_.dir().string()});
    ASSERT_EQ(init.exit_code, 0) << Describe(init);
    starter_ = h_.ReadFile("rollgate.yaml");
    user_ = OsUser();
    ASSERT_FALSE(user_.empty());
  }
  // The starter configuration with `from` replaced by `to`.
  void Edit(const std::string& from, const std::string& to) {
    std::string config = h_.ReadFile("rollgate.yaml");
    size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config.replace(at, from.size(), to);
    h_.WriteConfig(config);
  }
  std::vector<std::string> AddPatchArgs() {
    return {"patch", "add", "--title", "t", "--source", "security-team"};
  }

  CliHarness h_;
  std::string starter_, user_;
};

TEST_F(IdentityCliTest, TheOsUserMappedToAPersonActsWithoutAs) {
  Edit("unix_user: heidi,", "unix_user: " + user_ + ",");
  CommandOutput r = h_.RunJson(AddPatchArgs());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.Json()["created_by"], "heidi");
  CommandOutput exported = h_.Run({"audit", "export"});
  EXPECT_THAT(exported.out, HasSubstr("\"actor\":\"heidi\""));
}

TEST_F(IdentityCliTest, AnUnmappedOsUserMayReadButNotWrite) {
  CommandOutput r = h_.Run(AddPatchArgs());
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("unix_user: " + user_));
  EXPECT_THAT(r.err, HasSubstr("not mapped"));
  EXPECT_EQ(r.out, "");
  CommandOutput json = h_.RunJson(AddPatchArgs());
  EXPECT_EQ(json.exit_code, 4);
  EXPECT_EQ(json.Json()["error"]["code"], "PERMISSION_DENIED");
  // Reading needs no identity.
  CommandOutput list = h_.RunJson({"patch", "list"});
  EXPECT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_EQ(list.Json(), nlohmann::json::array());
  EXPECT_EQ(h_.AuditEvents(), 0);
}

TEST_F(IdentityCliTest, AsIsRefusedUnlessTheConfigurationAllowsIt) {
  Edit("unix_user: heidi,", "unix_user: " + user_ + ",");
  // Even naming a real person, and even the person the OS user maps to.
  for (const std::string person : {"alice", "heidi", "ghost"}) {
    CommandOutput r = h_.RunAs(person, AddPatchArgs());
    EXPECT_EQ(r.exit_code, 4) << person << ": " << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("--as is not allowed"));
    EXPECT_THAT(r.err, HasSubstr("allow_as"));
  }
  EXPECT_EQ(h_.AuditEvents(), 0);
}

TEST_F(IdentityCliTest, AsNamesAConfiguredPersonWhenAllowed) {
  Edit("allow_as: false", "allow_as: true");
  CommandOutput ghost = h_.RunAs("ghost", AddPatchArgs());
  EXPECT_EQ(ghost.exit_code, 3) << Describe(ghost);
  EXPECT_THAT(ghost.err, HasSubstr("ghost"));
  CommandOutput typo = h_.RunAs("heidii", AddPatchArgs());
  EXPECT_EQ(typo.exit_code, 3);
  EXPECT_THAT(typo.err, HasSubstr("did you mean 'heidi'"));
  CommandOutput control = h_.RunAs("heidi\nrollgate: ok", AddPatchArgs());
  EXPECT_EQ(control.exit_code, 3);
  EXPECT_THAT(control.err, HasSubstr("heidi\\nrollgate: ok"));
  CommandOutput empty = h_.RunAs("", AddPatchArgs());
  EXPECT_EQ(empty.exit_code, 2) << "an empty --as must not fall back silently: " << Describe(empty);
  EXPECT_THAT(empty.err, HasSubstr("--as needs a person"));
  EXPECT_EQ(h_.AuditEvents(), 0);

  CommandOutput ok = h_.RunJson(AddPatchArgs(), "grace");
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_EQ(ok.Json()["created_by"], "grace");
}

TEST_F(IdentityCliTest, TheSameOsUserCannotApproveWhatItRequested) {
  // root is alice, the development lead: she raises a CR and may not approve it.
  Edit("unix_user: alice,", "unix_user: " + user_ + ",");
  Edit("allow_as: false", "allow_as: true");
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector}, "alice");
  Edit("allow_as: true", "allow_as: false");
  CommandOutput r = h_.Run({"cr", "approve", cr, "--env", "DEV"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("separation of duties"));
}

}  // namespace
}  // namespace rollgate::e2e
