#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/strings.h"

namespace rollgate::server {

namespace {

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

std::string ErrorBody(const char* code, const std::string& message) {
  nlohmann::json document = {{"error", {{"code", code}, {"message", message}, {"field", nullptr}}}};
  return document.dump() + "\n";
}

ApiRequest ToApiRequest(const httplib::Request& req) {
  ApiRequest request;
  request.method = req.method;
  request.path = req.path;
  for (const auto& [name, value] : req.params) request.query.emplace(name, value);
  for (const auto& [name, value] : req.headers) request.headers[ToLower(name)] = value;
  request.body = req.body;
  return request;
}

void WriteResponse(const ApiResponse& response, httplib::Response& res) {
  res.status = response.status;
  bool nosniff = false;
  for (const auto& [name, value] : response.headers) {
    res.set_header(name, value);
    nosniff = nosniff || name == "X-Content-Type-Options";
  }
  res.set_header("Cache-Control", "no-cache");
  if (!nosniff) res.set_header("X-Content-Type-Options", "nosniff");
  if (response.status != 304) res.set_content(response.body, response.content_type);
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

constexpr std::chrono::milliseconds kEventPoll{300};
constexpr std::chrono::seconds kEventKeepAlive{15};

}  // namespace

struct HttpServer::Impl {
  std::unique_ptr<httplib::Server> http;
  std::unique_ptr<Api> api;
  std::string host;
  // Set by Stop(): event streams end at once instead of holding a worker until they finish.
  std::mutex stop_mutex;
  std::condition_variable stop_signal;
  bool stopping = false;

  // Waits `timeout` or until Stop(); true when stopping.
  bool WaitForStop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(stop_mutex);
    return stop_signal.wait_for(lock, timeout, [this] { return stopping; });
  }
};

HttpServer::HttpServer(const Config& config, ServeOptions options, const Clock& clock,
                       const TimeZone& zone)
    : config_(config),
      options_(std::move(options)),
      clock_(clock),
      zone_(zone),
      impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Bind() {
  std::string listen = options_.listen.empty() ? config_.server.listen : options_.listen;
  int port = 0;
  RETURN_IF_ERROR(SplitListen(listen, impl_->host, port));
  const ServerSettings& settings = config_.server;
  if (!settings.tls_cert.empty()) {
    auto resolve = [&](const std::string& file) {
      std::filesystem::path path(file);
      return path.is_absolute() ? path : options_.config_dir / path;
    };
    std::filesystem::path cert = resolve(settings.tls_cert), key = resolve(settings.tls_key);
    for (const auto& file : {cert, key}) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(file, ec)) {
        return InvalidArgument(
            fmt::format("server TLS file {} cannot be read", EscapeForDisplay(file.string())));
      }
    }
    auto tls = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
    if (!tls->is_valid()) {
      return InvalidArgument(
          fmt::format("server TLS: {} and {} are not a matching PEM certificate and private key",
                      EscapeForDisplay(cert.string()), EscapeForDisplay(key.string())));
    }
    impl_->http = std::move(tls);
  } else {
    impl_->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *impl_->http;

  // Each worker thread keeps its own store connection for the life of the thread.
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

  int threads = settings.max_connections;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(static_cast<size_t>(settings.max_body_bytes));
  http.set_read_timeout(settings.read_timeout.count(), 0);
  http.set_write_timeout(settings.write_timeout.count(), 0);
  http.set_keep_alive_timeout(settings.idle_timeout.count());
  http.set_keep_alive_max_count(10000);
  http.set_tcp_nodelay(true);

  Api* api = impl_->api.get();
  auto handler = [api](const httplib::Request& req, httplib::Response& res) {
    WriteResponse(api->Handle(ToApiRequest(req)), res);
  };
  // GET /api/v1/runs/ID/events: Server-Sent Events (docs/server.md). The Api authenticates and
  // answers the run document; every kEventPoll it is read again (authenticated again) and sent
  // when it changed, a comment every kEventKeepAlive keeps proxies from closing the stream, and
  // the stream ends when the run is finished, the client goes away or the server stops.
  Impl* impl = impl_.get();
  const Clock* clock = &clock_;
  auto events = [api, impl, clock](const httplib::Request& req, httplib::Response& res) {
    ApiRequest request = ToApiRequest(req);
    request.headers.erase("if-none-match");  // a stream is never "not modified"
    ApiResponse first = api->Handle(request);
    if (first.status != 200) return WriteResponse(first, res);
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    // The connection ends with the stream: it is not kept alive for another request, which
    // would hold a worker (and a stopping server) for the idle timeout.
    res.set_header("Connection", "close");
    struct Stream {
      std::string last;  // the run document last sent
      bool started = false;
      std::chrono::steady_clock::time_point last_write{};
    };
    auto stream = std::make_shared<Stream>();
    stream->last = std::move(first.body);
    res.set_chunked_content_provider(
        "text/event-stream",
        [api, impl, clock, request, stream](size_t, httplib::DataSink& sink) -> bool {
          auto send = [&](const std::string& text) {
            stream->last_write = clock->Monotonic();
            return sink.write(text.data(), text.size());
          };
          if (!stream->started) {
            stream->started = true;
            if (!send(RunEvent(stream->last))) return false;
            if (RunFinished(stream->last)) sink.done();
            return true;
          }
          if (impl->WaitForStop(kEventPoll)) {
            sink.done();
            return true;
          }
          ApiResponse now = api->Snapshot(request);
          if (now.status != 200) {  // the run is gone, the token revoked, the store down
            std::string body = now.body;
            while (!body.empty() && body.back() == '\n') body.pop_back();
            bool ok = send(fmt::format("event: error\ndata: {}\n\n", body));
            sink.done();
            return ok;
          }
          if (now.body != stream->last) {
            stream->last = std::move(now.body);
            if (!send(RunEvent(stream->last))) return false;
            if (RunFinished(stream->last)) sink.done();
            return true;
          }
          if (clock->Monotonic() - stream->last_write >= kEventKeepAlive) {
            return send(": keep-alive\n\n");
          }
          return true;
        });
  };
  http.Get(R"(/api/v1/runs/([^/]+)/events)", events);
  const char* any = R"(/.*)";
  http.Get(any, handler);
  http.Post(any, handler);
  http.Put(any, handler);
  http.Patch(any, handler);
  http.Delete(any, handler);
  http.Options(any, handler);
  // What cpp-httplib answers by itself (oversized body, malformed request line or headers,
  // unknown methods) gets a JSON error too.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = "BAD_REQUEST";
    std::string message = "the request is malformed";
    if (res.status == 413) {
      code = "PAYLOAD_TOO_LARGE";
      message = fmt::format("the request body is larger than the limit of {} bytes",
                            config_.server.max_body_bytes);
    } else if (res.status == 414) {
      code = "URI_TOO_LONG";
      message = "the request line is too long";
    } else if (res.status == 404) {
      code = "NOT_FOUND";
      message = "no such route";
    }
    res.set_content(ErrorBody(code, message), "application/json");
    metrics_.RecordRequest("unmatched", req.method.empty() ? "?" : req.method, res.status,
                           std::chrono::duration<double>(0));
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(ErrorBody("INTERNAL", "unexpected error"), "application/json");
      });

  if (port == 0) {
    int bound = http.bind_to_any_port(impl_->host);
    if (bound < 0) {
      return Unavailable(fmt::format("cannot listen on {}", EscapeForDisplay(listen)));
    }
    port_ = bound;
  } else {
    if (!http.bind_to_port(impl_->host, port)) {
      return Unavailable(
          fmt::format("cannot listen on {} (in use, or not an address of this "
                      "machine)",
                      EscapeForDisplay(listen)));
    }
    port_ = port;
  }
  return Status::Ok();
}

Status HttpServer::Serve() {
  if (!impl_->http) return Internal("Serve before Bind");
  if (!impl_->http->listen_after_bind()) {
    return Unavailable("the server stopped listening unexpectedly");
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  {
    std::lock_guard lock(impl_->stop_mutex);
    impl_->stopping = true;
  }
  impl_->stop_signal.notify_all();
  if (impl_->http) impl_->http->stop();
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
