#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

// A tiny HTTP server on 127.0.0.1 (a free port): every request is answered with `status` after
// `latency_ms`. Requests are served one at a time, which is how the step sends them.
class TinyHttpServer {
 public:
  TinyHttpServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listener_, 16) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      std::abort();
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }

  int port() const { return port_; }
  std::atomic<int> latency_ms{0};
  std::atomic<int> status{200};

 private:
  void Serve() {
    while (!stop_) {
      pollfd ready{listener_, POLLIN, 0};
      if (poll(&ready, 1, 50) <= 0) continue;
      int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t got = read(connection, buffer, sizeof(buffer));
        if (got <= 0) break;
        request.append(buffer, static_cast<size_t>(got));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms.load()));
      std::string response = "HTTP/1.1 " + std::to_string(status.load()) +
                             " X\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
      (void)!write(connection, response.data(), response.size());
      close(connection);
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::map<std::string, std::string> Params(const TinyHttpServer& server, std::string action,
                                          std::map<std::string, std::string> more = {}) {
  more.try_emplace("url", "http://{host}:" + std::to_string(server.port()) + "/health");
  more.try_emplace("state_dir", "/var/lib/rollgate");
  more.try_emplace("label", "health");
  more["action"] = std::move(action);
  more.try_emplace("samples", "5");
  return more;
}

double Number(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

TEST(MetricsStep, BaselineThenUnchangedCompare) {
  testing::LocalStepHost host;
  TinyHttpServer server;
  testing::StepOutcome baseline = host.Run("metrics", Params(server, "baseline"));
  ASSERT_EQ(baseline.error, "");
  EXPECT_EQ(baseline.result.exit_code, 0) << baseline.result.output_tail;
  EXPECT_EQ(baseline.facts["error_percent"], "0.0");
  EXPECT_EQ(baseline.facts["samples"], "5");
  EXPECT_LT(Number(baseline.facts["median_ms"]), 100);
  std::ifstream stored(host.root() / "var/lib/rollgate/local/health.metrics");
  std::string median, errors;
  stored >> median >> errors;
  EXPECT_EQ(median, baseline.facts["median_ms"]);
  EXPECT_EQ(errors, "0.0");
  EXPECT_EQ(*host.Probe("metrics", Params(server, "baseline")), ProbeVerdict::kInPlace);

  // Loopback jitter stays under the 5 ms floor: no degradation.
  testing::StepOutcome compare = host.Run("metrics", Params(server, "compare"));
  EXPECT_EQ(compare.result.exit_code, 0) << compare.result.output_tail;
  EXPECT_EQ(compare.facts["degradation_percent"], "0.0");
  EXPECT_EQ(compare.facts["baseline_ms"], baseline.facts["median_ms"]);
  EXPECT_EQ(compare.facts["baseline_error_percent"], "0.0");
}

TEST(MetricsStep, SlowerServiceIsFlagged) {
  testing::LocalStepHost host;
  TinyHttpServer server;
  server.latency_ms = 20;
  testing::StepOutcome baseline = host.Run("metrics", Params(server, "baseline"));
  ASSERT_EQ(baseline.result.exit_code, 0) << baseline.result.output_tail;
  EXPECT_GE(Number(baseline.facts["median_ms"]), 20);

  server.latency_ms = 60;
  testing::StepOutcome slower = host.Run("metrics", Params(server, "compare"));
  EXPECT_EQ(slower.result.exit_code, 1) << slower.result.output_tail;
  EXPECT_GT(Number(slower.facts["degradation_percent"]), 20);
  EXPECT_GE(Number(slower.facts["median_ms"]), 60);

  // The same slowdown is within a generous limit.
  testing::StepOutcome tolerated =
      host.Run("metrics", Params(server, "compare", {{"max_degradation_percent", "1000"}}));
  EXPECT_EQ(tolerated.result.exit_code, 0) << tolerated.result.output_tail;
  EXPECT_EQ(tolerated.facts.count("flagged"), 0U);

  // With on_degradation=flag the slowdown is reported and the step succeeds.
  testing::StepOutcome flagged =
      host.Run("metrics", Params(server, "compare", {{"on_degradation", "flag"}}));
  EXPECT_EQ(flagged.result.exit_code, 0) << flagged.result.output_tail;
  EXPECT_EQ(flagged.facts["flagged"], "yes");
  EXPECT_GT(Number(flagged.facts["degradation_percent"]), 20);
}

TEST(MetricsStep, ErrorsAreFlagged) {
  testing::LocalStepHost host;
  TinyHttpServer server;
  ASSERT_EQ(host.Run("metrics", Params(server, "baseline")).result.exit_code, 0);
  server.status = 500;
  testing::StepOutcome out = host.Run("metrics", Params(server, "compare"));
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["error_percent"], "100.0");
}

TEST(MetricsStep, NoAnswerMeansNoBaseline) {
  testing::LocalStepHost host;
  int port = 0;
  {
    TinyHttpServer closed;  // a port that was free a moment ago: nothing listens there now
    port = closed.port();
  }
  std::map<std::string, std::string> params = {
      {"url", "http://127.0.0.1:" + std::to_string(port) + "/"},
      {"state_dir", "/var/lib/rollgate"},
      {"label", "gone"},
      {"action", "baseline"},
      {"samples", "2"},
      {"timeout_seconds", "2"}};
  testing::StepOutcome out = host.Run("metrics", params);
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["error_percent"], "100.0");
  EXPECT_FALSE(std::filesystem::exists(host.root() / "var/lib/rollgate/local/gone.metrics"));
  params["action"] = "compare";
  EXPECT_EQ(host.Run("metrics", params).result.exit_code, 2);
}

TEST(MetricsStep, CorruptBaselineAndHostileValues) {
  testing::LocalStepHost host;
  TinyHttpServer server;
  host.Write("var/lib/rollgate/local/health.metrics", "$(reboot) 0\n");
  testing::StepOutcome corrupt = host.Run("metrics", Params(server, "compare"));
  EXPECT_EQ(corrupt.result.exit_code, 2);
  EXPECT_NE(corrupt.result.output_tail.find("corrupt baseline"), std::string::npos);

  std::string marker = (host.root() / "pwned").string();
  std::map<std::string, std::string> hostile = Params(server, "baseline");
  hostile["url"] = "http://{host}:" + std::to_string(server.port()) + "/$(touch${IFS}" + marker +
                   ")`touch${IFS}" + marker + "`';\"";
  testing::StepOutcome out = host.Run("metrics", hostile);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_FALSE(std::filesystem::exists(marker));

  // No URL globbing: "[1-5]" is one URL, requested once per sample.
  std::map<std::string, std::string> glob = Params(server, "baseline", {{"label", "glob"}});
  glob["url"] = "http://127.0.0.1:" + std::to_string(server.port()) + "/[1-5]{a,b}";
  testing::StepOutcome globbed = host.Run("metrics", glob);
  EXPECT_EQ(globbed.result.exit_code, 0) << globbed.result.output_tail;
  EXPECT_EQ(globbed.facts["error_percent"], "0.0");
}

TEST(MetricsStep, ValidationRejectsBadParams) {
  testing::LocalStepHost host;
  TinyHttpServer server;
  EXPECT_NE(host.Run("metrics", Params(server, "measure")).error.find("baseline or compare"),
            std::string::npos);
  EXPECT_NE(host.Run("metrics", Params(server, "compare", {{"samples", "0"}})).error.find("1 to"),
            std::string::npos);
  EXPECT_NE(
      host.Run("metrics", Params(server, "compare", {{"samples", "100000"}})).error.find("1000"),
      std::string::npos);
  EXPECT_NE(host.Run("metrics", Params(server, "compare", {{"url", "file:///etc/passwd"}}))
                .error.find("URL"),
            std::string::npos);
  EXPECT_NE(host.Run("metrics", Params(server, "compare", {{"max_degradation_percent", "-5"}}))
                .error.find("number"),
            std::string::npos);
}

}  // namespace
}  // namespace rollgate
