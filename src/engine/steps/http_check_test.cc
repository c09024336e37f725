#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/step_type.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

// A one-thread HTTP server on 127.0.0.1: the n-th request gets answers[n] (the last one once
// they run out); every answer closes the connection.
class TinyHttpServer {
 public:
  struct Answer {
    int status;
    std::string body;
  };

  explicit TinyHttpServer(std::vector<Answer> answers) : answers_(std::move(answers)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    EXPECT_EQ(listen(fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }

  ~TinyHttpServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }
  std::vector<std::string> request_lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return request_lines_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd ready{fd_, POLLIN, 0};
      if (poll(&ready, 1, 50) <= 0) continue;
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd in{client, POLLIN, 0};
        if (poll(&in, 1, 2000) <= 0) break;
        ssize_t n = read(client, buffer, sizeof(buffer));
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        request_lines_.push_back(request.substr(0, request.find("\r\n")));
      }
      size_t index = std::min(static_cast<size_t>(requests_++), answers_.size() - 1);
      const Answer& answer = answers_[index];
      std::string response = "HTTP/1.1 " + std::to_string(answer.status) +
                             " Whatever\r\nContent-Length: " + std::to_string(answer.body.size()) +
                             "\r\nConnection: close\r\n\r\n" + answer.body;
      (void)!write(client, response.data(), response.size());
      close(client);
    }
  }

  std::vector<Answer> answers_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::vector<std::string> request_lines_;
};

Status Validate(std::map<std::string, std::string> params) {
  StepTypeTable table = DefaultStepTypes();
  StepSpec spec;
  spec.name = "check";
  spec.type = "http-check";
  spec.params = std::move(params);
  return table.Find("http-check")->Validate(spec);
}

TEST(HttpCheckStep, HealthyEndpointWithHostPlaceholderAndBody) {
  testing::LocalStepHost host;
  TinyHttpServer server({{200, "{\"status\": \"ready\"}"}});
  std::string url = "http://{host}:" + std::to_string(server.port()) + "/health";
  testing::StepOutcome out =
      host.Run("http-check", {{"urls", url}, {"expect_body", "\"status\": \"ready\""}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["checked"], "1");
  EXPECT_EQ(out.facts["failed"], "0");
  EXPECT_EQ(out.facts["last_status"], "200");
  EXPECT_EQ(server.requests(), 1);
  ASSERT_EQ(server.request_lines().size(), 1u);
  EXPECT_EQ(server.request_lines()[0], "GET /health HTTP/1.1");
}

TEST(HttpCheckStep, RetriesUntilTheEndpointIsReady) {
  testing::LocalStepHost host;
  TinyHttpServer server({{503, "starting"}, {503, "starting"}, {200, "ok"}});
  testing::StepOutcome out = host.Run(
      "http-check", {{"urls", server.url("/ready")}, {"attempts", "5"}, {"interval_seconds", "0"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["last_status"], "200");
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpCheckStep, FailsWhenAttemptsRunOut) {
  testing::LocalStepHost host;
  TinyHttpServer server({{503, "starting"}});
  TinyHttpServer healthy({{200, "ok"}});
  std::string failing = server.url("/ready");
  testing::StepOutcome out = host.Run(
      "http-check",
      {{"urls", healthy.url("/") + "\n" + failing}, {"attempts", "2"}, {"interval_seconds", "0"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["checked"], "2");
  EXPECT_EQ(out.facts["failed"], "1");
  EXPECT_EQ(out.facts["last_status"], "503");
  EXPECT_EQ(out.facts["first_failure"], failing);
  EXPECT_EQ(server.requests(), 2);
  EXPECT_NE(out.result.output_tail.find("status 503, expected 200, after 2 attempt(s)"),
            std::string::npos)
      << out.result.output_tail;
}

TEST(HttpCheckStep, ExpectedStatusAndBody) {
  testing::LocalStepHost host;
  TinyHttpServer server({{204, ""}});
  testing::StepOutcome out =
      host.Run("http-check", {{"urls", server.url("/metrics")}, {"expect_status", "204"}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;

  TinyHttpServer wrong_body({{200, "degraded"}});
  out = host.Run(
      "http-check",
      {{"urls", wrong_body.url("/health")}, {"expect_body", "healthy"}, {"attempts", "1"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("the body lacks the expected text"), std::string::npos);
}

TEST(HttpCheckStep, NoServerMeansStatus000) {
  testing::LocalStepHost host;
  int port = 0;
  {
    TinyHttpServer gone({{200, ""}});
    port = gone.port();
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  testing::StepOutcome out =
      host.Run("http-check", {{"urls", url}, {"attempts", "2"}, {"interval_seconds", "0"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["last_status"], "000");
  EXPECT_EQ(out.facts["first_failure"], url);
}

TEST(HttpCheckStep, HostileValuesAreDataOrRefused) {
  testing::LocalStepHost host;
  std::string marker = (host.root() / "pwned").string();
  TinyHttpServer server({{200, "fine"}});
  testing::StepOutcome out =
      host.Run("http-check", {{"urls", server.url("/$(touch${IFS}" + marker + ")`id`")},
                              {"expect_body", "$(touch " + marker + ")"},
                              {"attempts", "1"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;  // the body lacks that text
  EXPECT_FALSE(std::filesystem::exists(marker));
  ASSERT_EQ(server.request_lines().size(), 1u);
  EXPECT_EQ(server.request_lines()[0], "GET /$(touch${IFS}" + marker + ")`id` HTTP/1.1");

  EXPECT_TRUE(Validate({{"urls", "https://{host}:8443/health\nhttp://[::1]:80/\n"}}).ok());
  for (const std::string& url :
       std::vector<std::string>{"ftp://x/", "-K/etc/passwd", "http://", "http://x/ ; rm -rf /",
                                "http://x/\r", "http://x/\tz", "file:///etc/passwd", "\n"}) {
    EXPECT_FALSE(Validate({{"urls", url}}).ok()) << url;
  }
  EXPECT_FALSE(Validate({}).ok());
  EXPECT_FALSE(Validate({{"urls", "http://x/"}, {"attempts", "0"}}).ok());
  EXPECT_FALSE(Validate({{"urls", "http://x/"}, {"expect_status", "99"}}).ok());
  EXPECT_FALSE(Validate({{"urls", "http://x/"}, {"expect_status", "600"}}).ok());
  EXPECT_FALSE(Validate({{"urls", "http://x/"}, {"interval_seconds", "1; reboot"}}).ok());
  EXPECT_FALSE(Validate({{"urls", "http://x/"}, {"expect_body", "a\nb"}}).ok());
}

}  // namespace
}  // namespace rollgate
