// §4.2 "verify alerting" through the real binary: a DEV deployment on simulated hosts of a system
// with `alertmanager:` asks it after the run. An Alertmanager (an HTTP server on 127.0.0.1
// answering as Alertmanager's API v2) with a critical alert of the system fires critical-alerts
// (set to rollback in DEV here, so the deployment is rolled back at once) and the alert is named on
// the CR; one that cannot be reached is recorded as a failed check and rolls nothing back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::map<std::string, std::string> kSystemPath = {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}};

nlohmann::json LastLine(const CommandOutput& r) {
  std::istringstream lines(r.out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  nlohmann::json doc = nlohmann::json::parse(last, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << Describe(r);
  return doc.is_discarded() ? nlohmann::json::object() : doc;
}

// Answers GET /api/v2/alerts with `alerts` and records each request's query string.
class FakeAlertmanager {
 public:
  explicit FakeAlertmanager(std::string alerts) : alerts_(std::move(alerts)) {
    server_.Get("/api/v2/alerts", [this](const httplib::Request& request, httplib::Response& r) {
      std::lock_guard<std::mutex> lock(mutex_);
      std::vector<std::string> filters;
      for (auto [it, end] = request.params.equal_range("filter"); it != end; ++it) {
        filters.push_back(it->second);
      }
      requests_.push_back(filters);
      r.set_content(alerts_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~FakeAlertmanager() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::vector<std::string>> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  std::string alerts_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::vector<std::string>> requests_;
};

class AlertsCliTest : public ::testing::Test {
 protected:
  // The demo configuration with billing's alerts asked of `url`, critical-alerts rolling back at
  // once in DEV, notifications to files; a CR approved and scheduled for DEV with a package.
  void SetUpWith(const std::string& url) {
    h_.InitDemoConfig();
    std::string config = h_.ReadFile("rollgate.yaml");
    const std::string names = "    advisory_names: [billing]\n";
    auto at = config.find(names);
    ASSERT_NE(at, std::string::npos) << "the starter configuration's billing system changed";
    config.insert(at + names.size(),
                  "    alertmanager:\n      url: " + url +
                      "\n      matchers: [\"system=billing\", \"env={environment}\"]\n"
                      "    triggers:\n      DEV: {critical-alerts: rollback}\n");
    h_.WriteConfig(config);
    h_.SetNow(kMonday);
    fs::create_directories(h_.dir() / "pkg" / "billing-2.4.1" / "app");
    h_.WriteFile("pkg/billing-2.4.1/app/VERSION", "2.4.1\n");
    CommandOutput tar =
        RunProgram({"tar", "czf", "billing-2.4.1.tar.gz", "-C", "pkg", "billing-2.4.1"}, h_.dir(),
                   kSystemPath);
    ASSERT_EQ(tar.exit_code, 0) << Describe(tar);
    cr_ = SubmittedCr(h_, {"--cvss", kHighVector, "--version", "2.4.1", "--package",
                           (h_.dir() / "billing-2.4.1.tar.gz").string()});
    ASSERT_FALSE(cr_.empty());
    Ok(h_, "alice", {"cr", "approve", cr_, "--env", "DEV"});
    Ok(h_, "heidi", {"cr", "schedule", cr_, "--env", "DEV", "--at", "2026-11-30 10:00"});
  }

  CommandOutput Deploy() {
    return h_.Run({"--as", "heidi", "--output", "json", "deploy", cr_, "--env", "DEV",
                   "--transport", "simulated"},
                  {{"BILLING_DB_PASSWORD", "not-used-by-simulated-hosts"}});
  }

  std::vector<nlohmann::json> Evidence(const std::string& kind) {
    std::vector<nlohmann::json> out;
    nlohmann::json doc = h_.RunJson({"cr", "show", cr_}).Json();
    for (const nlohmann::json& e : doc["evidence"]) {
      if (e.value("kind", "") == kind) out.push_back(e);
    }
    return out;
  }

  CliHarness h_;
  std::string cr_;
};

TEST_F(AlertsCliTest, AFiringCriticalAlertIsRecordedAndFiresTheTrigger) {
  FakeAlertmanager alertmanager(R"([
    {"labels": {"alertname": "HighErrorRate", "severity": "critical", "system": "billing"},
     "status": {"state": "active"}},
    {"labels": {"alertname": "DiskAlmostFull", "severity": "warning", "system": "billing"},
     "status": {"state": "active"}}])");
  SetUpWith(alertmanager.url());
  CommandOutput deploy = Deploy();
  // The trigger's action, a rollback, is started at once. Simulated hosts keep no backup it
  // could restore, and it says so (rollbacks themselves are tested on the lab).
  EXPECT_NE(deploy.exit_code, 0) << Describe(deploy);
  EXPECT_THAT(deploy.err, HasSubstr("left no application backup to restore in DEV"));

  auto requests = alertmanager.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], (std::vector<std::string>{"system=\"billing\"", "env=\"DEV\""}));

  std::vector<nlohmann::json> alerts = Evidence("alerts");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["passed"], false);
  EXPECT_THAT(alerts[0]["detail"].get<std::string>(), HasSubstr("HighErrorRate"));
  EXPECT_THAT(alerts[0]["detail"].get<std::string>(), ::testing::Not(HasSubstr("DiskAlmostFull")));
  bool fired = false;
  for (const nlohmann::json& t : Evidence("trigger")) {
    if (t["fields"].value("kind", "") == "critical-alerts") fired = true;
  }
  EXPECT_TRUE(fired) << h_.RunJson({"cr", "show", cr_}).out;
}

TEST_F(AlertsCliTest, AnUnreachableAlertmanagerIsAFailedCheckAndRollsNothingBack) {
  int closed = 0;
  {
    httplib::Server probe;
    closed = probe.bind_to_any_port("127.0.0.1");
  }  // closed again: nothing listens there
  SetUpWith("http://127.0.0.1:" + std::to_string(closed));
  CommandOutput deploy = Deploy();
  ASSERT_EQ(deploy.exit_code, 0) << Describe(deploy);
  EXPECT_TRUE(LastLine(deploy)["decision"].is_null()) << Describe(deploy);
  std::vector<nlohmann::json> alerts = Evidence("alerts");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["passed"], false);
  EXPECT_THAT(alerts[0]["detail"].get<std::string>(), HasSubstr("unreachable"));
  for (const nlohmann::json& t : Evidence("trigger")) {
    EXPECT_NE(t["fields"].value("kind", ""), "critical-alerts") << t;
  }
  EXPECT_TRUE(Evidence("rollback").empty());
}

// Not about alerts: this fixture deploys on simulated hosts, which keep no backup. A rollback
// that cannot be carried out is refused before the authorisation is recorded.
TEST_F(AlertsCliTest, ARollbackWithNothingToRestoreIsRefusedAndRecordsNoAuthorisation) {
  FakeAlertmanager alertmanager("[]");
  SetUpWith(alertmanager.url());
  ASSERT_EQ(Deploy().exit_code, 0);
  CommandOutput rollback = h_.Run({"--as", "alice", "rollback", cr_, "--env", "DEV", "--reason",
                                   "errors up", "--transport", "simulated"});
  EXPECT_EQ(rollback.exit_code, 2) << Describe(rollback);
  EXPECT_THAT(rollback.err, HasSubstr("left no application backup to restore in DEV"));
  EXPECT_TRUE(Evidence("rollback-authorisation").empty());
  EXPECT_TRUE(Evidence("rollback").empty());
}

}  // namespace
}  // namespace rollgate::e2e
