#include "server/http_server.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/strings.h"
#include "server/content_coding.h"

namespace rollgate::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// Request line and headers together; larger gets 431.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::chrono::milliseconds kEventPoll{300};
constexpr std::chrono::seconds kEventKeepAlive{15};
// How long a failing accept (e.g. out of file descriptors) waits before it is tried again.
constexpr std::chrono::milliseconds kAcceptRetry{100};
// How long a connection that was answered and shut down reads what the client still sends.
constexpr std::chrono::seconds kLinger{2};

// Splits "HOST:PORT" ("[::1]:80" for IPv6). InvalidArgument naming the address.
Status SplitListen(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument(
        fmt::format("listen address {} must be HOST:PORT", EscapeForDisplay(listen)));
  }
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = listen.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    return InvalidArgument(fmt::format("listen address {}: the port must be a number up to 65535",
                                       EscapeForDisplay(listen)));
  }
  port = std::stoi(port_text);
  return Status::Ok();
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  nlohmann::json document = {{"error", {{"code", code}, {"message", message}, {"field", nullptr}}}};
  return document.dump() + "\n";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space in a query). nullopt for a malformed escape.
std::optional<std::string> DecodeUrl(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = HexValue(text[i + 1]), low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The request target ("/path?a=1&b=2") into the request's path and query. False when it is not
// an origin-form target or an escape is malformed.
bool SplitTarget(std::string_view target, ApiRequest& request) {
  if (target.empty() || target.front() != '/') return false;
  size_t question = target.find('?');
  std::optional<std::string> path = DecodeUrl(target.substr(0, question), false);
  if (!path) return false;
  request.path = std::move(*path);
  if (question == std::string_view::npos) return true;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    std::optional<std::string> name = DecodeUrl(pair.substr(0, equals), true);
    std::optional<std::string> value =
        DecodeUrl(equals == std::string_view::npos ? "" : pair.substr(equals + 1), true);
    if (!name || !value) return false;
    request.query.emplace(std::move(*name), std::move(*value));
  }
  return true;
}

// One Server-Sent Event carrying a run document (a single line of JSON).
std::string RunEvent(std::string_view body) {
  while (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  return fmt::format("event: run\ndata: {}\n\n", body);
}

// True when the run document's state is final for the stream: succeeded, failed or cancelled.
bool RunFinished(const std::string& body) {
  nlohmann::json document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("state") || !document["state"].is_string()) {
    return true;
  }
  const std::string state = document["state"].get<std::string>();
  return state == "succeeded" || state == "failed" || state == "cancelled";
}

// GET /api/v1/runs/{id}/events
bool IsEventStream(const ApiRequest& request) {
  constexpr std::string_view kPrefix = "/api/v1/runs/", kSuffix = "/events";
  const std::string& path = request.path;
  if (request.method != "GET" || path.size() <= kPrefix.size() + kSuffix.size()) return false;
  if (path.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  if (path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) return false;
  std::string_view id(path.data() + kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return id.find('/') == std::string_view::npos;
}

std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }

// A connection: reads requests one after the other, answers each (reads on the event loop's
// threads, the other methods on the action pool), streams run events. Owned by the handlers in
// flight; its handlers run one at a time (a strand).
class Connection {
 public:
  virtual ~Connection() = default;
  // Posts to the connection's strand: the server stops. An idle connection closes; an event
  // stream ends.
  virtual void Stop() = 0;
};

// The open connections, so that stopping can reach them.
class ConnectionSet {
 public:
  void Add(Connection* connection, std::weak_ptr<Connection> handle) {
    std::lock_guard lock(mutex_);
    open_.emplace(connection, std::move(handle));
  }
  void Remove(Connection* connection) {
    std::lock_guard lock(mutex_);
    open_.erase(connection);
  }
  void StopAll() {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mutex_);
      for (auto& [connection, handle] : open_) {
        if (auto alive = handle.lock()) open.push_back(std::move(alive));
      }
    }
    for (auto& connection : open) connection->Stop();  // outside the lock: Stop may end it
  }

 private:
  std::mutex mutex_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> open_;
};

}  // namespace

// What every connection's code reaches: settings, the Api, the stop flag, the blocking pool.
struct HttpServer::Impl {
  const Config* config = nullptr;
  ServerMetrics* metrics = nullptr;
  const Clock* clock = nullptr;
  std::unique_ptr<Api> api;
  std::unique_ptr<net::ssl::context> tls;  // none: plain HTTP
  // One event loop run by `threads` threads: a ready connection is served by whichever thread is
  // free, so a thread the kernel preempts holds up one request, not a share of the connections.
  // (The set is declared first so that it outlives the handlers the context destroys.)
  ConnectionSet connections;
  unsigned threads = 1;
  std::unique_ptr<net::io_context> context;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::optional<net::strand<net::io_context::executor_type>> accept_strand;
  std::optional<tcp::acceptor> acceptor;  // on accept_strand
  std::unique_ptr<net::steady_timer> accept_retry;
  std::atomic<int> open_connections{0};
  std::atomic<bool> accept_paused{false};  // at max_connections: waits for one to close
  std::atomic<bool> stopping{false};
  std::unique_ptr<net::thread_pool> actions;  // requests that change something (they may wait)

  void Accept();
  void OnConnectionClosed();
  void StopConnections();
};

namespace {

template <bool kTls>
class Session final : public Connection, public std::enable_shared_from_this<Session<kTls>> {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  // `socket` runs its handlers on a strand of its own.
  Session(HttpServer::Impl& server, tcp::socket socket)
      : server_(server),
        stream_(MakeStream(server, std::move(socket))),
        timer_(stream_.get_executor()) {}

  ~Session() override {
    server_.connections.Remove(this);
    server_.OnConnectionClosed();
  }

  auto Executor() { return stream_.get_executor(); }

  // On the strand.
  void Start() {
    server_.connections.Add(this, this->weak_from_this());
    if (server_.stopping) return;
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Lowest().expires_after(Settings().read_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->ReadRequest();
                              });
    } else {
      ReadRequest();
    }
  }

  void Stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kHandshake) {
        self->Lowest().cancel();
      } else if (self->phase_ == Phase::kStreaming) {
        self->timer_.cancel();
      }
    });
  }

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kStreaming, kClosing };

  static Stream MakeStream(HttpServer::Impl& server, tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *server.tls);
    } else {
      (void)server;
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const ServerSettings& Settings() const { return server_.config->server; }

  // Waits for the next request: up to idle_timeout for its first byte, then up to read_timeout
  // for the rest of its header.
  void ReadRequest() {
    if (server_.stopping) return Close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(static_cast<std::uint64_t>(Settings().max_body_bytes));
    if (buffer_.size() > 0) return ReadHeader();
    phase_ = Phase::kIdle;
    Lowest().expires_after(Settings().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t read) {
                              if (ec) return self->Close();
                              self->buffer_.commit(read);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    Lowest().expires_after(Settings().read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    auto method = header.method();
    bool has_body = parser_->content_length().has_value() || parser_->chunked();
    if (!has_body &&
        (method == http::verb::post || method == http::verb::put || method == http::verb::patch)) {
      return Refuse(400, "BAD_REQUEST", "the request needs a Content-Length header");
    }
    if (parser_->is_done()) return Dispatch();
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      Lowest().expires_after(Settings().write_timeout);
      return net::async_write(stream_, net::buffer(kContinue),
                              [self = this->shared_from_this()](beast::error_code error, size_t) {
                                if (error) return self->Close();
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(Settings().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  // A request that cannot be read: answered when it is the client's fault, else closed.
  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(413, "PAYLOAD_TOO_LARGE",
                    fmt::format("the request body is larger than the limit of {} bytes",
                                Settings().max_body_bytes));
    }
    if (ec == http::error::header_limit) {
      return Refuse(431, "HEADERS_TOO_LARGE",
                    fmt::format("the request line and headers are larger than the limit of {} "
                                "bytes",
                                kHeaderLimit));
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Refuse(400, "BAD_REQUEST", "the request is malformed");
    }
    Close();  // the client went away or was too slow
  }

  // Answers an HTTP-level refusal and closes: what remains of the request cannot be trusted.
  void Refuse(int status, std::string_view code, const std::string& message) {
    ApiResponse response;
    response.status = status;
    response.body = ErrorBody(code, message);
    std::string method(parser_ ? View(parser_->get().method_string()) : "");
    server_.metrics->RecordRequest("unmatched", method.empty() ? "?" : method, status,
                                   std::chrono::duration<double>(0));
    Write(std::move(response), false, false, false);
  }

  void Dispatch() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    ApiRequest request;
    request.method = std::string(View(message.method_string()));
    bool head = message.method() == http::verb::head;
    if (head) request.method = "GET";
    if (!SplitTarget(View(message.target()), request)) {
      return Refuse(400, "BAD_REQUEST", "the request target is not a path");
    }
    for (const auto& field : message) {
      request.headers[ToLower(View(field.name_string()))] = std::string(View(field.value()));
    }
    request.body = std::move(message.body());
    bool keep_alive = message.keep_alive();
    if (!head && IsEventStream(request)) return StartEvents(std::move(request));
    auto accept_encoding = request.headers.find("accept-encoding");
    bool gzip = accept_encoding != request.headers.end() && AcceptsGzip(accept_encoding->second);
    if (request.method == "GET" || request.method == "OPTIONS") {
      phase_ = Phase::kHandling;
      return Write(server_.api->Handle(request), keep_alive, head, gzip);
    }
    // Actions may wait (for the store's write lock, for a package to download): on the action
    // pool, so that the event loop's threads keep serving the other connections.
    phase_ = Phase::kHandling;
    net::post(*server_.actions, [self = this->shared_from_this(), request = std::move(request),
                                 keep_alive, gzip,
                                 guard = net::make_work_guard(*server_.context)]() mutable {
      ApiResponse response = self->server_.api->Handle(request);
      auto* session = self.get();
      net::post(session->stream_.get_executor(),
                [self = std::move(self), response = std::move(response), keep_alive,
                 gzip]() mutable { self->Write(std::move(response), keep_alive, false, gzip); });
    });
  }

  // `gzip`: the client accepts gzip (content_coding.h); a compressible body of kGzipMinBytes or
  // more is then sent compressed, under the weak form of its ETag (the validator is the
  // document's, whichever encoding carries it).
  void Write(ApiResponse&& api_response, bool keep_alive, bool head, bool gzip) {
    phase_ = Phase::kWriting;
    keep_alive = keep_alive && !server_.stopping;
    // The message's body points into the text `api_response` holds (its own or a cached
    // document's, or their compressed copy), which the handler keeps until the write is done.
    struct Outgoing {
      ApiResponse text;
      std::string compressed;  // when `text` is not shared
      http::response<http::span_body<const char>> message;
    };
    auto out = std::make_shared<Outgoing>();
    out->text = std::move(api_response);
    auto& response = out->message;
    response.version(11);
    response.result(static_cast<unsigned>(out->text.status));
    bool nosniff = false;
    for (const auto& [name, value] : out->text.headers) {
      response.insert(name, value);
      nosniff = nosniff || name == "X-Content-Type-Options";
    }
    response.set(http::field::cache_control, "no-cache");
    if (!nosniff) response.set("X-Content-Type-Options", "nosniff");
    bool compressible = CompressibleType(out->text.content_type);
    if (out->text.status == 304 && compressible) {
      response.set(http::field::vary, "Accept-Encoding");
    } else if (out->text.status != 304) {
      response.set(http::field::content_type, out->text.content_type);
      const std::string* body = &out->text.Text();
      if (compressible && body->size() >= kGzipMinBytes) {
        response.set(http::field::vary, "Accept-Encoding");
        const std::string* compressed = nullptr;
        if (gzip && out->text.shared_body) {
          compressed = out->text.shared_body->Gzipped();
        } else if (gzip) {
          std::optional<std::string> made = Gzip(*body, kGzipLevelSingle);
          if (made) compressed = &(out->compressed = std::move(*made));
        }
        if (compressed != nullptr) {
          body = compressed;
          response.set(http::field::content_encoding, "gzip");
          auto etag = response.find(http::field::etag);
          if (etag != response.end() && !etag->value().starts_with("W/")) {
            response.set(http::field::etag, "W/" + std::string(View(etag->value())));
          }
        }
      }
      response.body() = {body->data(), body->size()};
    }
    response.keep_alive(keep_alive);
    response.prepare_payload();
    if (head) response.body() = {};  // Content-Length stays the GET's
    Lowest().expires_after(Settings().write_timeout);
    http::async_write(
        stream_, response,
        [self = this->shared_from_this(), out, keep_alive](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          if (!keep_alive) return self->Shutdown();
          self->ReadRequest();
        });
  }

  // GET /api/v1/runs/ID/events: Server-Sent Events (docs/server.md). The Api authenticates and
  // answers the run document; every kEventPoll it is read again (authenticated again) and sent
  // when it changed, a comment every kEventKeepAlive keeps proxies from closing the stream, and
  // the stream ends when the run is finished, the write fails or the server stops.
  void StartEvents(ApiRequest request) {
    request.headers.erase("if-none-match");  // a stream is never "not modified"
    ApiResponse first = server_.api->Handle(request);
    if (first.status != 200) return Write(std::move(first), false, false, false);
    phase_ = Phase::kStreaming;
    events_request_ = std::move(request);
    last_document_ = first.Text();
    auto header = std::make_shared<http::response<http::empty_body>>(http::status::ok, 11);
    header->set(http::field::content_type, "text/event-stream");
    header->set(http::field::cache_control, "no-cache");
    header->set("X-Content-Type-Options", "nosniff");
    // The connection ends with the stream: it is not kept alive for another request.
    header->keep_alive(false);
    header->chunked(true);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
    Lowest().expires_after(Settings().write_timeout);
    http::async_write_header(
        stream_, *serializer,
        [self = this->shared_from_this(), header, serializer](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          self->SendEvent(RunEvent(self->last_document_), RunFinished(self->last_document_));
        });
  }

  void SendEvent(std::string text, bool last) {
    chunk_ = std::move(text);
    last_write_ = server_.clock->Monotonic();
    Lowest().expires_after(Settings().write_timeout);
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                     [self = this->shared_from_this(), last](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       if (last) return self->EndEvents();
                       self->WaitForChange();
                     });
  }

  void WaitForChange() {
    if (server_.stopping) return EndEvents();
    timer_.expires_after(kEventPoll);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code) { self->Poll(); });
  }

  void Poll() {
    if (server_.stopping) return EndEvents();
    ApiResponse now = server_.api->Snapshot(events_request_);
    if (now.status != 200) {  // the run is gone, the token revoked, the store down
      std::string body = now.Text();
      while (!body.empty() && body.back() == '\n') body.pop_back();
      return SendEvent(fmt::format("event: error\ndata: {}\n\n", body), true);
    }
    if (now.Text() != last_document_) {
      last_document_ = now.Text();
      return SendEvent(RunEvent(last_document_), RunFinished(last_document_));
    }
    if (server_.clock->Monotonic() - last_write_ >= kEventKeepAlive) {
      return SendEvent(": keep-alive\n\n", false);
    }
    WaitForChange();
  }

  void EndEvents() {
    phase_ = Phase::kWriting;
    Lowest().expires_after(Settings().write_timeout);
    net::async_write(stream_, http::make_chunk_last(),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->Shutdown();
                     });
  }

  // Ends the connection after the last response: TLS says goodbye, TCP sends FIN.
  void Shutdown() {
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Close(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Drain();
    }
  }

  // Reads and drops what the client still sends until it closes (at most kLinger): closing with
  // unread data would reset the connection before the client has read the answer.
  void Drain() {
    Lowest().expires_after(kLinger);
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(size_t{64} * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    phase_ = Phase::kClosing;
    timer_.cancel();
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  HttpServer::Impl& server_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kIdle;
  // The event stream's state.
  ApiRequest events_request_;
  std::string last_document_;
  std::string chunk_;
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace

// On accept_strand. Each connection gets a strand of its own on the shared event loop.
void HttpServer::Impl::Accept() {
  if (stopping || !acceptor || !acceptor->is_open()) return;
  if (open_connections.load() >= config->server.max_connections) {
    accept_paused = true;  // OnConnectionClosed resumes; more connections wait in the backlog
    if (open_connections.load() < config->server.max_connections && accept_paused.exchange(false)) {
      return Accept();
    }
    return;
  }
  acceptor->async_accept(
      net::make_strand(*context), [this](beast::error_code ec, tcp::socket socket) {
        if (stopping) return;
        if (ec) {
          if (ec == net::error::operation_aborted) return;
          accept_retry->expires_after(kAcceptRetry);
          accept_retry->async_wait([this](beast::error_code error) {
            if (!error) Accept();
          });
          return;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        ++open_connections;
        auto launch = [](auto session) {
          auto executor = session->Executor();
          net::post(executor, [session = std::move(session)] { session->Start(); });
        };
        if (tls) {
          launch(std::make_shared<Session<true>>(*this, std::move(socket)));
        } else {
          launch(std::make_shared<Session<false>>(*this, std::move(socket)));
        }
        Accept();
      });
}

// On any thread, when a connection ends.
void HttpServer::Impl::OnConnectionClosed() {
  --open_connections;
  if (stopping) return;
  if (accept_paused.exchange(false)) net::post(*accept_strand, [this] { Accept(); });
}

void HttpServer::Impl::StopConnections() {
  net::post(*accept_strand, [this] {
    beast::error_code ignored;
    if (acceptor) acceptor->close(ignored);
    if (accept_retry) accept_retry->cancel();
  });
  connections.StopAll();
  keep_running.reset();
}

HttpServer::HttpServer(const Config& config, ServeOptions options, const Clock& clock,
                       const TimeZone& zone)
    : config_(config),
      options_(std::move(options)),
      clock_(clock),
      zone_(zone),
      impl_(std::make_unique<Impl>()) {
  impl_->config = &config_;
  impl_->metrics = &metrics_;
  impl_->clock = &clock_;
}

HttpServer::~HttpServer() = default;

Status HttpServer::Bind() {
  std::string listen = options_.listen.empty() ? config_.server.listen : options_.listen;
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(SplitListen(listen, host, port));
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return InvalidArgument(fmt::format("listen address {}: {} is not an IP address",
                                       EscapeForDisplay(listen), EscapeForDisplay(host)));
  }
  const ServerSettings& settings = config_.server;
  if (!settings.tls_cert.empty()) {
    auto resolve = [&](const std::string& file) {
      std::filesystem::path path(file);
      return path.is_absolute() ? path : options_.config_dir / path;
    };
    std::filesystem::path cert = resolve(settings.tls_cert), key = resolve(settings.tls_key);
    for (const auto& file : {cert, key}) {
      std::error_code error;
      if (!std::filesystem::is_regular_file(file, error)) {
        return InvalidArgument(
            fmt::format("server TLS file {} cannot be read", EscapeForDisplay(file.string())));
      }
    }
    auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1);
    beast::error_code cert_error, key_error;
    tls->use_certificate_chain_file(cert.string(), cert_error);
    tls->use_private_key_file(key.string(), net::ssl::context::pem, key_error);
    if (cert_error || key_error || SSL_CTX_check_private_key(tls->native_handle()) != 1) {
      return InvalidArgument(
          fmt::format("server TLS: {} and {} are not a matching PEM certificate and private key",
                      EscapeForDisplay(cert.string()), EscapeForDisplay(key.string())));
    }
    impl_->tls = std::move(tls);
  }

  // Each thread (event loop or action pool) keeps its own store connection for its life.
  std::string store_url = options_.store_url;
  StoreProvider provider = [store_url]() -> Result<Store*> {
    thread_local std::unique_ptr<Store> store;
    if (!store) {
      ASSIGN_OR_RETURN(store, OpenStore(store_url));
    }
    return store.get();
  };
  impl_->api = std::make_unique<Api>(config_, std::move(provider), clock_, zone_, metrics_,
                                     options_.runs, options_.packages_dir);

  // The event loop's threads: one per core unless the configuration says how many.
  impl_->threads = config_.server.workers > 0 ? static_cast<unsigned>(config_.server.workers)
                                              : std::max(1u, std::thread::hardware_concurrency());
  impl_->context = std::make_unique<net::io_context>(static_cast<int>(impl_->threads));
  impl_->keep_running.emplace(net::make_work_guard(*impl_->context));
  impl_->accept_strand.emplace(net::make_strand(*impl_->context));
  tcp::acceptor& acceptor = impl_->acceptor.emplace(*impl_->accept_strand);
  impl_->accept_retry = std::make_unique<net::steady_timer>(*impl_->accept_strand);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.reset();
    return Unavailable(
        fmt::format("cannot listen on {}: {}", EscapeForDisplay(listen), ec.message()));
  }
  port_ = acceptor.local_endpoint().port();
  return Status::Ok();
}

Status HttpServer::Serve() {
  if (!impl_->acceptor) return Internal("Serve before Bind");
  // Threads started here inherit the caller's signal mask (BlockStopSignals).
  impl_->actions = std::make_unique<net::thread_pool>(std::max(4u, impl_->threads));
  net::post(*impl_->accept_strand, [impl = impl_.get()] { impl->Accept(); });
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl_->threads; ++i) {
    threads.emplace_back([context = impl_->context.get()] { context->run(); });
  }
  impl_->context->run();
  for (auto& thread : threads) thread.join();
  impl_->actions->join();
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->context || impl_->stopping.exchange(true)) return;
  impl_->StopConnections();
}

void BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}
Status ServeUntilSignal(HttpServer& server, const std::function<void(int)>& ready,
                        const std::function<void()>& stopping) {
  // Block the signals in this thread (and the workers it starts); a watcher thread waits for
  // them and stops the server, so the stop never runs inside a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      timespec timeout{0, 200'000'000};
      int signal_number = sigtimedwait(&signals, nullptr, &timeout);
      if (signal_number == SIGTERM || signal_number == SIGINT) {
        if (stopping) stopping();
        // A signal that arrives before the server listens would find nothing to stop: ask again
        // until Serve has returned.
        while (!done.load()) {
          server.Stop();
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return;
      }
    }
  });
  ready(server.port());
  Status status = server.Serve();
  done = true;
  watcher.join();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return status;
}

}  // namespace rollgate::server
