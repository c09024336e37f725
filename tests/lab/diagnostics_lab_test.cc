// Diagnostics on failure (playbook §7) on the loopback lab (real sshd and PostgreSQL): a patch or a
// condition that breaks each §7 class — a port another process holds, a service binary that needs
// a missing library, a migration with a syntax error, a disk past the free-space threshold, a
// slower service, a database refusing connections, lost rows — and each run ends with the right
// classification, the table's checks run on the host with their output attached to the run, and
// the resolution the table prescribes (rollback, halt, or §7.4's halt, rollback and escalation).
//
// CMake's fixture runs `rollgate lab up 5` in a lab directory of its own (subnet 127.0.86); the
// tests share its hosts and run one at a time (RESOURCE_LOCK).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "tests/lab/lab_cli_fixture.h"

namespace rollgate::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Another process's listening socket on `address:port` (the test process plays it).
class PortHolder {
 public:
  PortHolder(const std::string& address, int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd_, 4) == 0;
  }
  ~PortHolder() { close(fd_); }
  PortHolder(const PortHolder&) = delete;
  PortHolder& operator=(const PortHolder&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

class DiagnosticsLabTest : public LabCliTest {
 protected:
  void SetUp() override {
    LabCliTest::SetUp();
    if (HasFatalFailure()) return;
    // Every message goes through a file channel too (kim is the starter's DBA Lead).
    Edit("channels: [teams, email]", "channels: [teams, email, journal]");
    Edit("channels: [email]", "channels: [email, journal]");
    Edit("\nchannels:\n",
         "\nchannels:\n  - {name: journal, type: file, settings: {path: notices.log}}\n");
    Commit();
    for (int i = 1; i <= 5; ++i) {
      std::ofstream(kLab / "hosts" / ("host" + std::to_string(i)) / "root" / "etc" / "demo" /
                    "knobs")
          << "fail_ratio=0\nlatency_ms=0\nhealth=ok\n";
    }
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
    config_.clear();
  }

  static nlohmann::json Outcome(const CommandOutput& out) {
    std::istringstream lines(out.out);
    std::string line, last;
    while (std::getline(lines, line)) {
      if (!line.empty()) last = line;
    }
    return nlohmann::json::parse(last, nullptr, false);
  }

  // Deploys `package` to DEV and returns the outcome; the deployment must fail.
  nlohmann::json DeployFailing(const std::string& version, const std::string& package) {
    cr_ = NewChange(version, package);
    ReadyForDev(cr_);
    CommandOutput deploy = JsonAs("heidi", {"deploy", cr_, "--env", "DEV"});
    EXPECT_NE(deploy.exit_code, 0) << deploy.out << deploy.err;
    nlohmann::json outcome = Outcome(deploy);
    EXPECT_FALSE(outcome.is_discarded()) << deploy.out << deploy.err;
    EXPECT_TRUE(outcome["diagnosis"].is_object()) << outcome.dump(2);
    return outcome;
  }

  // Every highlighted line of check `check` in `diagnosis`.
  static std::vector<std::string> Highlights(const nlohmann::json& diagnosis,
                                             const std::string& check) {
    std::vector<std::string> out;
    for (const auto& r : diagnosis["results"]) {
      if (r["check"] != check) continue;
      for (const auto& line : r["highlights"]) out.push_back(line);
    }
    return out;
  }
  static std::vector<std::string> Checks(const nlohmann::json& diagnosis) {
    std::vector<std::string> out;
    for (const auto& r : diagnosis["results"]) out.push_back(r["check"]);
    return out;
  }

  // The run's stored diagnostics say the same as the outcome, and `run show` prints them.
  void ExpectAttachedToTheRun(const nlohmann::json& outcome) {
    std::string run = outcome["run"];
    nlohmann::json shown = Run(run);
    ASSERT_TRUE(shown["diagnostics"].is_array()) << shown.dump(2);
    ASSERT_FALSE(shown["diagnostics"].empty()) << shown.dump(2);
    EXPECT_EQ(shown["diagnostics"][0]["failure"], outcome["diagnosis"]["failure"]);
    EXPECT_EQ(shown["diagnostics"][0]["results"].size(), outcome["diagnosis"]["results"].size());
    for (const auto& r : shown["diagnostics"][0]["results"]) {
      EXPECT_EQ(r["host"], LabHost(1));
    }
    CommandOutput text = h_.Run({"run", "show", run}, env_);
    EXPECT_THAT(text.out, HasSubstr("Diagnostics #")) << text.out;
    auto diagnosis = Evidence(cr_, "diagnosis", "DEV");
    ASSERT_EQ(diagnosis.size(), 1U) << last_show_;
    EXPECT_EQ(diagnosis[0]["fields"]["failure"], outcome["diagnosis"]["failure"]);
    EXPECT_EQ(diagnosis[0]["fields"]["resolution"], outcome["diagnosis"]["resolution"]);
  }

  std::string config_;
  std::string cr_;
};

TEST_F(DiagnosticsLabTest, AServiceThatCannotHaveItsPortIsDiagnosedAndRolledBack) {
  std::string address = std::string(ROLLGATE_TEST_LAB_SUBNET) + ".1";
  PortHolder holder(address, 9099);
  ASSERT_TRUE(holder.ok());
  std::string before = HostVersion(1);
  nlohmann::json outcome = DeployFailing("1.8.0", "demo-1.8.0-portclash.tar.gz");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "service-wont-start") << d.dump(2);
  EXPECT_EQ(d["section"], "7.1");
  EXPECT_EQ(d["resolution"], "rollback");
  EXPECT_THAT(Checks(d), ::testing::ElementsAre("step-output", "service-status", "journal",
                                                "config-check", "ports", "permissions", "ldd"));
  EXPECT_THAT(Highlights(d, "step-output"), Contains(HasSubstr("Address already in use")));
  EXPECT_THAT(Highlights(d, "ports"), Contains(HasSubstr("port 9099 is held by another process")))
      << d.dump(2);
  for (const auto& r : d["results"]) {
    if (r["check"] == "service-status") {
      EXPECT_EQ(r["exit_code"], 3) << r.dump(2);  // the status command: stopped
    }
  }
  ASSERT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(HostVersion(1), before);
  ExpectAttachedToTheRun(outcome);

  // On demand, another table on one host: stored beside the automatic one, by its person.
  std::string run = outcome["run"];
  CommandOutput again =
      JsonAs("heidi", {"diagnose", run, "--host", LabHost(1), "--class", "high-memory"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  nlohmann::json report = again.Json();
  EXPECT_EQ(report["failure"], "high-memory");
  EXPECT_EQ(report["automatic"], false);
  EXPECT_EQ(report["requested_by"], "heidi");
  EXPECT_THAT(Checks(report), Contains("top-memory"));
  EXPECT_EQ(Run(run)["diagnostics"].size(), 2U);
}

TEST_F(DiagnosticsLabTest, ABinaryWithAMissingLibraryIsADependencyConflict) {
  std::string before = HostVersion(1);
  nlohmann::json outcome = DeployFailing("1.9.0", "demo-1.9.0-missinglib.tar.gz");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "dependency-conflict") << d.dump(2);
  EXPECT_EQ(d["section"], "7.2");
  EXPECT_EQ(d["resolution"], "rollback");
  EXPECT_EQ(d["escalate_to"], "development-lead");
  EXPECT_THAT(Highlights(d, "ldd"), Contains(HasSubstr("libdemo-extra.so.1 => not found")))
      << d.dump(2);
  ASSERT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(HostVersion(1), before);
  std::string notices = h_.ReadFile("notices.log");
  EXPECT_THAT(notices, HasSubstr("[DIAGNOSED] " + cr_ + " DEV: Dependency conflicts"));
  EXPECT_THAT(notices, HasSubstr("To: Alice Archer"));  // the development lead
  ExpectAttachedToTheRun(outcome);
}

TEST_F(DiagnosticsLabTest, AMigrationWithASyntaxErrorIsDiagnosedAndTheDatabaseIsUnchanged) {
  std::string schema = Psql("demo_dev",
                            "SELECT string_agg(version, ',' ORDER BY version) FROM "
                            "schema_migrations");
  nlohmann::json outcome = DeployFailing("1.10.0", "demo-1.10.0-badsql.tar.gz");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "migration-failed") << d.dump(2);
  EXPECT_EQ(d["resolution"], "rollback");
  EXPECT_THAT(Highlights(d, "step-output"), Contains(HasSubstr("syntax error")));
  bool listed = false;
  for (const auto& r : d["results"]) {
    if (r["check"] == "pg-migrations") {
      listed = r["output"].get<std::string>().find("recorded 0001") != std::string::npos;
      EXPECT_EQ(r["exit_code"], 0) << r.dump(2);
    }
    if (r["check"] == "pg-tables") {
      EXPECT_THAT(r["output"].get<std::string>(), HasSubstr("table orders present"));
    }
  }
  EXPECT_TRUE(listed) << d.dump(2);
  ASSERT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(
      Psql("demo_dev", "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations"),
      schema);
  ExpectAttachedToTheRun(outcome);
}

TEST_F(DiagnosticsLabTest, ADiskPastTheThresholdHaltsBeforeAnythingChanges) {
  // Every volume of the lab is "past" a threshold of 99.9 % free: the readiness check fails.
  Edit("min_free_disk_percent: 20", "min_free_disk_percent: 99.9");
  Commit();
  std::string before = HostVersion(1);
  nlohmann::json outcome = DeployFailing("1.1.0", "demo-1.1.0.tar.gz");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "deployment-step-failed") << d.dump(2);
  EXPECT_EQ(d["resolution"], "halt");
  EXPECT_THAT(d["resolution_detail"].get<std::string>(), HasSubstr("nothing was changed"));
  EXPECT_THAT(Highlights(d, "disk"), Contains(HasSubstr("below the 99.9% threshold"))) << d.dump(2);
  EXPECT_TRUE(outcome["rollback"].is_null());
  EXPECT_EQ(HostVersion(1), before);
  ExpectAttachedToTheRun(outcome);
}

TEST_F(DiagnosticsLabTest, ASlowerServiceIsPerformanceDegradationAndRolledBack) {
  Edit("    critical_tables: [orders]\n",
       "    critical_tables: [orders]\n"
       "    triggers:\n"
       "      DEV:\n"
       "        response-time: rollback\n");
  Commit();
  std::string before = HostVersion(1);
  nlohmann::json outcome = DeployFailing("1.4.0", "demo-1.4.0-slow.tar.gz");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "performance-degradation") << d.dump(2);
  EXPECT_EQ(d["section"], "7.3");
  EXPECT_EQ(d["resolution"], "rollback");
  EXPECT_THAT(Highlights(d, "baseline"), Contains(HasSubstr("slower than the baseline")))
      << d.dump(2);
  EXPECT_THAT(Checks(d), Contains("resources"));
  EXPECT_THAT(Checks(d), Contains("pg-activity"));
  ASSERT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(HostVersion(1), before);
  ExpectAttachedToTheRun(outcome);
}

TEST_F(DiagnosticsLabTest, ADatabaseRefusingConnectionsHaltsAndPagesTheDba) {
  Psql("postgres", "ALTER DATABASE demo_dev ALLOW_CONNECTIONS false");
  std::string before = HostVersion(1);
  nlohmann::json outcome = DeployFailing("1.1.0", "demo-1.1.0.tar.gz");
  Psql("postgres", "ALTER DATABASE demo_dev ALLOW_CONNECTIONS true");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "database-connection") << d.dump(2);
  EXPECT_EQ(d["section"], "7.4");
  EXPECT_EQ(d["resolution"], "halt");
  EXPECT_EQ(d["escalate_to"], "dba-lead");
  EXPECT_THAT(Highlights(d, "pg-select"),
              Contains(HasSubstr("is not currently accepting connections")))
      << d.dump(2);
  for (const auto& r : d["results"]) {
    EXPECT_THAT(r["output"].get<std::string>(), Not(HasSubstr("PGPASSWORD=")));
  }
  EXPECT_TRUE(outcome["rollback"].is_null());
  EXPECT_EQ(HostVersion(1), before);
  std::string notices = h_.ReadFile("notices.log");
  EXPECT_THAT(notices, HasSubstr("[DIAGNOSED] " + cr_ + " DEV: Database connection failures"));
  EXPECT_THAT(notices, HasSubstr("To: Kim Kowalski"));
  ExpectAttachedToTheRun(outcome);
}

TEST_F(DiagnosticsLabTest, LostRowsHaltRollBackAndEscalateToTheDbaLead) {
  std::string rows = Psql("demo_dev", "SELECT count(*) FROM orders");
  nlohmann::json outcome = DeployFailing("1.5.0", "demo-1.5.0-dataloss.tar.gz");
  const nlohmann::json& d = outcome["diagnosis"];
  EXPECT_EQ(d["failure"], "data-integrity") << d.dump(2);
  EXPECT_EQ(d["resolution"], "halt-rollback-escalate");
  EXPECT_THAT(Checks(d),
              ::testing::ElementsAre("step-output", "pg-record-counts", "pg-referential"));
  EXPECT_THAT(Highlights(d, "pg-record-counts"),
              Contains(HasSubstr("orders: " + std::to_string(std::stoi(rows) - 1) + " rows now, " +
                                 rows + " before the deployment (-1)")))
      << d.dump(2);
  ASSERT_TRUE(outcome["rollback"].is_object()) << outcome.dump(2);
  EXPECT_EQ(outcome["rollback"]["state"], "succeeded");
  EXPECT_EQ(Psql("demo_dev", "SELECT count(*) FROM orders"), rows);
  std::string notices = h_.ReadFile("notices.log");
  EXPECT_THAT(notices, HasSubstr("[DIAGNOSED] " + cr_ + " DEV: Data inconsistency after patch"));
  EXPECT_THAT(notices, HasSubstr("To: Kim Kowalski"));
  ExpectAttachedToTheRun(outcome);
}

}  // namespace
}  // namespace rollgate::e2e
