#include "engine/procedures.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace rollgate {

namespace {

std::string JoinLines(const std::vector<std::string>& values) { return Join(values, "\n"); }

std::string FormatPercent(double value) {
  std::string text = fmt::format("{:.2f}", value);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// §7.1 step 6: every idempotent step may be retried `retries` more times when its failure looks
// transient (connection reset, timeout, lock held), after 5 s, then 10 s ...
void AllowTransientRetries(Plan& plan, int retries) {
  for (Phase& phase : plan.phases) {
    for (StepSpec& step : phase.steps) {
      if (!step.idempotent || retries <= 0) continue;
      step.retry.transient_attempts = retries;
      step.retry.backoff = Seconds(5);
    }
  }
}

// Builds the steps of one procedure with the system's common params.
class StepBuilder {
 public:
  explicit StepBuilder(const System& system) : system_(system) {}

  StepSpec Make(std::string name, std::string type, std::map<std::string, std::string> params,
                Seconds timeout = Seconds(300), bool idempotent = false) const {
    StepSpec step;
    step.name = std::move(name);
    step.type = std::move(type);
    step.params = std::move(params);
    if (!system_.host_root_env.empty()) step.params["root_env"] = system_.host_root_env;
    step.timeout = timeout;
    step.idempotent = idempotent;
    return step;
  }

  // The service step for `action` with the system's manager.
  StepSpec Service(std::string name, const std::string& action) const {
    std::map<std::string, std::string> params = {{"action", action},
                                                 {"manager", system_.service_manager}};
    if (system_.service_manager == "systemd") {
      params["unit"] = system_.service;
    } else {
      params["start_command"] = system_.start_command;
      params["stop_command"] = system_.stop_command;
      if (!system_.status_command.empty()) params["status_command"] = system_.status_command;
    }
    return Make(std::move(name), "service", std::move(params), Seconds(120), true);
  }

  void WithDatabase(StepSpec& step, const std::string& environment) const {
    auto [url, password] = system_.DatabaseFor(environment);
    step.params["database_url"] = url;
    if (!password.empty()) step.secrets["PGPASSWORD"] = password;
  }

 private:
  const System& system_;
};

std::string EndpointUrl(const System& system, const HealthEndpoint& endpoint) {
  return fmt::format("http://{{host}}:{}{}", system.port, endpoint.path);
}

// §6.1: the availability and users-affected triggers' measurement over `window`.
Result<StepSpec> ObserveStep(const System& system, const StepBuilder& b, Seconds window,
                             Seconds interval) {
  if (window < Seconds(1) || window > std::chrono::hours(24)) {
    return InvalidArgument(
        fmt::format("the observation window must be from 1 s to 24 h (got {} s)", window.count()));
  }
  if (system.port <= 0 || system.endpoints.empty()) {
    return InvalidArgument(fmt::format(
        "observing {} after the deployment needs its port and health endpoints (systems.{}.port, "
        "systems.{}.health)",
        system.name, system.name, system.name));
  }
  std::map<std::string, std::string> params = {
      {"window_seconds", std::to_string(window.count())},
      {"interval_seconds", std::to_string(std::clamp(interval, Seconds(1), window).count())}};
  std::vector<std::string> probes;
  for (const HealthEndpoint& endpoint : system.endpoints) {
    if (endpoint.name == "health" && !params.contains("health_url")) {
      params["health_url"] = EndpointUrl(system, endpoint);
    } else {
      probes.push_back(EndpointUrl(system, endpoint));
    }
  }
  for (const std::string& path : system.metrics.probe_paths) {
    probes.push_back(fmt::format("http://{{host}}:{}{}", system.port, path));
  }
  if (!probes.empty()) params["probe_urls"] = JoinLines(probes);
  const System::MetricsSource& metrics = system.metrics;
  if (!metrics.requests_metric.empty() && !metrics.errors_metric.empty()) {
    params["metrics_url"] = fmt::format("http://{{host}}:{}{}", system.port, metrics.metrics_path);
    params["requests_metric"] = metrics.requests_metric;
    params["errors_metric"] = metrics.errors_metric;
  }
  // The window, and room for a last round of probes that each take up to their timeout.
  Seconds timeout = window + Seconds(60 + 10 * static_cast<long>(system.endpoints.size()));
  return b.Make("observe", "observe", std::move(params), timeout, true);
}

// The system's own changes to a built-in procedure: steps left out, steps added.
Status ApplySystemChanges(const System& system, const StepBuilder& b, Plan& plan) {
  for (const std::string& skipped : system.skip_steps) {
    bool found = false;
    for (Phase& phase : plan.phases) {
      auto it = std::remove_if(phase.steps.begin(), phase.steps.end(),
                               [&](const StepSpec& s) { return s.name == skipped; });
      found = found || it != phase.steps.end();
      phase.steps.erase(it, phase.steps.end());
    }
    if (!found) {
      return InvalidArgument(fmt::format(
          "systems.{}.procedure.skip: no step '{}' in this procedure", system.name, skipped));
    }
  }
  for (const System::ExtraStep& extra : system.extra_steps) {
    auto phase = std::find_if(plan.phases.begin(), plan.phases.end(),
                              [&](const Phase& p) { return p.name == extra.phase; });
    if (phase == plan.phases.end()) {
      return InvalidArgument(
          fmt::format("systems.{}.procedure.add {}: no phase '{}' in this "
                      "procedure",
                      system.name, extra.name, extra.phase));
    }
    StepSpec step = b.Make(extra.name, extra.type, extra.params, Seconds(600), false);
    if (extra.type == "command") {
      // A command step is a shell script on the host (params: script).
      auto script = extra.params.find("script");
      step.script = script == extra.params.end() ? "" : script->second;
      step.params.clear();
    }
    auto at = phase->steps.end();
    if (!extra.after.empty()) {
      at = std::find_if(phase->steps.begin(), phase->steps.end(),
                        [&](const StepSpec& s) { return s.name == extra.after; });
      if (at == phase->steps.end()) {
        return InvalidArgument(fmt::format("systems.{}.procedure.add {}: no step '{}' in phase {}",
                                           system.name, extra.name, extra.after, extra.phase));
      }
      ++at;
    }
    phase->steps.insert(at, std::move(step));
  }
  // A phase left without steps is dropped.
  plan.phases.erase(std::remove_if(plan.phases.begin(), plan.phases.end(),
                                   [](const Phase& p) { return p.steps.empty(); }),
                    plan.phases.end());
  return Status::Ok();
}

}  // namespace

PackageLayout LayoutFromPaths(const std::vector<std::string>& paths) {
  PackageLayout layout;
  // One top directory holding everything is the usual shape ("name-1.2.3/..."): every entry is
  // that directory or below it.
  std::string top;
  bool single_top = true;
  for (std::string path : paths) {
    if (StartsWith(path, "./")) path = path.substr(2);
    if (path.empty() || path == ".") continue;
    std::string first = path.substr(0, path.find('/'));
    if (top.empty()) top = first;
    if (first != top || (path == first && paths.size() == 1)) single_top = false;
  }
  if (single_top && !top.empty()) {
    bool has_below = std::any_of(paths.begin(), paths.end(), [&](const std::string& p) {
      return StartsWith(p, top + "/") || StartsWith(p, "./" + top + "/");
    });
    if (has_below) layout.top = top;
  }
  std::string prefix = layout.top.empty() ? "" : layout.top + "/";
  for (std::string path : paths) {
    if (StartsWith(path, "./")) path = path.substr(2);
    if (!StartsWith(path, prefix)) continue;
    std::string rest = path.substr(prefix.size());
    if (StartsWith(rest, "app/") || rest == "app") layout.has_app = true;
    if (StartsWith(rest, "config/") || rest == "config") layout.has_config = true;
    if (StartsWith(rest, "migrations/") && rest.size() > 4 &&
        rest.compare(rest.size() - 4, 4, ".sql") == 0) {
      layout.has_migrations = true;
    }
  }
  return layout;
}

std::string ReleaseDirFor(const System& system, const std::string& sha256) {
  // Beside the uploaded package, whose directory the transfer made.
  return fmt::format("{}/packages/{}.release", system.work_dir, sha256.substr(0, 16));
}

Result<Plan> BuildDeploymentPlan(const DeploymentRequest& request) {
  if (request.system == nullptr || request.environment == nullptr) {
    return InvalidArgument("a deployment needs a system and an environment");
  }
  const System& system = *request.system;
  const Environment& env = *request.environment;
  const PackageLayout& package = request.package;
  if (package.sha256.size() != 64) return InvalidArgument("the package has no SHA-256");
  if (!package.has_app) {
    return InvalidArgument(
        fmt::format("the package has no app/ directory{}: nothing to install into {}",
                    package.top.empty() ? "" : " under " + package.top + "/", system.app_dir));
  }
  Plan plan;
  plan.name = fmt::format("{} {} {}", request.change_request, system.name, env.name);
  plan.hosts = request.hosts;
  if (plan.hosts.empty()) {
    const SystemHost* hosts = system.HostsIn(env.name);
    if (hosts != nullptr) plan.hosts = hosts->hosts;
  }
  if (plan.hosts.empty()) {
    return InvalidArgument(fmt::format("system {} has no hosts in {} (systems[].hosts.{})",
                                       system.name, env.name, env.name));
  }
  plan.concurrency = std::clamp(request.concurrency, 1, 1024);
  plan.status_dir = system.work_dir;
  // A failed host stops the rollout (§3.3: "a failure stops the rollout").
  plan.failure_limit = {0, false};
  // Every phase works on all hosts at once except the rollout, which goes batch by batch when
  // the environment rolls (PROD: one node at a time, §3.3 step 4).
  plan.batch = {100, true};
  Result<HostCount> rollout_batch = ParseHostCount(env.rolling ? env.batch : "100%");
  if (!rollout_batch.ok()) {
    return rollout_batch.error().WithContext(fmt::format("environments.{}.batch", env.name));
  }
  if (rollout_batch->value == 0) *rollout_batch = {1, false};

  StepBuilder b(system);
  const Thresholds& t = env.thresholds;
  const std::string backup_dir =
      system.backup_dir.empty() ? "/var/backups/rollgate/" + system.name : system.backup_dir;
  const std::string state_dir = system.work_dir + "/state";
  const std::string release_dir = ReleaseDirFor(system, package.sha256);
  const std::string top = package.top.empty() ? "" : package.top + "/";
  const auto [database_url, database_password] = system.DatabaseFor(env.name);
  const bool has_database = !database_url.empty();
  const bool has_endpoints = system.port > 0 && !system.endpoints.empty();
  // §2.4 step 3, environments.<env>.backup_verification: required.
  const bool verify_backups = env.backup_verification == BackupVerification::kRequired;
  std::vector<std::string> endpoint_urls;
  std::string timing_url;
  for (const HealthEndpoint& endpoint : system.endpoints) {
    if (!has_endpoints) break;  // no port: nothing to ask
    endpoint_urls.push_back(EndpointUrl(system, endpoint));
    if (timing_url.empty() && endpoint.name == "health") timing_url = endpoint_urls.back();
  }
  if (timing_url.empty() && !endpoint_urls.empty()) timing_url = endpoint_urls.front();

  // §2.3 readiness.
  Phase readiness{"readiness", std::nullopt, {}};
  readiness.steps.push_back(b.Make("reachable", "reachable", {}, Seconds(60), true));
  readiness.steps.push_back(b.Make("disk-space", "disk-space",
                                   {{"paths", JoinLines({system.app_dir, system.config_dir})},
                                    {"min_free_percent", FormatPercent(t.min_free_disk_percent)}},
                                   Seconds(60), true));
  std::vector<std::string> tcp_targets, dependency_urls;
  for (const std::string& dependency : system.dependencies) {
    (StartsWith(dependency, "http://") || StartsWith(dependency, "https://") ? dependency_urls
                                                                             : tcp_targets)
        .push_back(dependency);
  }
  if (!tcp_targets.empty()) {
    readiness.steps.push_back(b.Make("dependencies-tcp", "tcp-check",
                                     {{"targets", JoinLines(tcp_targets)}}, Seconds(120), true));
  }
  if (!dependency_urls.empty()) {
    readiness.steps.push_back(b.Make("dependencies-http", "http-check",
                                     {{"urls", JoinLines(dependency_urls)}}, Seconds(120), true));
  }
  if (!system.log_file.empty()) {
    readiness.steps.push_back(b.Make("log-mark", "log-scan",
                                     {{"file", system.log_file},
                                      {"patterns", JoinLines(system.error_patterns)},
                                      {"state_dir", state_dir},
                                      {"label", "deploy"},
                                      {"action", "mark"}},
                                     Seconds(60), true));
  }
  if (!timing_url.empty()) {
    readiness.steps.push_back(b.Make("metrics-baseline", "metrics",
                                     {{"url", timing_url},
                                      {"action", "baseline"},
                                      {"state_dir", state_dir},
                                      {"label", "deploy"}},
                                     Seconds(120), true));
  }
  plan.phases.push_back(std::move(readiness));

  // The package on every host, checked, and the release unpacked beside the application.
  Phase transfer{"transfer", std::nullopt, {}};
  const std::string inbox = fmt::format("{}/packages/{}.tar.gz", system.work_dir, package.sha256);
  StepSpec upload;
  upload.name = "upload";
  upload.type = "file-transfer";
  upload.source = package.local_path;
  upload.destination = inbox;
  upload.timeout = Seconds(600);
  upload.idempotent = true;
  transfer.steps.push_back(std::move(upload));
  if (!system.host_root_env.empty()) {
    transfer.steps.push_back(b.Make("place", "place-file",
                                    {{"from", inbox}, {"to", inbox}, {"sha256", package.sha256}},
                                    Seconds(300), true));
  }
  std::map<std::string, std::string> unpack = {{"archive", inbox},
                                               {"sha256", package.sha256},
                                               {"target_dir", release_dir},
                                               {"mode", "switch"}};
  if (!package.top.empty()) unpack["subdir"] = package.top;
  transfer.steps.push_back(b.Make("unpack", "extract-switch", unpack, Seconds(600), true));
  plan.phases.push_back(std::move(transfer));

  // §2.4 / §3.3 step 5: the database backup, once.
  if (has_database) {
    Phase backup{"database-backup", std::nullopt, {}};
    backup.one_host = true;
    StepSpec dump =
        b.Make("backup-database", "backup-postgres",
               {{"destination_dir", backup_dir}, {"label", "database"}}, Seconds(3600), true);
    b.WithDatabase(dump, env.name);
    backup.steps.push_back(std::move(dump));
    if (!system.critical_tables.empty()) {
      StepSpec counts = b.Make("integrity-before", "data-integrity",
                               {{"tables", JoinLines(system.critical_tables)},
                                {"state_dir", state_dir},
                                {"label", "deploy"},
                                {"action", "record"}},
                               Seconds(600), true);
      b.WithDatabase(counts, env.name);
      backup.steps.push_back(std::move(counts));
    }
    if (verify_backups) {
      // §2.4 step 3: the dump restored into a scratch database, its critical tables' rows
      // counted against those just recorded, before anything changes.
      std::map<std::string, std::string> params = {{"backup_dir", backup_dir},
                                                   {"backup_label", "database"}};
      if (!system.critical_tables.empty()) {
        params["tables"] = JoinLines(system.critical_tables);
        params["state_dir"] = state_dir;
        params["counts_label"] = "deploy";
      }
      StepSpec verify = b.Make("verify-database-backup", "verify-backup-postgres",
                               std::move(params), Seconds(3600), true);
      b.WithDatabase(verify, env.name);
      backup.steps.push_back(std::move(verify));
    }
    plan.phases.push_back(std::move(backup));
  }

  // §3.x: the rollout, batch by batch; each node verified before the next batch.
  Phase rollout{"rollout", *rollout_batch, {}};
  if (!system.drain_command.empty()) {
    rollout.steps.push_back(b.Make("drain", "hook",
                                   {{"command", system.drain_command}, {"purpose", "drain"}},
                                   Seconds(600), true));
  }
  if (!system.maintenance_on_command.empty()) {
    rollout.steps.push_back(
        b.Make("maintenance-on", "hook",
               {{"command", system.maintenance_on_command}, {"purpose", "maintenance-on"}},
               Seconds(300), true));
  }
  rollout.steps.push_back(b.Service("stop", "stop"));
  rollout.steps.push_back(
      b.Make("backup-app", "backup-files",
             {{"source", system.app_dir}, {"destination_dir", backup_dir}, {"label", "app"}},
             Seconds(1800), true));
  rollout.steps.push_back(
      b.Make("backup-config", "backup-files",
             {{"source", system.config_dir}, {"destination_dir", backup_dir}, {"label", "config"}},
             Seconds(1800), true));
  if (verify_backups) {
    // §2.4 step 3: each archive extracted into a scratch directory and compared with the
    // directory it was taken of, which nothing has changed yet (the install comes next).
    for (const auto& [label, dir] :
         {std::pair{"app", system.app_dir}, std::pair{"config", system.config_dir}}) {
      rollout.steps.push_back(
          b.Make(fmt::format("verify-{}-backup", label), "verify-backup-files",
                 {{"backup_dir", backup_dir}, {"label", label}, {"compare_dir", dir}},
                 Seconds(1800), true));
    }
  }
  std::map<std::string, std::string> install = {{"archive", inbox},
                                                {"sha256", package.sha256},
                                                {"target_dir", system.app_dir},
                                                {"subdir", top + "app"},
                                                {"mode", "merge"}};
  if (!system.app_user.empty()) install["owner"] = system.app_user;
  if (!system.app_group.empty()) install["group"] = system.app_group;
  rollout.steps.push_back(b.Make("install", "extract-switch", install, Seconds(600), true));
  if (package.has_config) {
    rollout.steps.push_back(b.Make("configure", "extract-switch",
                                   {{"archive", inbox},
                                    {"sha256", package.sha256},
                                    {"target_dir", system.config_dir},
                                    {"subdir", top + "config"},
                                    {"mode", "overlay"}},
                                   Seconds(600), true));
  }
  if (package.has_migrations && has_database) {
    // The migrations' own writes are recorded beside the backup, so that a rollback's restore
    // does not take them for users' writes.
    StepSpec migrate = b.Make("migrate", "postgres-migrate",
                              {{"migrations_dir", release_dir + "/migrations"},
                               {"backup_dir", backup_dir},
                               {"backup_label", "database"},
                               // One host migrates: hosts deployed at once never race on it.
                               {"run_on", plan.hosts.front()}},
                              Seconds(3600), true);
    b.WithDatabase(migrate, env.name);
    rollout.steps.push_back(std::move(migrate));
  }
  rollout.steps.push_back(b.Service("start", "start"));
  if (has_endpoints) {
    rollout.steps.push_back(
        b.Make("node-health", "http-check",
               {{"urls", JoinLines(endpoint_urls)}, {"attempts", "15"}, {"interval_seconds", "1"}},
               Seconds(120), true));
  }
  if (!system.smoke_command.empty()) {
    StepSpec smoke =
        b.Make("smoke", "smoke-test", {{"command", system.smoke_command}}, Seconds(600), true);
    if (system.port > 0) {
      smoke.params["base_url"] = fmt::format("http://{{host}}:{}", system.port);
    }
    smoke.env["ROLLGATE_RELEASE_DIR"] = release_dir;
    smoke.env["ROLLGATE_APP_DIR"] = system.app_dir;
    rollout.steps.push_back(std::move(smoke));
  }
  if (!system.maintenance_off_command.empty()) {
    rollout.steps.push_back(
        b.Make("maintenance-off", "hook",
               {{"command", system.maintenance_off_command}, {"purpose", "maintenance-off"}},
               Seconds(300), true));
  }
  plan.phases.push_back(std::move(rollout));

  // §4.1 / §4.2: every host once the rollout is complete.
  Phase verify{"verify", std::nullopt, {}};
  if (has_endpoints) {
    verify.steps.push_back(
        b.Make("health", "http-check", {{"urls", JoinLines(endpoint_urls)}}, Seconds(120), true));
  }
  if (!system.log_file.empty()) {
    verify.steps.push_back(b.Make("logs", "log-scan",
                                  {{"file", system.log_file},
                                   {"patterns", JoinLines(system.error_patterns)},
                                   {"state_dir", state_dir},
                                   {"label", "deploy"},
                                   {"action", "scan"}},
                                  Seconds(120), true));
  }
  if (!timing_url.empty()) {
    verify.steps.push_back(
        b.Make("metrics", "metrics",
               {{"url", timing_url},
                {"action", "compare"},
                {"state_dir", state_dir},
                {"label", "deploy"},
                {"max_degradation_percent", FormatPercent(t.max_performance_degradation_percent)},
                // §4.2: a slower service is flagged on the CR; acting on it is the rollback
                // triggers' decision, not the deployment's.
                {"on_degradation", "flag"}},
               Seconds(120), true));
  }
  if (request.observe_window.has_value()) {
    // Measured before anything judges: a log scan that finds the errors must not keep the
    // availability and error share (the triggers' measurements) from being taken.
    ASSIGN_OR_RETURN(StepSpec observe,
                     ObserveStep(system, b, *request.observe_window, request.observe_interval));
    auto after_health = std::find_if(verify.steps.begin(), verify.steps.end(),
                                     [](const StepSpec& step) { return step.name == "health"; });
    verify.steps.insert(
        after_health == verify.steps.end() ? verify.steps.begin() : std::next(after_health),
        std::move(observe));
  }
  if (!verify.steps.empty()) plan.phases.push_back(std::move(verify));

  if (has_database && !system.critical_tables.empty()) {
    Phase integrity{"database-verify", std::nullopt, {}};
    integrity.one_host = true;
    StepSpec counts = b.Make("integrity", "data-integrity",
                             {{"tables", JoinLines(system.critical_tables)},
                              {"state_dir", state_dir},
                              {"label", "deploy"},
                              {"action", "compare"}},
                             Seconds(600), true);
    b.WithDatabase(counts, env.name);
    integrity.steps.push_back(std::move(counts));
    plan.phases.push_back(std::move(integrity));
  }

  // §3.2: the regression suite, in the environments between the first and the last.
  // (Added below, before the system's own changes are applied.)
  if (request.run_regression && !request.emergency && !system.regression_command.empty() &&
      !system.regression_results.empty()) {
    Phase regression{"regression", std::nullopt, {}};
    regression.one_host = true;
    StepSpec suite = b.Make("regression", "regression",
                            {{"command", system.regression_command},
                             {"results", system.regression_results},
                             {"min_pass_rate", FormatPercent(t.regression_pass_rate_percent)}},
                            Seconds(3600), true);
    suite.env["ROLLGATE_RELEASE_DIR"] = release_dir;
    suite.env["ROLLGATE_APP_DIR"] = system.app_dir;
    regression.steps.push_back(std::move(suite));
    plan.phases.push_back(std::move(regression));
  }
  // §5.3 step 2: on the emergency path, the targeted tests in place of the regression suite.
  if (request.emergency && !system.targeted_test_command.empty()) {
    Phase targeted{"targeted-tests", std::nullopt, {}};
    targeted.one_host = true;
    StepSpec tests = b.Make("targeted-tests", "smoke-test",
                            {{"command", system.targeted_test_command}}, Seconds(1800), true);
    if (system.port > 0) tests.params["base_url"] = fmt::format("http://{{host}}:{}", system.port);
    tests.env["ROLLGATE_RELEASE_DIR"] = release_dir;
    tests.env["ROLLGATE_APP_DIR"] = system.app_dir;
    targeted.steps.push_back(std::move(tests));
    plan.phases.push_back(std::move(targeted));
  }
  RETURN_IF_ERROR(ApplySystemChanges(system, b, plan));
  AllowTransientRetries(plan, t.transient_retries);
  return plan;
}

Result<Plan> BuildRollbackPlan(const RollbackRequest& request) {
  if (request.system == nullptr || request.environment == nullptr) {
    return InvalidArgument("a rollback needs a system and an environment");
  }
  const System& system = *request.system;
  const std::string& environment = request.environment->name;
  const RollbackSource& source = request.source;
  const std::string deployment =
      source.deployment_run.empty() ? std::string("the deployment") : source.deployment_run;
  if (request.on_writes != "hold" && request.on_writes != "restore") {
    return InvalidArgument(fmt::format(
        "on writes since the backup: must be hold or restore (got '{}')", request.on_writes));
  }
  const bool restore_database = source.restore_database && !source.database_dump.empty();
  if (request.database_only) {
    if (!restore_database) {
      return InvalidArgument(fmt::format(
          "{} left no database to restore in {}: {}", deployment, environment,
          source.database_dump.empty() ? "it took no database backup" : "it applied no migration"));
    }
    if (source.hosts.empty()) {
      return InvalidArgument(
          fmt::format("{} changed no host in {}: no host to restore the database from", deployment,
                      environment));
    }
  } else if (source.hosts.empty() || source.app_archive.empty()) {
    return InvalidArgument(
        fmt::format("{} left no application backup to restore in {}", deployment, environment));
  }
  Plan plan;
  plan.name = fmt::format("{} {} {} {}", request.change_request, system.name, environment,
                          request.database_only ? "database rollback" : "rollback");
  plan.hosts = source.hosts;
  plan.status_dir = system.work_dir;
  plan.batch = {100, true};
  // Every node is restored even when one fails: the others must not stay on the bad version.
  plan.failure_limit = {100, true};
  StepBuilder b(system);
  std::vector<std::string> health_urls;
  if (system.port > 0) {
    for (const HealthEndpoint& endpoint : system.endpoints) {
      health_urls.push_back(EndpointUrl(system, endpoint));
    }
  }
  auto health = [&] {
    return b.Make("health", "http-check",
                  {{"urls", JoinLines(health_urls)}, {"attempts", "15"}, {"interval_seconds", "1"}},
                  Seconds(120), true);
  };
  // §6.3's smoke test of the restored version: its critical endpoints answer (the deployed
  // patch's own smoke test checks the version being rolled back, so it cannot serve here).
  std::vector<std::string> smoke_urls;
  if (system.port > 0) {
    for (const std::string& path : system.metrics.probe_paths) {
      smoke_urls.push_back(fmt::format("http://{{host}}:{}{}", system.port, path));
    }
  }
  auto add_checks = [&](Phase& phase) {
    if (!health_urls.empty()) phase.steps.push_back(health());
    if (!smoke_urls.empty()) {
      phase.steps.push_back(
          b.Make("smoke", "http-check",
                 {{"urls", JoinLines(smoke_urls)}, {"attempts", "5"}, {"interval_seconds", "1"}},
                 Seconds(120), true));
    }
  };

  Phase stop{"stop", std::nullopt, {}};
  stop.steps.push_back(b.Service("stop", "stop"));
  plan.phases.push_back(std::move(stop));
  if (restore_database) {
    Phase database{"database-restore", std::nullopt, {}};
    database.one_host = true;
    std::map<std::string, std::string> params = {{"dump", source.database_dump},
                                                 {"on_writes", request.on_writes}};
    if (!source.database_sha256.empty()) params["sha256"] = source.database_sha256;
    StepSpec restore =
        b.Make("restore-database", "restore-postgres", std::move(params), Seconds(3600), true);
    b.WithDatabase(restore, environment);
    database.steps.push_back(std::move(restore));
    plan.phases.push_back(std::move(database));
  }
  if (request.database_only) {
    // The nodes start again on the version they run (the rollback restored it).
    Phase start{"start", std::nullopt, {}};
    start.steps.push_back(b.Service("start", "start"));
    add_checks(start);
    plan.phases.push_back(std::move(start));
  } else {
    Phase restore{"restore", std::nullopt, {}};
    restore.steps.push_back(b.Make(
        "restore-app", "restore-files",
        {{"archive", source.app_archive}, {"target_dir", system.app_dir}}, Seconds(1800), true));
    if (!source.config_archive.empty()) {
      restore.steps.push_back(
          b.Make("restore-config", "restore-files",
                 {{"archive", source.config_archive}, {"target_dir", system.config_dir}},
                 Seconds(1800), true));
    }
    restore.steps.push_back(b.Service("start", "start"));
    add_checks(restore);
    plan.phases.push_back(std::move(restore));
  }
  // §6.3: the restored database has the schema version of before the deployment, at least the
  // rows counted before it, and no constraint left unvalidated. A held restore (restore-postgres
  // left the database as it was) is not checked for its version.
  if (restore_database) {
    Phase verify{"database-verify", std::nullopt, {}};
    verify.one_host = true;
    std::map<std::string, std::string> params = {{"restore_dump", source.database_dump}};
    if (source.schema_version.has_value()) {
      params["expected"] = *source.schema_version;
    } else if (!source.database_info.empty()) {
      params["backup_info"] = source.database_info;
    } else {
      std::string base = source.database_dump;
      if (base.size() > 5 && base.compare(base.size() - 5, 5, ".dump") == 0) {
        base.resize(base.size() - 5);
      }
      params["backup_info"] = base + ".info";
    }
    StepSpec schema =
        b.Make("verify-schema", "schema-version", std::move(params), Seconds(300), true);
    b.WithDatabase(schema, environment);
    verify.steps.push_back(std::move(schema));
    if (!source.counts_tables.empty() && !source.deployment_run.empty()) {
      StepSpec counts = b.Make(
          "verify-integrity", "data-integrity",
          {{"tables", JoinLines(source.counts_tables)},
           {"state_dir",
            source.counts_state_dir.empty() ? system.work_dir + "/state" : source.counts_state_dir},
           {"label", source.counts_label.empty() ? std::string("deploy") : source.counts_label},
           {"action", "compare"},
           {"recorded_run", source.deployment_run}},
          Seconds(600), true);
      b.WithDatabase(counts, environment);
      verify.steps.push_back(std::move(counts));
    }
    plan.phases.push_back(std::move(verify));
  }
  AllowTransientRetries(plan, request.environment->thresholds.transient_retries);
  return plan;
}

}  // namespace rollgate
