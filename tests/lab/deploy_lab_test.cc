// `rollgate deploy` and `rollgate rollback` against the loopback lab (real sshd and PostgreSQL):
// the gates first, --dry-run touching nothing, DEV -> TEST -> PROD with the evidence each run
// records, PROD rolling one node at a time, and a change that fails in PROD rolled back on the
// node it changed only, with the database as it was.
//
// CMake's fixture runs `lab/lab.sh up 5` in a lab directory of its own (ROLLGATE_TEST_LAB_DIR,
// subnet ROLLGATE_TEST_LAB_SUBNET) before and `lab.sh down` after; the tests share its hosts and
// run one at a time (RESOURCE_LOCK).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tests/lab/lab_cli_fixture.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

using DeployLabTest = LabCliTest;

TEST_F(DeployLabTest, GatesComeFirstAndDryRunTouchesNothing) {
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  // TEST before DEV, and DEV before its approval: refused, naming what is missing.
  CommandOutput early = As("heidi", {"deploy", cr, "--env", "TEST"});
  EXPECT_EQ(early.exit_code, 4) << early.out << early.err;
  EXPECT_THAT(early.err, HasSubstr("TEST needs 1 more approval"));
  CommandOutput unapproved = As("heidi", {"deploy", cr, "--env", "DEV", "--dry-run"});
  EXPECT_EQ(unapproved.exit_code, 4) << unapproved.err;
  ReadyForDev(cr);

  std::string version = HostVersion(1);
  std::string store = h_.StoreDump();
  CommandOutput dry = As("heidi", {"deploy", cr, "--env", "DEV", "--dry-run", "--show-scripts"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  for (const char* part : {"phase readiness", "phase transfer", "phase database-backup",
                           "phase rollout", "phase verify", "RG_DATABASE_URL=postgresql://",
                           "PGPASSWORD from file:", "sh -c", "backup-postgres", "smoke-test"}) {
    EXPECT_THAT(dry.out, HasSubstr(part)) << part;
  }
  EXPECT_THAT(dry.out, HasSubstr("@" + std::string(ROLLGATE_TEST_LAB_SUBNET) + ".1:2222"));
  // Nothing was touched: not the store, not the host.
  EXPECT_EQ(h_.StoreDump(), store);
  EXPECT_EQ(HostVersion(1), version);
  CommandOutput json = JsonAs("heidi", {"deploy", cr, "--env", "DEV", "--dry-run"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.Json()["phases"][3]["name"], "rollout");
  EXPECT_EQ(h_.StoreDump(), store);
}

TEST_F(DeployLabTest, PromotionRecordsEvidenceAndAProdFailureIsRolledBackOnTheChangedNode) {
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  CommandOutput dev = As("heidi", {"deploy", cr, "--env", "DEV"});
  ASSERT_EQ(dev.exit_code, 0) << dev.out << dev.err;
  EXPECT_EQ(HostVersion(1), "1.1.0");
  EXPECT_THAT(Psql("demo_dev", "SELECT version FROM schema_migrations ORDER BY 1"),
              HasSubstr("0002_add_column"));
  // The evidence the gates of TEST read.
  auto deployment = Evidence(cr, "deployment", "DEV");
  ASSERT_FALSE(deployment.empty()) << last_show_ << dev.out;
  EXPECT_EQ(deployment.back()["passed"], true);
  auto smoke = Evidence(cr, "smoke", "DEV");
  ASSERT_FALSE(smoke.empty());
  EXPECT_EQ(smoke.back()["value"], 100.0);
  auto backups = Evidence(cr, "backup", "DEV");
  ASSERT_EQ(backups.size(), 3U);
  for (const auto& b : backups) {
    EXPECT_THAT(b["fields"]["location"].get<std::string>(), HasSubstr("/var/backups/demo/"));
    EXPECT_GT(std::stoll(b["fields"]["size_bytes"].get<std::string>()), 0);
  }
  EXPECT_FALSE(Evidence(cr, "readiness", "DEV").empty());
  EXPECT_FALSE(Evidence(cr, "logs", "DEV").empty());
  EXPECT_FALSE(Evidence(cr, "data-integrity", "DEV").empty());

  ReadyForTest(cr);
  CommandOutput test = As("ivan", {"deploy", cr, "--env", "TEST"});
  ASSERT_EQ(test.exit_code, 0) << test.out << test.err;
  auto regression = Evidence(cr, "regression", "TEST");
  ASSERT_FALSE(regression.empty());
  EXPECT_EQ(regression.back()["value"], 100.0);
  EXPECT_THAT(regression.back()["detail"].get<std::string>(), HasSubstr("25 of 25 passed"));

  // PROD is refused until its own gates hold.
  EXPECT_EQ(As("heidi", {"deploy", cr, "--env", "PROD"}).exit_code, 4);
  ReadyForProd(cr, "2026-12-08 22:30");
  CommandOutput prod = JsonAs("heidi", {"deploy", cr, "--env", "PROD"});
  ASSERT_EQ(prod.exit_code, 0) << prod.out << prod.err;
  for (int host : {3, 4, 5}) EXPECT_EQ(HostVersion(host), "1.1.0") << host;
  // One node at a time: each node's smoke test ended before the next node was stopped.
  std::string prod_run = RunOf(prod);
  std::map<std::string, std::string> smoke_end, stop_start;
  nlohmann::json prod_steps = Run(prod_run)["steps"];
  for (const auto& step : prod_steps) {
    if (step["step"] == "rollout/smoke") smoke_end[step["host"]] = step["finished"];
    if (step["step"] == "rollout/stop") stop_start[step["host"]] = step["started"];
  }
  ASSERT_EQ(smoke_end.size(), 3U);
  auto host = [](int i) { return LabHost(i); };
  ASSERT_EQ(stop_start.count(host(3)), 1U) << host(3);
  EXPECT_LE(smoke_end[host(3)], stop_start[host(4)]);
  EXPECT_LE(smoke_end[host(4)], stop_start[host(5)]);

  // demo 1.2.0 passes DEV and TEST, then fails in PROD on production data.
  std::string rows_before = Psql("demo_prod", "SELECT count(*) FROM orders");
  std::string second = NewChange("1.2.0", "demo-1.2.0.tar.gz");
  ReadyForDev(second);
  ASSERT_EQ(As("heidi", {"deploy", second, "--env", "DEV"}).exit_code, 0);
  ReadyForTest(second);
  ASSERT_EQ(As("ivan", {"deploy", second, "--env", "TEST"}).exit_code, 0);
  ReadyForProd(second, "2026-12-10 22:30");
  CommandOutput failing = JsonAs("heidi", {"deploy", second, "--env", "PROD"});
  EXPECT_EQ(failing.exit_code, 1) << failing.out << failing.err;
  // The migration failed on the first node after it was installed and configured: the
  // deployment-failed trigger rolled that node back at once, and only that node.
  fs::path features = kLab / "hosts" / "host3" / "root" / "etc" / "demo" / "features";
  for (int i : {3, 4, 5}) EXPECT_EQ(HostVersion(i), "1.1.0") << i;
  EXPECT_FALSE(fs::exists(features)) << "the configuration directory is restored too";
  EXPECT_EQ(Psql("demo_prod",
                 "SELECT count(*) FROM schema_migrations WHERE version = "
                 "'0003_unique_item'"),
            "0");
  EXPECT_EQ(Psql("demo_prod", "SELECT count(*) FROM orders"), rows_before);
  auto failed = Evidence(second, "deployment", "PROD");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.back()["passed"], false);
  EXPECT_THAT(failed.back()["detail"].get<std::string>(), HasSubstr("0003_unique_item"));
  nlohmann::json outcome = nlohmann::json::parse(
      failing.out.substr(failing.out.rfind('\n', failing.out.size() - 2) + 1));
  ASSERT_TRUE(outcome["rollback"].is_object()) << failing.out;
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(outcome["triggers"][0]["trigger"], "deployment-failed");
  std::set<std::string> touched;
  nlohmann::json rollback_run = Run(outcome["rollback"]["run"]);
  for (const auto& step : rollback_run["steps"]) touched.insert(step["host"]);
  EXPECT_EQ(touched, std::set<std::string>{host(3)});
  auto rolled = Evidence(second, "rollback", "PROD");
  ASSERT_FALSE(rolled.empty());
  EXPECT_EQ(rolled.back()["passed"], true);
  EXPECT_EQ(rolled.back()["fields"]["automatic"], "yes");
  auto fired = Evidence(second, "trigger", "PROD");
  ASSERT_FALSE(fired.empty());
  EXPECT_EQ(fired.back()["fields"]["kind"], "deployment-failed");

  // A rollback by hand in PROD takes the CAB chair and the IT operations manager, jointly.
  CommandOutput refused = As("heidi", {"rollback", cr, "--env", "PROD"});
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  CommandOutput chair = As("erin", {"rollback", cr, "--env", "PROD", "--reason", "withdrawn"});
  EXPECT_EQ(chair.exit_code, 4) << chair.out << chair.err;
  EXPECT_THAT(chair.err, HasSubstr("also needs it-operations-manager"));
  for (int i : {3, 4, 5}) EXPECT_EQ(HostVersion(i), "1.1.0") << i;
  CommandOutput manager = JsonAs("frank", {"rollback", cr, "--env", "PROD"});
  ASSERT_EQ(manager.exit_code, 0) << manager.out << manager.err;
  for (int i : {3, 4, 5}) EXPECT_NE(HostVersion(i), "1.1.0") << i;
  EXPECT_EQ(Psql("demo_prod",
                 "SELECT count(*) FROM schema_migrations WHERE version = "
                 "'0002_add_column'"),
            "0");
  EXPECT_EQ(Psql("demo_prod", "SELECT count(*) FROM orders"), rows_before);
  auto manual = Evidence(cr, "rollback", "PROD");
  ASSERT_FALSE(manual.empty());
  EXPECT_THAT(manual.back()["fields"]["authorisation"].get<std::string>(),
              HasSubstr("erin (cab-chair) and frank (it-operations-manager)"));
  // The service answers on every node again.
  CommandOutput audit = h_.Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
}

// A system's own hooks, extra steps and dependencies; notifications through a file channel; and
// a rollback of a deployment that migrated the database, which restores it.
TEST_F(DeployLabTest, HooksExtraStepsNotificationsAndADatabaseRestoringRollback) {
  std::string port = Slurp(kLab / "postgres" / "port");
  while (!port.empty() && port.back() == '\n') port.pop_back();
  std::string config = h_.ReadFile("rollgate.yaml");
  // A file channel for DEV, hooks that leave marks on the host, a dependency on the database, an
  // extra check after the smoke test, and the metrics steps left out.
  auto replace_once = [&](const std::string& from, const std::string& to) {
    auto at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config.replace(at, from.size(), to);
  };
  replace_once("channels: [teams, email]", "channels: [teams, email, journal]");
  replace_once("\nchannels:\n",
               "\nchannels:\n  - {name: journal, type: file, settings: {path: notices.log}}\n");
  replace_once("    critical_tables: [orders]\n",
               "    critical_tables: [orders]\n"
               "    dependencies: ['127.0.0.1:" +
                   port +
                   "']\n"
                   "    hooks:\n"
                   "      drain: 'echo drained >\"$ROLLGATE_ROOT/tmp/drained\"'\n"
                   "      maintenance_on: 'echo on >\"$ROLLGATE_ROOT/tmp/maintenance\"'\n"
                   "      maintenance_off: 'rm -f \"$ROLLGATE_ROOT/tmp/maintenance\"'\n"
                   "    procedure:\n"
                   "      skip: [metrics-baseline, metrics]\n"
                   "      add:\n"
                   "        - {phase: rollout, after: smoke, name: orders-api, type: http-check,\n"
                   "           params: {urls: 'http://{host}:8080/api/orders'}}\n");
  h_.WriteConfig(config);
  CommandOutput valid = h_.Run({"validate"});
  ASSERT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  // DEV's database as it was before any deployment.
  Psql("postgres", "DROP DATABASE IF EXISTS demo_dev");
  Psql("postgres", "CREATE DATABASE demo_dev OWNER demo TEMPLATE demo");
  std::string version_before = HostVersion(1);

  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  CommandOutput dry = As("heidi", {"deploy", cr, "--env", "DEV", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  for (const char* part :
       {"dependencies-tcp", "drain", "maintenance-on", "maintenance-off", "orders-api"}) {
    EXPECT_THAT(dry.out, HasSubstr(part)) << part;
  }
  EXPECT_THAT(dry.out, ::testing::Not(HasSubstr("metrics-baseline")));
  // Through one streamed session per host (the session transport).
  CommandOutput dev = As("heidi", {"deploy", cr, "--env", "DEV", "--transport", "session"});
  ASSERT_EQ(dev.exit_code, 0) << dev.out << dev.err;
  fs::path root = kLab / "hosts" / "host1" / "root";
  EXPECT_EQ(Slurp(root / "tmp" / "drained"), "drained\n");
  EXPECT_FALSE(fs::exists(root / "tmp" / "maintenance")) << "maintenance mode left on";
  EXPECT_EQ(HostVersion(1), "1.1.0");
  EXPECT_EQ(Psql("demo_dev",
                 "SELECT count(*) FROM schema_migrations WHERE version = "
                 "'0002_add_column'"),
            "1");
  // The start and completion messages, in the file channel and on the CR.
  std::string notices = h_.ReadFile("notices.log");
  EXPECT_THAT(notices, HasSubstr("Subject: [DEPLOYMENT START] demo - DEV"));
  EXPECT_THAT(notices, HasSubstr("Subject: [DEPLOYMENT COMPLETE] demo - DEV - SUCCESS"));
  auto notifications = Evidence(cr, "notification", "DEV");
  ASSERT_GE(notifications.size(), 2U);
  bool written = false;
  for (const auto& n : notifications) written = written || n["passed"] == true;
  EXPECT_TRUE(written);

  // The development lead rolls DEV back: the migration is undone with the database restore.
  CommandOutput rollback = As(
      "alice", {"rollback", cr, "--env", "DEV", "--reason", "rehearsal", "--transport", "session"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.out << rollback.err;
  EXPECT_THAT(rollback.out, HasSubstr("restore-database"));
  EXPECT_EQ(HostVersion(1), version_before);
  EXPECT_EQ(Psql("demo_dev",
                 "SELECT count(*) FROM schema_migrations WHERE version = "
                 "'0002_add_column'"),
            "0");
  EXPECT_THAT(h_.ReadFile("notices.log"), HasSubstr("ROLLBACK COMPLETE - demo"));
  auto rolled = Evidence(cr, "rollback", "DEV");
  ASSERT_FALSE(rolled.empty());
  EXPECT_EQ(rolled.back()["passed"], true);
}

// RELIABILITY.md fault 1 on real hosts: `deploy` killed (as by kill -9) at every step boundary
// and at a few points mid-step (the remote command done, its result not yet committed), then
// `run resume`: the deployment ends succeeded, recorded on the CR, and no step that is not
// idempotent ran twice (every step here is idempotent or probed; the journal shows one
// succeeded execution per step).
TEST_F(DeployLabTest, AKilledDeploymentIsResumedToTheEndAndRecorded) {
  // No observation window at the end: 24 deployments are killed and resumed here, and what is
  // tested is the journal at each boundary, not the service's behaviour afterwards.
  std::string config = h_.ReadFile("rollgate.yaml");
  auto observe = config.find("observe_window: 5s");
  ASSERT_NE(observe, std::string::npos);
  config.replace(observe, 18, "observe_window: 0s");
  h_.WriteConfig(config);
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  std::vector<std::pair<std::string, int>> faults;
  for (int n = 1; n <= 21; ++n) faults.push_back({"intent-committed", n});
  for (int n : {3, 9, 14}) faults.push_back({"remote-done", n});
  int run_number = 0;
  for (const auto& [point, n] : faults) {
    SCOPED_TRACE(point + ":" + std::to_string(n));
    std::map<std::string, std::string> env = env_;
    env["ROLLGATE_FAULT_POINT"] = point + ":" + std::to_string(n);
    CommandOutput killed = h_.Run({"deploy", cr, "--env", "DEV", "--as", "heidi"}, env);
    std::string run = "RUN-" + std::to_string(++run_number);
    if (killed.exit_code == 0) break;  // past the last occurrence: the deployment completed
    ASSERT_EQ(killed.exit_code, 137) << killed.out << killed.err;
    // A killed process left no command running: a short wait for an exit-status file suffices.
    CommandOutput resumed = As("heidi", {"run", "resume", run, "--wait", "2s"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_THAT(resumed.out, HasSubstr("Recorded on " + cr));
    nlohmann::json shown = Run(run);
    EXPECT_EQ(shown["state"], "succeeded");
    std::map<std::string, int> succeeded;
    for (const auto& step : shown["steps"]) {
      if (step["state"] == "succeeded") ++succeeded[step["step"].get<std::string>()];
      EXPECT_NE(step["state"], "intent") << step["step"];
    }
    for (const auto& [step, count] : succeeded) EXPECT_EQ(count, 1) << step;
    EXPECT_EQ(HostVersion(1), "1.1.0");
  }
  auto deployments = Evidence(cr, "deployment", "DEV");
  ASSERT_FALSE(deployments.empty());
  EXPECT_EQ(deployments.back()["passed"], true);
  EXPECT_EQ(h_.Run({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace rollgate::e2e
