// The enhanced-monitoring watch (playbook §4.2 step 4, §5.3 step 5): after a deployment, the
// environment's health endpoints and metrics are probed every `interval` for
// thresholds.enhanced_monitoring (72 h by default), with hourly check-ins for the first
// thresholds.emergency_checkins_for (8 h) after an emergency change; a rollback trigger
// (domain/triggers.h) may fire from what the probes measure.
//
// A Watch is plain data kept whole in the store (one row per CR, environment and deployment run,
// docs/watch.md), so a watch survives restarts: its schedule and the probe history the triggers
// need are in the row. The functions here are the schedule and the figures: pure, no I/O, no
// clock (the caller passes `now`), thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"

namespace rollgate {

enum class WatchState {
  kActive,   // probing
  kFired,    // a trigger fired; probing stopped (the response is on_fire's, see WatchService)
  kEnded,    // the monitoring period ran out with nothing fired
  kStopped,  // stopped by a person (`watch stop`)
};
std::string_view WatchStateName(WatchState state);  // "active", "fired", "ended", "stopped"
Result<WatchState> ParseWatchState(std::string_view name);

// One HTTP probe of one endpoint of one host.
struct ProbeSample {
  Timestamp at{};
  std::string host;
  bool ok = false;
  std::optional<double> ms;  // the answer's time; unset when no answer came
  bool operator==(const ProbeSample&) const = default;
};

// A host's request and error counters as read from its metrics endpoint.
struct CounterReading {
  Timestamp at{};
  double requests = 0;
  double errors = 0;
  bool operator==(const CounterReading&) const = default;
};

// Samples kept in a watch at most (the oldest go first); bounds the row's size whatever the
// window, interval and fleet.
inline constexpr size_t kMaxWatchSamples = 2000;

struct Watch {
  std::string change_request;  // "CR-12"
  std::string environment;     // "PROD"
  std::string run_id;          // the deployment run watched
  std::string system;
  WatchState state = WatchState::kActive;
  bool emergency = false;
  Timestamp started_at{};
  Timestamp ends_at{};  // started_at + thresholds.enhanced_monitoring
  Seconds interval{60};
  std::optional<Timestamp> checkins_until;  // emergency: started + emergency_checkins_for
  Timestamp next_probe_at{};
  std::optional<Timestamp> last_checkin_at;
  std::optional<double> baseline_ms;  // the pre-deployment median response time, when known
  std::string summary;                // the last probe round's figures, one line
  std::string fired_detail;           // the fired triggers' details ("; "-separated)
  std::string stop_reason;            // kStopped: why, and who
  // kFired: the firing has not yet been handed to the response (on_fire); a restart retries.
  bool response_pending = false;
  std::optional<Timestamp> fired_at;  // kFired: when (the trigger evidence carries this time)
  Timestamp updated_at{};

  // Figures. Samples within the availability window (bounded by kMaxWatchSamples).
  std::vector<ProbeSample> samples;
  int64_t probes = 0;         // every endpoint probe since the start
  int64_t failed_probes = 0;  // of which failed
  int64_t period_probes = 0;  // since the last check-in (or the start)
  int64_t period_failed = 0;
  std::map<std::string, int64_t> period_failed_by_host;
  std::map<std::string, CounterReading> first_counters;  // per host: the first reading
  std::map<std::string, CounterReading> last_counters;   // per host: the latest reading
  std::optional<double> last_error_percent;              // the latest error share measured
};

// A new active watch of `run_id` started at `now`, first probe due at once.
Watch NewWatch(const std::string& change_request, const std::string& environment,
               const std::string& run_id, const std::string& system, bool emergency,
               std::optional<double> baseline_ms, const Thresholds& thresholds, Timestamp now);

// Active and at or past its end.
bool WatchEnded(const Watch& watch, Timestamp now);
// Active, not ended, and next_probe_at has come.
bool ProbeDue(const Watch& watch, Timestamp now);
// The next hourly check-in instant (last check-in, else the start, + 1 h), or nullopt when the
// watch has none left (not an emergency, or past checkins_until).
std::optional<Timestamp> NextCheckin(const Watch& watch);
// Active, not ended, and NextCheckin has come.
bool CheckinDue(const Watch& watch, Timestamp now);
// When the watch next needs a tick: the earliest of the next probe, the next check-in and the
// end; nullopt when it is not active.
std::optional<Timestamp> NextDue(const Watch& watch);

// Adds a probe's sample: counts it, keeps it while within `window` of its time, drops samples
// older than `window` before the newest and the oldest beyond kMaxWatchSamples.
void AddSample(Watch& watch, ProbeSample sample, Seconds window);
// Records a counter reading of `host`: the first reading is kept, the latest replaced. Returns
// the error share since the previous reading (ErrorPercent).
std::optional<double> AddCounterReading(Watch& watch, const std::string& host,
                                        const CounterReading& reading);
// Marks a check-in recorded at `now`: the period figures start again.
void MarkCheckin(Watch& watch, Timestamp now);

// The share of successful samples (of `host`, or of all hosts when empty) within `window`
// before `now`, in percent; nullopt when there are none.
std::optional<double> AvailabilityPercent(const Watch& watch, const std::string& host,
                                          Timestamp now, Seconds window);
// Errors over requests between two readings, in percent; nullopt when no request was counted
// between them or a counter went backwards (the service restarted: no figure this time).
std::optional<double> ErrorPercent(const CounterReading& before, const CounterReading& after);
// The error share over the whole watch (first to latest reading, summed over hosts).
std::optional<double> OverallErrorPercent(const Watch& watch);
// The median time of the successful samples of `host` within `window`, in ms.
std::optional<double> MedianProbeMs(const Watch& watch, const std::string& host, Timestamp now,
                                    Seconds window);
// How much worse `median_ms` is than `baseline_ms`, in percent (negative: better); nullopt for
// a baseline that is not positive.
std::optional<double> DegradationPercent(double median_ms, double baseline_ms);
// (probes - failed) / probes over the whole watch, in percent; nullopt before the first probe.
std::optional<double> OverallAvailabilityPercent(const Watch& watch);
// The host with the most failed probes since the last check-in ("" when none failed).
std::string WorstHostOfPeriod(const Watch& watch);

// The sum over every label set of the samples of `metric` in a Prometheus text exposition
// ("name{labels} value [timestamp]"; comments and other metrics ignored). NotFound when the
// metric is absent; InvalidArgument naming the line when one of its samples is not a number.
Result<double> SumPrometheusMetric(std::string_view exposition, std::string_view metric);

}  // namespace rollgate
