#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>
#include <map>
#include <string>
#include <thread>

#include "engine/step_type.h"
#include "engine/steps/step_test_util.h"
#include "testing/local_process.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Status Validate(std::map<std::string, std::string> params) {
  StepTypeTable table = DefaultStepTypes();
  StepSpec spec;
  spec.name = "observe";
  spec.type = "observe";
  spec.params = std::move(params);
  return table.Find("observe")->Validate(spec);
}

double Number(const std::map<std::string, std::string>& facts, const std::string& key) {
  auto it = facts.find(key);
  return it == facts.end() ? -1 : std::stod(it->second);
}

// An httplib server on 127.0.0.1 for the answers the demo service never gives.
class ScriptedServer {
 public:
  ScriptedServer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~ScriptedServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(ObserveStep, ValidatesItsParamsStrictly) {
  const std::string url = "http://{host}:8080/health";
  EXPECT_TRUE(Validate({{"health_url", url}, {"window_seconds", "60"}}).ok());
  EXPECT_TRUE(Validate({{"probe_urls", url + "\n\nhttp://{host}:8080/api/orders\n"},
                        {"window_seconds", "60"},
                        {"interval_seconds", "60"},
                        {"timeout_seconds", "300"},
                        {"metrics_url", "http://{host}:8080/metrics"},
                        {"requests_metric", "http_requests_total"},
                        {"errors_metric", "job:errors:rate5m"}})
                  .ok());

  auto error = [](std::map<std::string, std::string> params) {
    return Validate(std::move(params)).message();
  };
  EXPECT_THAT(error({{"window_seconds", "60"}}), HasSubstr("\"health_url\" or \"probe_urls\""));
  EXPECT_THAT(error({{"health_url", url}}), HasSubstr("needs param \"window_seconds\""));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "0"}}),
              HasSubstr("\"window_seconds\": must be a whole number from 1 to 86400"));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "86401"}}),
              HasSubstr("window_seconds"));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "010"}}),
              HasSubstr("without leading zeros"));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "10"}, {"interval_seconds", "11"}}),
              HasSubstr("\"interval_seconds\": 11 is longer than window_seconds (10)"));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "10"}, {"interval_seconds", "0"}}),
              HasSubstr("interval_seconds"));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "10"}, {"timeout_seconds", "301"}}),
              HasSubstr("timeout_seconds"));
  EXPECT_THAT(error({{"health_url", "ftp://x/health"}, {"window_seconds", "10"}}),
              HasSubstr("health_url"));
  EXPECT_THAT(error({{"probe_urls", url + "\nhttp://a b/"}, {"window_seconds", "10"}}),
              HasSubstr("\"probe_urls\": each line must be an http:// or https:// URL"));
  EXPECT_THAT(error({{"probe_urls", "\n\n"}, {"window_seconds", "10"}}),
              HasSubstr("no value given"));

  std::map<std::string, std::string> metrics = {{"health_url", url},
                                                {"window_seconds", "10"},
                                                {"metrics_url", "http://{host}:8080/metrics"},
                                                {"requests_metric", "requests_total"},
                                                {"errors_metric", "errors_total"}};
  for (const char* bad : {"requests-total", "9requests", "requests total", "a{b}", "$(id)"}) {
    auto params = metrics;
    params["errors_metric"] = bad;
    EXPECT_THAT(error(params), HasSubstr("\"errors_metric\": must be a Prometheus metric name"))
        << bad;
  }
  auto no_names = metrics;
  no_names.erase("errors_metric");
  EXPECT_THAT(error(no_names), HasSubstr("\"metrics_url\" needs param \"errors_metric\""));
  auto no_url = metrics;
  no_url.erase("metrics_url");
  EXPECT_THAT(error(no_url), HasSubstr("\"requests_metric\" needs param \"metrics_url\""));
  EXPECT_THAT(error({{"health_url", url}, {"window_seconds", "10"}, {"watch", "x"}}),
              HasSubstr("has no param \"watch\""));
}

TEST(ObserveStep, IsAMeasurementThatMayAlwaysRunAgain) {
  testing::LocalStepHost host;
  Result<ProbeVerdict> verdict =
      host.Probe("observe", {{"health_url", "http://{host}:1/health"}, {"window_seconds", "1"}});
  ASSERT_TRUE(verdict.ok()) << verdict.error().ToString();
  EXPECT_EQ(*verdict, ProbeVerdict::kNotInPlace);
}

TEST(ObserveStep, AServiceThatDoesNotAnswerIsMeasuredAsUnavailable) {
  testing::LocalStepHost host;
  int port = testing::FreeLoopbackPort();  // nothing listens there
  std::string url = "http://{host}:" + std::to_string(port) + "/health";
  testing::StepOutcome out = host.Run(
      "observe", {{"health_url", url}, {"window_seconds", "2"}, {"interval_seconds", "1"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["probes"], "2");
  EXPECT_EQ(out.facts["failed_probes"], "2");
  EXPECT_EQ(out.facts["availability_percent"], "0");
  EXPECT_EQ(out.facts["first_failure"], "http://127.0.0.1:" + std::to_string(port) + "/health 000");
  EXPECT_THAT(out.result.output_tail, HasSubstr("no answer (curl exit status 7)"));
  EXPECT_GE(Number(out.facts, "window_seconds"), 2);
}

TEST(ObserveStep, NoProbeAtAllIsAFailure) {
  testing::LocalStepHost host;
  // curl refuses the port before any request is made (exit status 3, malformed URL).
  testing::StepOutcome out = host.Run("observe", {{"probe_urls", "http://{host}:99999/health"},
                                                  {"window_seconds", "1"},
                                                  {"interval_seconds", "1"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["probes"], "0");
  EXPECT_THAT(out.result.output_tail, HasSubstr("no probe could be made"));
}

TEST(ObserveStep, CountersWithLabelsAreSummedAndARestartGivesNoFigure) {
  ScriptedServer server;
  std::atomic<int> scrapes{0};
  server.server().Get("/health", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok", "text/plain");
  });
  server.server().Get("/metrics", [&](const httplib::Request&, httplib::Response& response) {
    // The pages of successive reads: a run reads twice. Two label sets (one with a space and
    // a brace in a label value, one with a timestamp and a float in exponent form), a
    // _created sample that is not the counter, and comments.
    struct Page {
      int first;
      const char* second;
      int errors;
    };
    static constexpr Page kPages[] = {{100, "1e2", 1},
                                      {150, "1.5e2", 21},  // first run
                                      {150, "1.5e2", 21},
                                      {10, "0", 1}};  // restarted
    const Page& page = kPages[std::min<size_t>(scrapes++, std::size(kPages) - 1)];
    response.set_content(fmt::format("# HELP app_requests_total Requests.\n"
                                     "# TYPE app_requests_total counter\n"
                                     "app_requests_total{{path=\"/a b}}\"}} {}\n"
                                     "app_requests_total{{path=\"/c\"}} {} 1700000000000\n"
                                     "app_requests_total_created 1.7e9\n"
                                     "app_errors_total {}\n",
                                     page.first, page.second, page.errors),
                         "text/plain");
  });
  std::map<std::string, std::string> params = {{"health_url", server.Url("/health")},
                                               {"window_seconds", "1"},
                                               {"metrics_url", server.Url("/metrics")},
                                               {"requests_metric", "app_requests_total"},
                                               {"errors_metric", "app_errors_total"}};
  params["interval_seconds"] = "1";
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("observe", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  // (150 + 150) - (100 + 100) requests, 21 - 1 errors.
  EXPECT_EQ(out.facts["requests"], "100");
  EXPECT_EQ(out.facts["errors"], "20");
  EXPECT_EQ(out.facts["error_percent"], "20");
  EXPECT_EQ(out.facts["availability_percent"], "100");
  EXPECT_FALSE(out.facts.contains("metrics_note"));

  // The counters went down between the two reads: the service restarted.
  out = host.Run("observe", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_FALSE(out.facts.contains("error_percent"));
  EXPECT_FALSE(out.facts.contains("requests"));
  EXPECT_THAT(out.facts["metrics_note"], HasSubstr("went down during the window"));
  EXPECT_THAT(out.facts["metrics_note"], HasSubstr("the service restarted"));
  EXPECT_EQ(out.facts["availability_percent"], "100");

  // A counter the page does not have.
  params["requests_metric"] = "app_request_total";
  out = host.Run("observe", params);
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_FALSE(out.facts.contains("error_percent"));
  EXPECT_THAT(out.facts["metrics_note"], StartsWith("app_request_total not found at http://"));
}

// Against the lab's demo service on loopback (no sshd: the step runs on this machine).
class ObserveDemoServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(service_.Start().ok()); }

  std::map<std::string, std::string> Params(const std::string& window) const {
    return {{"health_url", "http://{host}:" + std::to_string(service_.port()) + "/health"},
            {"window_seconds", window},
            {"interval_seconds", "1"},
            {"timeout_seconds", "2"},
            {"metrics_url", "http://{host}:" + std::to_string(service_.port()) + "/metrics"},
            {"requests_metric", "demo_requests_total"},
            {"errors_metric", "demo_errors_total"}};
  }

  testing::DemoServiceProcess service_{ROLLGATE_DEMO_SERVICE_BINARY};
  testing::LocalStepHost host_;
};

TEST_F(ObserveDemoServiceTest, AHealthyServiceIsFullyAvailable) {
  auto params = Params("3");
  params["probe_urls"] = service_.Url("/ready") + "\n" + service_.Url("/api/orders");
  testing::StepOutcome out = host_.Run("observe", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["availability_percent"], "100");
  EXPECT_EQ(out.facts["failed_probes"], "0");
  EXPECT_EQ(out.facts["first_failure"], "");
  // Up to three rounds of three URLs, one every second (a round a loaded machine delays past
  // the window is left out).
  double probes = Number(out.facts, "probes");
  EXPECT_GE(probes, 6);
  EXPECT_LE(probes, 9);
  EXPECT_EQ(static_cast<int>(probes) % 3, 0);
  EXPECT_EQ(out.facts["error_percent"], "0");
  EXPECT_EQ(out.facts["errors"], "0");
  // The probes and the first /metrics read are the requests of the window.
  EXPECT_EQ(Number(out.facts, "requests"), probes + 1);
  EXPECT_GE(Number(out.facts, "window_seconds"), 3);
}

TEST_F(ObserveDemoServiceTest, AHealthEndpointFailingForPartOfTheWindowLowersAvailability) {
  auto params = Params("6");
  std::thread flip([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    service_.SetKnobs("health=fail\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    service_.SetKnobs("health=ok\n");
  });
  testing::StepOutcome out = host_.Run("observe", params);
  flip.join();
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  double probes = Number(out.facts, "probes");
  double failed = Number(out.facts, "failed_probes");
  EXPECT_GE(probes, 6);
  EXPECT_GE(failed, 1);
  EXPECT_LE(failed, probes - 2) << out.result.output_tail;
  double availability = Number(out.facts, "availability_percent");
  EXPECT_LT(availability, 100);
  EXPECT_GT(availability, 0);
  EXPECT_EQ(out.facts["first_failure"], service_.Url("/health") + " 500");
  // The failing health answers are 5xx: the service counts them as errors too.
  EXPECT_EQ(Number(out.facts, "errors"), failed);
}

TEST_F(ObserveDemoServiceTest, ErrorShareComesFromTheServicesCounters) {
  service_.SetKnobs("fail_ratio=0.25\n");
  auto params = Params("5");
  // Only /api/orders (eight per round) so the counters hold the orders' failures and the one
  // /metrics read of the start.
  params.erase("health_url");
  std::string orders;
  for (int i = 0; i < 8; ++i) orders += service_.Url("/api/orders") + "\n";
  params["probe_urls"] = orders;
  testing::StepOutcome out = host_.Run("observe", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  // Up to five rounds of eight (a round a loaded machine delays past the window is left out);
  // the service fails every fourth order exactly.
  double probes = Number(out.facts, "probes");
  EXPECT_GE(probes, 16);
  EXPECT_LE(probes, 40);
  EXPECT_EQ(static_cast<int>(probes) % 8, 0);
  EXPECT_EQ(Number(out.facts, "failed_probes"), probes / 4);
  EXPECT_EQ(out.facts["availability_percent"], "75");
  EXPECT_EQ(Number(out.facts, "requests"), probes + 1);
  EXPECT_EQ(Number(out.facts, "errors"), probes / 4);
  // 25 % of the orders; the one /metrics read among the requests makes it a little less.
  double error_percent = Number(out.facts, "error_percent");
  EXPECT_NEAR(error_percent, 100 * (probes / 4) / (probes + 1), 0.001);
  EXPECT_NEAR(error_percent, 25, 2.0);
  EXPECT_THAT(out.facts["first_failure"], HasSubstr("/api/orders 500"));
}

}  // namespace
}  // namespace rollgate
