// Change requests through the real binary: the documented JSON, the state machine, approvals
// refused as the playbook demands, the Appendix B document, list filters, checklists, and bad
// input of every kind — each refusal exits with the documented code, names what is wrong and
// stores nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CrCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.SetNow(kMonday);
  }

  // Runs `args` as `person` expecting the refusal `exit_code` whose message contains `named`,
  // and that nothing was stored: the store dump (audit events, CRs, blobs) is unchanged.
  void ExpectRefused(const std::string& person, const std::vector<std::string>& args, int exit_code,
                     const std::string& named) {
    std::string before = h_.StoreDump();
    ExpectRead(person, args, exit_code, named);
    EXPECT_EQ(h_.StoreDump(), before) << "refused but stored: " << ::testing::PrintToString(args);
  }
  // The same for a command that only reads: the exit code, the message, nothing on stdout.
  void ExpectRead(const std::string& person, const std::vector<std::string>& args, int exit_code,
                  const std::string& named) {
    CommandOutput r = person.empty() ? h_.Run(args) : h_.RunAs(person, args);
    EXPECT_EQ(r.exit_code, exit_code) << ::testing::PrintToString(args) << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(named)) << ::testing::PrintToString(args);
    EXPECT_EQ(r.out, "") << "a refusal prints nothing on stdout in text mode";
  }

  CliHarness h_;
};

TEST_F(CrCliTest, CreatePrintsTheDocumentedJsonAndOnlyJsonOnStdout) {
  std::string patch = AddPatch(h_, {"--cvss", kHighVector, "--cve", "CVE-2026-31337"});
  h_.WriteFile("plan.md", "1. upgrade\n");
  CommandOutput r = h_.RunJson(
      {"cr", "create", "--patch", patch, "--system", "billing", "--description", "Upgrade OpenSSL",
       "--implementation-plan", "plan.md", "--downtime", "0s", "--affected-system", "billing"},
      "heidi");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json cr = r.Json();
  EXPECT_EQ(cr["id"], "CR-1");
  EXPECT_EQ(cr["title"], "billing - Security Patch - 2026-11-30");
  EXPECT_EQ(cr["state"], "draft");
  EXPECT_EQ(cr["priority"], "P2");
  EXPECT_THAT(cr["classification"].get<std::string>(), ::testing::StartsWith("P2"));
  EXPECT_EQ(cr["emergency"], false);
  EXPECT_EQ(cr["requester"], "heidi");
  EXPECT_EQ(cr["patch_id"], patch);
  EXPECT_EQ(cr["system"], "billing");
  EXPECT_EQ(cr["type"], "security");
  EXPECT_EQ(cr["revision"], 1);
  EXPECT_EQ(cr["implementation_plan"], "1. upgrade\n");
  EXPECT_EQ(cr["expected_downtime_seconds"], 0);
  ASSERT_TRUE(cr["cvss"].is_object()) << "the patch's score belongs in the CR document";
  EXPECT_EQ(cr["cvss"]["base_score"], 7.5);
  // stderr carries only the clock warning of the test hook.
  EXPECT_THAT(r.err, HasSubstr("ROLLGATE_NOW"));
  EXPECT_THAT(r.err, Not(HasSubstr("CR-1")));

  CommandOutput text = h_.RunAs(
      "heidi", {"cr", "create", "--patch", patch, "--system", "billing", "--type", "standard"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_EQ(text.out,
            "CR-2: created 'billing - Standard Patch - 2026-11-30' (P2-High), state draft\n");
}

TEST_F(CrCliTest, CreateRefusesBadInputAndStoresNothing) {
  std::string patch = AddPatch(h_, {"--cvss", kHighVector});
  std::vector<std::string> base = {"cr", "create", "--patch", patch, "--system", "billing"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectRefused("heidi", {"cr", "create", "--patch", "PATCH-9", "--system", "billing"}, 3,
                "PATCH-9");
  ExpectRefused("heidi", {"cr", "create", "--patch", patch, "--system", "billng"}, 3,
                "did you mean 'billing'");
  ExpectRefused("heidi", with({"--affected-system", "payroll"}), 3, "payroll");
  ExpectRefused("heidi", with({"--type", "urgent"}), 2, "urgent");
  ExpectRefused("heidi", with({"--rollback-complexity", "extreme"}), 2, "extreme");
  ExpectRefused("heidi", with({"--downtime", "5x"}), 2, "5x");
  ExpectRefused("heidi", with({"--downtime=-5m"}), 2, "-5m");
  ExpectRefused("heidi", with({"--downtime", "15"}), 2, "'15'");
  ExpectRefused("heidi", with({"--duration", "0s"}), 2, "0s");
  ExpectRefused("heidi", with({"--implementation-plan", "missing.md"}), 2, "missing.md");
  std::filesystem::create_directories(h_.dir() / "plans");
  ExpectRefused("heidi", with({"--rollback-plan", "plans"}), 2, "plans");
  h_.WriteFile("big-plan.md", std::string(300 * 1024, 'x'));
  ExpectRefused("heidi", with({"--test-plan", "big-plan.md"}), 2, "KiB");
  h_.WriteFile("binary-plan.md", "\xff\xfe plan");
  ExpectRefused("heidi", with({"--test-plan", "binary-plan.md"}), 2, "UTF-8");
  ExpectRefused("heidi", with({"--description", "caf\xe9"}), 2, "--description is not valid UTF-8");
  ExpectRefused("heidi", with({"--risk", "\xc0\xaf"}), 2, "--risk");
  EXPECT_THAT(h_.RunJson({"cr", "list"}).Json(), IsEmpty());
}

TEST_F(CrCliTest, MalformedCrIdsAreBadInputAndUnknownOnesAreNotFound) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  h_.WriteFile("notes.txt", "release notes\n");
  const std::vector<std::string> bad_ids = {
      "CR-0",          "CR-abc",       "../x",   "",
      "CR-01",         "cr-1",         " CR-1",  "CR-1 ",
      "CR--1",         "CR-1\x1b[31m", "CR-\t1", "CR-" + std::string(300, '9'),
      "CR-1;rm -rf /", "$(id)"};
  for (const std::string& id : bad_ids) {
    SCOPED_TRACE("id: " + id);
    ExpectRead("", {"cr", "show", id}, 2, "invalid change request id");
  }
  for (const std::string id : {"CR-0", "../x", "", "CR-1;rm -rf /"}) {
    SCOPED_TRACE("id: " + id);
    ExpectRefused("alice", {"cr", "approve", id, "--env", "DEV"}, 2, "invalid change request id");
    ExpectRefused("heidi", {"cr", "attach", id, "--kind", "release-notes", "notes.txt"}, 2,
                  "invalid change request id");
    ExpectRead("", {"gate", "check", id, "--env", "DEV"}, 2, "invalid change request id");
    ExpectRead("", {"cr", "checklist", id, "--env", "DEV"}, 2, "invalid change request id");
  }
  // Shown escaped and shortened: the message is one line.
  CommandOutput control = h_.Run({"cr", "show", "CR-1\x1b[31m\nFORGED"});
  EXPECT_THAT(control.err, HasSubstr("CR-1\\x1b[31m\\nFORGED"));
  EXPECT_EQ(std::count(control.err.begin(), control.err.end(), '\n'), 2)  // + the clock warning
      << control.err;
  CommandOutput long_id = h_.Run({"cr", "show", "CR-" + std::string(300, '9')});
  EXPECT_LT(long_id.err.size(), 400u) << long_id.err;

  ExpectRead("", {"cr", "show", "CR-42"}, 3, "CR-42");
  ExpectRefused("alice", {"cr", "approve", "CR-42", "--env", "DEV"}, 3, "CR-42");
  ExpectRead("", {"cr", "checklist", "CR-42", "--env", "DEV"}, 3, "CR-42");
  CommandOutput json = h_.RunJson({"cr", "show", "CR-abc"});
  EXPECT_EQ(json.Json()["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(h_.RunJson({"cr", "show", cr}).exit_code, 0);
}

TEST_F(CrCliTest, AttachmentsAreStoredByContentAndBadOnesRefused) {
  std::string cr = CreateCr(h_, AddPatch(h_, {"--cvss", kHighVector}));
  h_.WriteFile("notes.txt", "OpenSSL 3.0.15 release notes\n");
  CommandOutput ok =
      h_.RunJson({"cr", "attach", cr, "--kind", "release-notes", "notes.txt"}, "heidi");
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
  nlohmann::json attachment = ok.Json()["attachments"][0];
  EXPECT_EQ(attachment["kind"], "release-notes");
  EXPECT_EQ(attachment["file_name"], "notes.txt");
  EXPECT_EQ(attachment["size"], 29);
  // sha256 of "OpenSSL 3.0.15 release notes\n" as the store keeps it.
  std::string sha = attachment["sha256"];
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(h_.Sql("SELECT size FROM blobs WHERE sha256 = '" + sha + "'"), "29\n");

  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "release-notes", "notes.txt"}, 2,
                "already");
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "release-notes", "missing.txt"}, 2,
                "missing.txt");
  h_.WriteFile("empty.txt", "");
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "release-notes", "empty.txt"}, 2, "empty");
  std::filesystem::create_directories(h_.dir() / "folder");
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "release-notes", "folder"}, 2, "folder");
  {
    // 16 MiB + 1 byte, sparse.
    std::ofstream big(h_.dir() / "big.bin", std::ios::binary);
    big.seekp(16 * 1024 * 1024);
    big.put('x');
  }
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "release-notes", "big.bin"}, 2, "16 MiB");
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "security-impact-assesment", "notes.txt"},
                2, "did you mean 'security-impact-assessment'");
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "", "notes.txt"}, 2, "kind");
  ExpectRefused("heidi", {"cr", "attach", cr, "notes.txt"}, 2, "--kind");
  // A file name is taken literally: no @file or glob expansion.
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "other", "@notes.txt"}, 2, "@notes.txt");
  ExpectRefused("heidi", {"cr", "attach", cr, "--kind", "other", "*.txt"}, 2, "*.txt");
}

TEST_F(CrCliTest, ScheduleRefusesGarbagePastAndImpossibleTimes) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  auto schedule = [&](const std::string& env, const std::string& at) {
    return std::vector<std::string>{"cr", "schedule", cr, "--env", env, "--at", at};
  };
  ExpectRefused("heidi", schedule("DEV", "garbage"), 2, "invalid time 'garbage'");
  ExpectRefused("heidi", schedule("DEV", "tomorrow"), 2, "tomorrow");
  ExpectRefused("heidi", schedule("DEV", ""), 2, "invalid time");
  ExpectRefused("heidi", schedule("DEV", "2026-13-01 10:00"), 2, "2026-13-01");
  ExpectRefused("heidi", schedule("DEV", "2026-02-30 10:00"), 2, "2026-02-30");
  ExpectRefused("heidi", schedule("DEV", "2026-12-01 25:00"), 2, "25:00");
  ExpectRefused("heidi", schedule("DEV", "2026-12-01T10:00:00+25:00"), 2, "offset");
  ExpectRefused("heidi", schedule("DEV", "2026-12-01T10:00:00Zjunk"), 2, "trailing");
  ExpectRefused("heidi", schedule("DEV", "2026-11-29 10:00"), 2, "in the past");
  ExpectRefused("heidi", schedule("DEV", "2026-11-30T08:59:59Z"), 2, "in the past");
  ExpectRefused("heidi", schedule("STAGING", "2026-12-01 10:00"), 3, "STAGING");
  ExpectRefused("heidi", schedule("dev", "2026-12-01 10:00"), 3, "dev");
  // A newline in the value cannot forge a second line in the message.
  CommandOutput forged = h_.RunAs("heidi", schedule("DEV", "2026-12-01\nrollgate: approved"));
  EXPECT_EQ(forged.exit_code, 2);
  EXPECT_THAT(forged.err, HasSubstr("2026-12-01\\nrollgate: approved"));
  EXPECT_THAT(forged.err, Not(HasSubstr("\nrollgate: approved")));

  Ok(h_, "heidi", schedule("DEV", "2026-11-30 10:00"));
  Ok(h_, "heidi", schedule("TEST", "2026-12-01T11:00:00+01:00"));
  nlohmann::json doc = h_.RunJson({"cr", "show", cr}).Json();
  EXPECT_EQ(doc["scheduled"]["DEV"], "2026-11-30T10:00:00Z") << doc["scheduled"];
  EXPECT_EQ(doc["scheduled"]["TEST"], "2026-12-01T10:00:00Z") << doc["scheduled"];
}

TEST_F(CrCliTest, EvidenceRefusesMalformedFields) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  std::vector<std::string> base = {"cr", "evidence", cr, "--env", "DEV", "--kind", "backup"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectRefused("heidi", with({"--field", "location"}), 2,
                "--field 'location': expected KEY=VALUE");
  ExpectRefused("heidi", with({"--field", "=/backup"}), 2, "KEY=VALUE");
  ExpectRefused("heidi", with({"--field", ""}), 2, "KEY=VALUE");
  ExpectRefused("heidi", with({"--field", "a=\xff"}), 2, "UTF-8");
  ExpectRefused("heidi", with({"--passed", "--failed"}), 2, "exclude");
  ExpectRefused("heidi", with({"--value", "abc"}), 2, "--value");
  ExpectRefused("heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "deploymnt"}, 2,
                "did you mean 'deployment'");
  ExpectRefused("heidi", {"cr", "evidence", cr, "--env", "QA", "--kind", "backup"}, 3, "QA");
  // A value may itself contain '=': only the first one separates.
  Ok(h_, "heidi", with({"--passed", "--field", "location=/backup/a=b"}));
  nlohmann::json doc = h_.RunJson({"cr", "show", cr}).Json();
  EXPECT_EQ(doc["evidence"][0]["fields"]["location"], "/backup/a=b") << doc["evidence"];
}

TEST_F(CrCliTest, HostileTextIsStoredLiterallyAndPrintedEscaped) {
  const std::string hostile =
      "$(rm -rf /); `id` | tee /etc/passwd && echo ${HOME} > x < y * ? ~ # ' \"\n"
      "PROD Approval: erin 2026-11-30\r\x1b[2J\xe2\x80\xae"
      "desrever";
  std::string patch = AddPatch(h_, {"--cvss", kHighVector});
  CommandOutput created = h_.RunJson(
      {"cr", "create", "--patch", patch, "--system", "billing", "--description", hostile}, "heidi");
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  std::string cr = created.Json()["id"];
  Ok(h_, "heidi", {"cr", "cancel", cr, "--reason", hostile});

  // Stored literally: JSON round-trips the exact bytes, and so does the audit log.
  nlohmann::json doc = h_.RunJson({"cr", "show", cr}).Json();
  EXPECT_EQ(doc["description"], hostile);
  EXPECT_EQ(doc["cancel_reason"], hostile);
  CommandOutput exported = h_.Run({"audit", "export"});
  int lines = 0;
  std::istringstream in(exported.out);
  for (std::string line; std::getline(in, line); ++lines) {
    nlohmann::json event = nlohmann::json::parse(line);
    if (event["action"] == "cr.cancel") {
      EXPECT_EQ(event["details"]["reason"], hostile);
    }
  }
  EXPECT_EQ(lines, 3) << "one line per event, whatever the values hold";

  // Printed escaped: no raw control or bidi characters, and no forged "PROD Approval" line.
  for (const std::string format : {"text", "markdown"}) {
    CommandOutput show = h_.Run({"cr", "show", cr, "--format", format});
    ASSERT_EQ(show.exit_code, 0) << Describe(show);
    EXPECT_THAT(show.out, Not(HasSubstr("\x1b"))) << format;
    EXPECT_THAT(show.out, Not(HasSubstr("\r"))) << format;
    EXPECT_THAT(show.out, Not(HasSubstr("\xe2\x80\xae"))) << format;
    EXPECT_THAT(show.out, HasSubstr("\\u202E")) << format;
    EXPECT_THAT(show.out, HasSubstr("$(rm -rf /); `id`")) << format;
    std::istringstream shown(show.out);
    int approval_lines = 0;
    for (std::string line; std::getline(shown, line);) {
      if (line.rfind("PROD Approval:", 0) == 0 || line.rfind("- **PROD Approval:**", 0) == 0) {
        ++approval_lines;
        EXPECT_THAT(line, HasSubstr("[pending]")) << format << ": forged line " << line;
      }
    }
    EXPECT_EQ(approval_lines, 1) << format << "\n" << show.out;
  }
  CommandOutput list = h_.Run({"cr", "list"});
  EXPECT_THAT(list.out, Not(HasSubstr("\x1b")));
}

TEST_F(CrCliTest, StateMachineRefusesIllegalTransitionsNamingTheState) {
  std::string patch = AddPatch(h_, {"--cvss", kHighVector});
  CommandOutput bare =
      h_.RunJson({"cr", "create", "--patch", patch, "--system", "billing"}, "heidi");
  std::string cr = bare.Json()["id"];
  // Submit names every missing §2.2 item at once.
  ExpectRefused("heidi", {"cr", "submit", cr}, 2, "missing description");
  CommandOutput submit = h_.RunAs("heidi", {"cr", "submit", cr});
  EXPECT_THAT(submit.err, AllOf(HasSubstr("implementation plan"), HasSubstr("rollback plan"),
                                HasSubstr("risk assessment"), HasSubstr("test plan"),
                                HasSubstr("security-impact-assessment")));
  ExpectRefused("alice", {"cr", "approve", cr, "--env", "DEV"}, 2, "it is draft");
  ExpectRefused("heidi", {"cr", "close", cr}, 2, "it is draft");
  ExpectRefused("heidi", {"cr", "cancel", cr, "--reason", "  "}, 2, "reason");

  std::string full = SubmittedCr(h_, {"--cvss", kHighVector});
  ExpectRefused("heidi", {"cr", "submit", full}, 2, "it is submitted");
  ExpectRefused("alice", {"cr", "reject", full, "--env", "TEST", "--reason", "no"}, 4,
                "test-manager");
  ExpectRefused("bob", {"cr", "reject", full, "--env", "TEST"}, 2, "--reason");
  Ok(h_, "bob", {"cr", "reject", full, "--env", "TEST", "--reason", "regression risk"});
  EXPECT_EQ(h_.RunJson({"cr", "show", full}).Json()["state"], "rejected");
  ExpectRefused("bob", {"cr", "approve", full, "--env", "TEST"}, 2, "it is rejected");
  ExpectRefused("heidi", {"cr", "cancel", full, "--reason", "x"}, 2, "it is rejected");

  Ok(h_, "heidi", {"cr", "cancel", cr, "--reason", "superseded"});
  EXPECT_EQ(h_.RunJson({"cr", "show", cr}).Json()["state"], "cancelled");
  ExpectRefused("heidi", {"cr", "submit", cr}, 2, "it is cancelled");
}

TEST_F(CrCliTest, ApprovalsAreRefusedAsThePlaybookDemands) {
  // alice (development lead) raises the CR herself.
  std::string own = SubmittedCr(h_, {"--cvss", kHighVector}, "alice");
  ExpectRefused("alice", {"cr", "approve", own, "--env", "DEV"}, 4, "separation of duties");
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  ExpectRefused("heidi", {"cr", "approve", cr, "--env", "DEV"}, 4, "development-lead");
  ExpectRefused("bob", {"cr", "approve", cr, "--env", "DEV"}, 4, "development-lead");
  ExpectRefused("nick", {"cr", "approve", cr, "--env", "PROD"}, 4, "cab-member");
  ExpectRefused("alice", {"cr", "approve", cr, "--env", "PROD"}, 4, "cab-member");
  ExpectRefused("alice", {"cr", "approve", cr, "--env", "QA"}, 3, "QA");
  ExpectRefused("alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "uat"}, 2, "dev-lead");
  ExpectRefused("bob", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"}, 4,
                "development-lead");
  Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
  // One person counts once (a Conflict: exit 2, docs/error-policy.md).
  ExpectRefused("alice", {"cr", "approve", cr, "--env", "DEV"}, 2, "counts once");
  ExpectRefused("alice", {"cr", "approve", own, "--env", "DEV"}, 4, "separation of duties");
  ExpectRefused("alice", {"cr", "signoff", own, "--env", "DEV", "--kind", "dev-lead"}, 4,
                "separation of duties");
  nlohmann::json doc = h_.RunJson({"cr", "show", cr}).Json();
  ASSERT_EQ(doc["approvals"].size(), 1u);
  EXPECT_EQ(doc["approvals"][0]["approver"], "alice");
  EXPECT_EQ(doc["approvals"][0]["role"], "development-lead");
  EXPECT_EQ(doc["approvals"][0]["counts"], true);
  EXPECT_EQ(doc["state"], "in-progress");
}

TEST_F(CrCliTest, AnAdminRequesterCannotApproveTheirOwnChange) {
  std::string config = h_.ReadFile("rollgate.yaml");
  std::string nick = "unix_user: nick, roles: [admin]";
  ASSERT_NE(config.find(nick), std::string::npos);
  config.replace(config.find(nick), nick.size(),
                 "unix_user: nick, roles: [admin, development-lead, cab-chair]");
  h_.WriteConfig(config);
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector}, "nick");
  ExpectRefused("nick", {"cr", "approve", cr, "--env", "DEV"}, 4, "separation of duties");
  ExpectRefused("nick", {"cr", "approve", cr, "--env", "PROD"}, 4, "separation of duties");
  ExpectRefused("nick", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"}, 4,
                "separation of duties");
  Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
}

TEST_F(CrCliTest, AnEditAfterSubmissionVoidsEarlierApprovalsAndSignoffs) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
  Ok(h_, "alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"});
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30T10:00:00Z"});
  EXPECT_EQ(GateCheck(h_, cr, "DEV")["passed"], true);

  ExpectRefused("heidi", {"cr", "edit", cr}, 2, "nothing to change");
  ExpectRefused("heidi", {"cr", "edit", cr, "--risk", "Low: restart of billing only"}, 2,
                "nothing to change");
  ExpectRefused("heidi", {"cr", "edit", cr, "--downtime", "soon"}, 2, "soon");
  ExpectRefused("heidi", {"cr", "edit", cr, "--test-plan", "missing.md"}, 2, "missing.md");
  ExpectRefused("heidi", {"cr", "edit", cr, "--description", "\xff"}, 2, "UTF-8");
  ExpectRefused("heidi", {"cr", "edit", "CR-x", "--risk", "x"}, 2, "invalid change request id");
  ExpectRefused("heidi", {"cr", "edit", "CR-9", "--risk", "x"}, 3, "CR-9");
  ExpectRefused("heidi", {"cr", "edit", cr, "--risk", "x", "--rsk", "y"}, 2, "--rsk");

  CommandOutput edited =
      h_.RunJson({"cr", "edit", cr, "--risk", "Medium: touches the payment path"}, "heidi");
  ASSERT_EQ(edited.exit_code, 0) << Describe(edited);
  nlohmann::json doc = edited.Json();
  EXPECT_EQ(doc["revision"], 2);
  EXPECT_EQ(doc["risk_assessment"], "Medium: touches the payment path");
  ASSERT_EQ(doc["approvals"].size(), 1u);
  EXPECT_EQ(doc["approvals"][0]["revision"], 1);
  EXPECT_EQ(doc["approvals"][0]["counts"], false) << "an approval of revision 1 is void";

  nlohmann::json dev = GateCheck(h_, cr, "DEV");
  EXPECT_EQ(dev["passed"], false);
  EXPECT_THAT(Missing(dev, "approval"), HasSubstr("revision 1"));
  // The same person may approve the new revision.
  Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
  EXPECT_EQ(GateCheck(h_, cr, "DEV")["passed"], true);
  std::string exported = h_.Run({"audit", "export"}).out;
  EXPECT_THAT(exported, HasSubstr("\"action\":\"cr.edit\""));
  EXPECT_THAT(exported, HasSubstr("\"changed\":[\"risk_assessment\"]"));

  Ok(h_, "heidi", {"cr", "cancel", cr, "--reason", "replaced"});
  ExpectRefused("heidi", {"cr", "edit", cr, "--risk", "y"}, 2, "it is cancelled");
}

TEST_F(CrCliTest, ShowRendersEveryAppendixBHeadingInEachFormat) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  const std::vector<std::string> headings = {"CHANGE REQUEST",     "CLASSIFICATION", "APPROVALS",
                                             "DEPLOYMENT DETAILS", "ROLLBACK PLAN",  "VALIDATION",
                                             "POST-DEPLOYMENT"};
  CommandOutput text = h_.Run({"cr", "show", cr, "--format", "text"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  size_t previous = 0;
  for (const auto& heading : headings) {
    size_t at = text.out.find(heading + "\n" + std::string(heading.size(), '='));
    ASSERT_NE(at, std::string::npos) << heading << "\n" << text.out;
    EXPECT_GE(at, previous) << heading << " out of the template's order";
    previous = at;
  }
  EXPECT_THAT(text.out, HasSubstr("CR Number: " + cr));
  EXPECT_THAT(text.out, HasSubstr("CVSS Score: 7.5"));
  EXPECT_EQ(h_.Run({"cr", "show", cr}).out, text.out) << "text is the default";

  CommandOutput markdown = h_.Run({"cr", "show", cr, "--format", "markdown"});
  ASSERT_EQ(markdown.exit_code, 0);
  EXPECT_THAT(markdown.out, HasSubstr("# CHANGE REQUEST\n"));
  for (size_t i = 1; i < headings.size(); ++i) {
    EXPECT_THAT(markdown.out, HasSubstr("## " + headings[i] + "\n"));
  }
  EXPECT_THAT(markdown.out, HasSubstr("- **CR Number:** " + cr));

  CommandOutput json = h_.Run({"cr", "show", cr, "--format", "json"});
  ASSERT_EQ(json.exit_code, 0);
  nlohmann::json doc = json.Json();
  std::vector<std::string> sections;
  for (const auto& s : doc["document"]) sections.push_back(s["heading"]);
  for (const auto& heading : headings) {
    EXPECT_NE(std::find(sections.begin(), sections.end(), heading), sections.end()) << heading;
  }
  EXPECT_EQ(h_.RunJson({"cr", "show", cr}).Json(), doc) << "--output json means --format json";

  ExpectRead("", {"cr", "show", cr, "--format", "yaml"}, 2, "yaml");
  // --output json promises JSON on stdout: a text format with it is a usage error.
  CommandOutput clash = h_.RunJson({"cr", "show", cr, "--format", "markdown"});
  EXPECT_EQ(clash.exit_code, 2) << Describe(clash);
  EXPECT_EQ(clash.Json()["error"]["code"], "INVALID_ARGUMENT");
}

TEST_F(CrCliTest, ListFiltersByStateSystemAndClassification) {
  std::string critical = SubmittedCr(h_, {"--cvss", kCriticalVector, "--exploited"});  // P1
  std::string high = CreateCr(h_, AddPatch(h_, {"--cvss", kHighVector}));              // P2 draft
  std::string medium = SubmittedCr(h_, {"--cvss", kMediumVector});                     // P3
  Ok(h_, "heidi", {"cr", "cancel", medium, "--reason", "duplicate"});

  auto ids = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"cr", "list"});
    CommandOutput r = h_.RunJson(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    std::vector<std::string> out;
    for (const auto& row : r.Json()) {
      for (const char* field : {"id", "title", "state", "classification", "system", "emergency",
                                "requester", "created_at", "updated_at", "next_deadline"}) {
        EXPECT_TRUE(row.contains(field)) << field;
      }
      out.push_back(row["id"]);
    }
    return out;
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(ids({}), ElementsAre(critical, high, medium));
  EXPECT_THAT(ids({"--state", "submitted"}), ElementsAre(critical));
  EXPECT_THAT(ids({"--state", "draft"}), ElementsAre(high));
  EXPECT_THAT(ids({"--state", "cancelled"}), ElementsAre(medium));
  EXPECT_THAT(ids({"--state", "closed"}), IsEmpty());
  EXPECT_THAT(ids({"--classification", "P1"}), ElementsAre(critical));
  EXPECT_THAT(ids({"--classification", "P3"}), ElementsAre(medium));
  EXPECT_THAT(ids({"--classification", "P4"}), IsEmpty());
  EXPECT_THAT(ids({"--system", "billing"}), ElementsAre(critical, high, medium));
  EXPECT_THAT(ids({"--system", "payroll"}), IsEmpty());
  EXPECT_THAT(ids({"--system", "billing", "--state", "draft", "--classification", "P2"}),
              ElementsAre(high));
  EXPECT_THAT(ids({"--limit", "2"}), ElementsAre(critical, high));

  ExpectRead("", {"cr", "list", "--state", "open"}, 2, "open");
  ExpectRead("", {"cr", "list", "--classification", "P9"}, 2, "P9");
  ExpectRead("", {"cr", "list", "--limit", "0"}, 2, "--limit");
  ExpectRead("", {"cr", "list", "--limit", "-3"}, 2, "--limit");

  CommandOutput text = h_.Run({"cr", "list", "--classification", "P1"});
  EXPECT_THAT(text.out, AllOf(HasSubstr(critical), HasSubstr("[emergency]")));
  CommandOutput none = h_.Run({"cr", "list", "--state", "closed"});
  EXPECT_EQ(none.out, "");
  EXPECT_THAT(none.err, HasSubstr("no change requests match"));
}

TEST_F(CrCliTest, ChecklistIsComputedFromRecordedEvidence) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  auto item = [&](const std::string& name) {
    CommandOutput r = h_.RunJson({"cr", "checklist", cr, "--env", "DEV"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    nlohmann::json doc = r.Json();
    for (const auto& i : doc["items"]) {
      EXPECT_TRUE(i.contains("section") && i.contains("item") && i.contains("done") &&
                  i.contains("evidence"));
      if (i["item"].get<std::string>().find(name) != std::string::npos) return i;
    }
    ADD_FAILURE() << "no checklist item " << name << " in " << r.out;
    return nlohmann::json();
  };
  nlohmann::json backup = item("Backup completed");
  EXPECT_EQ(backup["done"], false);
  EXPECT_THAT(backup["section"].get<std::string>(), HasSubstr("8.1"));
  EXPECT_THAT(backup["evidence"].get<std::string>(), HasSubstr("missing"));
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "backup", "--passed", "--field",
      "location=/backup/billing"});
  backup = item("Backup completed");
  EXPECT_EQ(backup["done"], true) << backup;
  EXPECT_THAT(backup["evidence"].get<std::string>(), HasSubstr("heidi"));

  CommandOutput text = h_.Run({"cr", "checklist", cr, "--env", "DEV"});
  EXPECT_THAT(text.out, AllOf(HasSubstr("[x] Backup completed"), HasSubstr("items done")));
  ExpectRead("", {"cr", "checklist", cr, "--env", "UAT"}, 3, "UAT");
  ExpectRead("", {"cr", "checklist", cr}, 2, "--env");
}

TEST_F(CrCliTest, AMistypedFlagNeverChangesTheStore) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  int64_t events = h_.AuditEvents();
  const std::vector<std::vector<std::string>> typos = {
      {"cr", "approve", cr, "--env", "DEV", "--dry-run"},
      {"cr", "approve", cr, "--env", "DEV", "--verbl"},
      {"cr", "approve", cr, "--evn", "DEV"},
      {"cr", "approve", cr, "--env", "DEV", "extra"},
      {"cr", "approve", cr, "CR-2", "--env", "DEV"},
      {"cr", "approve", cr, "--env", "DEV", "--env", "TEST"},
      {"cr", "approve", cr, "--env", "DEV", "-x"},
      {"cr", "approve", cr, "--env", "DEV", "--output", "yaml"},
      {"--stor", "sqlite:/tmp/elsewhere.db", "cr", "approve", cr, "--env", "DEV"},
      {"cr", "cancel", cr, "--reson", "x"},
      {"cr", "evidence", cr, "--env", "DEV", "--kind", "smoke", "--feild", "a=b"},
      {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-12-01 10:00", "--force"},
      {"cr", "create", "--patch", "PATCH-1", "--system", "billing", "--downtim", "5m"},
      {"patch", "add", "--title", "t", "--source", "vendor-advisory", "--cvs", kHighVector},
      {"cr", "aprove", cr, "--env", "DEV"},
      {"cr"},
      {},
  };
  for (const auto& args : typos) {
    std::string before = h_.StoreDump();
    CommandOutput r = h_.RunAs("alice", args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << Describe(r);
    EXPECT_EQ(r.out, "") << ::testing::PrintToString(args);
    EXPECT_EQ(h_.StoreDump(), before) << ::testing::PrintToString(args);
  }
  EXPECT_EQ(h_.AuditEvents(), events);
  EXPECT_FALSE(std::filesystem::exists("/tmp/elsewhere.db"));
}

}  // namespace
}  // namespace rollgate::e2e
