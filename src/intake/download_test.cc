// Downloads from a tiny HTTP/1.1 server running in the test process on 127.0.0.1 (port 0).
#include "intake/download.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/sha256.h"
#include "common/strings.h"

namespace rollgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Route {
  int status = 200;
  std::string body;
  bool honour_range = true;
  bool send_length = true;                // without it the body ends when the connection closes
  size_t drop_after = std::string::npos;  // close the connection after this many body bytes
  int stall_ms = 0;      // after the headers and the first body byte, wait this long
  std::string location;  // for redirects
};

class TestHttpServer {
 public:
  TestHttpServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 16), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  void Set(const std::string& path, Route route) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_[path] = std::move(route);
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // "GET /path" plus " Range: ..." when the request had one.
  std::vector<std::string> Requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd poll_fd{listener_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 50) <= 0) continue;
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      Handle(client);
      ::close(client);
    }
  }

  void Send(int client, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t sent = ::send(client, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
  }

  void Handle(int client) {
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
      if (got <= 0) return;
      request.append(buffer, static_cast<size_t>(got));
    }
    std::vector<std::string> lines = Split(request.substr(0, request.find("\r\n\r\n")), '\n');
    std::vector<std::string> request_line = Split(Trim(lines[0]), ' ');
    const std::string path = request_line.size() > 1 ? request_line[1] : "/";
    std::string range;
    for (const std::string& line : lines) {
      if (StartsWith(ToLower(line), "range:")) range = std::string(Trim(line.substr(6)));
    }
    Route route;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back("GET " + path + (range.empty() ? "" : " Range: " + range));
      auto it = routes_.find(path);
      if (it == routes_.end()) {
        route.status = 404;
        route.body = "not found\n";
      } else {
        route = it->second;
      }
    }
    std::string headers;
    std::string body = route.body;
    int status = route.status;
    if (status == 200 && route.honour_range && StartsWith(range, "bytes=")) {
      size_t from = std::stoul(range.substr(6));
      if (from >= route.body.size()) {
        status = 416;
        headers += "Content-Range: bytes */" + std::to_string(route.body.size()) + "\r\n";
        body.clear();
      } else {
        status = 206;
        headers += "Content-Range: bytes " + std::to_string(from) + "-" +
                   std::to_string(route.body.size() - 1) + "/" + std::to_string(route.body.size()) +
                   "\r\n";
        body = route.body.substr(from);
      }
    }
    if (!route.location.empty()) headers += "Location: " + route.location + "\r\n";
    if (route.send_length) headers += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    Send(client, "HTTP/1.1 " + std::to_string(status) + " Status\r\n" + headers +
                     "Connection: close\r\n\r\n");
    if (route.stall_ms > 0) {
      Send(client, body.substr(0, 1));
      for (int waited = 0; waited < route.stall_ms && !stop_; waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return;
    }
    Send(client, body.substr(0, route.drop_after));
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, Route> routes_;
  std::vector<std::string> requests_;
};

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(generator() & 0xFF);
  return out;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rollgate-download-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    dest_ = dir_ / "app-2.0.tar.gz";
    part_ = dir_ / "app-2.0.tar.gz.part";
    body_ = RandomBytes(100'000, 7);
    server_.Set("/app.tar.gz", Route{.body = body_});
    options_.expected_sha256 = Sha256Hex(body_);
    options_.allow_plain_http = true;
    options_.connect_timeout = std::chrono::seconds(5);
  }
  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  Status DownloadError(const std::string& url) {
    Result<DownloadResult> result = Download(url, dest_, options_);
    EXPECT_FALSE(result.ok());
    return result.status();
  }

  TestHttpServer server_;
  std::filesystem::path dir_;
  std::filesystem::path dest_;
  std::filesystem::path part_;
  std::string body_;
  DownloadOptions options_;
};

TEST_F(DownloadTest, DownloadsAndVerifies) {
  Result<DownloadResult> result = Download(server_.Url("/app.tar.gz"), dest_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->path, dest_);
  EXPECT_EQ(result->sha256, Sha256Hex(body_));
  EXPECT_EQ(result->size_bytes, 100'000);
  EXPECT_EQ(result->resumed_from, 0);
  EXPECT_EQ(result->effective_url, server_.Url("/app.tar.gz"));
  EXPECT_EQ(ReadFile(dest_), body_);
  EXPECT_FALSE(std::filesystem::exists(part_));
}

TEST_F(DownloadTest, AcceptsTheExpectedDigestInUpperCase) {
  for (char& c : options_.expected_sha256) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(Download(server_.Url("/app.tar.gz"), dest_, options_).ok());
}

TEST_F(DownloadTest, RefusesAWrongDigestAndKeepsNothing) {
  const std::string wrong = Sha256Hex("another package");
  options_.expected_sha256 = wrong;
  Status status = DownloadError(server_.Url("/app.tar.gz"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("SHA-256 mismatch: expected " + wrong));
  EXPECT_THAT(status.message(), HasSubstr("got " + Sha256Hex(body_)));
  EXPECT_FALSE(std::filesystem::exists(dest_));
  EXPECT_FALSE(std::filesystem::exists(part_));
}

TEST_F(DownloadTest, StopsAtTheSizeLimit) {
  options_.max_bytes = 10'000;
  Status announced = DownloadError(server_.Url("/app.tar.gz"));
  EXPECT_EQ(announced.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(announced.message(), HasSubstr("exceeds the size limit of 10000 bytes"));
  EXPECT_FALSE(std::filesystem::exists(part_));

  // Without a Content-Length the limit is enforced on the bytes received.
  server_.Set("/unannounced", Route{.body = body_, .send_length = false});
  Status received = DownloadError(server_.Url("/unannounced"));
  EXPECT_THAT(received.message(), HasSubstr("exceeds the size limit of 10000 bytes"));
  EXPECT_FALSE(std::filesystem::exists(part_));
  EXPECT_FALSE(std::filesystem::exists(dest_));
}

TEST_F(DownloadTest, ResumesAfterAnInterruptedTransfer) {
  server_.Set("/flaky", Route{.body = body_, .drop_after = 40'000});
  Status interrupted = DownloadError(server_.Url("/flaky"));
  EXPECT_EQ(interrupted.code(), StatusCode::kUnavailable);
  ASSERT_TRUE(std::filesystem::exists(part_)) << "a transient failure keeps the partial file";
  EXPECT_EQ(std::filesystem::file_size(part_), 40'000u);

  options_.max_bytes = 100'000;  // exactly the file: the kept bytes count once, not twice
  Result<DownloadResult> resumed = Download(server_.Url("/app.tar.gz"), dest_, options_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->resumed_from, 40'000);
  EXPECT_EQ(ReadFile(dest_), body_);
  EXPECT_THAT(server_.Requests(), ElementsAre("GET /flaky", "GET /app.tar.gz Range: bytes=40000-"));
}

TEST_F(DownloadTest, StartsOverWhenTheServerIgnoresRanges) {
  server_.Set("/no-ranges", Route{.body = body_, .honour_range = false});
  {
    std::ofstream partial(part_, std::ios::binary);
    partial << "stale bytes from some other download";
  }
  Result<DownloadResult> result = Download(server_.Url("/no-ranges"), dest_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->resumed_from, 0);
  EXPECT_EQ(ReadFile(dest_), body_);
}

TEST_F(DownloadTest, FinishesWhenThePartialFileIsAlreadyComplete) {
  {
    std::ofstream partial(part_, std::ios::binary);
    partial << body_;
  }
  Result<DownloadResult> result = Download(server_.Url("/app.tar.gz"), dest_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->resumed_from, 100'000);
  EXPECT_EQ(ReadFile(dest_), body_);
}

TEST_F(DownloadTest, ReportsHttpErrors) {
  Status missing = DownloadError(server_.Url("/missing.tar.gz"));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("HTTP 404"));
  EXPECT_FALSE(std::filesystem::exists(part_));

  server_.Set("/forbidden", Route{.status = 403, .body = "no"});
  EXPECT_EQ(DownloadError(server_.Url("/forbidden")).code(), StatusCode::kPermissionDenied);
  server_.Set("/broken", Route{.status = 503, .body = "later"});
  EXPECT_EQ(DownloadError(server_.Url("/broken")).code(), StatusCode::kUnavailable);
}

TEST_F(DownloadTest, RefusesSchemesOtherThanHttps) {
  options_.allow_plain_http = false;
  for (const std::string& url :
       {server_.Url("/app.tar.gz"), std::string("file:///etc/passwd"),
        std::string("ftp://127.0.0.1/app.tar.gz"), std::string("/tmp/app.tar.gz"),
        std::string("https://"), std::string("https://example.org/a b")}) {
    Status status = DownloadError(url);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << url;
  }
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(DownloadTest, FollowsRedirectsWithinLimitsAndSchemes) {
  server_.Set("/latest", Route{.status = 302, .location = "/app.tar.gz"});
  Result<DownloadResult> result = Download(server_.Url("/latest"), dest_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->effective_url, server_.Url("/app.tar.gz"));

  server_.Set("/to-file", Route{.status = 302, .location = "file:///etc/passwd"});
  Status to_file = DownloadError(server_.Url("/to-file"));
  EXPECT_EQ(to_file.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(to_file.message(), HasSubstr("refused a redirect"));

  server_.Set("/loop", Route{.status = 302, .location = "/loop"});
  Status loop = DownloadError(server_.Url("/loop"));
  EXPECT_EQ(loop.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(loop.message(), HasSubstr("more than 5 redirects"));
}

TEST_F(DownloadTest, RequiresTheExpectedDigest) {
  for (const std::string& digest : {std::string(""), std::string("abc"), std::string(64, 'z')}) {
    options_.expected_sha256 = digest;
    Status status = DownloadError(server_.Url("/app.tar.gz"));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("expected SHA-256"));
  }
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(DownloadTest, GivesUpOnAStalledServerAndKeepsThePartialFile) {
  server_.Set("/stall", Route{.body = body_, .stall_ms = 5000});
  options_.low_speed_bytes_per_second = 1000;
  options_.low_speed_time = std::chrono::seconds(1);
  Status status = DownloadError(server_.Url("/stall"));
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(std::filesystem::exists(part_));
}

TEST_F(DownloadTest, ReportsARefusedConnectionAsUnavailable) {
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);  // nothing listens on this port now
  Status status =
      DownloadError("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/x");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace rollgate
