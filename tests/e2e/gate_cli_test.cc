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
    Justify(cr);
    Ok(h_, "alice", {"cr", "approve", cr, "--env", "DEV"});
    Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30T09:30:00Z"});
    Ok(h_, "heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "deployment", "--passed"});
    Ok(h_, "heidi",
       {"cr", "evidence", cr, "--env", "DEV", "--kind", "smoke", "--passed", "--value", "100"});
    Ok(h_, "alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"});
    return cr;
  }

  // §5.1 step 1, as the requestor records it.
  void Justify(const std::string& cr) {
    Ok(h_, "heidi",
       {"cr", "justify", cr, "--incident",
        "CVE-2026-4242: remote code execution in billing's TLS stack, exploited in the wild",
        "--why", "exploitation is under way; the CAB's 5 business days leave billing exposed"});
  }

  // The starter's emergency channels (a pager command and a chat webhook), made deliverable: the
  // pager writes who it paged to pages.log, and a file channel collects the messages.
  void DeliverableEmergencyChannels() {
    std::string yaml = h_.ReadFile("rollgate.yaml");
    auto replace = [&](const std::string& from, const std::string& to) {
      size_t at = yaml.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      yaml.replace(at, from.size(), to);
    };
    replace("channels: [phone, teams]", "channels: [phone, teams, journal]");
    replace("type: file\n    settings: {path: outbox/phone.txt}",
            "type: command\n    settings: {command: 'echo \"$ROLLGATE_RECIPIENT "
            "$ROLLGATE_RECIPIENT_PHONE\" >> " +
                (h_.dir() / "pages.log").string() + "'}");
    yaml += "  - {name: journal, type: file, settings: {path: notifications.log}}\n";
    h_.WriteConfig(yaml);
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

TEST_F(EmergencyCliTest, EmergencyPathIsRefusedForAP3ChangeNamingTheReason) {
  std::string cr = SubmittedCr(h_, {"--cvss", kMediumVector});
  const std::string reason =
      "PATCH-1 is P3-Moderate with CVSS 5.3 and no exploitation: none of §5.1's criteria";
  nlohmann::json report = GateCheck(h_, cr, "DEV", /*emergency=*/true);
  EXPECT_EQ(report["passed"], false);
  EXPECT_THAT(Missing(report, "emergency-classification"), HasSubstr(reason));

  // deploy --emergency checks the same gates before touching anything: exit 4, the reason named.
  std::string before = h_.StoreDump();
  CommandOutput deploy = h_.RunAs("heidi", {"deploy", cr, "--env", "DEV", "--emergency"});
  EXPECT_EQ(deploy.exit_code, 4) << Describe(deploy);
  EXPECT_THAT(deploy.err, HasSubstr(reason));
  EXPECT_EQ(h_.StoreDump(), before) << "a refused deployment changes nothing";

  // Nor does it take an emergency justification or an emergency approval request.
  CommandOutput justify = h_.RunAs(
      "heidi", {"cr", "justify", cr, "--incident", "slow reports", "--why", "the CFO asked"});
  EXPECT_EQ(justify.exit_code, 4) << Describe(justify);
  EXPECT_THAT(justify.err, HasSubstr(reason));
  CommandOutput request = h_.RunAs("heidi", {"cr", "request-approval", cr});
  EXPECT_EQ(request.exit_code, 4) << Describe(request);
  EXPECT_THAT(request.err, HasSubstr(reason));
  EXPECT_EQ(h_.StoreDump(), before);
}

TEST_F(EmergencyCliTest, EmergencyPathNeedsTheJustificationFirst) {
  std::string cr =
      SubmittedCr(h_, {"--cvss", kCriticalVector, "--exploited", "--cve", "CVE-2026-4242"});
  nlohmann::json report = GateCheck(h_, cr, "DEV", /*emergency=*/true);
  EXPECT_EQ(Missing(report, "emergency-classification"),
            "no emergency justification recorded (playbook §5.1 step 1): rollgate cr justify " +
                cr + " --incident TEXT --why TEXT [--cvss-source TEXT]");
  CommandOutput request = h_.RunAs("heidi", {"cr", "request-approval", cr});
  EXPECT_EQ(request.exit_code, 4) << Describe(request);
  EXPECT_THAT(request.err, HasSubstr("cr justify"));
  CommandOutput blank = h_.RunAs("heidi", {"cr", "justify", cr, "--incident", " ", "--why", "x"});
  EXPECT_EQ(blank.exit_code, 2) << Describe(blank);
  EXPECT_THAT(blank.err, HasSubstr("--incident"));

  CommandOutput justified =
      h_.RunJson({"cr", "justify", cr, "--incident", "CVE-2026-4242 exploited", "--why",
                  "exploitation is under way", "--cvss-source", "NVD, 2026-11-29"},
                 "heidi");
  ASSERT_EQ(justified.exit_code, 0) << Describe(justified);
  nlohmann::json doc = justified.Json();
  EXPECT_EQ(doc["revision"], 2) << "justified after submission: a new revision";
  EXPECT_EQ(doc["emergency_justification"]["cvss_score"], 9.8);
  EXPECT_EQ(doc["emergency_justification"]["cvss_source"], "NVD, 2026-11-29");
  EXPECT_EQ(doc["emergency_justification"]["criteria"].size(), 2u);
  EXPECT_EQ(Missing(GateCheck(h_, cr, "DEV", true), "emergency-classification"), "");

  CommandOutput show = h_.Run({"cr", "show", cr});
  EXPECT_THAT(show.out, HasSubstr("Incident: CVE-2026-4242 exploited\n"));
  EXPECT_THAT(show.out, HasSubstr("Approval type: Emergency (Expedited)\n"));
}

TEST_F(EmergencyCliTest, RequestApprovalAsksEveryEmergencyApproverAtOnce) {
  DeliverableEmergencyChannels();
  std::string cr = EmergencyCrThroughDev();
  CommandOutput request = h_.RunJson({"cr", "request-approval", cr}, "heidi");
  ASSERT_EQ(request.exit_code, 0) << Describe(request);
  nlohmann::json doc = request.Json();
  EXPECT_EQ(doc["environment"], "PROD");
  EXPECT_EQ(doc["reached_someone"], true);
  std::vector<std::string> approvers;
  for (const auto& a : doc["approvers"])
    approvers.push_back(a["person"].get<std::string>() + " " + a["role"].get<std::string>());
  EXPECT_THAT(approvers,
              ElementsAre("erin cab-chair", "grace security-lead", "frank it-operations-manager"));
  // Three approvers, three channels (the pager, the journal and the starter's teams outbox), each
  // delivered.
  ASSERT_EQ(doc["deliveries"].size(), 9u) << doc;
  int sent = 0;
  for (const auto& d : doc["deliveries"]) sent += d["sent"].get<bool>() ? 1 : 0;
  EXPECT_EQ(sent, 9);
  std::string body = doc["body"];
  EXPECT_THAT(body, ::testing::StartsWith("EMERGENCY PATCH APPROVAL REQUEST\n"
                                          "==================================\n"
                                          "Incident: CVE-2026-4242: remote code execution"));
  EXPECT_THAT(body, HasSubstr("Classification: P1-Critical\nCVSS Score: 9.8 (source: CVSS 3.1 "
                              "vector " +
                              std::string(kCriticalVector) +
                              " recorded on PATCH-1)\n"
                              "Vendor Reference: CVE-2026-4242\n"));
  EXPECT_THAT(body, HasSubstr("Recommended Action: Deploy\n\nRequestor: Heidi Hill (heidi)\n"));
  EXPECT_EQ(h_.ReadFile("pages.log"), "erin +1 555 0105\ngrace +1 555 0107\nfrank +1 555 0106\n");
  std::string journal = h_.ReadFile("notifications.log");
  EXPECT_THAT(journal, HasSubstr("To: Erin Evans <erin@example.com>\nSubject: EMERGENCY PATCH "
                                 "APPROVAL REQUEST - " +
                                 cr + " - billing - P1-Critical\n"));
  EXPECT_THAT(journal, HasSubstr("To: Frank Fox <frank@example.com>\n"));

  // Each delivery is on the CR; the 8.4 checklist sees the approvers contacted.
  nlohmann::json shown = h_.RunJson({"cr", "show", cr}).Json();
  int recorded = 0;
  for (const auto& e : shown["evidence"]) {
    if (e["kind"] == "notification" && e["fields"]["audience"] == "emergency-approvers") {
      EXPECT_EQ(e["environment"], "PROD");
      ++recorded;
    }
  }
  EXPECT_EQ(recorded, 9);
  nlohmann::json checklist = h_.RunJson({"cr", "checklist", cr, "--env", "PROD"}).Json();
  bool contacted = false;
  for (const auto& item : checklist["items"]) {
    if (item["item"] == "Emergency approvers contacted") contacted = item["done"].get<bool>();
  }
  EXPECT_TRUE(contacted) << checklist;
}

TEST_F(EmergencyCliTest, RequestApprovalThatReachesNobodyNamesThePhoneNumbers) {
  // A pager command that does not exist here and a webhook whose service is down (nothing
  // listens on loopback port 1).
  std::string yaml = h_.ReadFile("rollgate.yaml");
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"type: file\n    settings: {path: outbox/phone.txt}",
            "type: command\n    settings: {command: /nonexistent/page-on-call}"},
           {"type: file\n    settings: {path: outbox/teams.txt}",
            "type: webhook\n    settings: {url: \"http://127.0.0.1:1/hooks/it-operations\"}"}}) {
    size_t at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
  }
  h_.WriteConfig(yaml);
  std::string cr = EmergencyCrThroughDev();
  CommandOutput request = h_.RunAs("heidi", {"cr", "request-approval", cr});
  EXPECT_EQ(request.exit_code, 1) << Describe(request);
  EXPECT_THAT(request.err, HasSubstr("reached nobody"));
  EXPECT_THAT(request.err, HasSubstr("erin (cab-chair) +1 555 0105"));
  EXPECT_THAT(request.out, HasSubstr("FAILED"));
  // The attempts are on the record all the same.
  nlohmann::json shown = h_.RunJson({"cr", "show", cr}).Json();
  int failed = 0;
  for (const auto& e : shown["evidence"]) {
    if (e["kind"] == "notification" && e["passed"] == false) ++failed;
  }
  EXPECT_EQ(failed, 6);
}

}  // namespace
}  // namespace rollgate::e2e
