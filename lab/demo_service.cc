// rollgate-demo-service: the small HTTP service the lab hosts run, standing in for the
// application a patch changes (issue 4, "The lab").
//
// Serves GET /health, /ready, /metrics (Prometheus text), /version (the VERSION file of its app
// dir) and /api/orders (the "critical endpoint"). Behaviour knobs are read from
// <config-dir>/knobs ("key=value" lines) at every request, so tests can provoke failures:
//   fail_ratio=0.25   share of /api/orders requests answered with 500 (deterministic spacing)
//   latency_ms=200    delay before every answer
//   health=fail       /health and /ready answer 500
//   health_fail_ratio=0.25  share of /health and /ready requests answered with 503 (its own
//                     deterministic spacing): a service that flaps, whose health check passes on
//                     a retry but whose availability over a window drops
// One knob is read once, at start: admin_port=9099 makes the service also hold an admin port on
// its listen address, and refuse to start ("Address already in use") when another process has it.
// Every request is logged to --log-file as "<RFC 3339 time> <LEVEL> <method> <path> <status>
// <ms>ms"; 5xx answers are logged at ERROR level. Stops cleanly on SIGTERM or SIGINT.
// Requests are served by httplib's thread pool; counters are atomics.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "common/strings.h"
#include "common/time.h"

namespace rollgate {
namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string app_dir = ".";
  std::string config_dir = ".";
  std::string log_file;
};

struct Knobs {
  int admin_port = 0;  // read at start only
  double fail_ratio = 0;
  int latency_ms = 0;
  bool healthy = true;
  double health_fail_ratio = 0;
};

constexpr std::array<double, 8> kBucketsSeconds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};

class Service {
 public:
  explicit Service(Flags flags) : flags_(std::move(flags)) {}

  Knobs ReadKnobs() const {
    Knobs knobs;
    std::ifstream in(flags_.config_dir + "/knobs");
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key(Trim(line.substr(0, eq)));
      std::string value(Trim(line.substr(eq + 1)));
      try {
        if (key == "fail_ratio") knobs.fail_ratio = std::stod(value);
        if (key == "latency_ms") knobs.latency_ms = std::stoi(value);
        if (key == "health_fail_ratio") knobs.health_fail_ratio = std::stod(value);
        if (key == "admin_port") knobs.admin_port = std::stoi(value);
      } catch (const std::exception&) {
        // A malformed knob is ignored: the service keeps its defaults.
      }
      if (key == "health") knobs.healthy = value != "fail";
    }
    return knobs;
  }

  std::string Version() const {
    std::ifstream in(flags_.app_dir + "/VERSION");
    std::string version;
    std::getline(in, version);
    return version.empty() ? "unknown" : std::string(Trim(version));
  }

  // Deterministic failure spacing: request n fails when floor(n*r) > floor((n-1)*r).
  static bool ShouldFail(std::atomic<uint64_t>& counter, double ratio) {
    uint64_t n = ++counter;
    if (ratio <= 0) return false;
    if (ratio >= 1) return true;
    auto count = static_cast<double>(n);
    return static_cast<uint64_t>(count * ratio) > static_cast<uint64_t>((count - 1) * ratio);
  }

  void Record(const httplib::Request& request, int status, double seconds) {
    ++requests_total_;
    if (status >= 500) ++errors_total_;
    for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
      if (seconds <= kBucketsSeconds[i]) ++buckets_[i];
    }
    latency_micros_sum_ += static_cast<uint64_t>(seconds * 1e6);
    if (flags_.log_file.empty()) return;
    std::lock_guard<std::mutex> lock(log_mutex_);
    std::ofstream log(flags_.log_file, std::ios::app);
    log << FormatRfc3339Utc(clock_.Now()) << (status >= 500 ? " ERROR " : " INFO ")
        << request.method << ' ' << EscapeForDisplay(request.path) << ' ' << status << ' '
        << static_cast<int>(seconds * 1000) << "ms\n";
  }

  std::string Metrics() const {
    std::ostringstream out;
    out << "# HELP demo_requests_total Requests served.\n# TYPE demo_requests_total counter\n"
        << "demo_requests_total " << requests_total_.load() << "\n"
        << "# HELP demo_errors_total Requests answered with 5xx.\n"
        << "# TYPE demo_errors_total counter\n"
        << "demo_errors_total " << errors_total_.load() << "\n"
        << "# HELP demo_request_duration_seconds Request latency.\n"
        << "# TYPE demo_request_duration_seconds histogram\n";
    for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
      out << "demo_request_duration_seconds_bucket{le=\"" << kBucketsSeconds[i] << "\"} "
          << buckets_[i].load() << "\n";
    }
    out << "demo_request_duration_seconds_bucket{le=\"+Inf\"} " << requests_total_.load() << "\n"
        << "demo_request_duration_seconds_sum "
        << static_cast<double>(latency_micros_sum_.load()) / 1e6 << "\n"
        << "demo_request_duration_seconds_count " << requests_total_.load() << "\n"
        << "# HELP demo_version_info The running version.\n# TYPE demo_version_info gauge\n"
        << "demo_version_info{version=\"" << Version() << "\"} 1\n";
    return out.str();
  }

  void Route(httplib::Server& server) {
    auto handle = [this](auto body) {
      return [this, body](const httplib::Request& request, httplib::Response& response) {
        auto start = clock_.Monotonic();
        Knobs knobs = ReadKnobs();
        if (knobs.latency_ms > 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(knobs.latency_ms));
        }
        response.status = 200;
        body(knobs, response);
        std::chrono::duration<double> took = clock_.Monotonic() - start;
        Record(request, response.status, took.count());
      };
    };
    server.Get("/health", handle([this](const Knobs& k, httplib::Response& r) {
                 bool healthy = k.healthy && !ShouldFail(health_requests_, k.health_fail_ratio);
                 r.status = healthy ? 200 : (k.healthy ? 503 : 500);
                 r.set_content(healthy ? "{\"status\":\"ok\"}\n" : "{\"status\":\"fail\"}\n",
                               "application/json");
               }));
    server.Get("/ready", handle([this](const Knobs& k, httplib::Response& r) {
                 bool ready = k.healthy && !ShouldFail(health_requests_, k.health_fail_ratio);
                 r.status = ready ? 200 : (k.healthy ? 503 : 500);
                 r.set_content(ready ? "{\"ready\":true}\n" : "{\"ready\":false}\n",
                               "application/json");
               }));
    server.Get("/version", handle([this](const Knobs&, httplib::Response& r) {
                 r.set_content("{\"version\":\"" + Version() + "\"}\n", "application/json");
               }));
    server.Get("/metrics", handle([this](const Knobs&, httplib::Response& r) {
                 r.set_content(Metrics(), "text/plain; version=0.0.4");
               }));
    server.Get("/api/orders", handle([this](const Knobs& k, httplib::Response& r) {
                 if (ShouldFail(orders_requests_, k.fail_ratio)) {
                   r.status = 500;
                   r.set_content("{\"error\":\"internal error\"}\n", "application/json");
                   return;
                 }
                 r.set_content("{\"orders\":[{\"id\":1,\"item\":\"widget\",\"quantity\":3}]}\n",
                               "application/json");
               }));
  }

 private:
  Flags flags_;
  SystemClock clock_;
  std::atomic<uint64_t> requests_total_{0}, errors_total_{0}, orders_requests_{0},
      health_requests_{0};
  std::atomic<uint64_t> latency_micros_sum_{0};
  std::array<std::atomic<uint64_t>, kBucketsSeconds.size()> buckets_{};
  std::mutex log_mutex_;
};

int Usage(const char* why) {
  std::fprintf(stderr,
               "rollgate-demo-service: %s\nusage: rollgate-demo-service --listen ADDR:PORT "
               "[--app-dir DIR] [--config-dir DIR] [--log-file FILE]\n",
               why);
  return 2;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(("missing value for " + flag).c_str());
    std::string value = argv[++i];
    if (flag == "--listen") {
      size_t colon = value.rfind(':');
      if (colon == std::string::npos) return Usage("--listen needs ADDR:PORT");
      flags.host = value.substr(0, colon);
      try {
        flags.port = std::stoi(value.substr(colon + 1));
      } catch (const std::exception&) {
        return Usage("bad port in --listen");
      }
    } else if (flag == "--app-dir") {
      flags.app_dir = value;
    } else if (flag == "--config-dir") {
      flags.config_dir = value;
    } else if (flag == "--log-file") {
      flags.log_file = value;
    } else {
      return Usage(("unknown flag " + flag).c_str());
    }
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Service service(flags);
  httplib::Server server;
  service.Route(server);
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    server.stop();
  });
  stopper.detach();
  // The admin port (knob admin_port): held, not served, while the service runs.
  if (int admin_port = service.ReadKnobs().admin_port; admin_port > 0) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(admin_port));
    inet_pton(AF_INET, flags.host.c_str(), &address.sin_addr);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, 16) != 0) {
      std::fprintf(stderr, "rollgate-demo-service: cannot listen on %s:%d (admin port): %s\n",
                   flags.host.c_str(), admin_port, std::strerror(errno));
      return 1;
    }
  }
  if (!server.bind_to_port(flags.host, flags.port)) {
    std::fprintf(stderr, "rollgate-demo-service: cannot listen on %s:%d: %s\n", flags.host.c_str(),
                 flags.port, std::strerror(errno));
    return 1;
  }
  server.listen_after_bind();
  return 0;
}

}  // namespace
}  // namespace rollgate

int main(int argc, char** argv) { return rollgate::Main(argc, argv); }
