#include "domain/watch.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/strings.h"

namespace rollgate {

namespace {

constexpr Seconds kCheckinEvery = std::chrono::hours(1);

bool IsMetricNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':';
}

// Parses a Prometheus sample value: a float, "+Inf", "-Inf" or "NaN".
std::optional<double> ParseSampleValue(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string_view WatchStateName(WatchState state) {
  switch (state) {
    case WatchState::kActive:
      return "active";
    case WatchState::kFired:
      return "fired";
    case WatchState::kEnded:
      return "ended";
    case WatchState::kStopped:
      return "stopped";
  }
  return "active";
}

Result<WatchState> ParseWatchState(std::string_view name) {
  for (WatchState s :
       {WatchState::kActive, WatchState::kFired, WatchState::kEnded, WatchState::kStopped}) {
    if (WatchStateName(s) == name) return s;
  }
  return InvalidArgument(
      fmt::format("unknown watch state '{}': expected active, fired, ended "
                  "or stopped",
                  EscapeForDisplay(name)));
}

Watch NewWatch(const std::string& change_request, const std::string& environment,
               const std::string& run_id, const std::string& system, bool emergency,
               std::optional<double> baseline_ms, const Thresholds& thresholds, Timestamp now) {
  Watch w;
  w.change_request = change_request;
  w.environment = environment;
  w.run_id = run_id;
  w.system = system;
  w.emergency = emergency;
  w.started_at = now;
  w.ends_at = now + thresholds.enhanced_monitoring;
  w.interval = thresholds.watch_interval > Seconds(0) ? thresholds.watch_interval : Seconds(60);
  if (emergency && thresholds.emergency_checkins_for > Seconds(0)) {
    w.checkins_until = now + thresholds.emergency_checkins_for;
  }
  w.next_probe_at = now;
  if (baseline_ms && *baseline_ms > 0) w.baseline_ms = baseline_ms;
  w.updated_at = now;
  return w;
}

bool WatchEnded(const Watch& watch, Timestamp now) {
  return watch.state == WatchState::kActive && now >= watch.ends_at;
}

bool ProbeDue(const Watch& watch, Timestamp now) {
  return watch.state == WatchState::kActive && now < watch.ends_at && now >= watch.next_probe_at;
}

std::optional<Timestamp> NextCheckin(const Watch& watch) {
  if (!watch.checkins_until) return std::nullopt;
  Timestamp next = watch.last_checkin_at.value_or(watch.started_at) + kCheckinEvery;
  if (next > *watch.checkins_until) return std::nullopt;
  return next;
}

bool CheckinDue(const Watch& watch, Timestamp now) {
  if (watch.state != WatchState::kActive || now >= watch.ends_at) return false;
  std::optional<Timestamp> next = NextCheckin(watch);
  return next && now >= *next;
}

std::optional<Timestamp> NextDue(const Watch& watch) {
  if (watch.state != WatchState::kActive) return std::nullopt;
  Timestamp due = std::min(watch.next_probe_at, watch.ends_at);
  if (std::optional<Timestamp> checkin = NextCheckin(watch)) due = std::min(due, *checkin);
  return due;
}

void AddSample(Watch& watch, ProbeSample sample, Seconds window) {
  ++watch.probes;
  ++watch.period_probes;
  if (!sample.ok) {
    ++watch.failed_probes;
    ++watch.period_failed;
    ++watch.period_failed_by_host[sample.host];
  }
  Timestamp newest = sample.at;
  watch.samples.push_back(std::move(sample));
  for (const ProbeSample& s : watch.samples) newest = std::max(newest, s.at);
  std::erase_if(watch.samples, [&](const ProbeSample& s) { return s.at + window <= newest; });
  if (watch.samples.size() > kMaxWatchSamples) {
    watch.samples.erase(watch.samples.begin(),
                        watch.samples.begin() +
                            static_cast<std::ptrdiff_t>(watch.samples.size() - kMaxWatchSamples));
  }
}

std::optional<double> AddCounterReading(Watch& watch, const std::string& host,
                                        const CounterReading& reading) {
  std::optional<double> share;
  auto last = watch.last_counters.find(host);
  if (last == watch.last_counters.end()) {
    watch.first_counters[host] = reading;
  } else {
    share = ErrorPercent(last->second, reading);
    if (reading.requests < last->second.requests || reading.errors < last->second.errors) {
      // The service restarted and its counters began again: keep what was counted before by
      // moving the first reading so that latest - first stays the same.
      CounterReading& first = watch.first_counters[host];
      first.requests = reading.requests - (last->second.requests - first.requests);
      first.errors = reading.errors - (last->second.errors - first.errors);
    }
  }
  watch.last_counters[host] = reading;
  if (share) watch.last_error_percent = share;
  return share;
}

void MarkCheckin(Watch& watch, Timestamp now) {
  watch.last_checkin_at = now;
  watch.period_probes = 0;
  watch.period_failed = 0;
  watch.period_failed_by_host.clear();
}

std::optional<double> AvailabilityPercent(const Watch& watch, const std::string& host,
                                          Timestamp now, Seconds window) {
  int64_t total = 0;
  int64_t ok = 0;
  for (const ProbeSample& s : watch.samples) {
    if (!host.empty() && s.host != host) continue;
    if (s.at > now || s.at + window <= now) continue;
    ++total;
    if (s.ok) ++ok;
  }
  if (total == 0) return std::nullopt;
  return 100.0 * static_cast<double>(ok) / static_cast<double>(total);
}

std::optional<double> ErrorPercent(const CounterReading& before, const CounterReading& after) {
  double requests = after.requests - before.requests;
  double errors = after.errors - before.errors;
  if (requests <= 0 || errors < 0) return std::nullopt;
  return std::min(100.0, 100.0 * errors / requests);
}

std::optional<double> OverallErrorPercent(const Watch& watch) {
  double requests = 0;
  double errors = 0;
  for (const auto& [host, last] : watch.last_counters) {
    auto first = watch.first_counters.find(host);
    if (first == watch.first_counters.end()) continue;
    requests += last.requests - first->second.requests;
    errors += last.errors - first->second.errors;
  }
  if (requests <= 0 || errors < 0) return std::nullopt;
  return std::min(100.0, 100.0 * errors / requests);
}

std::optional<double> MedianProbeMs(const Watch& watch, const std::string& host, Timestamp now,
                                    Seconds window) {
  std::vector<double> times;
  for (const ProbeSample& s : watch.samples) {
    if (!host.empty() && s.host != host) continue;
    if (!s.ok || !s.ms || s.at > now || s.at + window <= now) continue;
    times.push_back(*s.ms);
  }
  if (times.empty()) return std::nullopt;
  std::sort(times.begin(), times.end());
  size_t middle = times.size() / 2;
  if (times.size() % 2 == 1) return times[middle];
  return (times[middle - 1] + times[middle]) / 2;
}

std::optional<double> DegradationPercent(double median_ms, double baseline_ms) {
  if (!(baseline_ms > 0)) return std::nullopt;
  return 100.0 * (median_ms - baseline_ms) / baseline_ms;
}

std::optional<double> OverallAvailabilityPercent(const Watch& watch) {
  if (watch.probes <= 0) return std::nullopt;
  return 100.0 * static_cast<double>(watch.probes - watch.failed_probes) /
         static_cast<double>(watch.probes);
}

std::string WorstHostOfPeriod(const Watch& watch) {
  std::string worst;
  int64_t most = 0;
  for (const auto& [host, failed] : watch.period_failed_by_host) {
    if (failed > most) {
      most = failed;
      worst = host;
    }
  }
  return worst;
}

Result<double> SumPrometheusMetric(std::string_view exposition, std::string_view metric) {
  double sum = 0;
  bool found = false;
  int line_number = 0;
  for (const std::string& raw : Split(exposition, '\n')) {
    ++line_number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t name_end = 0;
    while (name_end < line.size() && IsMetricNameChar(line[name_end])) ++name_end;
    if (line.substr(0, name_end) != metric) continue;
    std::string_view rest = line.substr(name_end);
    if (!rest.empty() && rest.front() == '{') {
      // Label values may contain '}' inside quotes; skip to the closing brace outside quotes.
      bool quoted = false;
      size_t i = 1;
      for (; i < rest.size(); ++i) {
        char c = rest[i];
        if (quoted && c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = !quoted;
        } else if (c == '}' && !quoted) {
          break;
        }
      }
      if (i >= rest.size()) {
        return InvalidArgument(fmt::format("metrics line {}: unterminated labels of {}",
                                           line_number, EscapeForDisplay(metric)));
      }
      rest = rest.substr(i + 1);
    } else if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) {
      continue;  // another metric whose name starts with this one
    }
    rest = Trim(rest);
    std::string_view value_text = rest.substr(0, rest.find_first_of(" \t"));
    std::optional<double> value = ParseSampleValue(value_text);
    if (!value) {
      return InvalidArgument(fmt::format("metrics line {}: the value '{}' of {} is not a number",
                                         line_number, EscapeForDisplay(value_text),
                                         EscapeForDisplay(metric)));
    }
    sum += *value;
    found = true;
  }
  if (!found) {
    return NotFound(
        fmt::format("the metric {} is not in the exposition", EscapeForDisplay(metric)));
  }
  return sum;
}

}  // namespace rollgate
