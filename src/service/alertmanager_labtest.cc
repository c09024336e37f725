// QueryAlertmanager and the alertmanager notification channel against a real Prometheus
// Alertmanager (Debian's `prometheus-alertmanager`), started here on 127.0.0.1 with a free port, a
// null receiver, its storage in a scratch directory and clustering off, and stopped when the test
// ends, pass or fail: the §4.2 alerting check a system's `alertmanager:` section makes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "common/strings.h"
#include "notify/channels.h"
#include "service/alertmanager_query.h"
#include "testing/local_process.h"

namespace rollgate {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// $ROLLGATE_ALERTMANAGER, else `prometheus-alertmanager` on PATH (Debian puts it in /usr/bin);
// empty when there is none.
std::string FindAlertmanager() {
  if (const char* chosen = std::getenv("ROLLGATE_ALERTMANAGER"); chosen != nullptr && *chosen) {
    return chosen;
  }
  const char* path = std::getenv("PATH");
  for (std::string_view dir : Split(path == nullptr ? "/usr/bin:/bin" : path, ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir) / "prometheus-alertmanager";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  if (access("/usr/bin/prometheus-alertmanager", X_OK) == 0) {
    return "/usr/bin/prometheus-alertmanager";
  }
  return "";
}

std::string ReadTail(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

class AlertmanagerLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string binary = FindAlertmanager();
    ASSERT_FALSE(binary.empty()) << "prometheus-alertmanager is not installed (Debian package "
                                    "prometheus-alertmanager, scripts/install-deps.sh)";
    const std::filesystem::path config = scratch_.path() / "alertmanager.yml";
    std::ofstream(config) << "route:\n"
                          << "  receiver: 'null'\n"
                          << "receivers:\n"
                          << "  - name: 'null'\n";
    const std::filesystem::path log = scratch_.path() / "alertmanager.log";
    for (int attempt = 0; attempt < 3 && base_.empty(); ++attempt) {
      int port = testing::FreeLoopbackPort();
      ASSERT_NE(port, 0);
      ASSERT_TRUE(alertmanager_
                      .Start({binary, "--config.file=" + config.string(),
                              "--storage.path=" + (scratch_.path() / "data").string(),
                              "--web.listen-address=127.0.0.1:" + std::to_string(port),
                              "--cluster.listen-address=", "--log.level=warn"},
                             log)
                      .ok());
      if (testing::WaitForLoopbackPort(port, 30s) && alertmanager_.Running() && Ready(port)) {
        port_ = port;
        base_ = "http://127.0.0.1:" + std::to_string(port);
      } else {
        alertmanager_.Stop();
      }
    }
    ASSERT_FALSE(base_.empty()) << "prometheus-alertmanager did not start:\n" << ReadTail(log);
  }

  // GET /-/ready answers 200 within 30 s.
  static bool Ready(int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(2);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto answer = client.Get("/-/ready"); answer && answer->status == 200) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  // POSTs `body` to the API path; true on a 2xx answer.
  bool Post(const std::string& path, const nlohmann::json& body) {
    httplib::Client client("127.0.0.1", port_);
    auto answer = client.Post(path, body.dump(), "application/json");
    return answer && answer->status >= 200 && answer->status < 300;
  }

  static nlohmann::json Alert(const std::string& name, const std::string& severity,
                              const std::string& system) {
    return {{"labels", {{"alertname", name}, {"severity", severity}, {"system", system}}},
            {"annotations", {{"summary", name + " in the lab"}}}};
  }

  // The check's answer once `done` holds for it (or the last one after 15 s): the API lists a
  // posted alert at once, but give it room.
  Result<std::vector<FiringAlert>> Check(
      const std::vector<std::string>& matchers, const std::vector<std::string>& severities,
      const std::function<bool(const std::vector<FiringAlert>&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    Result<std::vector<FiringAlert>> alerts =
        QueryAlertmanager(base_, matchers, severities, Seconds(5));
    while ((!alerts.ok() || !done(*alerts)) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(250ms);
      alerts = QueryAlertmanager(base_, matchers, severities, Seconds(5));
    }
    return alerts;
  }

  static bool Named(const std::vector<FiringAlert>& alerts, const std::string& name) {
    return std::any_of(alerts.begin(), alerts.end(),
                       [&](const FiringAlert& a) { return a.name == name; });
  }

  // Stopped in reverse order of declaration: Alertmanager, then the directory.
  testing::ScratchDir scratch_{"rollgate-alertmanager"};
  testing::ChildProcess alertmanager_;
  int port_ = 0;
  std::string base_;
};

TEST_F(AlertmanagerLabTest, ChecksFindCriticalAlertsOfTheSystemOnly) {
  const std::vector<std::string> billing = {"system=billing"};
  const std::vector<std::string> critical = {"critical"};

  // Nothing fires yet: the check passes.
  Result<std::vector<FiringAlert>> none = QueryAlertmanager(base_, billing, critical, Seconds(5));
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_TRUE(none->empty());

  // A warning for billing and a critical alert of another system do not count.
  ASSERT_TRUE(
      Post("/api/v2/alerts", nlohmann::json::array({Alert("DiskAlmostFull", "warning", "billing"),
                                                    Alert("PayrollDown", "critical", "payroll")})));
  Result<std::vector<FiringAlert>> warnings =
      Check(billing, {"warning"}, [](const auto& a) { return Named(a, "DiskAlmostFull"); });
  ASSERT_TRUE(warnings.ok()) << warnings.error().ToString();
  ASSERT_TRUE(Named(*warnings, "DiskAlmostFull")) << "the warning was not listed at all";
  Result<std::vector<FiringAlert>> still = QueryAlertmanager(base_, billing, critical, Seconds(5));
  ASSERT_TRUE(still.ok()) << still.error().ToString();
  EXPECT_TRUE(still->empty()) << DescribeAlerts(*still);

  // A silenced critical alert is left out.
  nlohmann::json silence = {{"matchers", nlohmann::json::array({{{"name", "alertname"},
                                                                 {"value", "MaintenanceNoise"},
                                                                 {"isRegex", false},
                                                                 {"isEqual", true}}})},
                            {"startsAt", "2000-01-01T00:00:00Z"},
                            {"endsAt", "2999-01-01T00:00:00Z"},
                            {"createdBy", "rollgate-test"},
                            {"comment", "lab"}};
  ASSERT_TRUE(Post("/api/v2/silences", silence));
  ASSERT_TRUE(Post("/api/v2/alerts",
                   nlohmann::json::array({Alert("MaintenanceNoise", "critical", "billing")})));

  // A critical alert for billing: the check finds it, by name.
  ASSERT_TRUE(Post("/api/v2/alerts",
                   nlohmann::json::array({Alert("HighErrorRate", "critical", "billing")})));
  Result<std::vector<FiringAlert>> firing =
      Check(billing, critical, [](const auto& a) { return Named(a, "HighErrorRate"); });
  ASSERT_TRUE(firing.ok()) << firing.error().ToString();
  ASSERT_EQ(firing->size(), 1u) << DescribeAlerts(*firing);
  EXPECT_EQ((*firing)[0].name, "HighErrorRate");
  EXPECT_EQ((*firing)[0].labels.at("system"), "billing");
  EXPECT_EQ(DescribeAlerts(*firing), "HighErrorRate");

  // The silenced one is there, just silenced: asked for with all severities it still is not
  // listed, while a matcher on its name alone finds nothing active either.
  Result<std::vector<FiringAlert>> silenced =
      QueryAlertmanager(base_, {"alertname=MaintenanceNoise"}, critical, Seconds(5));
  ASSERT_TRUE(silenced.ok()) << silenced.error().ToString();
  EXPECT_TRUE(silenced->empty());

  // Regex and negative matchers reach Alertmanager intact (URL-encoded, quoted).
  Result<std::vector<FiringAlert>> regex = QueryAlertmanager(
      base_, {"system=~\"bill.*|none\"", "alertname!=Other"}, critical, Seconds(5));
  ASSERT_TRUE(regex.ok()) << regex.error().ToString();
  EXPECT_TRUE(Named(*regex, "HighErrorRate"));
}

TEST_F(AlertmanagerLabTest, TheAlertmanagerChannelDeliversAnAlertTheApiThenLists) {
  Channel channel{"alerts",
                  "alertmanager",
                  {{"url", base_}, {"severity", "warning"}, {"label:team", "it-operations"}}};
  notify::OutgoingMessage message;
  message.subject = "[DEPLOYMENT COMPLETE] billing - PROD - SUCCESS";
  message.body = "DEPLOYMENT STATUS: SUCCESS\n";
  message.change_request = "CR-7";
  message.environment = "PROD";
  message.system = "billing";
  notify::DeliveryContext context;
  context.now = std::chrono::floor<Seconds>(std::chrono::system_clock::now());
  Result<std::string> sent = notify::Deliver(channel, message, context);
  ASSERT_TRUE(sent.ok()) << sent.error().ToString();
  EXPECT_THAT(*sent, HasSubstr("HTTP 200"));

  Result<std::vector<FiringAlert>> listed =
      Check({"system=billing", "change_request=CR-7"}, {"warning"},
            [](const auto& a) { return Named(a, "RollgateDeploymentComplete"); });
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_TRUE(Named(*listed, "RollgateDeploymentComplete")) << DescribeAlerts(*listed);
  const FiringAlert& alert = (*listed)[0];
  EXPECT_EQ(alert.labels.at("environment"), "PROD");
  EXPECT_EQ(alert.labels.at("team"), "it-operations");
  // A warning is not a critical alert: the deployment check would not fire on it.
  Result<std::vector<FiringAlert>> critical =
      QueryAlertmanager(base_, {"system=billing"}, {"critical"}, Seconds(5));
  ASSERT_TRUE(critical.ok()) << critical.error().ToString();
  EXPECT_TRUE(critical->empty());
}

TEST_F(AlertmanagerLabTest, AStoppedAlertmanagerIsUnreachableNotAnAlert) {
  alertmanager_.Stop();
  Result<std::vector<FiringAlert>> down =
      QueryAlertmanager(base_, {"system=billing"}, {"critical"}, Seconds(2));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(down.error().message(), HasSubstr("127.0.0.1:" + std::to_string(port_)));
  EXPECT_THAT(down.error().message(), ::testing::Not(HasSubstr("filter")));
  Evidence e = AlertsEvidence(down, AlertmanagerShownUrl(base_), {"system=billing"}, {"critical"},
                              "PROD", "RUN-1");
  EXPECT_EQ(e.passed, false);
  EXPECT_THAT(e.detail, HasSubstr("unreachable"));
  EXPECT_FALSE(e.value.has_value());

  Channel channel{"alerts", "alertmanager", {{"url", base_}}};
  notify::DeliveryContext context;
  Result<std::string> sent = notify::Deliver(channel, notify::OutgoingMessage{}, context);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace rollgate
