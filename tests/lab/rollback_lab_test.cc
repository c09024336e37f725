// Rollback that always works (playbook §6) on the loopback lab (real sshd and PostgreSQL): for each
// immediate trigger a patch built to fire it, after which the fleet runs the previous version, the
// database holds every row it held before the backup and the old schema version, and the record
// says which trigger fired with its measurement; evaluate-and-decide with a person's decision and
// with the deadline's default; authorisation refused and granted; a rollback with a host that
// does not answer; and `kill -9` during a rollback at every step boundary, then `run resume`.
//
// CMake's fixture runs `rollgate lab up 5` in a lab directory of its own (subnet 127.0.84); the
// tests share its hosts and run one at a time (RESOURCE_LOCK).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "testing/local_process.h"
#include "tests/lab/lab_cli_fixture.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RollbackLabTest : public LabCliTest {
 protected:
  void SetUp() override {
    LabCliTest::SetUp();
    if (HasFatalFailure()) return;
    // The file channel every message goes through.
    Edit("channels: [teams, email]", "channels: [teams, email, journal]");
    Edit("channels: [email]", "channels: [email, journal]");
    Edit("\nchannels:\n",
         "\nchannels:\n  - {name: journal, type: file, settings: {path: notices.log}}\n");
    Commit();
    // Every test starts from services that behave (a test that failed may have left a patch's
    // knobs behind) and DEV's database as the lab made it.
    for (int i = 1; i <= 5; ++i) {
      std::ofstream(kLab / "hosts" / ("host" + std::to_string(i)) / "root" / "etc" / "demo" /
                    "knobs")
          << "fail_ratio=0\nlatency_ms=0\nhealth=ok\n";
    }
    // DEV's database as the lab made it.
    Psql("postgres", "DROP DATABASE IF EXISTS demo_dev");
    Psql("postgres", "CREATE DATABASE demo_dev OWNER demo TEMPLATE demo");
  }

  void Edit(const std::string& from, const std::string& to) {
    if (config_.empty()) config_ = h_.ReadFile("rollgate.yaml");
    auto at = config_.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config_.replace(at, from.size(), to);
  }
  void Commit() {
    h_.WriteConfig(config_);
    CommandOutput valid = h_.Run({"validate"});
    ASSERT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  }

  // The outcome JSON `deploy`/`rollback`/`decide --output json` prints last.
  static nlohmann::json Outcome(const CommandOutput& out) {
    std::istringstream lines(out.out);
    std::string line, last;
    while (std::getline(lines, line)) {
      if (!line.empty()) last = line;
    }
    return nlohmann::json::parse(last, nullptr, false);
  }

  // DEV at the version the lab installed, with `package` deployed by heidi and the outcome
  // returned; expects the trigger `kind` to have fired and DEV to be rolled back automatically.
  nlohmann::json DeployExpectingAutomaticRollback(const std::string& version,
                                                  const std::string& package,
                                                  const std::string& kind) {
    std::string before = HostVersion(1);
    std::string rows = Psql("demo_dev", "SELECT count(*) FROM orders");
    std::string schema = Psql("demo_dev",
                              "SELECT string_agg(version, ',' ORDER BY version) FROM "
                              "schema_migrations");
    std::string cr = NewChange(version, package);
    cr_ = cr;
    ReadyForDev(cr);
    CommandOutput deploy = JsonAs("heidi", {"deploy", cr, "--env", "DEV"});
    EXPECT_EQ(deploy.exit_code, 1) << deploy.out << deploy.err;
    nlohmann::json outcome = Outcome(deploy);
    EXPECT_FALSE(outcome.is_discarded()) << deploy.out;
    std::set<std::string> kinds;
    for (const auto& t : outcome["triggers"]) kinds.insert(t["trigger"].get<std::string>());
    EXPECT_TRUE(kinds.contains(kind)) << outcome.dump(2);
    EXPECT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
    if (outcome["rollback"].is_object()) {
      EXPECT_EQ(outcome["rollback"]["state"], "succeeded") << deploy.err;
    }
    // The fleet, the data and the schema as they were.
    EXPECT_EQ(HostVersion(1), before);
    EXPECT_EQ(Psql("demo_dev", "SELECT count(*) FROM orders"), rows);
    EXPECT_EQ(Psql("demo_dev",
                   "SELECT string_agg(version, ',' ORDER BY version) FROM "
                   "schema_migrations"),
              schema);
    // The record: the trigger with its measurement and threshold, and an automatic rollback.
    auto fired = Evidence(cr, "trigger", "DEV");
    bool found = false;
    for (const auto& e : fired) {
      if (e["fields"]["kind"] != kind) continue;
      found = true;
      EXPECT_FALSE(e["fields"]["threshold"].get<std::string>().empty());
      EXPECT_FALSE(e["detail"].get<std::string>().empty());
    }
    EXPECT_TRUE(found) << last_show_;
    auto rolled = Evidence(cr, "rollback", "DEV");
    EXPECT_FALSE(rolled.empty());
    if (!rolled.empty()) {
      EXPECT_EQ(rolled.back()["passed"], true);
      EXPECT_EQ(rolled.back()["fields"]["automatic"], "yes");
      EXPECT_THAT(rolled.back()["fields"]["authorisation"].get<std::string>(),
                  HasSubstr("none needed"));
    }
    // `run show` of the deployment says why.
    CommandOutput show = h_.Run({"run", "show", outcome["run"].get<std::string>()}, env_);
    EXPECT_THAT(show.out, HasSubstr("trigger")) << show.out;
    return outcome;
  }

  std::string config_;
  std::string cr_;
};

TEST_F(RollbackLabTest, HealthFailingRollsBackAtOnceWithTheDatabase) {
  nlohmann::json outcome =
      DeployExpectingAutomaticRollback("1.1.1", "demo-1.1.1-bad.tar.gz", "health");
  // The migration had committed, so the database was restored too, and it was verified.
  CommandOutput rollback_run = h_.RunJson({"run", "show", outcome["rollback"]["run"]});
  EXPECT_THAT(rollback_run.out, HasSubstr("restore-database"));
  std::string notices = h_.ReadFile("notices.log");
  EXPECT_THAT(notices, HasSubstr("[EMERGENCY] ROLLBACK INITIATED - demo"));
  EXPECT_THAT(notices, HasSubstr("ROLLBACK COMPLETE - demo"));
  EXPECT_THAT(notices, HasSubstr("none needed: automatic rollback for health"));
}

TEST_F(RollbackLabTest, AShareOfRequestsInErrorFiresUsersAffected) {
  // Users keep ordering while the deployment runs.
  std::atomic<bool> stop{false};
  std::string orders = std::string("http://") + ROLLGATE_TEST_LAB_SUBNET + ".1:8080/api/orders";
  std::thread users([&] {
    while (!stop.load()) {
      RunProgram({"curl", "-s", "-o", "/dev/null", "-m", "2", orders}, "/", {});
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  nlohmann::json outcome =
      DeployExpectingAutomaticRollback("1.3.0", "demo-1.3.0-errors.tar.gz", "users-affected");
  stop.store(true);
  users.join();
  for (const auto& t : outcome["triggers"]) {
    if (t["trigger"] != "users-affected") continue;
    EXPECT_GE(t["measurement"].get<double>(), 5.0);
    EXPECT_EQ(t["threshold"].get<double>(), 5.0);
  }
  // The patch's knobs (a quarter of the orders failing) went with the rollback.
  EXPECT_THAT(Slurp(kLab / "hosts" / "host1" / "root" / "etc" / "demo" / "knobs"),
              Not(HasSubstr("fail_ratio=0.25")));
}

TEST_F(RollbackLabTest, AFlappingServiceFiresAvailabilityAlone) {
  // Health checks pass on a retry; what the observation window measures does not. The share of
  // errors is switched off for DEV so that availability is the trigger shown to act by itself.
  Edit("    critical_tables: [orders]\n",
       "    critical_tables: [orders]\n"
       "    triggers:\n"
       "      DEV:\n"
       "        users-affected: {action: off}\n");
  Commit();
  nlohmann::json outcome =
      DeployExpectingAutomaticRollback("1.7.0", "demo-1.7.0-flaky.tar.gz", "availability");
  std::set<std::string> kinds;
  for (const auto& t : outcome["triggers"]) {
    kinds.insert(t["trigger"].get<std::string>());
    if (t["trigger"] != "availability") continue;
    EXPECT_LT(t["measurement"].get<double>(), 99.5);
    EXPECT_EQ(t["threshold"].get<double>(), 99.5);
    EXPECT_EQ(t["unit"], "%");
  }
  EXPECT_EQ(kinds, std::set<std::string>{"availability"}) << outcome.dump(2);
  EXPECT_THAT(Slurp(kLab / "hosts" / "host1" / "root" / "etc" / "demo" / "knobs"),
              Not(HasSubstr("health_fail_ratio")));
}

TEST_F(RollbackLabTest, LostRowsFireDataIntegrityAndTheDatabaseIsRestored) {
  DeployExpectingAutomaticRollback("1.5.0", "demo-1.5.0-dataloss.tar.gz", "data-integrity");
  EXPECT_EQ(Psql("demo_dev",
                 "SELECT count(*) FROM schema_migrations WHERE version = '0005_archive_orders'"),
            "0");
}

TEST_F(RollbackLabTest, ASlowerServiceIsEvaluatedAndTheDeadlinesDefaultRollsBack) {
  Edit("    critical_tables: [orders]\n",
       "    critical_tables: [orders]\n"
       "    triggers:\n"
       "      DEV:\n"
       "        response-time: {action: evaluate, deadline: 8s, default: rollback}\n");
  Commit();
  std::string before = HostVersion(1);
  std::string cr = NewChange("1.4.0", "demo-1.4.0-slow.tar.gz");
  ReadyForDev(cr);
  CommandOutput deploy = JsonAs("heidi", {"deploy", cr, "--env", "DEV"});
  nlohmann::json outcome = Outcome(deploy);
  ASSERT_FALSE(outcome.is_discarded()) << deploy.out << deploy.err;
  EXPECT_EQ(outcome["decision"], "rollback") << outcome.dump(2);
  ASSERT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(HostVersion(1), before);
  auto decisions = Evidence(cr, "trigger-decision", "DEV");
  ASSERT_EQ(decisions.size(), 1U) << last_show_;
  EXPECT_EQ(decisions[0]["fields"]["decided_by"], "default at the deadline");
  EXPECT_THAT(h_.ReadFile("notices.log"), HasSubstr("[DECISION NEEDED] ROLLBACK? - demo - DEV"));
}

TEST_F(RollbackLabTest, AFailingSmokeTestWaitsForAPersonsDecision) {
  Edit("    critical_tables: [orders]\n",
       "    critical_tables: [orders]\n"
       "    triggers:\n"
       "      DEV:\n"
       "        smoke: {action: evaluate, deadline: 10m, default: continue}\n");
  Commit();
  std::string before = HostVersion(1);
  std::string cr = NewChange("1.6.0", "demo-1.6.0-smokefail.tar.gz");
  ReadyForDev(cr);
  auto deploy = std::async(std::launch::async, [&] {
    return JsonAs("heidi", {"deploy", cr, "--env", "DEV"});
  });
  // The trigger is recorded while `deploy` waits.
  bool waiting = false;
  for (int i = 0; i < 240 && !waiting; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (const auto& e : Evidence(cr, "trigger", "DEV"))
      waiting = waiting || e["fields"]["kind"] == "smoke";
  }
  ASSERT_TRUE(waiting) << last_show_;
  // Nobody without a rollback role decides.
  EXPECT_EQ(As("ivan", {"decide", cr, "--env", "DEV", "rollback"}).exit_code, 4);
  CommandOutput decided =
      As("alice", {"decide", cr, "--env", "DEV", "rollback", "--reason", "search is broken"});
  EXPECT_EQ(decided.exit_code, 0) << decided.out << decided.err;
  ASSERT_EQ(deploy.wait_for(std::chrono::minutes(5)), std::future_status::ready);
  nlohmann::json outcome = Outcome(deploy.get());
  EXPECT_EQ(outcome["decision"], "rollback") << outcome.dump(2);
  EXPECT_EQ(HostVersion(1), before);
  auto decisions = Evidence(cr, "trigger-decision", "DEV");
  ASSERT_EQ(decisions.size(), 1U);
  EXPECT_EQ(decisions[0]["fields"]["decided_by"], "alice");
  auto rolled = Evidence(cr, "rollback", "DEV");
  ASSERT_FALSE(rolled.empty());
  EXPECT_EQ(rolled.back()["fields"]["automatic"], "no");
  EXPECT_THAT(rolled.back()["fields"]["authorisation"].get<std::string>(),
              HasSubstr("alice decided"));
}

TEST_F(RollbackLabTest, AnAdvisoryAgainstTheDeployedVersionRollsItBack) {
  std::string before = HostVersion(1);
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  CommandOutput deploy = As("heidi", {"deploy", cr, "--env", "DEV"});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.out << deploy.err;
  ASSERT_EQ(HostVersion(1), "1.1.0");
  h_.WriteFile("advisory.json", R"({
    "schema_version": "1.6.0",
    "id": "DEMO-2026-0001",
    "modified": "2026-11-29T12:00:00Z",
    "summary": "demo 1.1.0: orders API leaks other customers' orders",
    "aliases": ["CVE-2026-55501"],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [{"package": {"ecosystem": "Generic", "name": "demo"},
                  "versions": ["1.1.0"]}]
  })");
  CommandOutput imported = JsonAs("grace", {"patch", "import", "advisory.json"});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_EQ(HostVersion(1), before);
  auto fired = Evidence(cr, "trigger", "DEV");
  ASSERT_FALSE(fired.empty()) << last_show_;
  EXPECT_EQ(fired.back()["fields"]["kind"], "security");
  EXPECT_EQ(fired.back()["value"], 7.5);
  auto rolled = Evidence(cr, "rollback", "DEV");
  ASSERT_FALSE(rolled.empty());
  EXPECT_EQ(rolled.back()["passed"], true);
}

// The users-affected trigger read from a real Prometheus (Debian's `prometheus`, started here on
// loopback, scraping host 1's demo service every second) by the watch after a deployment: the
// service starts failing a quarter of its orders, the query's figure crosses 5 %, and the watch
// rolls DEV back. The service's own counters are left out of the configuration here, so the
// figure can only have come from Prometheus.
TEST_F(RollbackLabTest, AnErrorShareReadFromPrometheusFiresTheWatchAndRollsBack) {
  std::string prometheus_binary = "/usr/bin/prometheus";
  ASSERT_EQ(access(prometheus_binary.c_str(), X_OK), 0)
      << "prometheus is not installed (Debian package prometheus, scripts/install-deps.sh)";
  rollgate::testing::ScratchDir scratch("rollgate-prometheus");
  std::string target = std::string(ROLLGATE_TEST_LAB_SUBNET) + ".1:8080";
  std::ofstream(scratch.path() / "prometheus.yml")
      << "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
      << "scrape_configs:\n"
      << "  - job_name: demo\n"
      << "    static_configs: [{targets: ['" << target << "']}]\n";
  rollgate::testing::ChildProcess prometheus;
  std::string base;
  for (int attempt = 0; attempt < 3 && base.empty(); ++attempt) {
    int port = rollgate::testing::FreeLoopbackPort();
    ASSERT_NE(port, 0);
    ASSERT_TRUE(
        prometheus
            .Start(
                {prometheus_binary, "--config.file=" + (scratch.path() / "prometheus.yml").string(),
                 "--storage.tsdb.path=" + (scratch.path() / "data").string(),
                 "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                scratch.path() / "prometheus.log")
            .ok());
    if (rollgate::testing::WaitForLoopbackPort(port, std::chrono::seconds(30)) &&
        prometheus.Running()) {
      base = "http://127.0.0.1:" + std::to_string(port);
    } else {
      prometheus.Stop();
    }
  }
  ASSERT_FALSE(base.empty()) << Slurp(scratch.path() / "prometheus.log");
  Edit("      requests_metric: demo_requests_total\n      errors_metric: demo_errors_total\n",
       "      prometheus_url: " + base +
           "\n"
           "      prometheus_query: '100 * sum(rate(demo_errors_total[10s])) / "
           "sum(rate(demo_requests_total[10s]))'\n");
  // The error share is what this test is about: a response time that a busy test machine makes
  // a few milliseconds slower must not end the watch first.
  Edit("    critical_tables: [orders]\n",
       "    critical_tables: [orders]\n"
       "    triggers:\n"
       "      DEV:\n"
       "        response-time: off\n");
  Commit();

  std::string before = HostVersion(1);
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  ASSERT_EQ(As("heidi", {"deploy", cr, "--env", "DEV"}).exit_code, 0);
  ASSERT_EQ(HostVersion(1), "1.1.0");
  CommandOutput started = As("heidi", {"watch", "start", cr, "--env", "DEV"});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;

  // A defect that shows under load: a quarter of the orders fail from now on.
  fs::path knobs = kLab / "hosts" / "host1" / "root" / "etc" / "demo" / "knobs";
  std::ofstream(knobs) << "fail_ratio=0.25\nlatency_ms=0\nhealth=ok\n";
  std::atomic<bool> stop{false};
  std::string orders = "http://" + target + "/api/orders";
  std::thread users([&] {
    while (!stop.load()) {
      RunProgram({"curl", "-s", "-o", "/dev/null", "-m", "2", orders}, "/", {});
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // One watch round a minute of the test clock; Prometheus needs a few scrapes for a rate.
  bool fired = false;
  for (int minute = 1; minute <= 40 && !fired; ++minute) {
    h_.SetNow("2026-11-30T10:" + std::string(minute < 10 ? "0" : "") + std::to_string(minute) +
              ":00Z");
    CommandOutput tick = As("heidi", {"watch", "run", "--once"});
    EXPECT_NE(tick.exit_code, 2) << tick.out << tick.err;
    for (const auto& e : Evidence(cr, "trigger", "DEV")) {
      fired = fired || e["fields"]["kind"] == "users-affected";
    }
    if (!fired) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  stop.store(true);
  users.join();
  ASSERT_TRUE(fired) << last_show_;
  nlohmann::json trigger;
  for (const auto& e : Evidence(cr, "trigger", "DEV")) {
    if (e["fields"]["kind"] == "users-affected") trigger = e;
  }
  EXPECT_EQ(trigger["fields"]["source"], "prometheus") << trigger.dump(2);
  EXPECT_GE(trigger["value"].get<double>(), 5.0);
  EXPECT_EQ(HostVersion(1), before);
  auto rolled = Evidence(cr, "rollback", "DEV");
  ASSERT_FALSE(rolled.empty()) << last_show_;
  EXPECT_EQ(rolled.back()["passed"], true);
  EXPECT_EQ(rolled.back()["fields"]["automatic"], "yes");
  EXPECT_THAT(Slurp(knobs), Not(HasSubstr("fail_ratio=0.25")));
}

TEST_F(RollbackLabTest, RollbackIsAuthorisedJointlyInTestAndByTheLeadInDev) {
  std::string dev_before = HostVersion(1), test_before = HostVersion(2);
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  ASSERT_EQ(As("heidi", {"deploy", cr, "--env", "DEV"}).exit_code, 0);
  ReadyForTest(cr);
  ASSERT_EQ(As("ivan", {"deploy", cr, "--env", "TEST"}).exit_code, 0);
  ASSERT_EQ(HostVersion(2), "1.1.0");
  // TEST: the test manager and the development lead, jointly.
  CommandOutput engineer = As("heidi", {"rollback", cr, "--env", "TEST"});
  EXPECT_EQ(engineer.exit_code, 4);
  EXPECT_THAT(engineer.err, HasSubstr("test-manager and development-lead"));
  CommandOutput first = As("bob", {"rollback", cr, "--env", "TEST", "--reason", "UAT defect"});
  EXPECT_EQ(first.exit_code, 4) << first.out << first.err;
  EXPECT_THAT(first.err, HasSubstr("also needs development-lead"));
  EXPECT_EQ(HostVersion(2), "1.1.0") << "one authorisation of two rolled back";
  EXPECT_EQ(As("bob", {"rollback", cr, "--env", "TEST"}).exit_code, 4) << "one person counts once";
  CommandOutput second = As("alice", {"rollback", cr, "--env", "TEST"});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(HostVersion(2), test_before);
  auto authorisations = Evidence(cr, "rollback-authorisation", "TEST");
  EXPECT_EQ(authorisations.size(), 2U);
  auto rolled = Evidence(cr, "rollback", "TEST");
  ASSERT_FALSE(rolled.empty());
  EXPECT_THAT(rolled.back()["fields"]["authorisation"].get<std::string>(),
              HasSubstr("bob (test-manager) and alice (development-lead)"));
  // DEV: the development lead alone.
  EXPECT_EQ(As("heidi", {"rollback", cr, "--env", "DEV"}).exit_code, 4);
  CommandOutput dev = As("alice", {"rollback", cr, "--env", "DEV"});
  EXPECT_EQ(dev.exit_code, 0) << dev.out << dev.err;
  EXPECT_EQ(HostVersion(1), dev_before);
}

// Two DEV hosts (host1 and host3, which nothing else here uses), the second stops answering before
// the rollback: it is reported, the first is restored, and the rollback ends failed instead of
// hanging.
TEST_F(RollbackLabTest, AHostThatDoesNotAnswerIsReportedAndTheOthersAreRestored) {
  std::string host1 = LabHost(1);
  std::string host3 = LabHost(3);
  Edit("      DEV: [" + host1 + "]", "      DEV: [" + host1 + ", " + host3 + "]");
  Commit();
  std::string before1 = HostVersion(1), before3 = HostVersion(3);
  std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
  ReadyForDev(cr);
  CommandOutput deploy = As("heidi", {"deploy", cr, "--env", "DEV"});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.out << deploy.err;
  ASSERT_EQ(HostVersion(3), "1.1.0");
  // host3's sshd goes away.
  std::string pid = Slurp(kLab / "hosts" / "host3" / "sshd.pid");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(kill(std::stoi(pid), SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto started = std::chrono::steady_clock::now();
  CommandOutput rollback = JsonAs("alice", {"rollback", cr, "--env", "DEV"});
  auto took = std::chrono::steady_clock::now() - started;
  // Bring host3 back, whatever happened.
  std::map<std::string, std::string> lab_env;
  for (const char* name : {"PATH", "HOME", "ROLLGATE_LAB_DIR", "ROLLGATE_LAB_SUBNET",
                           "ROLLGATE_DEMO_SERVICE", "ROLLGATE_LAB_USER"}) {
    if (const char* value = std::getenv(name)) lab_env[name] = value;
  }
  if (geteuid() == 0) lab_env["ROLLGATE_LAB_USER"] = "rollgate-lab";
  CommandOutput up = RunProgram({ROLLGATE_BINARY, "lab", "up", "5"}, "/", lab_env);
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(rollback.exit_code, 1) << rollback.out << rollback.err;
  EXPECT_LT(took, std::chrono::minutes(5)) << "the rollback hung on a host that did not answer";
  EXPECT_EQ(HostVersion(1), before1);
  EXPECT_EQ(HostVersion(3), "1.1.0") << "nothing reached host3";
  nlohmann::json outcome = Outcome(rollback);
  ASSERT_TRUE(outcome["rollback"].is_object()) << rollback.out;
  EXPECT_EQ(outcome["rollback"]["state"], "failed");
  CommandOutput show = h_.Run({"run", "show", outcome["rollback"]["run"]}, env_);
  EXPECT_THAT(show.out, HasSubstr(host3));
  (void)before3;
}

// RELIABILITY.md fault 1 during a rollback: killed at every step boundary and with a remote
// command done but its result not committed, then `run resume`: the environment ends restored
// (version, data, schema) and the rollback recorded.
TEST_F(RollbackLabTest, AKilledRollbackIsResumedToARestoredEnvironment) {
  std::vector<std::pair<std::string, int>> faults;
  for (int n = 1; n <= 12; ++n) faults.push_back({"intent-committed", n});
  for (int n : {2, 5}) faults.push_back({"remote-done", n});
  std::string before = HostVersion(1);
  for (const auto& [point, n] : faults) {
    SCOPED_TRACE(point + ":" + std::to_string(n));
    std::string cr = NewChange("1.1.0", "demo-1.1.0.tar.gz");
    ReadyForDev(cr);
    CommandOutput deploy = JsonAs("heidi", {"deploy", cr, "--env", "DEV"});
    ASSERT_EQ(deploy.exit_code, 0) << deploy.out << deploy.err;
    ASSERT_EQ(HostVersion(1), "1.1.0");
    std::map<std::string, std::string> env = env_;
    env["ROLLGATE_FAULT_POINT"] = point + ":" + std::to_string(n);
    CommandOutput killed =
        h_.Run({"rollback", cr, "--env", "DEV", "--as", "alice", "--output", "json"}, env);
    if (killed.exit_code == 0) break;  // past the last occurrence: the rollback completed
    ASSERT_EQ(killed.exit_code, 137) << killed.out << killed.err;
    CommandOutput runs = h_.RunJson({"run", "list"});
    std::string run = runs.Json()[0]["id"];
    CommandOutput resumed = As("alice", {"run", "resume", run, "--wait", "2s"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_EQ(HostVersion(1), before);
    EXPECT_EQ(Psql("demo_dev",
                   "SELECT count(*) FROM schema_migrations WHERE version = '0002_add_column'"),
              "0");
    EXPECT_EQ(Psql("demo_dev", "SELECT count(*) FROM orders"), "2");
    auto rolled = Evidence(cr, "rollback", "DEV");
    ASSERT_FALSE(rolled.empty());
    EXPECT_EQ(rolled.back()["passed"], true);
  }
  EXPECT_EQ(h_.Run({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace rollgate::e2e
