// The enhanced-monitoring watch and the reviews through the real binary: listing, the refusals
// of `watch start`/`watch stop`, a single tick with nothing to do, `pir show` before and after a
// rollback is recorded, and the post-implementation review of a PROD deployment listed, shown
// and closed, with the refusals that change nothing (playbook §4.2 step 4, §4.4, §5.3, §5.4).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

class WatchPirCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.SetNow(kMonday);
  }
  CliHarness h_;
};

TEST_F(WatchPirCliTest, NoWatchesUntilADeploymentIsWatched) {
  CommandOutput list = h_.RunJson({"watch", "list", "--all"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_EQ(list.Json()["watches"], nlohmann::json::array());

  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput start = h_.RunJson({"watch", "start", cr, "--env", "PROD"}, "heidi");
  EXPECT_EQ(start.exit_code, 3) << Describe(start);
  EXPECT_THAT(start.err, HasSubstr("has no successful deployment in PROD to watch"));

  CommandOutput stop = h_.RunJson({"watch", "stop", cr, "--env", "PROD"}, "heidi");
  EXPECT_EQ(stop.exit_code, 3) << Describe(stop);

  CommandOutput tick = h_.Run({"watch", "run", "--once"});
  EXPECT_EQ(tick.exit_code, 0) << Describe(tick);
  EXPECT_EQ(tick.out, "");
}

TEST_F(WatchPirCliTest, PirIsDueFiveBusinessDaysAfterARollback) {
  std::string cr = SubmittedCr(h_, {"--cvss", kHighVector});
  CommandOutput none = h_.RunJson({"pir", "show", cr});
  EXPECT_EQ(none.exit_code, 3) << Describe(none);
  EXPECT_THAT(none.err, HasSubstr("no review is due: " + cr + " had no deployment to PROD"));

  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "DEV", "--kind", "rollback", "--passed", "--value", "95",
      "--detail", "RUN-1 restored"});
  CommandOutput shown = h_.RunJson({"pir", "show", cr});
  ASSERT_EQ(shown.exit_code, 0) << Describe(shown);
  nlohmann::json doc = shown.Json();
  EXPECT_EQ(doc["change_request"], cr);
  EXPECT_EQ(doc["rolled_back"], true);
  EXPECT_EQ(doc["reason"], "rollback in DEV");
  EXPECT_EQ(doc["occasion"], kMonday);
  // Monday + 5 business days: due at the end of the next Monday.
  EXPECT_EQ(doc["overdue"], false);
  bool rollback_in_timeline = false;
  for (const auto& entry : doc["timeline"]) {
    if (entry["category"] == "rollback") rollback_in_timeline = true;
  }
  EXPECT_TRUE(rollback_in_timeline);
  ASSERT_EQ(doc["attendees"].size(), 4U);

  CommandOutput text = h_.Run({"pir", "show", cr});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("# Post-incident review: " + cr));
  EXPECT_THAT(text.out, HasSubstr("## Root cause"));

  h_.SetNow("2026-12-09T09:00:00Z");
  CommandOutput late = h_.RunJson({"pir", "show", cr});
  ASSERT_EQ(late.exit_code, 0) << Describe(late);
  EXPECT_EQ(late.Json()["overdue"], true);
}

class PirCliTest : public WatchPirCliTest {
 protected:
  // A CR deployed to PROD (recorded by hand, as the engine would) at 11:00, 30 minutes long,
  // scheduled for 10:00.
  std::string DeployedToProd() {
    std::string cr = SubmittedCr(h_, {"--cvss", kMediumVector});
    Ok(h_, "heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", "2026-11-30T10:00:00Z"});
    h_.SetNow("2026-11-30T11:00:00Z");
    Ok(h_, "heidi",
       {"cr", "evidence", cr, "--env", "PROD", "--kind", "smoke", "--passed", "--value", "100",
        "--detail", "smoke tests passed on 2 hosts"});
    Ok(h_, "heidi",
       {"cr", "evidence", cr, "--env", "PROD", "--kind", "deployment", "--passed", "--value",
        "1800", "--detail", "1.1.0 deployed to 2 hosts by RUN-7", "--field", "run=RUN-7"});
    return cr;
  }

  // Runs `args` as `person` expecting `exit_code` with `named` on stderr and an unchanged store.
  void ExpectRefused(const std::string& person, const std::vector<std::string>& args, int exit_code,
                     const std::string& named) {
    std::string before = h_.StoreDump();
    CommandOutput r = h_.RunAs(person, args);
    EXPECT_EQ(r.exit_code, exit_code) << ::testing::PrintToString(args) << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(named)) << ::testing::PrintToString(args);
    EXPECT_EQ(h_.StoreDump(), before) << "refused but stored: " << ::testing::PrintToString(args);
  }

  static const nlohmann::json* Section(const nlohmann::json& doc, const std::string& title) {
    for (const auto& s : doc["sections"]) {
      if (s["title"] == title) return &s;
    }
    return nullptr;
  }
};

TEST_F(PirCliTest, EveryProdDeploymentIsListedShownAndClosed) {
  CommandOutput empty = h_.RunJson({"pir", "list"});
  ASSERT_EQ(empty.exit_code, 0) << Describe(empty);
  EXPECT_EQ(empty.Json(), nlohmann::json::array());
  EXPECT_EQ(h_.Run({"pir", "list"}).out, "no reviews due\n");

  std::string cr = DeployedToProd();
  CommandOutput list = h_.RunJson({"pir", "list"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  ASSERT_EQ(list.Json().size(), 1U) << list.out;
  nlohmann::json item = list.Json()[0];
  EXPECT_EQ(item["change_request"], cr);
  EXPECT_EQ(item["system"], "billing");
  EXPECT_EQ(item["kind"], "post-implementation review");
  EXPECT_EQ(item["reason"], "PROD deployment");
  EXPECT_EQ(item["occasion"], "2026-11-30T11:00:00Z");
  EXPECT_EQ(item["due"], "2026-12-08T00:00:00Z");
  EXPECT_EQ(item["overdue"], false);
  EXPECT_EQ(item["closed"], false);
  EXPECT_TRUE(item["title"].is_string());
  CommandOutput text = h_.Run({"pir", "list"});
  EXPECT_THAT(text.out, HasSubstr(cr));
  EXPECT_THAT(text.out, HasSubstr("due 2026-12-08 00:00  due: PROD deployment (2026-11-30 11:00)"));
  EXPECT_EQ(h_.RunJson({"pir", "list", "--overdue"}).Json(), nlohmann::json::array());

  CommandOutput shown = h_.RunJson({"pir", "show", cr});
  ASSERT_EQ(shown.exit_code, 0) << Describe(shown);
  nlohmann::json doc = shown.Json();
  EXPECT_EQ(doc["kind"], "post-implementation review");
  ASSERT_EQ(doc["results"].size(), 1U);
  EXPECT_EQ(doc["results"][0]["environment"], "PROD");
  EXPECT_EQ(doc["results"][0]["outcome"], "succeeded");
  const nlohmann::json* deviations = Section(doc, "Deviations from the plan");
  ASSERT_NE(deviations, nullptr) << doc.dump();
  EXPECT_THAT((*deviations)["lines"].dump(),
              HasSubstr("PROD: started 30m later than planned (planned 2026-11-30 10:00, actual "
                        "2026-11-30 10:30, RUN-7)"));
  EXPECT_THAT((*deviations)["lines"].dump(), HasSubstr("RUN-7 took 30m, within the expected 1h"));
  const nlohmann::json* issues = Section(doc, "Issues found during enhanced monitoring");
  ASSERT_NE(issues, nullptr);
  EXPECT_EQ((*issues)["lines"][0], "no enhanced monitoring was recorded for this change");
  const nlohmann::json* lessons = Section(doc, "Lessons learned");
  ASSERT_NE(lessons, nullptr);
  EXPECT_EQ((*lessons)["to_be_completed"], true);

  // The CR cannot be closed while its review is open.
  ExpectRefused("frank", {"cr", "close", cr}, 4,
                "the post-implementation review of the PROD deployment at 2026-11-30T11:00:00Z is "
                "not closed (rollgate pir close " +
                    cr);

  // Overdue after five business days.
  h_.SetNow("2026-12-09T09:00:00Z");
  CommandOutput overdue = h_.RunJson({"pir", "list", "--overdue"});
  ASSERT_EQ(overdue.Json().size(), 1U) << overdue.out;
  EXPECT_EQ(overdue.Json()[0]["overdue"], true);
  EXPECT_THAT(h_.Run({"pir", "list"}).out, HasSubstr("OVERDUE: PROD deployment"));

  h_.WriteFile("lessons.md",
               "The deployment started late: the window opened at 10:30.\n\n"
               "## Recommendations\n\n- open the window on time\n");
  CommandOutput closed = h_.RunJson(
      {"pir", "close", cr, "--lessons", "lessons.md", "--summary", "went well, started late"},
      "erin");
  ASSERT_EQ(closed.exit_code, 0) << Describe(closed);
  nlohmann::json closing = closed.Json();
  EXPECT_EQ(closing["closed"], true);
  EXPECT_EQ(closing["closing"]["by"], "erin");
  EXPECT_EQ(closing["closing"]["role"], "cab-chair");
  EXPECT_EQ(closing["closing"]["late"], true);
  EXPECT_EQ(closing["closing"]["summary"], "went well, started late");

  EXPECT_EQ(h_.RunJson({"pir", "list"}).Json(), nlohmann::json::array());
  CommandOutput everything = h_.RunJson({"pir", "list", "--all"});
  ASSERT_EQ(everything.Json().size(), 1U);
  EXPECT_EQ(everything.Json()[0]["closed"], true);
  EXPECT_EQ(everything.Json()[0]["overdue"], false);

  CommandOutput document = h_.Run({"pir", "show", cr});
  ASSERT_EQ(document.exit_code, 0) << Describe(document);
  EXPECT_THAT(document.out, HasSubstr("# Post-implementation review: " + cr));
  EXPECT_THAT(document.out, HasSubstr("- Closed: 2026-12-09 09:00 by erin (cab-chair), after the "
                                      "due date: went well, started late"));
  EXPECT_THAT(document.out, HasSubstr("## Recommendations\n\n- open the window on time\n"));
  EXPECT_THAT(document.out,
              HasSubstr("## Lessons learned\n\nThe deployment started late: the window opened "
                        "at 10:30.\n"));

  ExpectRefused("frank", {"pir", "close", cr, "--lessons-text", "again"}, 4,
                "is already closed: by erin at 2026-12-09T09:00:00Z");

  // Closing the review is audited, and the chain still verifies.
  CommandOutput exported = h_.Run({"audit", "export", "--format", "jsonl"});
  EXPECT_THAT(exported.out, HasSubstr("\"action\":\"pir.close\""));
  EXPECT_EQ(h_.RunJson({"audit", "verify"}).Json()["ok"], true);

  // Now only PROD's own sign-off is missing (§4.3 step 2: the CAB Chair), then the CR closes.
  ExpectRefused("frank", {"cr", "close", cr}, 4, "the cab sign-off of PROD (cab-chair) is missing");
  ASSERT_EQ(h_.RunAs("erin", {"cr", "signoff", cr, "--env", "PROD", "--kind", "cab"}).exit_code, 0);
  CommandOutput cr_closed = h_.RunAs("frank", {"cr", "close", cr});
  EXPECT_EQ(cr_closed.exit_code, 0) << Describe(cr_closed);
}

TEST_F(PirCliTest, BadInputAndRefusalsChangeNothing) {
  std::string cr = DeployedToProd();
  h_.WriteFile("lessons.md", "what we learned\n");
  h_.WriteFile("empty.md", "  \n\n");
  h_.WriteFile("binary.md", std::string("\xff\xfe not text"));
  h_.WriteFile("big.md", std::string(64 * 1024 + 1, 'x'));
  std::filesystem::create_directories(h_.dir() / "a-directory");
  ExpectRefused("erin", {"pir", "close", cr}, 2, "exactly one of --lessons FILE or --lessons-text");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons", "lessons.md", "--lessons-text", "x"}, 2,
                "exactly one of");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons", "missing.md"}, 2,
                "--lessons missing.md: not a readable file");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons", "a-directory"}, 2, "not a readable file");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons", "binary.md"}, 2, "not UTF-8 text");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons", "big.md"}, 2, "larger than 64 KiB");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons", "empty.md"}, 2,
                "the lessons learned of the review of " + cr + " are empty");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons-text", "ok", "--summary", "two\nlines"}, 2,
                "the summary must be one line");
  ExpectRefused("erin", {"pir", "close", cr, "--lessons-text", "ok", "--sumary", "x"}, 2,
                "--sumary");
  ExpectRefused("erin", {"pir", "close", "CR-x1", "--lessons-text", "ok"}, 2,
                "invalid change request id 'CR-x1'");
  ExpectRefused("erin", {"pir", "close", "CR-999", "--lessons-text", "ok"}, 3, "CR-999");
  ExpectRefused("heidi", {"pir", "close", cr, "--lessons", "lessons.md"}, 4,
                "heidi may not close the post-implementation review of " + cr +
                    ": that takes one of the roles cab-chair, it-operations-manager");

  // A closing cannot be forged as plain evidence, around the role check.
  ExpectRefused(
      "heidi",
      {"cr", "evidence", cr, "--env", "PROD", "--kind", "pir-closed", "--field", "lessons=none"}, 2,
      "unknown evidence kind 'pir-closed'");

  std::string undeployed = SubmittedCr(h_, {"--cvss", kMediumVector});
  ExpectRefused("erin", {"pir", "close", undeployed, "--lessons", "lessons.md"}, 4,
                "no review is due: " + undeployed + " had no deployment to PROD");
  CommandOutput show = h_.RunJson({"pir", "show", undeployed});
  EXPECT_EQ(show.exit_code, 3) << Describe(show);
  EXPECT_EQ(h_.Run({"pir", "show", "CR-x1"}).exit_code, 2);
  EXPECT_EQ(h_.Run({"pir", "show", "CR-999"}).exit_code, 3);
  EXPECT_EQ(h_.Run({"pir", "list", "--overdu"}).exit_code, 2);

  // The IT operations manager may close it too, with the text inline.
  CommandOutput closed =
      h_.RunAs("frank", {"pir", "close", cr, "--lessons-text", "nothing to report"});
  ASSERT_EQ(closed.exit_code, 0) << Describe(closed);
  EXPECT_EQ(closed.out, cr + ": post-implementation review of the PROD deployment closed by frank "
                             "(it-operations-manager)\n");
}

TEST_F(PirCliTest, ARollbackAfterTheClosingMakesANewReviewDue) {
  std::string cr = DeployedToProd();
  Ok(h_, "frank", {"pir", "close", cr, "--lessons-text", "fine"});
  h_.SetNow("2026-12-01T15:00:00Z");
  Ok(h_, "heidi",
     {"cr", "evidence", cr, "--env", "PROD", "--kind", "rollback", "--passed", "--value", "240",
      "--detail", "RUN-8 restored 1.0.0"});
  CommandOutput list = h_.RunJson({"pir", "list"});
  ASSERT_EQ(list.Json().size(), 1U) << list.out;
  EXPECT_EQ(list.Json()[0]["kind"], "post-incident review");
  EXPECT_EQ(list.Json()[0]["reason"], "rollback in PROD");
  EXPECT_EQ(list.Json()[0]["occasion"], "2026-12-01T15:00:00Z");
  EXPECT_EQ(list.Json()[0]["due"], "2026-12-09T00:00:00Z");
  CommandOutput shown = h_.Run({"pir", "show", cr});
  EXPECT_THAT(shown.out, HasSubstr("# Post-incident review: " + cr));
  EXPECT_THAT(shown.out, HasSubstr("## Root cause\n\n_to be completed by the review_"));
}

}  // namespace
}  // namespace rollgate::e2e
