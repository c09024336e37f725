// The enhanced-monitoring watch's use cases (playbook §4.2 step 4, §5.3 step 5; docs/watch.md):
// start a watch after a deployment, stop it, list them, and Tick — probe what is due, fire the
// rollback triggers, record hourly check-ins for emergency changes, end watches whose period is
// over.
//
// Everything a watch needs lives in its store row (domain/watch.h), so a new WatchService over the
// same store continues the same watches after a restart. Each state change is written with its
// audit event and the evidence it records on the CR, in one transaction. Probes run from this
// machine through an HttpProber; a probe that fails is data for the triggers, never an error.
// Store failures are errors (returned, nothing half-written).
//
// What fires is handed to `on_fire` after the firing is stored (the CLI wires the automatic
// rollback there). A fired watch keeps `response_pending` until on_fire has returned, so a crash in
// between makes the next Tick hand it over again.
//
// Thread-compatible: one WatchService per process or loop; the store serialises writers.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/triggers.h"
#include "domain/watch.h"
#include "service/alertmanager_query.h"
#include "service/http_probe.h"
#include "store/store.h"

namespace rollgate {

// The rollback-trigger rules the watch applies (domain/triggers.h), injectable so that the
// watch's tests choose what fires. DomainWatchTriggers() gives the real ones.
struct WatchTriggers {
  std::function<std::vector<TriggerPolicy>(const Config&, const System&, const Environment&)>
      policies;
  std::function<std::vector<TriggerFiring>(const Measurements&, const std::vector<TriggerPolicy>&,
                                           const Thresholds&)>
      evaluate;
  // The evidence item recording a firing (kind "trigger").
  std::function<Evidence(const TriggerFiring&, const std::string& environment,
                         const std::string& run_id)>
      evidence;
  // The firing an evidence item of kind "trigger" records.
  std::function<Result<TriggerFiring>(const Evidence&)> from_evidence;
};
WatchTriggers DomainWatchTriggers();

// A Prometheus HTTP API query (`url` the server, `query` PromQL) whose value is the percentage of
// requests in error. Unavailable or DeadlineExceeded when the server cannot answer.
using PrometheusQuery =
    std::function<Result<double>(const std::string& url, const std::string& query)>;
// The response to a firing: the CLI's hook runs the automatic rollback (action rollback) or the
// evaluate-and-decide path. Its Status is reported by Tick, never retried.
using OnFire =
    std::function<Status(const std::string& change_request, const std::string& environment,
                         const std::vector<TriggerFiring>& firings)>;

struct WatchOptions {
  std::chrono::milliseconds probe_timeout{5000};  // per HTTP request, in total
  size_t max_metrics_bytes = size_t{4} << 20;     // of a /metrics answer
  // Asks the system's Alertmanager each probe round (System::alertmanager); empty: the real one
  // (service/alertmanager_query.h) with probe_timeout, at most 10 s.
  AlertmanagerCheck alertmanager;
};

// What one Tick did to one watch.
struct WatchEvent {
  Watch watch;       // after the tick
  std::string what;  // "probed", "checkin", "fired", "ended", "stopped", "responded"
  std::string detail;
  std::vector<TriggerFiring> firings;  // "fired", "responded"
  Status response;                     // "responded": what on_fire returned
};

class WatchService {
 public:
  WatchService(const Config& config, Store& store, const Clock& clock, HttpProber& prober,
               WatchTriggers triggers, PrometheusQuery prometheus, OnFire on_fire,
               WatchOptions options = {});

  // Starts watching deployment `run_id` of `cr_id` in `environment`, first probe due at once.
  // NotFound for an unknown CR, run or environment, or a CR whose system is not configured;
  // Conflict when this run is already watched. An active watch of an earlier run of the same CR
  // and environment is stopped ("superseded"). Audit event watch.start on the CR.
  Result<Watch> StartWatch(const std::string& cr_id, const std::string& environment,
                           const std::string& run_id, bool emergency,
                           std::optional<double> baseline_ms, const std::string& actor);
  // Stops the active watch of `cr_id` in `environment` (state stopped, audit event watch.stop
  // with the reason). NotFound when none is active.
  Result<Watch> StopWatch(const std::string& cr_id, const std::string& environment,
                          const std::string& reason, const std::string& actor);
  // Active watches, or all of them.
  Result<std::vector<Watch>> ListWatches(bool all);

  // Does what is due at `now`: hands pending firings to on_fire, ends watches past their end
  // (evidence "monitoring", passed), probes those due (and the system's Alertmanager: evidence
  // "alerts" when its outcome changes; an unreachable one is noted, never a firing) and evaluates
  // the triggers (evidence
  // "trigger" for each firing, "monitoring" failed, state fired, then on_fire), records due
  // check-ins (evidence "watch-checkin"). Returns what happened, per watch. A store error stops
  // the tick and is returned; what was written before it stays written.
  Result<std::vector<WatchEvent>> Tick(Timestamp now);

  // When the next Tick has work: the earliest NextDue of the active watches (or now when a
  // firing awaits its response); nullopt when nothing is active.
  Result<std::optional<Timestamp>> NextDue(Timestamp now);

 private:
  // Probes every host of the watch once, and the system's Alertmanager when it has one; returns
  // what fired. Updates the watch's figures. `alerts` receives the Alertmanager check's evidence
  // (kind "alerts") when one was made.
  std::vector<TriggerFiring> Probe(Watch& watch, Timestamp now, std::optional<Evidence>& alerts);
  // Records `alerts` on the watch's CR when its outcome differs from the latest "alerts" evidence
  // of the watched run (none, passed or not, reachable or not): changes only, not every round.
  Status RecordAlertsChange(const Watch& watch, const Evidence& alerts, Timestamp now);
  Status Fire(Watch& watch, const std::vector<TriggerFiring>& firings, Timestamp now);
  Status Respond(Watch& watch, const std::vector<TriggerFiring>& firings, WatchEvent& event);
  Status Checkin(Watch& watch, Timestamp now, std::string& detail);
  Status End(Watch& watch, Timestamp now, std::string& detail);
  // Stores `watch` with `evidence` recorded on its CR (when the CR still takes evidence) and an
  // audit event `action` (when not empty), in one transaction.
  Status Save(const Watch& watch, const std::vector<Evidence>& evidence, const std::string& action,
              const std::string& details, Timestamp now);
  const Thresholds& ThresholdsOf(const Watch& watch) const;

  const Config& config_;
  Store& store_;
  const Clock& clock_;
  HttpProber& prober_;
  WatchTriggers triggers_;
  PrometheusQuery prometheus_;
  OnFire on_fire_;
  WatchOptions options_;
};

// The pre-deployment median response time the metrics step recorded for `run_id` (the mean of
// its hosts' baseline_ms facts in the latest "metrics" evidence of that run), or nullopt.
std::optional<double> BaselineFromEvidence(const ChangeRequest& cr, const std::string& environment,
                                           const std::string& run_id);

}  // namespace rollgate
