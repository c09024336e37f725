#include "server/metrics.h"

#include <fmt/format.h>

#include <set>

namespace rollgate::server {

namespace {
const std::string kOtherMethod = "other";
}  // namespace

void Histogram::Observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets_[i];
      break;
    }
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string& out) const {
  std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    out +=
        fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n", name, braces, sum_);
  out += fmt::format("{}_count{} {}\n", name, braces, count_);
}

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void ServerMetrics::RecordRequest(const std::string& route, const std::string& method, int status,
                                  std::chrono::duration<double> elapsed) {
  // The method is what the client sent: only the standard ones become label values, so that
  // no client can grow the number of series.
  static const std::set<std::string, std::less<>> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                              "PATCH", "DELETE", "OPTIONS"};
  const std::string& label = kMethods.contains(method) ? method : kOtherMethod;
  std::lock_guard lock(mutex_);
  ++requests_[{route, label, status}];
  latency_[route].Observe(elapsed.count());
}

std::string ServerMetrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out =
      "# HELP rollgate_http_requests_total API requests answered, by route, method and status.\n"
      "# TYPE rollgate_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out += fmt::format(
        "rollgate_http_requests_total{{route=\"{}\",method=\"{}\",code=\"{}\"}} {}\n",
        EscapeLabel(std::get<0>(key)), EscapeLabel(std::get<1>(key)), std::get<2>(key), count);
  }
  out +=
      "# HELP rollgate_http_request_duration_seconds Time to answer an API request, by route.\n"
      "# TYPE rollgate_http_request_duration_seconds histogram\n";
  for (const auto& [route, histogram] : latency_) {
    histogram.Render("rollgate_http_request_duration_seconds",
                     fmt::format("route=\"{}\"", EscapeLabel(route)), out);
  }
  return out;
}

}  // namespace rollgate::server
