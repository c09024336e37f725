// The API over real HTTP and HTTPS on 127.0.0.1 (a free port): limits, TLS, stopping.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/strings.h"
#include "server/content_coding.h"
#include "service/token_service.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate::server {
namespace {

// A raw TCP connection to 127.0.0.1:port, for what an HTTP client library would not send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `until` has been received (after what was read before), the peer closes, or
  // `timeout` passes; returns everything read so far.
  std::string ReadUntil(const std::string& until,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t start = received_.size();
    char chunk[4096];
    while (until.empty() || received_.find(until, start) == std::string::npos) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = n == 0;
        break;
      }
      received_.append(chunk, static_cast<size_t>(n));
    }
    return received_;
  }
  // Reads until the peer closes (or 5 s pass).
  std::string ReadAll() { return ReadUntil(""); }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollgate-http-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.listen = "127.0.0.1:0";
    options_.store_url = "sqlite:" + (dir_ / "state.db").string();
    options_.config_dir = dir_;
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(dir_);
  }

  // Binds and serves in a background thread; returns the port.
  int Start() {
    server_ = std::make_unique<HttpServer>(config_, options_, clock_, zone_);
    Status bound = server_->Bind();
    EXPECT_TRUE(bound.ok()) << bound.ToString();
    thread_ = std::thread([this] { served_ = server_->Serve(); });
    return server_->port();
  }

  std::string Token(const std::string& person) {
    auto store = OpenStore(options_.store_url);
    EXPECT_TRUE(store.ok());
    auto created = TokenService(config_, **store, clock_).Create(person, "", std::nullopt, person);
    EXPECT_TRUE(created.ok());
    return created.ok() ? created->secret : "";
  }

  std::filesystem::path dir_;
  Config config_ = rollgate::testing::SampleConfig();
  ServeOptions options_;
  SystemClock clock_;
  FixedOffsetZone zone_{Seconds(0)};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  Status served_;
};

TEST_F(HttpServerTest, ServesTheApiAndStopsWhenAsked) {
  int port = Start();
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->get_header_value("Content-Type"), "application/json");
  EXPECT_FALSE(health->get_header_value("ETag").empty());

  std::string token = Token("eve");
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  auto crs = client.Get("/api/v1/crs", auth);
  ASSERT_TRUE(crs);
  EXPECT_EQ(crs->status, 200) << crs->body;
  EXPECT_EQ(nlohmann::json::parse(crs->body)["total"], 0);
  auto unauthenticated = client.Get("/api/v1/crs");
  ASSERT_TRUE(unauthenticated);
  EXPECT_EQ(unauthenticated->status, 401);

  server_->Stop();
  thread_.join();
  EXPECT_TRUE(served_.ok()) << served_.ToString();
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1);
  EXPECT_FALSE(after.Get("/health"));
}

TEST_F(HttpServerTest, OversizedBodiesAreRefusedWith413AndAJsonError) {
  config_.server.max_body_bytes = 1024;
  int port = Start();
  httplib::Client client("127.0.0.1", port);
  std::string token = Token("dana");
  auto response = client.Post("/api/v1/crs/CR-1/approvals", {{"Authorization", "Bearer " + token}},
                              std::string(4096, ' ') + "{}", "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  auto error = nlohmann::json::parse(response->body, nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << response->body;
  EXPECT_EQ(error["error"]["code"], "PAYLOAD_TOO_LARGE");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("1024"), std::string::npos);
}

TEST_F(HttpServerTest, ServesHttpsWithTheConfiguredCertificate) {
  std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-keyout '" +
      (dir_ / "key.pem").string() + "' -out '" + (dir_ / "cert.pem").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  config_.server.tls_cert = "cert.pem";  // relative to the configuration's directory
  config_.server.tls_key = "key.pem";
  int port = Start();
  httplib::SSLClient client("127.0.0.1", port);
  client.enable_server_certificate_verification(false);
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(2);
  auto refused = plain.Get("/health");
  EXPECT_TRUE(!refused || refused->status != 200);
}

TEST_F(HttpServerTest, BadAddressesAndTlsFilesAreReportedBeforeListening) {
  {
    options_.listen = "localhost";
    HttpServer server(config_, options_, clock_, zone_);
    Status status = server.Bind();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("HOST:PORT"), std::string::npos);
  }
  {
    options_.listen = "127.0.0.1:0";
    config_.server.tls_cert = "missing-cert.pem";
    config_.server.tls_key = "missing-key.pem";
    HttpServer server(config_, options_, clock_, zone_);
    Status status = server.Bind();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("missing-cert.pem"), std::string::npos);
  }
  {
    std::ofstream(dir_ / "cert.pem") << "not a certificate\n";
    std::ofstream(dir_ / "key.pem") << "not a key\n";
    config_.server.tls_cert = "cert.pem";
    config_.server.tls_key = "key.pem";
    HttpServer server(config_, options_, clock_, zone_);
    Status status = server.Bind();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("PEM"), std::string::npos) << status.message();
  }
}

// A running run of CR-less `run exec`, written straight to the store.
void PutRun(const std::string& store_url, RunState state, const std::string& message = "") {
  auto store = OpenStore(store_url);
  ASSERT_TRUE(store.ok());
  rollgate::Run run;
  run.id = "RUN-1";
  run.system = "billing";
  run.environment = "TEST";
  run.state = state;
  run.message = message;
  ASSERT_TRUE((*store)->Write([&](Transaction& tx) { return tx.PutRun(run); }).ok());
}

TEST_F(HttpServerTest, RunEventsStreamEachChangeAndEndWhenTheRunIsFinished) {
  int port = Start();
  std::string token = Token("eve");
  PutRun(options_.store_url, RunState::kRunning);
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  std::string received;
  bool finished_written = false;
  auto response =
      client.Get("/api/v1/runs/RUN-1/events", {{"Authorization", "Bearer " + token}},
                 [&](const char* data, size_t length) {
                   received.append(data, length);
                   if (!finished_written && received.find("\"running\"") != std::string::npos) {
                     finished_written = true;
                     PutRun(options_.store_url, RunState::kSucceeded);
                   }
                   return true;
                 });
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), "text/event-stream");
  size_t first = received.find("event: run\ndata: {");
  ASSERT_NE(first, std::string::npos) << received;
  size_t second = received.find("event: run\ndata: {", first + 1);
  ASSERT_NE(second, std::string::npos) << received;
  EXPECT_NE(received.find("\"succeeded\"", second), std::string::npos) << received;

  auto refused = client.Get("/api/v1/runs/RUN-1/events");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("Content-Type"), "application/json");
}

TEST_F(HttpServerTest, StoppingEndsOpenEventStreams) {
  int port = Start();
  std::string token = Token("eve");
  PutRun(options_.store_url, RunState::kRunning);
  std::atomic<bool> first_event{false};
  std::thread reader([&] {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    client.Get("/api/v1/runs/RUN-1/events", {{"Authorization", "Bearer " + token}},
               [&](const char*, size_t) {
                 first_event = true;
                 return true;
               });
  });
  for (int i = 0; i < 100 && !first_event; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(first_event);
  auto stop_started = std::chrono::steady_clock::now();
  server_->Stop();
  thread_.join();
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(5));
  EXPECT_TRUE(served_.ok()) << served_.ToString();
}

TEST_F(HttpServerTest, MalformedRequestsGetAJsonErrorAndTheConnectionCloses) {
  int port = Start();
  {
    RawConnection connection(port);
    connection.Send("NOT HTTP AT ALL\r\n\r\n");
    std::string answer = connection.ReadAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
    EXPECT_NE(answer.find("\"BAD_REQUEST\""), std::string::npos) << answer;
    EXPECT_TRUE(connection.closed());
  }
  {
    RawConnection connection(port);
    connection.Send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') +
                    "\r\n\r\n");
    std::string answer = connection.ReadAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer.substr(0, 200);
    EXPECT_NE(answer.find("\"HEADERS_TOO_LARGE\""), std::string::npos);
  }
  {
    RawConnection connection(port);
    connection.Send("POST /api/v1/crs HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string answer = connection.ReadAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
    EXPECT_NE(answer.find("Content-Length"), std::string::npos) << answer;
  }
  {
    RawConnection connection(port);
    connection.Send("GET /api/v1/crs%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string answer = connection.ReadAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  }
  // The server still serves.
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpServerTest, PathsAndQueriesAreDecodedBeforeTheApiSeesThem) {
  int port = Start();
  std::string token = Token("eve");
  httplib::Client client("127.0.0.1", port);
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  auto list = client.Get("/api/v1/cr%73", auth);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200) << list->body;
  auto bad_limit = client.Get("/api/v1/crs?lim%69t=x+y", auth);
  ASSERT_TRUE(bad_limit);
  EXPECT_EQ(bad_limit->status, 400);
  auto error = nlohmann::json::parse(bad_limit->body);
  EXPECT_EQ(error["error"]["field"], "limit") << bad_limit->body;
}

TEST_F(HttpServerTest, KeepAliveHeadPipeliningAndExpectContinue) {
  int port = Start();
  {
    // Two requests in one write: two answers, in order, on the same connection; HEAD's has
    // GET's Content-Length and no body.
    RawConnection connection(port);
    connection.Send(
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string answers = connection.ReadAll();
    EXPECT_TRUE(connection.closed());
    size_t second = answers.find("HTTP/1.1 200", 1);
    ASSERT_EQ(answers.rfind("HTTP/1.1 200", 0), 0u) << answers;
    ASSERT_NE(second, std::string::npos) << answers;
    auto length = [](const std::string& text) {
      size_t at = text.find("Content-Length: ");
      return at == std::string::npos ? std::string() : text.substr(at, text.find('\r', at) - at);
    };
    EXPECT_FALSE(length(answers.substr(0, second)).empty());
    EXPECT_EQ(length(answers.substr(0, second)), length(answers.substr(second)));
    EXPECT_EQ(answers.size() - answers.find("\r\n\r\n", second), 4u) << "HEAD has no body";
  }
  RawConnection connection(port);
  // Expect: 100-continue is answered before the body is sent.
  connection.Send(
      "POST /api/v1/crs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
  std::string after = connection.ReadUntil("HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_NE(after.find("HTTP/1.1 100 Continue"), std::string::npos) << after;
  connection.Send("{}");
  after = connection.ReadAll();
  EXPECT_NE(after.find("HTTP/1.1 401"), std::string::npos) << after;  // no token
  EXPECT_TRUE(connection.closed());
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitWaitForAFreeOne) {
  config_.server.max_connections = 1;
  int port = Start();
  auto first = std::make_unique<RawConnection>(port);
  first->Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(first->ReadUntil("\r\n\r\n{").find("HTTP/1.1 200"), std::string::npos);
  RawConnection second(port);  // accepted by the kernel, not served yet
  ASSERT_TRUE(second.connected());
  second.Send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(second.ReadUntil("HTTP/1.1", std::chrono::milliseconds(300)), "");
  first.reset();  // the first connection closes: the second is served
  EXPECT_NE(second.ReadAll().find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(HttpServerTest, SlowAndIdleClientsAreDisconnectedAfterTheirTimeouts) {
  config_.server.read_timeout = Seconds(1);
  config_.server.idle_timeout = Seconds(1);
  int port = Start();
  RawConnection slow(port);  // starts a request and never finishes it
  slow.Send("GET /health HTTP/1.1\r\nHost: x\r\n");
  RawConnection idle(port);  // says nothing at all
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(slow.ReadAll(), "");
  EXPECT_TRUE(slow.closed());
  EXPECT_EQ(idle.ReadAll(), "");
  EXPECT_TRUE(idle.closed());
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(4));
  // A keep-alive connection is closed once it has been idle that long after an answer.
  RawConnection kept(port);
  kept.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(kept.ReadUntil("\r\n\r\n{").find("HTTP/1.1 200"), std::string::npos);
  kept.ReadAll();
  EXPECT_TRUE(kept.closed());
}

TEST_F(HttpServerTest, StoppingClosesIdleKeepAliveConnectionsAtOnce) {
  config_.server.idle_timeout = Seconds(30);
  int port = Start();
  RawConnection connection(port);
  connection.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(connection.ReadUntil("\r\n\r\n{").find("HTTP/1.1 200"), std::string::npos);
  auto stop_started = std::chrono::steady_clock::now();
  server_->Stop();
  thread_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(3));
  EXPECT_TRUE(served_.ok()) << served_.ToString();
  connection.ReadAll();
  EXPECT_TRUE(connection.closed());
}

// One answer read whole from a connection that closes after it: status, headers (names
// lowercase) and the body as sent.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

RawResponse Request(int port, const std::string& request_line, const std::string& headers) {
  RawConnection connection(port);
  connection.Send(request_line + "\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n");
  std::string answer = connection.ReadAll();
  RawResponse response;
  size_t end = answer.find("\r\n\r\n");
  if (answer.size() < 12 || end == std::string::npos) return response;
  response.status = std::stoi(answer.substr(9, 3));
  for (const std::string& line : Split(answer.substr(0, end), '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    response.headers[ToLower(line.substr(0, colon))] = std::string(Trim(line.substr(colon + 1)));
  }
  response.body = answer.substr(end + 4);
  return response;
}

TEST_F(HttpServerTest, LargeBodiesAreSentGzippedToTheClientsThatAcceptIt) {
  int port = Start();
  std::string token = Token("eve");
  std::string message;
  for (int i = 0; i < 100; ++i) message += "host h" + std::to_string(i) + " is done; ";
  PutRun(options_.store_url, RunState::kRunning, message);
  const std::string get = "GET /api/v1/runs/RUN-1 HTTP/1.1";
  const std::string auth = "Authorization: Bearer " + token + "\r\n";

  RawResponse identity = Request(port, get, auth);
  ASSERT_EQ(identity.status, 200) << identity.body;
  EXPECT_EQ(identity.Header("content-encoding"), "");
  EXPECT_EQ(identity.Header("vary"), "Accept-Encoding");
  std::string etag = identity.Header("etag");
  ASSERT_EQ(etag.rfind('"', 0), 0u) << etag;  // strong
  ASSERT_GT(identity.body.size(), kGzipMinBytes);
  EXPECT_NE(identity.body.find("host h99 is done"), std::string::npos);

  RawResponse gzip = Request(port, get, auth + "Accept-Encoding: br, gzip;q=0.8\r\n");
  ASSERT_EQ(gzip.status, 200);
  EXPECT_EQ(gzip.Header("content-encoding"), "gzip");
  EXPECT_EQ(gzip.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(gzip.Header("etag"), "W/" + etag);
  EXPECT_EQ(gzip.Header("content-length"), std::to_string(gzip.body.size()));
  EXPECT_LT(gzip.body.size() * 3, identity.body.size());
  EXPECT_EQ(Gunzip(gzip.body), identity.body);
  // The cached document is compressed once: the next client gets the same bytes.
  EXPECT_EQ(Request(port, get, auth + "Accept-Encoding: gzip\r\n").body, gzip.body);

  // The weak validator of the compressed copy is "not modified" while the run is unchanged.
  RawResponse unchanged =
      Request(port, get, auth + "Accept-Encoding: gzip\r\nIf-None-Match: W/" + etag + "\r\n");
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_EQ(unchanged.Header("etag"), "W/" + etag);
  EXPECT_EQ(unchanged.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(unchanged.body, "");

  // HEAD: the compressed GET's length, no body.
  RawResponse head =
      Request(port, "HEAD /api/v1/runs/RUN-1 HTTP/1.1", auth + "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-encoding"), "gzip");
  EXPECT_EQ(head.Header("content-length"), std::to_string(gzip.body.size()));
  EXPECT_EQ(head.body, "");

  // gzip refused: the text as it is.
  RawResponse refused = Request(port, get, auth + "Accept-Encoding: gzip;q=0, identity\r\n");
  EXPECT_EQ(refused.Header("content-encoding"), "");
  EXPECT_EQ(refused.body, identity.body);

  // A body that is not cached (a dashboard file) is compressed for its response.
  RawResponse css = Request(port, "GET /ui/style.css HTTP/1.1", "Accept-Encoding: gzip\r\n");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("content-encoding"), "gzip");
  std::optional<std::string> style = Gunzip(css.body);
  ASSERT_TRUE(style.has_value());
  EXPECT_EQ(*style, Request(port, "GET /ui/style.css HTTP/1.1", "").body);

  // Small bodies and errors under the threshold are sent as they are.
  RawResponse health = Request(port, "GET /health HTTP/1.1", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Header("content-encoding"), "");
  EXPECT_NE(health.body.find('{'), std::string::npos);
}

}  // namespace
}  // namespace rollgate::server
