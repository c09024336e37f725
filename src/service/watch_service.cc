#include "service/watch_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/strings.h"
#include "domain/cr_lifecycle.h"
#include "transport/host_address.h"

namespace rollgate {

namespace {

using nlohmann::json;

constexpr const char* kSystemActor = "system";
constexpr size_t kMaxHealthBody = 64 * 1024;

std::string Percent(std::optional<double> value) {
  return value ? fmt::format("{:.1f} %", *value) : std::string("n/a");
}

// "http://host:port/path", with brackets around an IPv6 literal.
std::string EndpointUrl(const std::string& host_name, int port, const std::string& path) {
  std::string host = host_name.find(':') != std::string::npos ? "[" + host_name + "]" : host_name;
  std::string slash = !path.empty() && path.front() == '/' ? "" : "/";
  return fmt::format("http://{}:{}{}{}", host, port, slash, path);
}

Evidence MakeEvidence(const Watch& w, const char* kind, Timestamp now) {
  Evidence e;
  e.environment = w.environment;
  e.kind = kind;
  e.run_id = w.run_id;
  e.recorded_by = kSystemActor;
  e.at = now;
  return e;
}

}  // namespace

WatchService::WatchService(const Config& config, Store& store, const Clock& clock,
                           HttpProber& prober, WatchTriggers triggers, PrometheusQuery prometheus,
                           OnFire on_fire, WatchOptions options)
    : config_(config),
      store_(store),
      clock_(clock),
      prober_(prober),
      triggers_(std::move(triggers)),
      prometheus_(std::move(prometheus)),
      on_fire_(std::move(on_fire)),
      options_(options) {}

const Thresholds& WatchService::ThresholdsOf(const Watch& watch) const {
  static const Thresholds defaults;
  const Environment* env = config_.FindEnvironment(watch.environment);
  return env ? env->thresholds : defaults;
}

Result<Watch> WatchService::StartWatch(const std::string& cr_id, const std::string& environment,
                                       const std::string& run_id, bool emergency,
                                       std::optional<double> baseline_ms,
                                       const std::string& actor) {
  const Environment* env = config_.FindEnvironment(environment);
  if (!env) {
    return NotFound(
        fmt::format("no environment {} in the configuration", EscapeForDisplay(environment)));
  }
  Timestamp now = clock_.Now();
  Watch started;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(cr_id));
    if (!config_.FindSystem(cr.system)) {
      return NotFound(fmt::format("{}: its system {} is not in the configuration", cr.id,
                                  EscapeForDisplay(cr.system)));
    }
    ASSIGN_OR_RETURN(Run run, tx.GetRun(run_id));
    if (run.change_request != cr.id || run.environment != environment) {
      return InvalidArgument(fmt::format("{} is a run of {} in {}, not of {} in {}", run.id,
                                         run.change_request, run.environment, cr.id,
                                         EscapeForDisplay(environment)));
    }
    Result<Watch> existing = tx.GetWatch(cr.id, environment, run_id);
    if (existing.ok()) {
      return Conflict(
          fmt::format("{} is already watched ({})", run_id, WatchStateName(existing->state)));
    }
    if (existing.error().code() != StatusCode::kNotFound) return existing.error();
    ASSIGN_OR_RETURN(std::vector<Watch> active, tx.ListWatches(false));
    for (Watch& old : active) {
      if (old.change_request != cr.id || old.environment != environment) continue;
      old.state = WatchState::kStopped;
      old.stop_reason = fmt::format("superseded by the watch of {}", run_id);
      old.updated_at = now;
      RETURN_IF_ERROR(tx.PutWatch(old));
      json details = {
          {"environment", environment}, {"run", old.run_id}, {"reason", old.stop_reason}};
      RETURN_IF_ERROR(tx.AppendAudit({now, actor, "watch.stop", cr.id, details.dump()}).status());
    }
    started = NewWatch(cr.id, environment, run_id, cr.system, emergency, baseline_ms,
                       env->thresholds, now);
    RETURN_IF_ERROR(tx.PutWatch(started));
    json details = {{"environment", environment},
                    {"run", run_id},
                    {"emergency", emergency},
                    {"ends_at", FormatRfc3339Utc(started.ends_at)},
                    {"interval_seconds", started.interval.count()}};
    if (started.checkins_until) {
      details["checkins_until"] = FormatRfc3339Utc(*started.checkins_until);
    }
    if (started.baseline_ms) details["baseline_ms"] = *started.baseline_ms;
    return tx.AppendAudit({now, actor, "watch.start", cr.id, details.dump()}).status();
  }));
  return started;
}

Result<Watch> WatchService::StopWatch(const std::string& cr_id, const std::string& environment,
                                      const std::string& reason, const std::string& actor) {
  Timestamp now = clock_.Now();
  Watch stopped;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(std::vector<Watch> active, tx.ListWatches(false));
    auto it = std::find_if(active.begin(), active.end(), [&](const Watch& w) {
      return w.change_request == cr_id && w.environment == environment;
    });
    if (it == active.end()) {
      return NotFound(fmt::format("no active watch of {} in {}", EscapeForDisplay(cr_id),
                                  EscapeForDisplay(environment)));
    }
    stopped = *it;
    stopped.state = WatchState::kStopped;
    std::string why = std::string(Trim(reason));
    stopped.stop_reason = why.empty() ? fmt::format("stopped by {}", actor)
                                      : fmt::format("stopped by {}: {}", actor, why);
    stopped.updated_at = now;
    RETURN_IF_ERROR(tx.PutWatch(stopped));
    json details = {{"environment", environment}, {"run", stopped.run_id}, {"reason", why}};
    return tx.AppendAudit({now, actor, "watch.stop", cr_id, details.dump()}).status();
  }));
  return stopped;
}

Result<std::vector<Watch>> WatchService::ListWatches(bool all) {
  std::vector<Watch> watches;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(watches, tx.ListWatches(all));
    return Status::Ok();
  }));
  return watches;
}

Result<std::optional<Timestamp>> WatchService::NextDue(Timestamp now) {
  ASSIGN_OR_RETURN(std::vector<Watch> all, ListWatches(true));
  std::optional<Timestamp> next;
  for (const Watch& w : all) {
    std::optional<Timestamp> due = rollgate::NextDue(w);
    if (w.state == WatchState::kFired && w.response_pending) due = now;
    if (due && (!next || *due < *next)) next = due;
  }
  return next;
}

Status WatchService::Save(const Watch& watch, const std::vector<Evidence>& evidence,
                          const std::string& action, const std::string& details, Timestamp now) {
  return store_.Write([&](Transaction& tx) -> Status {
    if (!evidence.empty()) {
      ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(watch.change_request));
      for (const Evidence& e : evidence) {
        Result<CrTransition> t = RecordEvidence(cr, config_, e, now);
        // A CR closed or cancelled meanwhile takes no more evidence; the watch still records
        // what it did (its row and the audit event below).
        if (!t.ok() && t.error().code() == StatusCode::kConflict) break;
        if (!t.ok()) return t.error();
        cr = std::move(t->cr);
        RETURN_IF_ERROR(tx.PutChangeRequest(cr));
        RETURN_IF_ERROR(tx.AppendAudit({now, kSystemActor, t->action, cr.id, t->details}).status());
      }
    }
    RETURN_IF_ERROR(tx.PutWatch(watch));
    if (action.empty()) return Status::Ok();
    return tx.AppendAudit({now, kSystemActor, action, watch.change_request, details}).status();
  });
}

std::vector<TriggerFiring> WatchService::Probe(Watch& w, Timestamp now,
                                               std::optional<Evidence>& alerts_evidence) {
  std::vector<TriggerFiring> firings;
  const System* system = config_.FindSystem(w.system);
  const Environment* env = config_.FindEnvironment(w.environment);
  w.next_probe_at = now + w.interval;
  w.updated_at = now;
  if (!system || !env) {
    w.summary = "nothing probed: the system or environment is no longer configured";
    return firings;
  }
  const Thresholds& thresholds = env->thresholds;
  Seconds window = thresholds.availability_window;
  std::vector<TriggerPolicy> policies = triggers_.policies(config_, *system, *env);
  std::vector<const HealthEndpoint*> endpoints;
  for (const HealthEndpoint& e : system->endpoints) {
    if (e.name == "health" || e.name == "ready") endpoints.push_back(&e);
  }
  const System::MetricsSource& metrics = system->metrics;
  bool counters = !metrics.requests_metric.empty() && !metrics.errors_metric.empty();
  std::vector<std::string> notes;
  int64_t round_probes = 0;
  int64_t round_failed = 0;
  const SystemHost* hosts = system->HostsIn(w.environment);
  if (system->port <= 0) notes.push_back("no port configured: endpoints not probed");
  for (const std::string& host : hosts ? hosts->hosts : std::vector<std::string>{}) {
    Result<HostAddress> address = ParseHostAddress(host);
    if (!address.ok()) {
      notes.push_back(fmt::format("{}: {}", host, address.error().message()));
      continue;
    }
    if (system->port <= 0) break;
    Measurements m;
    m.host = host;
    m.source = "watch";
    m.at = now;
    bool all_ok = true;
    for (const HealthEndpoint* endpoint : endpoints) {
      ProbeResponse r = prober_.Get(EndpointUrl(address->name, system->port, endpoint->path),
                                    options_.probe_timeout, kMaxHealthBody);
      ++round_probes;
      AddSample(w, {now, host, r.ok, r.ok ? std::optional(r.ms) : std::nullopt}, window);
      if (!r.ok) {
        ++round_failed;
        all_ok = false;
        notes.push_back(fmt::format("{} {}: {}", host, endpoint->name, r.error));
      }
    }
    if (!endpoints.empty()) {
      m.health_ok = all_ok;
      m.availability_percent = AvailabilityPercent(w, host, now, window);
      if (w.baseline_ms) {
        if (std::optional<double> median = MedianProbeMs(w, host, now, window)) {
          m.degradation_percent = DegradationPercent(*median, *w.baseline_ms);
        }
      }
    }
    if (counters) {
      ProbeResponse r = prober_.Get(EndpointUrl(address->name, system->port, metrics.metrics_path),
                                    options_.probe_timeout, options_.max_metrics_bytes);
      Result<double> requests = r.ok ? SumPrometheusMetric(r.body, metrics.requests_metric)
                                     : Result<double>(Unavailable(r.error));
      Result<double> errors = r.ok ? SumPrometheusMetric(r.body, metrics.errors_metric)
                                   : Result<double>(Unavailable(r.error));
      if (requests.ok() && errors.ok()) {
        m.error_percent = AddCounterReading(w, host, {now, *requests, *errors});
      } else {
        notes.push_back(
            fmt::format("{} metrics: {}", host,
                        requests.ok() ? errors.error().message() : requests.error().message()));
      }
    }
    std::vector<TriggerFiring> fired = triggers_.evaluate(m, policies, thresholds);
    firings.insert(firings.end(), fired.begin(), fired.end());
  }
  if (!metrics.prometheus_query.empty() && prometheus_) {
    Result<double> value = prometheus_(metrics.prometheus_url, metrics.prometheus_query);
    if (value.ok()) {
      w.last_error_percent = *value;
      Measurements m;
      m.source = "prometheus";
      m.at = now;
      m.error_percent = *value;
      std::vector<TriggerFiring> fired = triggers_.evaluate(m, policies, thresholds);
      firings.insert(firings.end(), fired.begin(), fired.end());
    } else {
      notes.push_back("prometheus: " + value.error().message());
    }
  }
  if (const System::AlertmanagerSource& source = system->alertmanager; !source.url.empty()) {
    AlertmanagerCheck check =
        options_.alertmanager
            ? options_.alertmanager
            : RealAlertmanagerCheck(std::min(
                  kMaxAlertmanagerTimeout, std::max(Seconds(1), std::chrono::duration_cast<Seconds>(
                                                                    options_.probe_timeout))));
    Result<std::vector<FiringAlert>> alerts = check(source, w.environment);
    const std::string shown = AlertmanagerShownUrl(source.url);
    Evidence e = AlertsEvidence(alerts, shown, ExpandedMatchers(source, w.environment),
                                source.severities, w.environment, w.run_id);
    e.recorded_by = kSystemActor;
    e.at = now;
    alerts_evidence = std::move(e);
    if (alerts.ok()) {
      Measurements m;
      m.source = "alertmanager " + shown;
      m.at = now;
      m.critical_alerts = static_cast<int>(alerts->size());
      m.critical_alerts_detail = DescribeAlerts(*alerts);
      std::vector<TriggerFiring> fired = triggers_.evaluate(m, policies, thresholds);
      firings.insert(firings.end(), fired.begin(), fired.end());
      if (!alerts->empty() && fired.empty()) {
        notes.push_back(fmt::format("alertmanager: {} alert(s) firing ({}), trigger off",
                                    alerts->size(), DescribeAlerts(*alerts)));
      }
    } else {
      // Not an alert: the check failed, the watch says so and goes on.
      notes.push_back("alertmanager unreachable: " + alerts.error().message());
    }
  }
  std::optional<double> median = MedianProbeMs(w, "", now, window);
  w.summary = fmt::format(
      "availability {} over {}, error share {}, median {}, {} probes, {} failed",
      Percent(AvailabilityPercent(w, "", now, window)), FormatDuration(window),
      Percent(w.last_error_percent),
      median ? fmt::format("{:.0f} ms", *median) : std::string("n/a"), round_probes, round_failed);
  if (!notes.empty()) w.summary += "; " + Join(notes, "; ");
  return firings;
}

Status WatchService::RecordAlertsChange(const Watch& w, const Evidence& alerts, Timestamp now) {
  bool changed = true;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(w.change_request));
    const Evidence* latest = nullptr;
    for (const Evidence& e : cr.evidence) {
      if (e.kind == kEvidenceAlerts && e.environment == w.environment && e.run_id == w.run_id) {
        latest = &e;
      }
    }
    changed = latest == nullptr || latest->passed != alerts.passed ||
              latest->fields.contains("error") != alerts.fields.contains("error") ||
              (!alerts.passed.value_or(false) && latest->fields != alerts.fields);
    return Status::Ok();
  }));
  if (!changed) return Status::Ok();
  return Save(w, {alerts}, "", "", now);
}

Status WatchService::Fire(Watch& w, const std::vector<TriggerFiring>& firings, Timestamp now) {
  std::vector<Evidence> evidence;
  std::vector<std::string> details;
  json triggers = json::array();
  for (const TriggerFiring& f : firings) {
    Evidence e = triggers_.evidence(f, w.environment, w.run_id);
    e.recorded_by = kSystemActor;
    e.at = now;
    evidence.push_back(std::move(e));
    details.push_back(f.detail);
    triggers.push_back({{"detail", f.detail}, {"host", f.host}, {"measurement", f.measurement}});
  }
  Evidence monitoring = MakeEvidence(w, kEvidenceMonitoring, now);
  monitoring.passed = false;
  monitoring.value = OverallAvailabilityPercent(w);
  monitoring.detail = fmt::format("enhanced monitoring stopped after {}: {}",
                                  FormatDuration(now - w.started_at), Join(details, "; "));
  monitoring.fields = {{"probes", std::to_string(w.probes)},
                       {"failed_probes", std::to_string(w.failed_probes)},
                       {"availability", Percent(OverallAvailabilityPercent(w))},
                       {"error_share", Percent(OverallErrorPercent(w))}};
  evidence.push_back(std::move(monitoring));
  w.state = WatchState::kFired;
  w.fired_at = now;
  w.fired_detail = Join(details, "; ");
  w.response_pending = true;
  w.updated_at = now;
  json audit = {{"environment", w.environment}, {"run", w.run_id}, {"triggers", triggers}};
  return Save(w, evidence, "watch.fire", audit.dump(), now);
}

Status WatchService::Respond(Watch& w, const std::vector<TriggerFiring>& firings,
                             WatchEvent& event) {
  event.response = on_fire_ ? on_fire_(w.change_request, w.environment, firings) : Status::Ok();
  w.response_pending = false;
  // The response's outcome is its own record (the rollback run and its evidence); the watch only
  // notes that it was handed over.
  return store_.Write([&](Transaction& tx) { return tx.PutWatch(w); });
}

Status WatchService::Checkin(Watch& w, Timestamp now, std::string& detail) {
  int number =
      static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(now - w.started_at).count());
  int of = w.checkins_until ? static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(
                                                   *w.checkins_until - w.started_at)
                                                   .count())
                            : 0;
  std::optional<double> availability =
      w.period_probes > 0
          ? std::optional(100.0 * static_cast<double>(w.period_probes - w.period_failed) /
                          static_cast<double>(w.period_probes))
          : std::nullopt;
  std::string worst = WorstHostOfPeriod(w);
  Evidence e = MakeEvidence(w, kEvidenceWatchCheckin, now);
  e.passed = w.period_failed == 0;
  e.value = availability;
  e.fields = {{"availability", Percent(availability)},
              {"error_share", Percent(w.last_error_percent)},
              {"probes", std::to_string(w.period_probes)},
              {"failed_probes", std::to_string(w.period_failed)},
              {"worst_host", worst},
              {"checkin", fmt::format("{} of {}", number, of)}};
  detail = fmt::format(
      "check-in {} of {}: availability {} over the last hour ({} probes, {} failed), error share "
      "{}, worst host {}",
      number, of, Percent(availability), w.period_probes, w.period_failed,
      Percent(w.last_error_percent), worst.empty() ? "none" : worst);
  e.detail = detail;
  MarkCheckin(w, now);
  w.updated_at = now;
  return Save(w, {e}, "", "", now);
}

Status WatchService::End(Watch& w, Timestamp now, std::string& detail) {
  Evidence e = MakeEvidence(w, kEvidenceMonitoring, now);
  e.passed = true;
  e.value = OverallAvailabilityPercent(w);
  e.fields = {{"probes", std::to_string(w.probes)},
              {"failed_probes", std::to_string(w.failed_probes)},
              {"availability", Percent(OverallAvailabilityPercent(w))},
              {"error_share", Percent(OverallErrorPercent(w))},
              {"period", FormatDuration(w.ends_at - w.started_at)}};
  detail = fmt::format(
      "{} of enhanced monitoring, nothing fired: availability {} over {} probes ({} failed), "
      "error share {}",
      FormatDuration(w.ends_at - w.started_at), Percent(OverallAvailabilityPercent(w)), w.probes,
      w.failed_probes, Percent(OverallErrorPercent(w)));
  e.detail = detail;
  w.state = WatchState::kEnded;
  w.updated_at = now;
  json audit = {{"environment", w.environment}, {"run", w.run_id}, {"probes", w.probes}};
  return Save(w, {e}, "watch.end", audit.dump(), now);
}

Result<std::vector<WatchEvent>> WatchService::Tick(Timestamp now) {
  ASSIGN_OR_RETURN(std::vector<Watch> watches, ListWatches(true));
  std::vector<WatchEvent> events;
  for (Watch& w : watches) {
    if (w.state == WatchState::kFired && w.response_pending) {
      // Fired before a restart: hand the stored firings over now.
      std::vector<TriggerFiring> firings;
      RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
        ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(w.change_request));
        for (const Evidence& e : cr.evidence) {
          if (e.kind != kEvidenceTrigger || e.environment != w.environment ||
              e.run_id != w.run_id || !w.fired_at || e.at != *w.fired_at) {
            continue;
          }
          Result<TriggerFiring> f = triggers_.from_evidence(e);
          if (f.ok()) firings.push_back(*f);
        }
        return Status::Ok();
      }));
      WatchEvent& event = events.emplace_back();
      event.what = "responded";
      event.firings = firings;
      RETURN_IF_ERROR(Respond(w, firings, event));
      event.watch = w;
      event.detail = w.fired_detail;
      continue;
    }
    if (w.state != WatchState::kActive) continue;
    if (WatchEnded(w, now)) {
      WatchEvent event;
      event.what = "ended";
      RETURN_IF_ERROR(End(w, now, event.detail));
      event.watch = w;
      events.push_back(std::move(event));
      continue;
    }
    bool probed = false;
    std::vector<TriggerFiring> firings;
    if (ProbeDue(w, now)) {
      std::optional<Evidence> alerts;
      firings = Probe(w, now, alerts);
      probed = true;
      if (alerts) RETURN_IF_ERROR(RecordAlertsChange(w, *alerts, now));
    }
    if (!firings.empty()) {
      RETURN_IF_ERROR(Fire(w, firings, now));
      WatchEvent& fired = events.emplace_back();
      fired.what = "fired";
      fired.detail = w.fired_detail;
      fired.firings = firings;
      fired.watch = w;
      WatchEvent& responded = events.emplace_back();
      responded.what = "responded";
      responded.firings = firings;
      responded.detail = w.fired_detail;
      RETURN_IF_ERROR(Respond(w, firings, responded));
      responded.watch = w;
      continue;
    }
    if (CheckinDue(w, now)) {
      WatchEvent event;
      event.what = "checkin";
      RETURN_IF_ERROR(Checkin(w, now, event.detail));
      event.watch = w;
      events.push_back(std::move(event));
    } else if (probed) {
      RETURN_IF_ERROR(Save(w, {}, "", "", now));
    }
    if (probed) {
      WatchEvent event;
      event.what = "probed";
      event.detail = w.summary;
      event.watch = w;
      events.push_back(std::move(event));
    }
  }
  return events;
}

std::optional<double> BaselineFromEvidence(const ChangeRequest& cr, const std::string& environment,
                                           const std::string& run_id) {
  const Evidence* latest = nullptr;
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceMetrics && e.environment == environment && e.run_id == run_id) {
      latest = &e;
    }
  }
  if (!latest) return std::nullopt;
  double sum = 0;
  int count = 0;
  for (const auto& [key, value] : latest->fields) {
    if (key.size() <= 12 || key.substr(key.size() - 12) != ".baseline_ms") continue;
    try {
      double ms = std::stod(value);
      if (ms > 0) {
        sum += ms;
        ++count;
      }
    } catch (const std::exception&) {
      continue;  // a fact that is not a number is no baseline
    }
  }
  if (count == 0) return std::nullopt;
  return sum / count;
}

}  // namespace rollgate
