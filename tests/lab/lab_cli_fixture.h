// The fixture of the CLI tests against the loopback lab (deploy_lab_test.cc, rollback_lab_test.cc):
// a workspace with the starter configuration plus the lab's system `demo`, people acting with
// --as, and helpers that read the lab's hosts and database.
//
// Each test target defines ROLLGATE_TEST_LAB_DIR and ROLLGATE_TEST_LAB_SUBNET (its own lab).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/cli_harness.h"

namespace rollgate::e2e {

namespace fs = std::filesystem;

inline const fs::path kLab = ROLLGATE_TEST_LAB_DIR;
// Monday 30 November 2026, 09:00 UTC: the calendar below is fixed by it.
constexpr const char* kNow = "2026-11-30T09:00:00Z";

inline std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Host `i` of the lab as the configuration names it: the lab's login user (rollgate-lab as root,
// else the invoking user, from lab.conf), its subnet, port 2222.
inline std::string LabHost(int i) {
  std::string login = "rollgate-lab";
  std::istringstream conf(Slurp(kLab / "lab.conf"));
  std::string line;
  while (std::getline(conf, line)) {
    if (line.rfind("LAB_LOGIN_USER=", 0) == 0) login = line.substr(15);
  }
  return login + "@" + ROLLGATE_TEST_LAB_SUBNET + "." + std::to_string(i) + ":2222";
}

inline std::string HostVersion(int host) {
  std::string version =
      Slurp(kLab / "hosts" / ("host" + std::to_string(host)) / "root" / "opt" / "demo" / "VERSION");
  while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) {
    version.pop_back();
  }
  return version;
}

// psql as the cluster's superuser through the lab's socket directory.
inline std::string Psql(const std::string& database, const std::string& sql) {
  std::string port = Slurp(kLab / "postgres" / "port");
  while (!port.empty() && port.back() == '\n') port.pop_back();
  CommandOutput out =
      RunProgram({"runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-h",
                  (kLab / "postgres" / "run").string(), "-p", port, "-d", database, "-c", sql},
                 "/", {{"PATH", "/usr/bin:/bin:/usr/sbin:/sbin"}});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  std::string text = out.out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The run id in the outcome `deploy`/`rollback --output json` prints last, after the events.
inline std::string RunOf(const CommandOutput& streamed) {
  std::istringstream lines(streamed.out);
  std::string line, last;
  while (std::getline(lines, line)) last = line;
  return nlohmann::json::parse(last)["run"];
}

class LabCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every test starts from the lab as `lab up` made it (a test that failed, or an earlier run
    // on the same lab directory, may have left other versions, backups and migrations behind).
    CommandOutput reset = h_.Run({"lab", "--dir", kLab.string(), "reset"});
    ASSERT_EQ(reset.exit_code, 0) << reset.out << reset.err;
    h_.InitDemoConfig();
    std::string config = h_.ReadFile("rollgate.yaml");
    std::string fragment = Slurp(kLab / "rollgate-hosts.yaml");
    auto systems = fragment.find("systems:\n");
    auto starter = config.find("\nsystems:\n");
    ASSERT_NE(systems, std::string::npos) << fragment;
    ASSERT_NE(starter, std::string::npos);
    config.insert(starter + 10, fragment.substr(systems + 9));
    // A short observation at the end of each deployment (the default is a minute).
    auto log_check = config.find("log_check_after:");
    ASSERT_NE(log_check, std::string::npos);
    config.insert(config.find('\n', log_check) + 1, "      observe_window: 5s\n");
    h_.WriteConfig(config);
    h_.SetNow(kNow);
    env_ = {{"ROLLGATE_SSH_CONFIG", (kLab / "ssh_config").string()}};
    h_.WriteFile("plan.md", "1. stop 2. install 3. start\n");
    ASSERT_EQ(h_.Run({"validate"}).exit_code, 0) << h_.Run({"validate"}).err;
  }

  CommandOutput As(const std::string& person, std::vector<std::string> args) const {
    args.push_back("--as");
    args.push_back(person);
    return h_.Run(args, env_);
  }

  // A patch with `package` and a submitted CR for the lab's system; returns the CR id.
  std::string NewChange(const std::string& version, const std::string& package) {
    CommandOutput patch =
        h_.RunJson({"patch", "add", "--title", "demo " + version, "--source", "development-team",
                    "--version", version, "--package", (kLab / "patches" / package).string()},
                   "heidi");
    EXPECT_EQ(patch.exit_code, 0) << patch.err;
    std::string patch_id = patch.Json()["id"];
    CommandOutput cr =
        h_.RunJson({"cr", "create", "--patch", patch_id, "--system", "demo", "--description",
                    "demo " + version, "--implementation-plan", "plan.md", "--rollback-plan",
                    "plan.md", "--test-plan", "plan.md", "--risk", "low"},
                   "heidi");
    EXPECT_EQ(cr.exit_code, 0) << cr.err;
    std::string id = cr.Json()["id"];
    EXPECT_EQ(As("heidi", {"cr", "submit", id}).exit_code, 0);
    return id;
  }

  void ReadyForDev(const std::string& cr) {
    ASSERT_EQ(As("alice", {"cr", "approve", cr, "--env", "DEV"}).exit_code, 0);
    ASSERT_EQ(
        As("heidi", {"cr", "schedule", cr, "--env", "DEV", "--at", "2026-11-30 10:00"}).exit_code,
        0);
  }
  void ReadyForTest(const std::string& cr) {
    ASSERT_EQ(As("alice", {"cr", "signoff", cr, "--env", "DEV", "--kind", "dev-lead"}).exit_code,
              0);
    ASSERT_EQ(As("bob", {"cr", "approve", cr, "--env", "TEST"}).exit_code, 0);
    ASSERT_EQ(
        As("heidi", {"cr", "schedule", cr, "--env", "TEST", "--at", "2026-12-01 10:00"}).exit_code,
        0);
  }
  void ReadyForProd(const std::string& cr, const std::string& at) {
    for (auto [kind, person] : std::vector<std::pair<std::string, std::string>>{
             {"test-manager", "bob"}, {"business-analyst", "carol"}, {"uat", "carol"}}) {
      ASSERT_EQ(As(person, {"cr", "signoff", cr, "--env", "TEST", "--kind", kind}).exit_code, 0);
    }
    ASSERT_EQ(As("dave", {"cr", "approve", cr, "--env", "PROD"}).exit_code, 0);
    ASSERT_EQ(As("heidi", {"cr", "evidence", cr, "--env", "TEST", "--kind", "rollback-tested",
                           "--passed", "--value", "200"})
                  .exit_code,
              0);
    ASSERT_EQ(As("heidi", {"cr", "schedule", cr, "--env", "PROD", "--at", at}).exit_code, 0);
  }

  // The CR's evidence of `kind` in `env`, latest last.
  std::vector<nlohmann::json> Evidence(const std::string& cr, const std::string& kind,
                                       const std::string& env) {
    CommandOutput show = h_.Run({"cr", "show", cr, "--format", "json"}, env_);
    EXPECT_EQ(show.exit_code, 0) << show.err;
    last_show_ = show.out;
    std::vector<nlohmann::json> found;
    nlohmann::json document = show.Json();
    for (const auto& e : document["evidence"]) {
      if (e["kind"] == kind && e["environment"] == env) found.push_back(e);
    }
    return found;
  }

  // With --output json, as `person`, reaching the lab's hosts.
  CommandOutput JsonAs(const std::string& person, std::vector<std::string> args) const {
    args.insert(args.end(), {"--output", "json", "--as", person});
    return h_.Run(args, env_);
  }

  nlohmann::json Run(const std::string& id) {
    CommandOutput show = h_.RunJson({"run", "show", id});
    return show.Json();
  }

  CliHarness h_;
  std::map<std::string, std::string> env_;
  std::string last_show_;
};

}  // namespace rollgate::e2e
