// Governance flows through the real binary: the standard DEV -> TEST -> PROD path with the gate
// report checked at every stage, and the emergency path with verbal approvals (playbook §3, §4.3,
// §5.2, §5.3).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class GateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.SetNow(kMonday);
  }
  CliHarness h_;
};

TEST_F(GateCliTest, StandardPathDevTestProdNamesWhatIsMissingAtEveryStage) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  ASSERT_EQ(cr, "CR-1");

  // DEV: nothing approved or scheduled yet.
  nlohmann::json dev = GateCheck(h_, cr, "DEV");
  EXPECT_EQ(dev["passed"], false);
  EXPECT_EQ(dev["cr"], cr);
  EXPECT_EQ(dev["environment"], "DEV");
  EXPECT_THAT(FailedGates(dev), UnorderedElementsAre("approval", "lead-time", "freeze"));
  EXPECT_THAT(Missing(dev, "approval"), HasSubstr("development-lead"));
  EXPECT_THAT(Missing(dev, "lead-time"), HasSubstr("no start scheduled for DEV"));
  // DEV has no previous environment and needs neither a window nor a tested rollback.
  EXPECT_EQ(Missing(dev, "previous-environment"), "<not evaluated>");
  EXPECT_EQ(Missing(dev, "maintenance-window"), "<not evaluated>");

  Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30T10:00:00Z"});
  dev = GateCheck(h_, cr, "DEV");
  EXPECT_EQ(dev["passed"], true) << dev;
  EXPECT_THAT(FailedGates(dev), IsEmpty());

  // DEV ran (the engine's evidence, recorded by hand here).
  h_.SetNow("2026-11-30T11:00:00Z");
  Ok(h_, "heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "deployment", "--passed"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "smoke", "--passed", "--value", "100"});

  // TEST: no test manager approval, no dev-lead sign-off, no schedule.
  nlohmann::json test = GateCheck(h_, cr, "TEST");
  EXPECT_EQ(test["passed"], false);
  EXPECT_THAT(FailedGates(test),
              UnorderedElementsAre("approval", "lead-time", "exit-signoffs", "freeze"));
  EXPECT_THAT(Missing(test, "approval"), HasSubstr("test-manager"));
  EXPECT_THAT(Missing(test, "exit-signoffs"), HasSubstr("dev-lead"));
  EXPECT_EQ(Missing(test, "previous-environment"), "");

  Ok(h_, "alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"});
  Ok(h_, "bob", {"cr", "approve", cr, "--env", "TEST"});
  // Two hours out is short of TEST's 24-hour lead time (measured from submission).
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "TEST", "--at", "2026-11-30T13:00:00Z"});
  test = GateCheck(h_, cr, "TEST");
  EXPECT_THAT(FailedGates(test), ElementsAre("lead-time"));
  EXPECT_THAT(Missing(test, "lead-time"), HasSubstr("2026-12-01"));
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "TEST", "--at", "2026-12-01T10:00:00Z"});
  test = GateCheck(h_, cr, "TEST");
  EXPECT_EQ(test["passed"], true) << test;

  h_.SetNow("2026-12-01T12:00:00Z");
  Ok(h_, "ivan", {"cr", "evidence", cr, "--env", "TEST", "--kind", "deployment", "--passed"});
  Ok(h_, "ivan",
     {"cr", "evidence", cr, "--env", "TEST", "--kind", "smoke", "--passed", "--value", "100"});
  Ok(h_, "ivan",
     {"cr", "evidence", cr, "--env", "TEST", "--kind", "regression", "--value", "93", "--detail",
      "186 of 200 passed"});

  // PROD: everything the playbook's §3.3 prerequisites and §4.3 sign-offs name.
  nlohmann::json prod = GateCheck(h_, cr, "PROD");
  EXPECT_EQ(prod["passed"], false);
  EXPECT_THAT(FailedGates(prod),
              UnorderedElementsAre("approval", "lead-time", "exit-signoffs",
                                   "test-results-approved", "regression", "uat-signoff",
                                   "rollback-tested", "maintenance-window", "freeze"));
  EXPECT_THAT(Missing(prod, "approval"), HasSubstr("cab-member"));
  EXPECT_THAT(Missing(prod, "regression"), HasSubstr("93"));
  EXPECT_THAT(Missing(prod, "regression"), HasSubstr("95"));
  EXPECT_THAT(Missing(prod, "uat-signoff"), HasSubstr("uat"));
  EXPECT_THAT(Missing(prod, "exit-signoffs"), HasSubstr("business-analyst"));
  EXPECT_THAT(Missing(prod, "rollback-tested"), HasSubstr("rollback-tested"));
  EXPECT_EQ(Missing(prod, "smoke"), "");
  EXPECT_EQ(Missing(prod, "rollback-plan"), "");

  Ok(h_, "ivan",
     {"cr", "evidence", cr, "--env", "TEST", "--kind", "regression", "--value", "97.5"});
  Ok(h_, "bob", {"cr", "signoff", cr, "--env", "TEST", "--kind", "test-manager"});
  Ok(h_, "carol", {"cr", "signoff", cr, "--env", "TEST", "--kind", "business-analyst"});
  Ok(h_, "carol", {"cr", "signoff", cr, "--env", "TEST", "--kind", "uat"});
  Ok(h_, "dave", {"cr", "approve", cr, "--env", "PROD"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "TEST", "--kind", "rollback-tested", "--passed", "--value",
      "240"});
  // Thursday 22:00 is inside the weekly window but short of 5 business days after Monday's
  // submission.
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-03T22:00:00Z"});
  prod = GateCheck(h_, cr, "PROD");
  EXPECT_THAT(FailedGates(prod), ElementsAre("lead-time"));
  EXPECT_THAT(Missing(prod, "lead-time"), HasSubstr("2026-12-07"));
  // Tuesday noon is after the lead time but outside every PROD window.
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-08T12:00:00Z"});
  prod = GateCheck(h_, cr, "PROD");
  EXPECT_THAT(FailedGates(prod), ElementsAre("maintenance-window"));
  // Tuesday 22:00 in the year-end freeze.
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-22T22:00:00Z"});
  prod = GateCheck(h_, cr, "PROD");
  EXPECT_THAT(FailedGates(prod), ElementsAre("freeze"));
  EXPECT_THAT(Missing(prod, "freeze"), HasSubstr("year-end"));
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-08T22:00:00Z"});
  prod = GateCheck(h_, cr, "PROD");
  EXPECT_EQ(prod["passed"], true) << prod;

  // The text form names the same verdict.
  CommandOutput text = h_.Run({"gate", "check", cr, "--env", "PROD"});
  EXPECT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("ALL PASSED"));
}

TEST_F(GateCliTest, GateCheckRefusesUnknownCrAndEnvironmentWithExitThree) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput env = h_.RunJson({"gate", "check", cr, "--env", "STAGING"});
  EXPECT_EQ(env.exit_code, 3) << Describe(env);
  EXPECT_THAT(env.err, HasSubstr("STAGING"));
  EXPECT_EQ(env.Json()["error"]["code"], "NOT_FOUND");
  CommandOutput missing = h_.RunJson({"gate", "check", "CR-42", "--env", "DEV"});
  EXPECT_EQ(missing.exit_code, 3) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("CR-42"));
  CommandOutput no_env = h_.Run({"gate", "check", cr});
  EXPECT_EQ(no_env.exit_code, 2) << Describe(no_env);
  EXPECT_THAT(no_env.err, HasSubstr("--env"));
}

class EmergencyCliTest : public GateCliTest {
 protected:
  // A P1 exploited patch's CR, submitted, with DEV approved, run and signed off.
  std::string EmergencyCrThroughDev() {
    std::string cr =
        SubmittedCr(h_, {"--cvss", kCriticalVector, "--exploited", "--cve", "CVE-2026-4242"});
    CommandOutput show = h_.RunJson({"cr", "show", cr});
    EXPECT_EQ(show.Json()["emergency"], true) << Describe(show);
    Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
    Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30T09:30:00Z"});
    Ok(h_, "heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "deployment", "--passed"});
    Ok(h_, "heidi",
       {"cr", "evidence", cr, "--env", "DEV", "--kind", "smoke", "--passed", "--value", "100"});
    Ok(h_, "alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"});
    return cr;
  }
};

TEST_F(EmergencyCliTest, VerbalApprovalSkipsTestWithRiskAcceptanceAndOnlyTheApproverConfirms) {
  std::string cr = EmergencyCrThroughDev();

  // Verbal approvals need the emergency approver roles and an --approver.
  CommandOutput member =
      h_.RunAs("heidi", {"cr", "approve", cr, "--env", "PROD", "--verbal", "--approver", "dave"});
  EXPECT_EQ(member.exit_code, 4) << Describe(member);
  EXPECT_THAT(member.err, HasSubstr("cab-chair"));
  CommandOutput no_approver = h_.RunAs("heidi", {"cr", "approve", cr, "--env", "PROD", "--verbal"});
  EXPECT_EQ(no_approver.exit_code, 2) << Describe(no_approver);
  EXPECT_THAT(no_approver.err, HasSubstr("--approver"));
  CommandOutput stray =
      h_.RunAs("dave", {"cr", "approve", cr, "--env", "PROD", "--conditions", "x"});
  EXPECT_EQ(stray.exit_code, 2) << Describe(stray);
  CommandOutput ghost =
      h_.RunAs("heidi", {"cr", "approve", cr, "--env", "PROD", "--verbal", "--approver", "ghost"});
  EXPECT_EQ(ghost.exit_code, 3) << Describe(ghost);

  CommandOutput verbal =
      h_.RunJson({"cr", "approve", cr, "--env", "PROD", "--verbal", "--approver", "erin",
                  "--conditions", "roll back at the first payment error"},
                 "heidi");
  ASSERT_EQ(verbal.exit_code, 0) << Describe(verbal);
  nlohmann::json approval;
  nlohmann::json verbal_doc = verbal.Json();
  for (const auto& a : verbal_doc["approvals"]) {
    if (a["environment"] == "PROD") approval = a;
  }
  EXPECT_EQ(approval["approver"], "erin");
  EXPECT_EQ(approval["verbal"], true);
  EXPECT_EQ(approval["recorded_by"], "heidi");
  EXPECT_EQ(approval["conditions"], "roll back at the first payment error");
  EXPECT_EQ(approval["confirmation_due"], "2026-12-01T09:00:00Z");

  // The standard path still refuses PROD; the emergency path names what it needs.
  nlohmann::json standard = GateCheck(h_, cr, "PROD");
  EXPECT_EQ(standard["passed"], false);
  EXPECT_NE(Missing(standard, "test-results-approved"), "");
  nlohmann::json emergency = GateCheck(h_, cr, "PROD", /*emergency=*/true);
  EXPECT_EQ(emergency["emergency"], true);
  EXPECT_EQ(Missing(emergency, "approval"), "");
  EXPECT_EQ(Missing(emergency, "emergency-classification"), "");
  EXPECT_THAT(Missing(emergency, "risk-acceptance"), HasSubstr("risk-acceptance"));
  EXPECT_THAT(Missing(emergency, "previous-environment"), "");
  EXPECT_EQ(Missing(emergency, "regression"), "<not evaluated>");
  EXPECT_EQ(Missing(emergency, "uat-signoff"), "<not evaluated>");

  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "PROD", "--kind", "risk-acceptance", "--passed", "--detail",
      "accepted by erin: TEST skipped"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "rollback-tested", "--passed", "--value",
      "300"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "PROD", "--kind", "maintenance-window-confirmed", "--passed"});
  // Two hours after submission is short of the emergency lead time (4 h); five hours is not.
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-11-30T11:00:00Z"});
  emergency = GateCheck(h_, cr, "PROD", true);
  EXPECT_THAT(FailedGates(emergency), ElementsAre("lead-time"));
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-11-30T14:00:00Z"});
  emergency = GateCheck(h_, cr, "PROD", true);
  EXPECT_EQ(emergency["passed"], true) << emergency;

  // Only erin may confirm her verbal approval in writing.
  for (const std::string person : {"heidi", "grace", "dave", "nick"}) {
    CommandOutput r = h_.RunAs(person, {"cr", "confirm", cr, "--env", "PROD"});
    EXPECT_EQ(r.exit_code, 4) << person << ": " << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("only the approver"));
  }
  CommandOutput nothing = h_.RunAs("erin", {"cr", "confirm", cr, "--env", "DEV"});
  EXPECT_EQ(nothing.exit_code, 3) << Describe(nothing);
  h_.SetNow("2026-11-30T10:00:00Z");
  CommandOutput confirmed = h_.RunJson({"cr", "confirm", cr, "--env", "PROD"}, "erin");
  ASSERT_EQ(confirmed.exit_code, 0) << Describe(confirmed);
  EXPECT_THAT(confirmed.Json()["overdue_confirmations"], IsEmpty());
  CommandOutput again = h_.RunAs("erin", {"cr", "confirm", cr, "--env", "PROD"});
  EXPECT_NE(again.exit_code, 0) << Describe(again);
}

TEST_F(EmergencyCliTest, UnconfirmedVerbalApprovalBecomesOverdueAfter24Hours) {
  std::string cr = EmergencyCrThroughDev();
  Ok(h_, "heidi",
     {"cr", "approve", cr, "--env", "PROD", "--verbal", "--approver", "grace", "--conditions",
      "security team on call"});
  Ok(h_, "heidi", {"cr", "evidence", cr, "--env", "PROD", "--kind", "risk-acceptance", "--passed"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "rollback-tested", "--passed", "--value",
      "300"});
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "PROD", "--kind", "maintenance-window-confirmed", "--passed"});
  Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-12-01T18:00:00Z"});
  // A second CR without verbal approvals must never be listed as overdue.
  std::string other = SubmittedCr(h_, {"--cvss", kHighVector});

  // One second before the deadline: due, not overdue.
  h_.SetNow("2026-12-01T08:59:59Z");
  CommandOutput before = h_.RunJson({"cr", "list", "--overdue"});
  ASSERT_EQ(before.exit_code, 0) << Describe(before);
  EXPECT_THAT(before.Json(), IsEmpty());
  EXPECT_EQ(GateCheck(h_, cr, "PROD", true)["passed"], true);
  CommandOutput listed = h_.RunJson({"cr", "list"});
  nlohmann::json rows = listed.Json();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["unconfirmed_verbal_approval"], true);
  EXPECT_EQ(rows[0]["next_deadline"], "2026-12-01T09:00:00Z");
  EXPECT_EQ(rows[1]["unconfirmed_verbal_approval"], false);

  // One second after: overdue in the list, the document, the checklist; no longer counted.
  h_.SetNow("2026-12-01T09:00:01Z");
  CommandOutput overdue = h_.RunJson({"cr", "list", "--overdue"});
  ASSERT_EQ(overdue.exit_code, 0) << Describe(overdue);
  nlohmann::json overdue_rows = overdue.Json();
  ASSERT_EQ(overdue_rows.size(), 1u) << overdue.out;
  EXPECT_EQ(overdue_rows[0]["id"], cr);
  CommandOutput overdue_text = h_.Run({"cr", "list", "--overdue"});
  EXPECT_THAT(overdue_text.out, HasSubstr(cr));
  EXPECT_THAT(overdue_text.out, ::testing::Not(HasSubstr(other + " ")));

  CommandOutput show = h_.Run({"cr", "show", cr});
  EXPECT_THAT(show.out, HasSubstr("overdue since 2026-12-01 09:00"));
  CommandOutput show_json = h_.RunJson({"cr", "show", cr});
  EXPECT_EQ(show_json.Json()["overdue_confirmations"].size(), 1u) << show_json.out;

  nlohmann::json gates = GateCheck(h_, cr, "PROD", true);
  EXPECT_THAT(FailedGates(gates), ElementsAre("approval"));
  EXPECT_THAT(Missing(gates, "approval"), HasSubstr("overdue"));

  CommandOutput checklist = h_.RunJson({"cr", "checklist", cr, "--env", "PROD"});
  bool named_overdue = false;
  nlohmann::json checklist_doc = checklist.Json();
  for (const auto& item : checklist_doc["items"]) {
    if (item["evidence"].get<std::string>().find("overdue") != std::string::npos) {
      named_overdue = true;
      EXPECT_EQ(item["done"], false) << item;
    }
  }
  EXPECT_TRUE(named_overdue) << checklist.out;

  // A late confirmation is accepted and audited as late.
  CommandOutput late = h_.RunAs("grace", {"cr", "confirm", cr, "--env", "PROD"});
  ASSERT_EQ(late.exit_code, 0) << Describe(late);
  EXPECT_THAT(h_.RunJson({"cr", "list", "--overdue"}).Json(), IsEmpty());
  CommandOutput exported = h_.Run({"audit", "export", "--format", "jsonl"});
  std::string last_line =
      exported.out.substr(exported.out.rfind('\n', exported.out.size() - 2) + 1);
  nlohmann::json event = nlohmann::json::parse(last_line);
  EXPECT_EQ(event["action"], "cr.confirm");
  EXPECT_EQ(event["actor"], "grace");
  EXPECT_EQ(event["details"]["late"], true);
  EXPECT_EQ(GateCheck(h_, cr, "PROD", true)["passed"], true);
}

TEST_F(EmergencyCliTest, EmergencyPathIsRefusedForAStandardCr) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  nlohmann::json report = GateCheck(h_, cr, "PROD", true);
  EXPECT_EQ(report["passed"], false);
  EXPECT_NE(Missing(report, "emergency-classification"), "");
  CommandOutput verbal =
      h_.RunAs("heidi", {"cr", "approve", cr, "--env", "PROD", "--verbal", "--approver", "erin"});
  EXPECT_NE(verbal.exit_code, 0) << Describe(verbal);
  EXPECT_THAT(verbal.err, HasSubstr("emergency"));
}

}  // namespace
}  // namespace rollgate::e2e
