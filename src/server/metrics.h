// What `rollgate serve` counts about itself for /metrics (Prometheus text format 0.0.4): API
// requests and their latency by route, method and status. Figures read from the store at scrape
// time (runs by state, step durations) are added by the API (server/api.cc). Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace rollgate::server {

// A Prometheus histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    5};
  void Observe(double seconds);
  // Appends the _bucket, _sum and _count lines of `name` with `labels` ("" or `route="x"`).
  void Render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::array<uint64_t, kBounds.size()> buckets_{};  // not cumulative; Render accumulates
  uint64_t count_ = 0;
  double sum_ = 0;
};

class ServerMetrics {
 public:
  // One finished API request. `route` is the route's pattern ("/api/v1/crs/{id}"), never the
  // path itself, so that the number of series stays bounded.
  void RecordRequest(const std::string& route, const std::string& method, int status,
                     std::chrono::duration<double> elapsed);
  // The request metrics in Prometheus text format.
  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// A label value escaped for the text format (backslash, quote, newline).
std::string EscapeLabel(const std::string& value);

}  // namespace rollgate::server
