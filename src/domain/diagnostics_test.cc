#include "domain/diagnostics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rollgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

FailedStep Step(std::string phase, std::string step, std::string type, std::string output,
                int exit_code = 1) {
  FailedStep s;
  s.phase = std::move(phase);
  s.step = std::move(step);
  s.type = std::move(type);
  s.host = "host1";
  s.output = std::move(output);
  s.exit_code = exit_code;
  s.changed_node = s.phase == "rollout";
  return s;
}

FailureClass ClassOf(std::vector<FailedStep> failed, std::vector<TriggerKind> fired = {}) {
  FailureFacts facts;
  facts.failed = std::move(failed);
  facts.fired = std::move(fired);
  return ClassifyFailure(facts).failure;
}

TEST(DiagnosticsTest, EveryClassHasANameThatParsesBackAndATableFromTheRightSection) {
  for (FailureClass c : AllFailureClasses()) {
    auto parsed = ParseFailureClass(FailureClassName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
    const DiagnosticTable& table = TableFor(c);
    EXPECT_EQ(table.failure, c);
    EXPECT_FALSE(table.checks.empty());
    EXPECT_FALSE(table.resolution.empty());
  }
  EXPECT_EQ(TableFor(FailureClass::kDataIntegrity).section, "7.4");
  EXPECT_EQ(TableFor(FailureClass::kPerformance).section, "7.3");
  EXPECT_EQ(TableFor(FailureClass::kDependencyConflict).section, "7.2");
  EXPECT_EQ(TableFor(FailureClass::kServiceStart).section, "7.1");
  auto bad = ParseFailureClass("slow");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("unknown failure class 'slow'"));
}

TEST(DiagnosticsTest, TheServiceTableChecksWhatThePlaybookListsInItsOrder) {
  std::vector<std::string> ids;
  for (const DiagnosticCheck& c : TableFor(FailureClass::kServiceStart).checks) {
    ids.push_back(c.id);
  }
  EXPECT_THAT(ids, ElementsAre("step-output", "service-status", "journal", "config-check", "ports",
                               "permissions", "ldd"));
}

TEST(DiagnosticsTest, ClassifiesEachPlaybookIssueFromTheFailedStep) {
  EXPECT_EQ(ClassOf({Step("rollout", "start", "service",
                          "demo: bind 127.0.0.1:8080: Address already in use")}),
            FailureClass::kServiceStart);
  EXPECT_EQ(ClassOf({Step("rollout", "migrate", "postgres-migrate",
                          "psql:002.sql:1: ERROR:  syntax error at or near \"CRATE\"")}),
            FailureClass::kMigration);
  EXPECT_EQ(ClassOf({Step("rollout", "start", "service",
                          "demo-helper: error while loading shared libraries: libdemo.so.1: "
                          "cannot open shared object file")}),
            FailureClass::kDependencyConflict);
  EXPECT_EQ(ClassOf({Step("readiness", "disk-space", "disk-space",
                          "error: /opt has 3% free, below 20%")}),
            FailureClass::kDeploymentStep);
  EXPECT_EQ(ClassOf({Step("database-backup", "backup-database", "backup-postgres",
                          "pg_dump: error: connection to server at \"127.0.0.1\", port 5432 "
                          "failed: FATAL:  database \"demo\" is not currently accepting "
                          "connections")}),
            FailureClass::kDatabaseConnection);
  EXPECT_EQ(ClassOf({Step("verify", "integrity", "data-integrity", "orders: 90 < 100")}),
            FailureClass::kDataIntegrity);
  EXPECT_EQ(ClassOf({Step("rollout", "start", "service", "Killed", 137)}),
            FailureClass::kHighMemory);
  EXPECT_EQ(ClassOf({Step("rollout", "smoke", "smoke-test", "GET /api/orders: 500")}),
            FailureClass::kApplicationErrors);
  EXPECT_EQ(ClassOf({Step("rollout", "node-health", "http-check",
                          "curl: (7) Failed to connect to 127.0.0.1 port 8080: Connection "
                          "refused")}),
            FailureClass::kServiceStart);
}

TEST(DiagnosticsTest, TriggersClassifyWhenNoStepFailed) {
  EXPECT_EQ(ClassOf({}, {TriggerKind::kResponseTime}), FailureClass::kPerformance);
  EXPECT_EQ(ClassOf({}, {TriggerKind::kUsersAffected}), FailureClass::kApplicationErrors);
  EXPECT_EQ(ClassOf({}, {TriggerKind::kResponseTime, TriggerKind::kDataIntegrity}),
            FailureClass::kDataIntegrity);
  EXPECT_EQ(ClassOf({}), FailureClass::kDeploymentStep);
}

TEST(DiagnosticsTest, DataIntegrityWinsOverEverythingElse) {
  EXPECT_EQ(ClassOf({Step("rollout", "start", "service", "Address already in use"),
                     Step("verify", "integrity", "data-integrity", "orders: 90 < 100")}),
            FailureClass::kDataIntegrity);
}

TEST(DiagnosticsTest, AffectedHostsAreTheFailedStepsAndTheTriggersInOrder) {
  FailureFacts facts;
  facts.failed = {Step("rollout", "start", "service", "failed")};
  facts.failed[0].host = "host3";
  FailedStep again = facts.failed[0];
  again.step = "stop";
  facts.failed.push_back(again);
  facts.trigger_hosts = {"host4", "host3"};
  EXPECT_THAT(ClassifyFailure(facts).hosts, ElementsAre("host3", "host4"));
}

TEST(DiagnosticsTest, TransientFailuresAreRecognisedAndOthersAreNot) {
  std::string match;
  EXPECT_TRUE(LooksTransient("ssh: read: Connection reset by peer", &match));
  EXPECT_EQ(match, "connection reset");
  EXPECT_TRUE(LooksTransient("ERROR:  canceling statement due to lock timeout"));
  EXPECT_TRUE(LooksTransient("could not obtain lock on relation \"orders\""));
  EXPECT_TRUE(LooksTransient("curl: (28) Operation timed out after 5000 ms"));
  EXPECT_FALSE(LooksTransient("ERROR:  syntax error at or near \"CRATE\""));
  EXPECT_FALSE(LooksTransient("bind: Address already in use"));
}

TEST(DiagnosticsTest, ATimedOutStepIsTransient) {
  FailureFacts facts;
  facts.failed = {Step("transfer", "unpack", "extract-switch", "")};
  facts.failed[0].timed_out = true;
  facts.failed[0].attempts = 3;
  Diagnosis d = ClassifyFailure(facts);
  EXPECT_TRUE(d.transient);
  EXPECT_EQ(d.attempts, 3);
}

TEST(DiagnosticsTest, ResolutionFollowsTheTable) {
  Diagnosis d;
  d.failure = FailureClass::kServiceStart;
  ResolutionDecision changed = ResolutionFor(d, true, 2);
  EXPECT_EQ(changed.resolution, Resolution::kRollback);
  EXPECT_THAT(changed.detail, HasSubstr("Rollback if unresolvable"));

  ResolutionDecision untouched = ResolutionFor(d, false, 2);
  EXPECT_EQ(untouched.resolution, Resolution::kHalt);
  EXPECT_THAT(untouched.detail, HasSubstr("nothing was changed"));

  d.failure = FailureClass::kDataIntegrity;
  ResolutionDecision integrity = ResolutionFor(d, false, 2);
  EXPECT_EQ(integrity.resolution, Resolution::kHaltRollbackEscalate);
  EXPECT_THAT(integrity.detail, HasSubstr("DBA Lead"));
  EXPECT_EQ(TableFor(FailureClass::kDataIntegrity).escalate_to, "dba-lead");
}

TEST(DiagnosticsTest, ATransientFailureSaysHowOftenItWasRetried) {
  Diagnosis d;
  d.failure = FailureClass::kDeploymentStep;
  d.transient = true;
  d.transient_match = "connection reset";
  d.attempts = 3;
  ResolutionDecision r = ResolutionFor(d, true, 2);
  EXPECT_EQ(r.resolution, Resolution::kRollback);
  EXPECT_THAT(r.detail, HasSubstr("retried 2 time(s) within the budget of 2"));
}

TEST(DiagnosticsTest, DiskHighlightsNameTheVolumeOverTheThreshold) {
  HighlightContext c;
  c.min_free_disk_percent = 20;
  std::string df =
      "Filesystem     1024-blocks      Used Available Capacity Mounted on\n"
      "/dev/sda1        100000000  50000000  50000000      50% /\n"
      "/dev/sdb1        100000000  95000000   5000000      95% /opt\n";
  EXPECT_THAT(Highlights("disk", df, c),
              ElementsAre("/opt (/dev/sdb1) is 95% full: 5% free, below the 20% threshold"));
  c.min_free_disk_percent = 4;
  EXPECT_THAT(Highlights("disk", df, c), IsEmpty());
}

TEST(DiagnosticsTest, LddHighlightsTheMissingLibrary) {
  std::string out =
      "/opt/demo/bin/demo-helper:\n"
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibdemo-extra.so.1 => not found\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6\n";
  EXPECT_THAT(Highlights("ldd", out, {}), ElementsAre("libdemo-extra.so.1 => not found"));
}

TEST(DiagnosticsTest, PortHighlightNamesTheProcessHoldingIt) {
  HighlightContext c;
  c.port = 8080;
  std::string out =
      "LISTEN 0 5 127.0.0.1:8080 0.0.0.0:* users:((\"python3\",pid=42,fd=3))\n"
      "rollgate-port-held 8080 users:((\"python3\",pid=42,fd=3))\n";
  EXPECT_THAT(Highlights("ports", out, c),
              ElementsAre("port 8080 is held by another process: users:((\"python3\",pid=42,"
                          "fd=3))"));
}

TEST(DiagnosticsTest, RecordCountsAreComparedWithTheFiguresBeforeTheDeployment) {
  HighlightContext c;
  c.counts_before = {{"orders", 150}, {"customers", 20}};
  std::string out = "rollgate-count orders 120\nrollgate-count customers 20\n";
  EXPECT_THAT(Highlights("pg-record-counts", out, c),
              ElementsAre("orders: 120 rows now, 150 before the deployment (-30)"));
}

TEST(DiagnosticsTest, LogHighlightsKeepErrorLinesOnlyAndAtMostEight) {
  HighlightContext c;
  c.error_patterns = {"panic"};
  std::string out = "started\nPANIC: state lost\nserving\n";
  for (int i = 0; i < 20; ++i) out += "ERROR request " + std::to_string(i) + " failed\n";
  std::vector<std::string> lines = Highlights("log-tail", out, c);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "PANIC: state lost");
  EXPECT_EQ(lines[1], "ERROR request 0 failed");
}

}  // namespace
}  // namespace rollgate
