// QueryPrometheus against a real Prometheus (Debian's `prometheus`) scraping the lab's demo
// service every second, both started here on 127.0.0.1 with free ports and stopped when the
// test ends, pass or fail: the users-affected trigger's figure (§6.1) read the way a system's
// `metrics.prometheus_query` reads it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/strings.h"
#include "service/prometheus_query.h"
#include "testing/local_process.h"

namespace rollgate {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr char kErrorShare[] =
    "100 * sum(rate(demo_errors_total[30s])) / sum(rate(demo_requests_total[30s]))";

// `prometheus` on PATH ($ROLLGATE_PROMETHEUS first); empty when there is none.
std::string FindPrometheus() {
  if (const char* chosen = std::getenv("ROLLGATE_PROMETHEUS"); chosen != nullptr && *chosen) {
    return chosen;
  }
  const char* path = std::getenv("PATH");
  for (std::string_view dir : Split(path == nullptr ? "/usr/bin:/bin" : path, ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir) / "prometheus";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate.string();
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

// GET /api/orders on the demo service, about 100 times a second, until destroyed.
class Traffic {
 public:
  explicit Traffic(int port) : client_("127.0.0.1", port) {
    thread_ = std::thread([this] {
      while (!stop_) {
        if (client_.Get("/api/orders")) ++sent_;
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  ~Traffic() {
    stop_ = true;
    thread_.join();
  }
  int sent() const { return sent_; }

 private:
  httplib::Client client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

class PrometheusLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string binary = FindPrometheus();
    ASSERT_FALSE(binary.empty())
        << "prometheus is not installed (Debian package prometheus, scripts/install-deps.sh)";
    ASSERT_TRUE(demo_.Start().ok());
    const std::filesystem::path config = scratch_.path() / "prometheus.yml";
    std::ofstream(config) << "global:\n"
                          << "  scrape_interval: 1s\n"
                          << "  scrape_timeout: 1s\n"
                          << "  evaluation_interval: 1s\n"
                          << "scrape_configs:\n"
                          << "  - job_name: demo\n"
                          << "    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << demo_.port() << "']\n";
    const std::filesystem::path log = scratch_.path() / "prometheus.log";
    for (int attempt = 0; attempt < 3 && base_.empty(); ++attempt) {
      int port = testing::FreeLoopbackPort();
      ASSERT_NE(port, 0);
      ASSERT_TRUE(
          prometheus_
              .Start({binary, "--config.file=" + config.string(),
                      "--storage.tsdb.path=" + (scratch_.path() / "data").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                     log)
              .ok());
      if (testing::WaitForLoopbackPort(port, 30s) && prometheus_.Running()) {
        base_ = "http://127.0.0.1:" + std::to_string(port);
      } else {
        prometheus_.Stop();
      }
    }
    ASSERT_FALSE(base_.empty()) << "prometheus did not start:\n" << ReadTail(log);
  }

  // The query's value once Prometheus has one (NotFound and NaN while the range has too few
  // samples), within `limit`.
  Result<double> FirstValue(const std::string& promql, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    Result<double> value = QueryPrometheus(base_, promql, Seconds(5));
    while (!value.ok() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(500ms);
      value = QueryPrometheus(base_, promql, Seconds(5));
    }
    return value;
  }

  // Stopped in reverse order of declaration: Prometheus, the demo service, the directory.
  testing::ScratchDir scratch_{"rollgate-prometheus"};
  testing::DemoServiceProcess demo_{ROLLGATE_DEMO_SERVICE_BINARY};
  testing::ChildProcess prometheus_;
  std::string base_;
};

TEST_F(PrometheusLabTest, TheErrorShareOfTheDemoServiceFollowsItsFailRatio) {
  demo_.SetKnobs("fail_ratio=0.25\n");
  Traffic traffic(demo_.port());
  auto failing_since = std::chrono::steady_clock::now();

  // A quarter of the orders fail; Prometheus's own scrapes (1/s against ~100 orders/s) are
  // requests too, so a little under 25.
  Result<double> failing = FirstValue(kErrorShare, 60s);
  ASSERT_TRUE(failing.ok()) << failing.error().ToString();
  EXPECT_NEAR(*failing, 25, 2.5);
  EXPECT_GT(traffic.sent(), 0);

  // Healthy again: once the 30 s range holds only healthy traffic, the share is 0.
  demo_.SetKnobs("fail_ratio=0\n");
  auto healthy_since = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(healthy_since + 33s);
  Result<double> healthy = QueryPrometheus(base_, kErrorShare, Seconds(5));
  ASSERT_TRUE(healthy.ok()) << healthy.error().ToString();
  EXPECT_NEAR(*healthy, 0, 0.01);
  EXPECT_LT(failing_since, healthy_since);

  // The shapes of answer a query can give.
  Result<double> none = QueryPrometheus(base_, "demo_requests_total{job=\"nope\"}", Seconds(5));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
  Result<double> two = QueryPrometheus(base_, "up or vector(1)", Seconds(5));
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(two.error().message(), HasSubstr("2 samples"));
  Result<double> invalid = QueryPrometheus(base_, "sum(rate(demo_requests_total[30s])", Seconds(5));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.error().message(), HasSubstr("bad_data"));
  Result<double> up = QueryPrometheus(base_, "sum(up{job=\"demo\"})", Seconds(5));
  ASSERT_TRUE(up.ok()) << up.error().ToString();
  EXPECT_EQ(*up, 1);
}

}  // namespace
}  // namespace rollgate
