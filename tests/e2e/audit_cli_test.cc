// The audit log through the real binary: tampering done directly on the SQLite file (after
// dropping the append-only triggers, as someone with write access could) is detected by
// `audit verify`, truncation only against a checkpoint; `audit export` lines parse and chain.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kDropTriggers[] =
    "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; ";

class AuditCliTest : public ::testing::Test {
 protected:
  // The scene is recorded once; each test tampers with its own copy.
  static void SetUpTestSuite() {
    scene_ = new CliHarness;
    CliHarness& h = *scene_;
    h.InitDemoConfig();
    // No pre-deployment notices (DEV's are sent when scheduled): the scene's events stay nine.
    std::string config = h.ReadFile("rollgate.yaml");
    size_t dev = config.find("      channels: [teams, email]");
    ASSERT_NE(dev, std::string::npos);
    config.replace(dev, std::string("      channels: [teams, email]").size(), "      channels: []");
    h.WriteConfig(config);
    h.SetNow(kMonday);
    // Nine events: patch.add, cr.create, cr.attach, cr.submit, cr.approve, cr.schedule,
    // two cr.evidence, cr.signoff.
    std::string cr = SubmittedCr(h, {"--cvss", kHighVector});
    Ok(h, "alice", {"cr", "approve", cr, "--env", "DEV"});
    Ok(h, "heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30T10:00:00Z"});
    Ok(h, "heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "deployment", "--passed"});
    Ok(h, "heidi", {"cr", "evidence", cr, "--env", "DEV", "--kind", "smoke", "--value", "100"});
    Ok(h, "alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"});
  }
  static void TearDownTestSuite() {
    delete scene_;
    scene_ = nullptr;
  }
  void SetUp() override { h_.CopyStateFrom(*scene_); }

  // `audit verify --output json` [--against FILE]: expects exit 0 when ok, 1 when broken.
  nlohmann::json Verify(const std::string& against = "") {
    std::vector<std::string> args = {"audit", "verify"};
    if (!against.empty()) args.insert(args.end(), {"--against", against});
    CommandOutput r = h_.RunJson(args);
    nlohmann::json doc = r.Json();
    EXPECT_TRUE(doc.contains("ok") && doc.contains("events") && doc.contains("first_bad"))
        << Describe(r);
    EXPECT_EQ(r.exit_code, doc.value("ok", false) ? 0 : 1) << Describe(r);
    return doc;
  }

  static CliHarness* scene_;
  CliHarness h_;
  std::string cr_ = "CR-1";
};

CliHarness* AuditCliTest::scene_ = nullptr;

TEST_F(AuditCliTest, AnUntouchedChainVerifies) {
  nlohmann::json v = Verify();
  EXPECT_EQ(v["ok"], true);
  EXPECT_EQ(v["events"], 9);
  EXPECT_TRUE(v["first_bad"].is_null());
  CommandOutput text = h_.Run({"audit", "verify"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("audit chain OK: 9 events"));
}

TEST_F(AuditCliTest, TheAppendOnlyTriggersStopAnAccidentalEdit) {
  CommandOutput r =
      RunProgram({"sqlite3", h_.StorePath().string(), "UPDATE audit_events SET actor='x'"},
                 h_.dir(), {{"PATH", "/usr/bin:/bin"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("append-only"));
  EXPECT_EQ(Verify()["ok"], true);
}

// Each kind of tampering of docs/audit-chain.md, on its own copy of the scene.
TEST_F(AuditCliTest, TamperingIsReportedAtTheFirstBadEvent) {
  struct Tampering {
    std::string what;
    std::string sql;
    int first_bad;
    int events;
    std::string reason;
  };
  const std::vector<Tampering> cases = {
      {"edited details",
       "UPDATE audit_events SET details = replace(details, 'alice', 'mallory') WHERE seq = 5", 5, 9,
       "modified"},
      {"edited actor", "UPDATE audit_events SET actor = 'erin' WHERE seq = 2", 2, 9, "modified"},
      {"deleted row", "DELETE FROM audit_events WHERE seq = 3", 4, 8, "removed"},
      {"swapped seq",
       "UPDATE audit_events SET seq = -1 WHERE seq = 6; "
       "UPDATE audit_events SET seq = 6 WHERE seq = 7; "
       "UPDATE audit_events SET seq = 7 WHERE seq = -1;",
       6, 9, "link"},
      // Linked to the real head, but its hash is made up.
      {"forged append",
       "INSERT INTO audit_events (seq, at, actor, action, object, details, prev_hash, hash) "
       "SELECT 10, at, 'erin', 'cr.approve', object, '{}', hash, '" +
           std::string(64, 'a') + "' FROM audit_events WHERE seq = 9",
       10, 10, "modified"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    CliHarness h;
    h.CopyStateFrom(*scene_);
    h.Sql(std::string(kDropTriggers) + c.sql);
    CommandOutput json = h.RunJson({"audit", "verify"});
    EXPECT_EQ(json.exit_code, 1) << Describe(json);
    nlohmann::json v = json.Json();
    EXPECT_EQ(v["ok"], false);
    EXPECT_EQ(v["first_bad"], c.first_bad);
    EXPECT_EQ(v["events"], c.events);
    EXPECT_THAT(v.value("reason", ""), HasSubstr(c.reason));
    CommandOutput text = h.Run({"audit", "verify"});
    EXPECT_EQ(text.exit_code, 1) << Describe(text);
    EXPECT_THAT(text.out, HasSubstr("BROKEN at event " + std::to_string(c.first_bad)));
  }
}

TEST_F(AuditCliTest, TruncationIsDetectedOnlyAgainstACheckpoint) {
  CommandOutput checkpoint = h_.Run({"audit", "checkpoint", "--file", "head.txt"});
  ASSERT_EQ(checkpoint.exit_code, 0) << Describe(checkpoint);
  EXPECT_THAT(checkpoint.out, StartsWith("rollgate-checkpoint v1 seq=9 head="));
  EXPECT_EQ(h_.ReadFile("head.txt"), checkpoint.out);
  EXPECT_EQ(Verify("head.txt")["ok"], true);
  CommandOutput json = h_.RunJson({"audit", "checkpoint"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  nlohmann::json stamped = json.Json();
  EXPECT_EQ(stamped["seq"], 9);
  EXPECT_THAT(h_.ReadFile("head.txt"), HasSubstr("head=" + stamped["head"].get<std::string>()));
  EXPECT_THAT(stamped["checkpoint"].get<std::string>(),
              StartsWith("rollgate-checkpoint v1 seq=9 "));
  EXPECT_EQ(stamped["head"].get<std::string>().size(), 64u);

  // The chain grows after the checkpoint: still fine.
  Ok(h_, "bob", {"cr", "approve", cr_, "--env", "TEST"});
  EXPECT_EQ(Verify("head.txt")["ok"], true);

  h_.Sql(std::string(kDropTriggers) + "DELETE FROM audit_events WHERE seq >= 8");
  nlohmann::json plain = Verify();
  EXPECT_EQ(plain["ok"], true) << "a shorter chain is consistent on its own";
  EXPECT_EQ(plain["events"], 7);
  nlohmann::json against = Verify("head.txt");
  EXPECT_EQ(against["ok"], false);
  EXPECT_EQ(against["first_bad"], 8);
  EXPECT_THAT(against["reason"].get<std::string>(), HasSubstr("removed"));
  CommandOutput text = h_.Run({"audit", "verify", "--against", "head.txt"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_THAT(text.out, HasSubstr("BROKEN at event 8"));
}

TEST_F(AuditCliTest, ACheckpointOfABrokenChainIsRefusedAndBadCheckpointsAreBadInput) {
  h_.WriteFile("garbage.txt", "not a checkpoint\n");
  CommandOutput garbage = h_.Run({"audit", "verify", "--against", "garbage.txt"});
  EXPECT_EQ(garbage.exit_code, 2) << Describe(garbage);
  EXPECT_THAT(garbage.err, HasSubstr("checkpoint"));
  CommandOutput missing = h_.Run({"audit", "verify", "--against", "nowhere.txt"});
  EXPECT_NE(missing.exit_code, 0) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("nowhere.txt"));

  // A checkpoint whose stamp does not match its text.
  CommandOutput checkpoint = h_.Run({"audit", "checkpoint"});
  std::string forged = checkpoint.out;
  forged.replace(forged.find("seq=9"), 5, "seq=8");
  h_.WriteFile("forged.txt", forged);
  CommandOutput stamp = h_.Run({"audit", "verify", "--against", "forged.txt"});
  EXPECT_NE(stamp.exit_code, 0) << Describe(stamp);

  h_.Sql(std::string(kDropTriggers) + "UPDATE audit_events SET actor = 'x' WHERE seq = 2");
  CommandOutput refused = h_.Run({"audit", "checkpoint", "--file", "late.txt"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("event 2"));
}

TEST_F(AuditCliTest, ExportIsOneJsonObjectPerLineThatChains) {
  CommandOutput r = h_.Run({"audit", "export", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  std::istringstream lines(r.out);
  std::string line, previous_hash(64, '0');
  int64_t expected_seq = 1;
  while (std::getline(lines, line)) {
    nlohmann::json event = nlohmann::json::parse(line);
    EXPECT_EQ(event["seq"], expected_seq++);
    EXPECT_EQ(event["prev_hash"], previous_hash);
    for (const char* field : {"at", "actor", "action", "object", "details", "hash"}) {
      EXPECT_TRUE(event.contains(field)) << field << " in " << line;
    }
    EXPECT_TRUE(event["details"].is_object()) << line;
    previous_hash = event["hash"];
  }
  EXPECT_EQ(expected_seq, 10);
  EXPECT_THAT(r.out, HasSubstr("\"action\":\"cr.approve\""));
  EXPECT_THAT(r.out, HasSubstr("\"actor\":\"alice\""));

  CommandOutput bad = h_.Run({"audit", "export", "--format", "csv"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_EQ(bad.out, "");
}

}  // namespace
}  // namespace rollgate::e2e
