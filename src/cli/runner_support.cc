// The rollback runner as the commands use it (run_support.h): deploy, rollback, decide, the
// watch and patch import.
#include <fmt/format.h>

#include "cli/run_support.h"
#include "common/strings.h"
#include "domain/pir.h"
#include "service/cr_service.h"
#include "service/deploy_service.h"
#include "service/http_probe.h"
#include "service/prometheus_query.h"
#include "service/watch_service.h"

namespace rollgate::cli {

namespace {

// After a deployment to the last environment: the 72-hour watch (§4.2 step 4, §5.3 step 5).
Status StartWatchAfter(Context& ctx, const std::string& cr_id, const std::string& environment,
                       const Run& run) {
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  if (config->NextEnvironment(environment) != nullptr) return Status::Ok();
  ChangeRequest cr;
  RETURN_IF_ERROR(store->Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(cr, txn.GetChangeRequest(cr_id));
    return Status::Ok();
  }));
  CurlHttpProber prober;
  WatchService watches(
      *config, *store, ctx.clock(), prober, DomainWatchTriggers(),
      [](const std::string& url, const std::string& query) {
        return QueryPrometheus(url, query, Seconds(10));
      },
      [](const std::string&, const std::string&, const std::vector<TriggerFiring>&) {
        return Status::Ok();  // the watch process (`watch run`) responds; it is not running here
      });
  Result<Watch> watch = watches.StartWatch(cr_id, environment, run.id, cr.emergency,
                                           BaselineFromEvidence(cr, environment, run.id), actor);
  if (!watch.ok()) return watch.status();
  if (!ctx.json()) {
    ctx.err() << fmt::format(
        "Enhanced monitoring of {} in {} until {}: run `rollgate watch run` (or its service)\n",
        cr_id, environment, FormatLocalMinutes(watch->ends_at, ctx.zone()));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Execution>> MakeRunnerExecution(Context& ctx, const std::string& transport,
                                                       const TransportOptions& transport_options,
                                                       int concurrency,
                                                       std::vector<std::string> hosts,
                                                       const std::string& actor,
                                                       ExecutionHooks hooks) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  auto execution = std::make_unique<Execution>();
  ASSIGN_OR_RETURN(execution->transport, MakeTransport(ctx, transport, transport_options));
  execution->progress = MakeCliProgress(ctx);
  RunnerOptions options;
  options.transport = transport;
  options.concurrency = concurrency;
  options.hosts = std::move(hosts);
  options.executor = OwnerOptions(actor, Seconds(60));
  options.executor.owner_token = hooks.owner_tag + options.executor.owner_token;
  options.execute_wrapper = [](Executor& executor, const std::function<Result<Run>()>& body) {
    return WithInterruptCancelsRun(executor, body);
  };
  if (hooks.execute_wrapper) options.execute_wrapper = std::move(hooks.execute_wrapper);
  options.created = [&ctx, created = std::move(hooks.created)](const std::string& id) {
    if (!ctx.json()) ctx.err() << fmt::format("{} created\n", id);
    if (created) created(id);
  };
  options.paused = [&ctx](Timestamp deadline, const std::string& triggers) {
    if (ctx.json()) return;
    ctx.err() << fmt::format(
        "Paused for a decision until {}: {}\n  rollgate decide CR --env ENV rollback|continue\n",
        FormatLocalMinutes(deadline, ctx.zone()), EscapeForDisplay(triggers));
  };
  options.on_deployed = [&ctx](const std::string& cr, const std::string& env, const Run& run) {
    return StartWatchAfter(ctx, cr, env, run);
  };
  execution->runner = std::make_unique<RollbackRunner>(
      *config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir(), *execution->transport,
      execution->types, execution->sleeper, execution->progress.get(), std::move(options));
  return execution;
}

Result<FiringResponse> RespondToFirings(
    Context& ctx, const std::string& cr, const std::string& environment,
    const std::vector<TriggerFiring>& firings,
    const std::function<Result<std::unique_ptr<Execution>>(const std::string& transport)>&
        execution_for) {
  FiringResponse response;
  if (StrongestAction(firings) == TriggerAction::kOff) return response;
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  DeployService deployments(*config, *store, ctx.clock(), ctx.zone(), ctx.PackagesDir());
  Result<DeployService::DeploymentRecord> found = deployments.LatestDeployment(cr, environment);
  if (!found.ok() && found.error().code() == StatusCode::kNotFound) {
    // Deployed by hand (evidence recorded with `cr evidence`): nothing Rollgate can roll back.
    response.deployed_by_hand = true;
    return response;
  }
  if (!found.ok()) return found.error();
  const DeployService::DeploymentRecord& deployment = found.value();
  ASSIGN_OR_RETURN(
      std::unique_ptr<Execution> execution,
      execution_for(deployment.run.transport.empty() ? "ssh" : deployment.run.transport));
  std::vector<TriggerFiring> immediate;
  for (const TriggerFiring& f : firings) {
    if (f.action == TriggerAction::kRollback) immediate.push_back(f);
  }
  if (!immediate.empty()) {
    ASSIGN_OR_RETURN(RunnerOutcome outcome,
                     execution->runner->AutomaticRollback(cr, environment, immediate));
    response.rollback = std::move(outcome.rollback);
    return response;
  }
  ASSIGN_OR_RETURN(std::vector<Evidence> paged,
                   execution->runner->PageForDecision(cr, environment, deployment.run.id));
  response.paged = true;
  return response;
}

Status RespondToFirings(Context& ctx, const std::string& cr, const std::string& environment,
                        const std::vector<TriggerFiring>& firings, const std::string& actor) {
  // Over the transport the deployment used.
  ASSIGN_OR_RETURN(
      FiringResponse response,
      RespondToFirings(ctx, cr, environment, firings, [&](const std::string& transport) {
        return MakeRunnerExecution(ctx, transport, TransportOptions{}, 10, {}, actor);
      }));
  if (ctx.json()) return Status::Ok();
  if (response.deployed_by_hand) {
    ctx.err() << fmt::format(
        "rollgate: {} in {} was not deployed by Rollgate: roll it back by hand\n", cr, environment);
  } else if (response.rollback) {
    ctx.err() << fmt::format("rollgate: {} rolled back in {} by its trigger: {} {}\n", cr,
                             environment, response.rollback->id,
                             RunStateName(response.rollback->state));
  } else if (response.paged) {
    ctx.err() << fmt::format(
        "rollgate: {} in {} waits for a decision: rollgate decide {} --env {} rollback|continue\n",
        cr, environment, cr, environment);
  }
  return Status::Ok();
}

}  // namespace rollgate::cli
