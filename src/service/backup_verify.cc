#include "service/backup_verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "common/sha256.h"
#include "common/strings.h"
#include "engine/steps/script_step.h"
#include "service/cr_service.h"
#include "service/deploy_service.h"

namespace rollgate {

namespace {

constexpr const char* kDatabaseStepType = "verify-backup-postgres";
constexpr const char* kFilesStepType = "verify-backup-files";

// The latest attempt of each (phase, step, host).
std::vector<const StepExecution*> Latest(const std::vector<StepExecution>& steps) {
  std::map<std::tuple<int, int, std::string>, const StepExecution*> latest;
  for (const StepExecution& e : steps) {
    auto& slot = latest[{e.phase, e.step, e.host}];
    if (slot == nullptr || e.attempt >= slot->attempt) slot = &e;
  }
  std::vector<const StepExecution*> out;
  for (const auto& [key, e] : latest) out.push_back(e);
  return out;
}

const StepSpec* SpecOf(const Plan& plan, const StepExecution& e) {
  if (e.phase < 0 || e.phase >= static_cast<int>(plan.phases.size())) return nullptr;
  const Phase& phase = plan.phases[e.phase];
  if (e.step < 0 || e.step >= static_cast<int>(phase.steps.size())) return nullptr;
  return &phase.steps[e.step];
}

std::string ParamOr(const StepSpec& spec, const std::string& name, const std::string& fallback) {
  auto it = spec.params.find(name);
  return it == spec.params.end() ? fallback : it->second;
}

std::optional<double> Number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<long long> Integer(const std::string& text) {
  if (text.empty()) return std::nullopt;
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The part of a step's "problem" fact (checks joined by "; ") that starts with `prefix`.
std::string Segment(const std::string& problems, std::string_view prefix) {
  size_t at = 0;
  while (at <= problems.size()) {
    size_t end = problems.find("; ", at);
    std::string part = problems.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (StartsWith(part, prefix)) return part;
    if (end == std::string::npos) break;
    at = end + 2;
  }
  return "";
}

// What a step that printed no facts said last (its error line), or its state.
std::string Reason(const StepExecution& e) {
  std::string reason;
  for (const std::string& line : Split(e.output_tail, '\n')) {
    if (!Trim(line).empty() && !StartsWith(line, "rollgate-fact ")) reason = line;
  }
  if (StartsWith(reason, "error: ")) reason = reason.substr(7);
  if (reason.empty()) {
    // Nothing ran (an unreadable secret, an unreachable host) or nothing was said: how the
    // executor decided.
    reason = std::string(StepStateName(e.state));
    if (e.exit_code) reason += fmt::format(" (exit {})", *e.exit_code);
    if (!e.evidence.empty()) reason += ": " + e.evidence;
  }
  return reason;
}

std::string Seconds3(double seconds) { return fmt::format("{:.3f}", seconds); }

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class ReportBuilder {
 public:
  explicit ReportBuilder(BackupVerificationReport& report) : report_(report) {}

  void Check(std::string name, const std::string& host, const std::string& target, bool passed,
             std::string detail) {
    report_.checks.push_back({std::move(name), host, target, passed, std::move(detail)});
  }

  void Database(const StepExecution& e, const StepSpec& spec) {
    std::map<std::string, std::string> f = ParseFacts(e.output_tail);
    const std::string target = f.contains("dump") ? f["dump"] : ParamOr(spec, "dump", "");
    if (!target.empty()) report_.database = target;
    const bool restore = ParamOr(spec, "restore", "yes") == "yes";
    if (!f.contains("checksum")) {
      // Nothing was checked: the dump is missing, the host did not answer, the step timed out.
      Check("database-backup", e.host, target, false, Reason(e));
      all_restored_ = all_restored_ && !restore;
      return;
    }
    const std::string& problems = f["problem"];
    ChecksumCheck("database-checksum", e.host, target, f);
    if (f["listed"] == "ok") {
      Check("database-list", e.host, target, true,
            fmt::format("pg_restore --list reads it ({} tables)", f["tables"]));
    } else {
      Check("database-list", e.host, target, false, Segment(problems, target + " does not list"));
    }
    if (f["restore"] == "yes") {
      const std::string& restored = f["restored"];
      std::optional<double> seconds = Number(f["restore_seconds"]);
      if (restored == "yes") {
        database_seconds_ = seconds.value_or(0);
        Check("database-restore", e.host, target, true,
              fmt::format("restored into {} in {} s without a pg_restore error",
                          f["scratch_database"], Seconds3(seconds.value_or(0))));
      } else {
        all_restored_ = false;
        std::string why = Segment(problems, "pg_restore failed");
        if (why.empty()) why = Segment(problems, "cannot create a scratch database");
        if (why.empty()) why = "not restored: an earlier check failed";
        Check("database-restore", e.host, target, false, why);
      }
    }
    Counts(e, target, f);
    ScratchCheck("scratch-database", e.host, target, f["scratch_removed"],
                 fmt::format("scratch database {} dropped", f["scratch_database"]),
                 Segment(problems, "the scratch database"));
  }

  void Files(const StepExecution& e, const StepSpec& spec) {
    std::map<std::string, std::string> f = ParseFacts(e.output_tail);
    const std::string target = f.contains("archive") ? f["archive"] : ParamOr(spec, "archive", "");
    const bool restore = ParamOr(spec, "restore", "yes") == "yes";
    if (f["checked"] == "no") return;  // no such backup was taken on this host
    if (!target.empty() &&
        std::find(report_.files.begin(), report_.files.end(), target) == report_.files.end()) {
      report_.files.push_back(target);
    }
    if (!f.contains("checksum")) {
      Check("files-backup", e.host, target, false, Reason(e));
      all_restored_ = all_restored_ && !restore;
      return;
    }
    const std::string& problems = f["problem"];
    ChecksumCheck("files-checksum", e.host, target, f);
    if (f["listed"] == "ok") {
      Check("files-list", e.host, target, true,
            fmt::format("tar -tzf reads it whole ({} files)", f["files"]));
    } else {
      Check("files-list", e.host, target, false, Segment(problems, target + " does not read back"));
    }
    if (f["restore"] == "yes") {
      std::optional<double> seconds = Number(f["restore_seconds"]);
      std::string short_count = Segment(problems, f["restored_files"] + " files restored from");
      if (f["restored"] == "yes" && short_count.empty()) {
        host_seconds_[e.host] += seconds.value_or(0);
        Check("files-restore", e.host, target, true,
              fmt::format("{} files extracted into {} in {} s", f["restored_files"],
                          f["scratch_dir"], Seconds3(seconds.value_or(0))));
      } else {
        all_restored_ = false;
        std::string why = !short_count.empty() ? short_count : Segment(problems, "tar could not");
        if (why.empty()) why = Segment(problems, "cannot create a scratch directory");
        if (why.empty()) why = "not restored: an earlier check failed";
        Check("files-restore", e.host, target, false, why);
      }
      const std::string& compared = f["compared"];
      if (compared == "ok") {
        Check("files-compare", e.host, target, true,
              fmt::format("the restored files equal {}", ParamOr(spec, "compare_dir", "")));
      } else if (compared == "differs") {
        Check("files-compare", e.host, target, false,
              Segment(problems, "the restored files differ"));
      } else if (compared == "failed") {
        std::string why = Segment(problems, "the directory to compare with");
        if (why.empty()) why = Segment(problems, "cannot read the files");
        Check("files-compare", e.host, target, false, why);
      }
    }
    ScratchCheck("scratch-directory", e.host, target, f["scratch_removed"],
                 fmt::format("scratch directory {} removed", f["scratch_dir"]),
                 Segment(problems, "the scratch directory"));
  }

  // A verification step planned for `host` that never ran (an earlier step there failed).
  void NotRun(const StepSpec& spec, const std::string& host) {
    const bool database = spec.type == kDatabaseStepType;
    const std::string target = ParamOr(spec, database ? "dump" : "archive", "");
    Check(database ? "database-backup" : "files-backup", host, target, false,
          "not checked: the run stopped before this step");
    all_restored_ = all_restored_ && ParamOr(spec, "restore", "yes") != "yes";
  }

  void Finish() {
    if (database_seconds_) report_.database_restore_seconds = *database_seconds_;
    double slowest = 0;
    for (const auto& [host, seconds] : host_seconds_) slowest = std::max(slowest, seconds);
    if (!host_seconds_.empty()) report_.files_restore_seconds = std::round(slowest * 1000) / 1000;
    const bool restored_any = database_seconds_.has_value() || !host_seconds_.empty();
    if (report_.restore && all_restored_ && restored_any) {
      // Milliseconds, as measured.
      report_.rto_seconds = std::round((database_seconds_.value_or(0) + slowest) * 1000) / 1000;
    }
    report_.verified = report_.run_state == RunState::kSucceeded && !report_.checks.empty() &&
                       std::all_of(report_.checks.begin(), report_.checks.end(),
                                   [](const BackupCheck& check) { return check.passed; });
    report_.scratch_removed =
        std::none_of(report_.checks.begin(), report_.checks.end(), [](const BackupCheck& check) {
          return StartsWith(check.name, "scratch-") && !check.passed;
        });
  }

 private:
  void ChecksumCheck(const char* name, const std::string& host, const std::string& target,
                     std::map<std::string, std::string>& f) {
    const std::string& checksum = f["checksum"];
    if (checksum == "ok") {
      Check(name, host, target, true, "SHA-256 as recorded at backup time");
    } else if (checksum == "differs") {
      Check(name, host, target, false,
            fmt::format("SHA-256 {} differs from the {} recorded at backup time: not the backup "
                        "that was taken",
                        f["sha256"], f["expected_sha256"]));
    } else {
      Check(name, host, target, true,
            fmt::format("no SHA-256 was recorded at backup time: not compared (now {})",
                        f["sha256"]));
    }
  }

  void ScratchCheck(const char* name, const std::string& host, const std::string& target,
                    const std::string& removed, std::string done, std::string failed) {
    if (removed == "yes") {
      Check(name, host, target, true, std::move(done));
    } else if (removed == "no") {
      Check(name, host, target, false,
            failed.empty() ? std::string("the scratch copy could not be removed") : failed);
    }
  }

  void Counts(const StepExecution& e, const std::string& target,
              std::map<std::string, std::string>& f) {
    const std::string& counts = f["counts"];
    if (counts.empty() || counts == "not-checked") return;
    std::vector<std::string> shown;
    for (const auto& [key, value] : f) {
      if (!StartsWith(key, "count.")) continue;
      TableCount count;
      count.table = key.substr(6);
      count.restored = Integer(value).value_or(-1);
      auto recorded = f.find("recorded." + count.table);
      if (recorded != f.end()) count.recorded = Integer(recorded->second);
      shown.push_back(
          fmt::format("{} {} restored, {} recorded", count.table, count.restored,
                      count.recorded ? std::to_string(*count.recorded) : std::string("none")));
      report_.counts.push_back(std::move(count));
    }
    const std::string& problems = f["problem"];
    if (counts == "ok") {
      Check("record-counts", e.host, target, true,
            fmt::format("as recorded at backup time: {}", Join(shown, ", ")));
    } else if (counts == "differ") {
      Check("record-counts", e.host, target, false, Segment(problems, "record counts differ"));
    } else if (counts == "not-recorded") {
      Check("record-counts", e.host, target, false, Segment(problems, "no record counts"));
    } else {
      Check("record-counts", e.host, target, false, Segment(problems, "cannot count"));
    }
  }

  BackupVerificationReport& report_;
  std::optional<double> database_seconds_;
  std::map<std::string, double> host_seconds_;
  bool all_restored_ = true;
};

}  // namespace

BackupSet BackupsOfDeployment(const Plan& plan, const Run& run,
                              const std::vector<StepExecution>& steps) {
  BackupSet out;
  out.deployment_run = run.id;
  out.run_key = plan.instance.empty() ? run.id : run.id + "-" + plan.instance;
  for (const StepExecution* e : Latest(steps)) {
    const StepSpec* spec = SpecOf(plan, *e);
    if (spec == nullptr || e->state != StepState::kSucceeded) continue;
    std::map<std::string, std::string> facts = ParseFacts(e->output_tail);
    if (spec->name == "backup-database" && !facts["location"].empty()) {
      out.database_host = e->host;
      out.database_dump = facts["location"];
      out.database_sha256 = facts["sha256"];
    } else if ((spec->name == "backup-app" || spec->name == "backup-config") &&
               !facts["location"].empty()) {
      out.archives.push_back({spec->name.substr(7), e->host, facts["location"], facts["sha256"]});
    } else if (spec->name == "integrity-before") {
      out.counts_state_dir = ParamOr(*spec, "state_dir", "");
      out.counts_label = ParamOr(*spec, "label", "");
      out.counts_tables.clear();
      for (const std::string& table : Split(ParamOr(*spec, "tables", ""), '\n')) {
        if (!Trim(table).empty()) out.counts_tables.emplace_back(Trim(table));
      }
    }
  }
  // In the plan's order: app before config, hosts as the plan lists them.
  auto host_index = [&](const std::string& host) {
    return std::find(plan.hosts.begin(), plan.hosts.end(), host) - plan.hosts.begin();
  };
  std::stable_sort(out.archives.begin(), out.archives.end(),
                   [&](const BackupSet::Archive& a, const BackupSet::Archive& b) {
                     return std::make_tuple(a.label != "app", host_index(a.host)) <
                            std::make_tuple(b.label != "app", host_index(b.host));
                   });
  if (!out.database_dump.empty()) out.hosts.push_back(out.database_host);
  for (const std::string& host : plan.hosts) {
    bool has_archive = std::any_of(out.archives.begin(), out.archives.end(),
                                   [&](const BackupSet::Archive& a) { return a.host == host; });
    if (has_archive && std::find(out.hosts.begin(), out.hosts.end(), host) == out.hosts.end()) {
      out.hosts.push_back(host);
    }
  }
  return out;
}

Result<Plan> BuildBackupVerifyPlan(const std::string& change_request, const System& system,
                                   const Environment& environment, const BackupSet& backups,
                                   bool restore) {
  if (backups.empty()) {
    return InvalidArgument(fmt::format(
        "deployment {} took no backup to verify",
        backups.deployment_run.empty() ? std::string("(none)") : backups.deployment_run));
  }
  Plan plan;
  plan.name =
      fmt::format("{} {} {} backup verification", change_request, system.name, environment.name);
  plan.hosts = backups.hosts;
  plan.status_dir = system.work_dir;
  plan.batch = {100, true};
  // Every backup is checked, also when another one failed.
  plan.failure_limit = {100, true};
  auto make = [&](std::string name, std::string type, std::map<std::string, std::string> params,
                  Seconds timeout) {
    StepSpec step;
    step.name = std::move(name);
    step.type = std::move(type);
    step.params = std::move(params);
    if (!system.host_root_env.empty()) step.params["root_env"] = system.host_root_env;
    step.params["restore"] = restore ? "yes" : "no";
    // A failed check is reported in the facts and the run goes on to the other backups (a host
    // whose step failed would run nothing more); ReportFromRun judges the facts.
    step.params["on_failure"] = "report";
    step.timeout = timeout;
    step.idempotent = true;
    return step;
  };
  if (!backups.database_dump.empty()) {
    auto [url, password] = system.DatabaseFor(environment.name);
    if (url.empty()) {
      return InvalidArgument(fmt::format(
          "system {} has no database in {} any more (systems.{}.database): the dump {} cannot "
          "be checked",
          system.name, environment.name, system.name, backups.database_dump));
    }
    std::map<std::string, std::string> params = {{"dump", backups.database_dump},
                                                 {"database_url", url}};
    if (IsSha256Hex(backups.database_sha256)) params["sha256"] = backups.database_sha256;
    if (restore && !backups.counts_tables.empty()) {
      params["tables"] = Join(backups.counts_tables, "\n");
      params["state_dir"] =
          backups.counts_state_dir.empty() ? system.work_dir + "/state" : backups.counts_state_dir;
      params["counts_label"] = backups.counts_label.empty() ? "deploy" : backups.counts_label;
      params["recorded_run"] = backups.run_key;
    }
    StepSpec step = make("verify-database", kDatabaseStepType, std::move(params), Seconds(3600));
    if (!password.empty()) step.secrets["PGPASSWORD"] = password;
    Phase database{"verify-database", std::nullopt, {}};
    database.one_host = true;  // the dump's host, first of the plan's hosts
    database.steps.push_back(std::move(step));
    plan.phases.push_back(std::move(database));
  }
  if (!backups.archives.empty()) {
    // One step per archive location; each host checks the SHA-256 recorded on it.
    std::vector<std::pair<std::string, std::string>> order;  // (label, location)
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> expected;
    for (const BackupSet::Archive& archive : backups.archives) {
      std::pair<std::string, std::string> key{archive.label, archive.location};
      if (!expected.contains(key)) order.push_back(key);
      expected[key].push_back(
          fmt::format("{} {}", archive.host, IsSha256Hex(archive.sha256) ? archive.sha256 : "-"));
    }
    Phase files{"verify-files", std::nullopt, {}};
    std::map<std::string, int> per_label;
    for (const auto& key : order) {
      int n = ++per_label[key.first];
      std::string name = n == 1 ? "verify-" + key.first : fmt::format("verify-{}-{}", key.first, n);
      files.steps.push_back(make(std::move(name), kFilesStepType,
                                 {{"archive", key.second}, {"expected", Join(expected[key], "\n")}},
                                 Seconds(1800)));
    }
    plan.phases.push_back(std::move(files));
  }
  return plan;
}

BackupVerificationReport ReportFromRun(const Plan& plan, const Run& run,
                                       const std::vector<StepExecution>& steps) {
  BackupVerificationReport report;
  report.run = run.id;
  report.run_state = run.state;
  report.run_message = run.message;
  report.change_request = run.change_request;
  report.environment = run.environment;
  ReportBuilder builder(report);
  std::set<std::tuple<int, int, std::string>> executed;
  for (const StepExecution* e : Latest(steps)) {
    const StepSpec* spec = SpecOf(plan, *e);
    if (spec == nullptr) continue;
    if (spec->type == kDatabaseStepType) {
      report.restore = report.restore || ParamOr(*spec, "restore", "yes") == "yes";
      builder.Database(*e, *spec);
    } else if (spec->type == kFilesStepType) {
      report.restore = report.restore || ParamOr(*spec, "restore", "yes") == "yes";
      builder.Files(*e, *spec);
    } else {
      continue;
    }
    executed.insert({e->phase, e->step, e->host});
  }
  // Verification steps that never ran where they had something to check (the run stopped
  // before them there): a one-host phase's step on no host; a files step on a host its
  // `expected` lists (or any host, without it).
  for (int p = 0; p < static_cast<int>(plan.phases.size()); ++p) {
    const Phase& phase = plan.phases[p];
    for (int s = 0; s < static_cast<int>(phase.steps.size()); ++s) {
      const StepSpec& spec = phase.steps[s];
      if (spec.type != kDatabaseStepType && spec.type != kFilesStepType) continue;
      auto ran_on = [&](const std::string& host) { return executed.contains({p, s, host}); };
      if (phase.one_host) {
        if (std::none_of(plan.hosts.begin(), plan.hosts.end(), ran_on)) builder.NotRun(spec, "");
        continue;
      }
      std::vector<std::string> due = plan.hosts;
      if (auto expected = spec.params.find("expected"); expected != spec.params.end()) {
        due.clear();
        for (const std::string& line : Split(expected->second, '\n')) {
          std::string_view text = Trim(line);
          if (!text.empty()) due.emplace_back(text.substr(0, text.find_first_of(" \t")));
        }
      }
      for (const std::string& host : due) {
        if (!ran_on(host)) builder.NotRun(spec, host);
      }
    }
  }
  builder.Finish();
  return report;
}

Evidence BackupVerifiedEvidence(const BackupVerificationReport& report, Timestamp at) {
  Evidence e;
  e.environment = report.environment;
  e.kind = kEvidenceBackupVerified;
  e.run_id = report.run;
  e.at = at;
  e.passed = report.verified;
  if (report.restore && report.rto_seconds) e.value = *report.rto_seconds;
  std::set<std::string> hosts;
  for (const BackupCheck& check : report.checks) {
    if (StartsWith(check.name, "files-") && !check.host.empty()) hosts.insert(check.host);
  }
  std::vector<std::string> counts, checksums, failed;
  for (const TableCount& count : report.counts) {
    counts.push_back(fmt::format("{}={}/{}", count.table, count.restored,
                                 count.recorded ? std::to_string(*count.recorded) : "none"));
  }
  for (const BackupCheck& check : report.checks) {
    if (!check.passed && std::find(failed.begin(), failed.end(), check.name) == failed.end()) {
      failed.push_back(check.name);
    }
    if (check.name == "database-checksum" || check.name == "files-checksum") {
      std::string state = !check.passed                            ? "differs"
                          : StartsWith(check.detail, "SHA-256 as") ? "ok"
                                                                   : "not recorded";
      checksums.push_back(fmt::format("{} {}{}", BaseName(check.target), state,
                                      check.host.empty() ? "" : " on " + check.host));
    }
  }
  std::string what;
  if (!report.database.empty()) what = "database " + BaseName(report.database);
  if (!report.files.empty()) {
    what += fmt::format("{}{} file backup(s) on {} host(s)", what.empty() ? "" : ", ",
                        report.files.size(), hosts.size());
  }
  if (!counts.empty()) what += " (record counts " + Join(counts, ", ") + ")";
  if (report.verified) {
    e.detail = report.restore
                   ? fmt::format("restore test passed in {} s (RTO): {}; scratch copies removed",
                                 report.rto_seconds ? Seconds3(*report.rto_seconds) : "?", what)
                   : fmt::format(
                         "backups readable and as recorded (pg_restore --list, tar -tzf, "
                         "SHA-256), not restored: {}",
                         what);
  } else {
    const BackupCheck* first = nullptr;
    const auto failures = std::count_if(report.checks.begin(), report.checks.end(),
                                        [](const BackupCheck& check) { return !check.passed; });
    for (const BackupCheck& check : report.checks) {
      if (!check.passed) {
        first = &check;
        break;
      }
    }
    e.detail =
        first != nullptr
            ? fmt::format(
                  "FAILED: {}{}: {}{}", first->name,
                  first->host.empty() ? "" : " on " + first->host, first->detail,
                  failures > 1 ? fmt::format(" (and {} more failed checks)", failures - 1) : "")
            : fmt::format("FAILED: run {} {}: {}", report.run, RunStateName(report.run_state),
                          report.run_message);
  }
  e.fields = {{"run", report.run},
              {"deployment_run", report.deployment_run},
              {"mode", report.restore ? "restore" : "list"},
              {"database", report.database},
              {"files", Join(report.files, " ")},
              {"counts", Join(counts, ", ")},
              {"checksums", Join(checksums, ", ")},
              {"scratch_removed", report.scratch_removed ? "yes" : "no"},
              {"failed_checks", Join(failed, ", ")}};
  if (report.database_restore_seconds) {
    e.fields["database_restore_seconds"] = Seconds3(*report.database_restore_seconds);
  }
  if (report.files_restore_seconds) {
    e.fields["files_restore_seconds"] = Seconds3(*report.files_restore_seconds);
  }
  if (report.rto_seconds) e.fields["rto_seconds"] = Seconds3(*report.rto_seconds);
  return e;
}

Result<BackupVerifier::Preparation> BackupVerifier::Prepare(const std::string& cr_id,
                                                            const std::string& environment,
                                                            bool restore) {
  Preparation prep;
  prep.restore = restore;
  prep.environment = config_.FindEnvironment(environment);
  if (prep.environment == nullptr) {
    std::vector<std::string> names;
    for (const Environment& env : config_.environments) names.push_back(env.name);
    std::string best = DidYouMean(environment, names);
    return NotFound(fmt::format("unknown environment '{}'{}", EscapeForDisplay(environment),
                                best.empty() ? "" : " (did you mean '" + best + "'?)"));
  }
  CrService crs(config_, store_, clock_, zone_);
  ASSIGN_OR_RETURN(prep.cr, crs.Get(cr_id));
  if (prep.environment->backup_verification == BackupVerification::kOff) {
    return RefusedByGate(fmt::format(
        "backup verification is off in {} (environments: {}: backup_verification: off); set it "
        "to optional or required to verify the backups there (playbook 2.4 step 3: PROD, at "
        "discretion)",
        prep.environment->name, prep.environment->name));
  }
  prep.system = config_.FindSystem(prep.cr.system);
  if (prep.system == nullptr) {
    return NotFound(fmt::format("{}: system {} is not in the configuration", cr_id,
                                EscapeForDisplay(prep.cr.system)));
  }
  DeployService deployments(config_, store_, clock_, zone_, {});
  Result<DeployService::DeploymentRecord> deployment =
      deployments.LatestDeployment(prep.cr.id, prep.environment->name);
  if (!deployment.ok()) {
    if (deployment.error().code() != StatusCode::kNotFound) return deployment.error();
    return NotFound(fmt::format("{} was never deployed to {}: there are no backups to verify",
                                prep.cr.id, prep.environment->name));
  }
  prep.backups = BackupsOfDeployment(deployment->plan, deployment->run, deployment->steps);
  if (prep.backups.empty()) {
    return NotFound(fmt::format("{}'s deployment {} to {} took no backup: nothing to verify",
                                prep.cr.id, deployment->run.id, prep.environment->name));
  }
  prep.transport = deployment->run.transport.empty() ? "ssh" : deployment->run.transport;
  ASSIGN_OR_RETURN(prep.plan, BuildBackupVerifyPlan(prep.cr.id, *prep.system, *prep.environment,
                                                    prep.backups, restore));
  return prep;
}

Result<BackupVerificationReport> BackupVerifier::Execute(const Preparation& prep,
                                                         const VerifyExecution& execution,
                                                         Evidence* evidence) {
  RETURN_IF_ERROR(ValidatePlan(prep.plan, *execution.types));
  Executor executor(store_, *execution.transport, *execution.types, clock_, *execution.sleeper,
                    execution.executor, execution.progress);
  RunTarget target{prep.cr.id, prep.system->name, prep.environment->name, prep.transport};
  ASSIGN_OR_RETURN(std::string id, executor.Create(prep.plan, target));
  if (execution.created) execution.created(id);
  auto body = [&] { return executor.Execute(id); };
  ASSIGN_OR_RETURN(Run run,
                   execution.execute_wrapper ? execution.execute_wrapper(executor, body) : body());
  std::vector<StepExecution> steps;
  RETURN_IF_ERROR(store_.Read([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(run, txn.GetRun(id));
    ASSIGN_OR_RETURN(steps, txn.ListStepExecutions(id));
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(Plan plan, PlanFromJson(run.plan_json));
  BackupVerificationReport report = ReportFromRun(plan, run, steps);
  report.change_request = prep.cr.id;
  report.environment = prep.environment->name;
  report.deployment_run = prep.backups.deployment_run;
  report.restore = prep.restore;
  Evidence recorded = BackupVerifiedEvidence(report, run.finished_at.value_or(clock_.Now()));
  recorded.recorded_by = execution.executor.actor;
  CrService crs(config_, store_, clock_, zone_);
  RETURN_IF_ERROR(crs.RecordEvidence(prep.cr.id, recorded, execution.executor.actor).status());
  if (evidence != nullptr) *evidence = std::move(recorded);
  return report;
}

}  // namespace rollgate
