// watch list | start | stop | run: the enhanced post-deployment monitoring (docs/watch.md).
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/run_support.h"
#include "common/strings.h"
#include "domain/evidence_queries.h"
#include "domain/triggers.h"
#include "engine/executor.h"
#include "service/http_probe.h"
#include "service/prometheus_query.h"
#include "service/watch_service.h"

namespace rollgate::cli {

namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void OnStopSignal(int /*signal*/) { g_stop_requested.store(true); }

nlohmann::json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? nlohmann::json(FormatRfc3339Utc(*t)) : nlohmann::json(nullptr);
}

nlohmann::json WatchJson(const Watch& w) {
  return {{"change_request", w.change_request},
          {"environment", w.environment},
          {"run", w.run_id},
          {"system", w.system},
          {"state", WatchStateName(w.state)},
          {"emergency", w.emergency},
          {"started_at", FormatRfc3339Utc(w.started_at)},
          {"ends_at", FormatRfc3339Utc(w.ends_at)},
          {"interval_seconds", w.interval.count()},
          {"checkins_until", OptionalTime(w.checkins_until)},
          {"next_probe_at", FormatRfc3339Utc(w.next_probe_at)},
          {"last_checkin_at", OptionalTime(w.last_checkin_at)},
          {"baseline_ms", w.baseline_ms ? nlohmann::json(*w.baseline_ms) : nullptr},
          {"probes", w.probes},
          {"failed_probes", w.failed_probes},
          {"summary", w.summary},
          {"fired_detail", w.fired_detail},
          {"stop_reason", w.stop_reason},
          {"response_pending", w.response_pending}};
}

std::string WatchLine(const Watch& w, const TimeZone& zone) {
  std::string what;
  switch (w.state) {
    case WatchState::kActive:
      what = fmt::format("until {}, next probe {}", FormatLocalMinutes(w.ends_at, zone),
                         FormatLocalMinutes(w.next_probe_at, zone));
      break;
    case WatchState::kFired:
      what = "FIRED: " + w.fired_detail;
      break;
    case WatchState::kEnded:
      what = fmt::format("ended {}", FormatLocalMinutes(w.ends_at, zone));
      break;
    case WatchState::kStopped:
      what = w.stop_reason;
      break;
  }
  return fmt::format("{:<8} {:<6} {:<8} {:<8} {}{}{}\n", w.change_request, w.environment, w.run_id,
                     WatchStateName(w.state), w.emergency ? "emergency, " : "", what,
                     w.summary.empty() ? "" : "\n    last: " + w.summary);
}

// The response to a firing (docs/rollback.md): roll back at once for action rollback, page for
// a decision for action evaluate; the firing and its evidence are already recorded by the watch.
// What the watch does on its own (automatic rollbacks, defaults at a deadline) is recorded as
// done by Rollgate itself, whoever runs `watch run` (often a service account mapped to nobody).
constexpr char kWatchActor[] = "system";

Status RespondToWatchFiring(Context& ctx, const std::string& cr, const std::string& environment,
                            const std::vector<TriggerFiring>& firings) {
  for (const TriggerFiring& f : firings) {
    ctx.err() << fmt::format("rollgate: watch of {} in {}: trigger {} fired ({}): {}\n", cr,
                             environment, TriggerKindName(f.kind), TriggerActionName(f.action),
                             EscapeForDisplay(f.detail));
  }
  return RespondToFirings(ctx, cr, environment, firings, kWatchActor);
}

// Decisions whose deadline passed get their configured default (docs/rollback.md).
Status ApplyDueDecisions(Context& ctx) {
  ASSIGN_OR_RETURN(std::unique_ptr<Execution> execution,
                   MakeRunnerExecution(ctx, "ssh", TransportOptions{}, 10, {}, kWatchActor));
  ASSIGN_OR_RETURN(std::vector<RunnerOutcome> applied, execution->runner->ApplyDueDecisions());
  for (const RunnerOutcome& o : applied) {
    if (ctx.json()) continue;
    ctx.out() << fmt::format("  no decision by the deadline on {}: {}{}\n", o.run.id, o.decision,
                             o.rollback ? " (" + o.rollback->id + " " +
                                              std::string(RunStateName(o.rollback->state)) + ")"
                                        : "");
  }
  return Status::Ok();
}

struct WatchParts {
  CurlHttpProber prober;
  std::unique_ptr<WatchService> service;
};

Result<std::unique_ptr<WatchParts>> MakeWatchService(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  auto parts = std::make_unique<WatchParts>();
  // The Prometheus HTTP API client is not part of this build: a configured query is reported in
  // the watch's summary as not answered, never as an error.
  PrometheusQuery prometheus = [](const std::string& url,
                                  const std::string& query) -> Result<double> {
    return QueryPrometheus(url, query, Seconds(10));
  };
  OnFire on_fire = [&ctx](const std::string& cr, const std::string& environment,
                          const std::vector<TriggerFiring>& firings) {
    return RespondToWatchFiring(ctx, cr, environment, firings);
  };
  parts->service = std::make_unique<WatchService>(*config, *store, ctx.clock(), parts->prober,
                                                  DomainWatchTriggers(), prometheus, on_fire);
  return parts;
}

Status RunList(Context& ctx, bool all) {
  ASSIGN_OR_RETURN(auto parts, MakeWatchService(ctx));
  ASSIGN_OR_RETURN(std::vector<Watch> watches, parts->service->ListWatches(all));
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const Watch& w : watches) list.push_back(WatchJson(w));
    PrintJson(ctx, {{"watches", list}});
    return Status::Ok();
  }
  if (watches.empty()) {
    ctx.out() << (all ? "no watches\n" : "no active watches\n");
    return Status::Ok();
  }
  for (const Watch& w : watches) ctx.out() << WatchLine(w, ctx.zone());
  return Status::Ok();
}

Status RunStart(Context& ctx, const std::string& cr_id, const std::string& environment,
                std::optional<double> baseline_ms) {
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ChangeRequest cr;
  RETURN_IF_ERROR(store->Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(cr, tx.GetChangeRequest(cr_id));
    return Status::Ok();
  }));
  // The CR's latest successful deployment there.
  const Evidence* deployment = nullptr;
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceDeployment && e.environment == environment && e.passed.value_or(false) &&
        e.fields.count("run") && (!deployment || e.at >= deployment->at)) {
      deployment = &e;
    }
  }
  if (!deployment) {
    return NotFound(fmt::format("{} has no successful deployment in {} to watch", cr.id,
                                EscapeForDisplay(environment)));
  }
  std::string run_id = deployment->fields.at("run");
  if (!baseline_ms) baseline_ms = BaselineFromEvidence(cr, environment, run_id);
  ASSIGN_OR_RETURN(auto parts, MakeWatchService(ctx));
  ASSIGN_OR_RETURN(Watch w, parts->service->StartWatch(cr.id, environment, run_id, cr.emergency,
                                                       baseline_ms, actor));
  if (ctx.json()) {
    PrintJson(ctx, {{"watch", WatchJson(w)}});
  } else {
    ctx.out() << fmt::format(
        "watching {} in {} (run {}) every {} until {}{}\n", w.change_request, w.environment,
        w.run_id, FormatDuration(w.interval), FormatLocalMinutes(w.ends_at, ctx.zone()),
        w.checkins_until ? fmt::format("; hourly check-ins until {}",
                                       FormatLocalMinutes(*w.checkins_until, ctx.zone()))
                         : "");
    ctx.out() << "run 'rollgate watch run' (or its service unit) to probe\n";
  }
  return Status::Ok();
}

Status RunStop(Context& ctx, const std::string& cr_id, const std::string& environment,
               const std::string& reason) {
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(auto parts, MakeWatchService(ctx));
  ASSIGN_OR_RETURN(Watch w, parts->service->StopWatch(cr_id, environment, reason, actor));
  if (ctx.json()) {
    PrintJson(ctx, {{"watch", WatchJson(w)}});
  } else {
    ctx.out() << fmt::format("watch of {} in {} (run {}) {}\n", w.change_request, w.environment,
                             w.run_id, w.stop_reason);
  }
  return Status::Ok();
}

void PrintEvents(Context& ctx, const std::vector<WatchEvent>& events) {
  for (const WatchEvent& e : events) {
    if (ctx.json()) {
      nlohmann::json line = {{"at", FormatRfc3339Utc(ctx.clock().Now())},
                             {"event", e.what},
                             {"change_request", e.watch.change_request},
                             {"environment", e.watch.environment},
                             {"run", e.watch.run_id},
                             {"detail", e.detail}};
      if (e.what == "responded") {
        line["response"] = e.response.ok() ? "ok" : e.response.message();
      }
      PrintJson(ctx, line);
    } else {
      ctx.out() << fmt::format("{} {} {} {}: {}\n",
                               FormatLocalMinutes(ctx.clock().Now(), ctx.zone()),
                               e.watch.change_request, e.watch.environment, e.what, e.detail);
      if (e.what == "responded" && !e.response.ok()) {
        ctx.out() << "    the response failed: " << e.response.message() << "\n";
      }
    }
  }
}

Status RunLoop(Context& ctx, bool once, const std::string& interval_cap_text) {
  Seconds cap = std::chrono::minutes(1);
  if (!interval_cap_text.empty()) {
    ASSIGN_OR_RETURN(cap, ParseDuration(interval_cap_text));
  }
  ASSIGN_OR_RETURN(auto parts, MakeWatchService(ctx));
  WatchService& service = *parts->service;
  if (once) {
    ASSIGN_OR_RETURN(std::vector<WatchEvent> events, service.Tick(ctx.clock().Now()));
    PrintEvents(ctx, events);
    return ApplyDueDecisions(ctx);
  }
  g_stop_requested.store(false);
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  struct sigaction old_int = {};
  struct sigaction old_term = {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  RealSleeper sleeper;
  Status status = [&]() -> Status {
    while (!g_stop_requested.load()) {
      ASSIGN_OR_RETURN(std::vector<WatchEvent> events, service.Tick(ctx.clock().Now()));
      PrintEvents(ctx, events);
      RETURN_IF_ERROR(ApplyDueDecisions(ctx));
      ctx.out().flush();
      ASSIGN_OR_RETURN(std::optional<Timestamp> next, service.NextDue(ctx.clock().Now()));
      if (!next) {
        if (!ctx.json()) ctx.out() << "no active watches: done\n";
        return Status::Ok();
      }
      // Sleep until the next due time (at most `cap`), a second at a time so that a signal
      // stops the loop promptly, between ticks.
      Timestamp wake = std::min(*next, ctx.clock().Now() + cap);
      while (!g_stop_requested.load() && ctx.clock().Now() < wake) {
        sleeper.SleepFor(Seconds(1));
      }
      if (ctx.clock().Now() < wake) break;
    }
    if (!ctx.json()) ctx.out() << "stopped by a signal; the watches continue at the next run\n";
    return Status::Ok();
  }();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return status;
}

}  // namespace

void RegisterWatchCommands(CLI::App& app, Action& slot) {
  auto* watch = app.add_subcommand(
      "watch", "enhanced post-deployment monitoring: probes, triggers, check-ins (docs/watch.md)");
  watch->require_subcommand(1);
  {
    auto* cmd = watch->add_subcommand("list", "list the active watches (--all: every watch)");
    auto all = std::make_shared<bool>(false);
    cmd->add_flag("--all", *all, "include fired, ended and stopped watches");
    OnRun(cmd, slot, [all](Context& ctx) { return RunList(ctx, *all); });
  }
  {
    auto* cmd = watch->add_subcommand(
        "start", "watch the CR's latest successful deployment in an environment");
    auto cr = std::make_shared<std::string>();
    auto env = std::make_shared<std::string>();
    auto baseline = std::make_shared<double>(0);
    cmd->add_option("CR", *cr, "change request id")->required();
    cmd->add_option("--env", *env, "environment")->required();
    cmd->add_option("--baseline-ms", *baseline,
                    "pre-deployment median response time (default: the metrics step's baseline)")
        ->check(CLI::PositiveNumber);
    OnRun(cmd, slot, [cr, env, baseline](Context& ctx) {
      return RunStart(ctx, *cr, *env, *baseline > 0 ? std::optional(*baseline) : std::nullopt);
    });
  }
  {
    auto* cmd = watch->add_subcommand("stop", "stop the active watch of a CR in an environment");
    auto cr = std::make_shared<std::string>();
    auto env = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    cmd->add_option("CR", *cr, "change request id")->required();
    cmd->add_option("--env", *env, "environment")->required();
    cmd->add_option("--reason", *reason, "why it is stopped (recorded)");
    OnRun(cmd, slot, [cr, env, reason](Context& ctx) { return RunStop(ctx, *cr, *env, *reason); });
  }
  {
    auto* cmd = watch->add_subcommand(
        "run", "probe what is due until no watch is active (SIGTERM/SIGINT stop between ticks)");
    auto once = std::make_shared<bool>(false);
    auto cap = std::make_shared<std::string>();
    cmd->add_flag("--once", *once, "a single tick");
    cmd->add_option("--interval-cap", *cap,
                    "sleep at most this long between ticks (default 1m), e.g. 30s");
    OnRun(cmd, slot, [once, cap](Context& ctx) { return RunLoop(ctx, *once, *cap); });
  }
}

}  // namespace rollgate::cli
