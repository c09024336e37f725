// `rollgate serve`: the API (server/api.h) over HTTP or HTTPS with Boost.Beast on Asio. One event
// loop per core serves many connections; reads are answered on the loop, actions (which may wait
// for the store's write lock) on a small pool. Each of those threads opens its own store
// connection. Limits come from the configuration's `server:` section: body size, timeouts,
// connections served at once. Stop() (or SIGTERM through ServeUntilSignal) stops accepting, lets
// requests in flight finish, ends event streams and idle connections, and returns.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "server/api.h"
#include "server/metrics.h"

namespace rollgate::server {

struct ServeOptions {
  std::string listen;                  // HOST:PORT; port 0 picks a free one
  std::string store_url;               // each worker opens it
  std::filesystem::path config_dir;    // TLS files are relative to it
  RunControl* runs = nullptr;          // executes the runs started through the API
  std::filesystem::path packages_dir;  // where accepted patch packages are kept
};

class HttpServer {
 public:
  HttpServer(const Config& config, ServeOptions options, const Clock& clock, const TimeZone& zone);
  ~HttpServer();

  // Binds the listening socket. InvalidArgument for a bad address or unreadable TLS files;
  // Unavailable when the port cannot be bound.
  Status Bind();
  // The port bound (after Bind).
  int port() const { return port_; }
  // Serves until Stop(). Call after Bind.
  Status Serve();
  // Thread-safe, async-signal-unsafe: call from a thread, not a signal handler.
  void Stop();

  ServerMetrics& metrics() { return metrics_; }

  struct Impl;  // the adapter's event loops and connections (http_server.cc)

 private:
  const Config& config_;
  ServeOptions options_;
  const Clock& clock_;
  const TimeZone& zone_;
  ServerMetrics metrics_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts afterwards, so that
// only ServeUntilSignal's watcher receives them. Call before starting any thread of the server
// (its runs, its timer).
void BlockStopSignals();

// Serves until SIGTERM or SIGINT, then stops gracefully. `ready` is called once the port is
// bound (with the port), e.g. to print where the server listens; `stopping` (when given) as soon
// as the signal arrives, before the requests in flight finish (e.g. to refuse new runs).
Status ServeUntilSignal(HttpServer& server, const std::function<void(int)>& ready,
                        const std::function<void()>& stopping = nullptr);

}  // namespace rollgate::server
