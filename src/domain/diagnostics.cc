#include "domain/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "common/strings.h"

namespace rollgate {

namespace {

struct ClassName {
  FailureClass failure;
  std::string_view name;
};

constexpr std::array<ClassName, 9> kClassNames = {{
    {FailureClass::kDeploymentStep, "deployment-step-failed"},
    {FailureClass::kServiceStart, "service-wont-start"},
    {FailureClass::kMigration, "migration-failed"},
    {FailureClass::kApplicationErrors, "application-errors"},
    {FailureClass::kDependencyConflict, "dependency-conflict"},
    {FailureClass::kPerformance, "performance-degradation"},
    {FailureClass::kHighMemory, "high-memory"},
    {FailureClass::kDataIntegrity, "data-integrity"},
    {FailureClass::kDatabaseConnection, "database-connection"},
}};

// Case-insensitive search for any of `needles` in `text`; the first found, or empty.
template <typename Needles>
std::string_view FindAny(std::string_view text, const Needles& needles) {
  std::string lower = ToLower(text);
  for (std::string_view needle : needles) {
    if (lower.find(ToLower(needle)) != std::string::npos) return needle;
  }
  return {};
}
std::string_view FindAny(std::string_view text, std::initializer_list<std::string_view> needles) {
  return FindAny<std::initializer_list<std::string_view>>(text, needles);
}

constexpr std::string_view kConnectionPatterns[] = {
    "could not connect to server",
    "connection to server at",
    "is not currently accepting connections",
    "too many connections",
    "remaining connection slots are reserved",
    "the database system is starting up",
    "the database system is shutting down",
    "no pg_hba.conf entry",
    "password authentication failed",
    "server closed the connection unexpectedly",
    "no response",  // pg_isready
};

constexpr std::string_view kDependencyPatterns[] = {
    "error while loading shared libraries",
    "cannot open shared object file",
    "(required by",
    "undefined symbol",
    "modulenotfounderror",
    "no module named",
    "cannot find module",
    "glibc_",
    "version `",
};

constexpr std::string_view kMemoryPatterns[] = {
    "out of memory",  "cannot allocate memory",
    "oom-kill",       "oom_kill",
    "std::bad_alloc", "memoryerror",
    "killed process", "java.lang.outofmemoryerror",
};

constexpr std::string_view kTransientPatterns[] = {
    "connection reset",
    "connection timed out",
    "operation timed out",
    "timed out",
    "timeout expired",
    "lock timeout",
    "could not obtain lock",
    "deadlock detected",
    "resource temporarily unavailable",
    "temporarily unavailable",
    "try again",
    "text file busy",
    "broken pipe",
    "the database system is starting up",
    "the database system is shutting down",
    "remaining connection slots are reserved",
    "too many connections",
};

bool IsDatabaseStep(std::string_view type) {
  return type == "backup-postgres" || type == "postgres-migrate" || type == "data-integrity" ||
         type == "restore-postgres" || type == "schema-version";
}

bool IsVerificationStep(std::string_view type) {
  return type == "smoke-test" || type == "log-scan" || type == "http-check" ||
         type == "regression" || type == "observe";
}

bool Has(const std::vector<TriggerKind>& fired, TriggerKind kind) {
  return std::find(fired.begin(), fired.end(), kind) != fired.end();
}

void AddHost(std::vector<std::string>& hosts, const std::string& host) {
  if (host.empty()) return;
  if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
}

Diagnosis Classified(FailureClass failure, std::string reason, const FailedStep* step) {
  Diagnosis d;
  d.failure = failure;
  d.reason = std::move(reason);
  if (step != nullptr) {
    d.attempts = step->attempts;
    if (step->timed_out) {
      d.transient = true;
      d.transient_match = "the step timed out";
    } else {
      std::string match;
      if (LooksTransient(step->output, &match)) {
        d.transient = true;
        d.transient_match = match;
      }
    }
  }
  return d;
}

std::string StepLabel(const FailedStep& s) {
  return fmt::format("{}/{} ({}) on {}", s.phase, s.step, s.type, s.host);
}

// The first text number after `prefix` in `line`, if any.
std::optional<int64_t> NumberIn(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
  if (i == text.size()) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

void Keep(std::vector<std::string>& out, std::string line) {
  constexpr size_t kMaxHighlights = 8;
  constexpr size_t kMaxLine = 300;
  if (out.size() >= kMaxHighlights) return;
  line = std::string(Trim(line));
  if (line.empty()) return;
  if (line.size() > kMaxLine) line = line.substr(0, kMaxLine) + "...";
  if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(std::move(line));
}

bool MatchesAny(std::string_view line, const std::vector<std::string>& patterns) {
  std::string lower = ToLower(line);
  for (const std::string& p : patterns) {
    if (!p.empty() && lower.find(ToLower(p)) != std::string::npos) return true;
  }
  return false;
}

// df -P lines: "Filesystem 1024-blocks Used Available Capacity Mounted-on"; the volume is over
// the threshold when its free share is below min_free_disk_percent.
void DiskHighlights(std::string_view output, const HighlightContext& c,
                    std::vector<std::string>& out) {
  for (std::string_view line : Split(output, '\n')) {
    std::vector<std::string> fields;
    for (std::string_view f : Split(line, ' ')) {
      if (!f.empty()) fields.emplace_back(f);
    }
    if (fields.size() < 6 || fields[4].empty() || fields[4].back() != '%') continue;
    std::optional<int64_t> used = NumberIn(fields[4]);
    if (!used) continue;
    double free_percent = 100.0 - static_cast<double>(*used);
    if (free_percent < c.min_free_disk_percent) {
      Keep(out, fmt::format("{} ({}) is {}% full: {:.0f}% free, below the {:g}% threshold",
                            fields[5], fields[0], *used, free_percent, c.min_free_disk_percent));
    }
  }
}

void CountHighlights(std::string_view output, const HighlightContext& c,
                     std::vector<std::string>& out) {
  // Lines "rollgate-count TABLE N" printed by the record-count check.
  for (std::string_view line : Split(output, '\n')) {
    constexpr std::string_view kTag = "rollgate-count ";
    if (!StartsWith(line, kTag)) continue;
    line.remove_prefix(kTag.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::string table(line.substr(0, space));
    std::optional<int64_t> now = NumberIn(line.substr(space + 1));
    if (!now) continue;
    auto before = c.counts_before.find(table);
    if (before == c.counts_before.end()) continue;
    if (*now != before->second) {
      Keep(out, fmt::format("{}: {} rows now, {} before the deployment ({:+})", table, *now,
                            before->second, *now - before->second));
    }
  }
}

}  // namespace

std::string_view FailureClassName(FailureClass c) {
  for (const ClassName& n : kClassNames) {
    if (n.failure == c) return n.name;
  }
  return "deployment-step-failed";
}

Result<FailureClass> ParseFailureClass(std::string_view name) {
  for (const ClassName& n : kClassNames) {
    if (n.name == name) return n.failure;
  }
  std::vector<std::string> names;
  for (const ClassName& n : kClassNames) names.emplace_back(n.name);
  return InvalidArgument(fmt::format("unknown failure class '{}' (one of: {})",
                                     EscapeForDisplay(name), Join(names, ", ")));
}

std::vector<FailureClass> AllFailureClasses() {
  std::vector<FailureClass> all;
  for (const ClassName& n : kClassNames) all.push_back(n.failure);
  return all;
}

std::string_view ResolutionName(Resolution r) {
  switch (r) {
    case Resolution::kRollback:
      return "rollback";
    case Resolution::kHalt:
      return "halt";
    case Resolution::kHaltRollbackEscalate:
      return "halt-rollback-escalate";
  }
  return "rollback";
}

const DiagnosticTable& TableFor(FailureClass failure) {
  static const std::array<DiagnosticTable, 9> kTables = {{
      {FailureClass::kDeploymentStep,
       "7.1",
       "Deployment script fails",
       {{"step-output", "Check error message in output"},
        {"log-tail", "Review deployment logs (tail -100 of the log)"},
        {"permissions", "Verify file permissions (ls -la of the application)"},
        {"disk", "Verify disk space (df -h)"},
        {"ldd", "Check dependencies (ldd of the binaries)"}},
       "Retry deployment if transient error (within the retry budget); roll back if unresolvable",
       ""},
      {FailureClass::kServiceStart,
       "7.1",
       "Service won't start after patch",
       {{"step-output", "Check error message in output"},
        {"service-status", "Check service status (systemctl status)"},
        {"journal", "Review startup logs (journalctl -u SERVICE -n 100)"},
        {"config-check", "Verify configuration syntax (configured check, e.g. nginx -t)"},
        {"ports", "Check port conflicts (ss -tlnp on the service port)"},
        {"permissions", "Verify file permissions"},
        {"ldd", "Check dependencies (ldd on the binaries)"}},
       "Rollback if unresolvable",
       ""},
      {FailureClass::kMigration,
       "7.1",
       "Database migration fails",
       {{"step-output", "Check migration error (the migration's output)"},
        {"pg-ready", "Verify database connectivity (pg_isready, SELECT 1)"},
        {"pg-migrations", "Check for syntax errors and what the migration recorded"},
        {"pg-tables", "Verify required tables exist (the critical tables)"},
        {"pg-columns", "Check data type compatibility (column types of the critical tables)"}},
       "Rollback database if migration partially applied; roll back the changed nodes",
       ""},
      {FailureClass::kApplicationErrors,
       "7.2",
       "Application errors after patch",
       {{"step-output", "Check the failing check's output"},
        {"log-tail", "Check application logs (tail -200 of the error log)"},
        {"error-patterns", "Identify error pattern (API, database, configuration)"},
        {"version", "Check version compatibility (the version now deployed)"},
        {"config-files", "Verify configuration files updated"}},
       "Test with previous configuration backup (the rollback restores it); escalate to "
       "development if code issue",
       "development-lead"},
      {FailureClass::kDependencyConflict,
       "7.2",
       "Dependency conflicts",
       {{"step-output", "Check error message in output"},
        {"dependency-list", "Check dependency versions (configured listing, e.g. pip list)"},
        {"ldd", "Check for missing dependencies (ldd of the binaries)"}},
       "Escalate to development for resolution; roll back the changed nodes",
       "development-lead"},
      {FailureClass::kPerformance,
       "7.3",
       "Application slow after patch",
       {{"baseline", "Compare with baseline metrics"},
        {"resources", "Check resource utilisation (top, free -h, iostat)"},
        {"pg-activity", "Check database query performance (pg_stat_activity)"},
        {"pg-index-usage", "Verify index usage (pg_stat_user_tables)"},
        {"pg-slow-log", "Slow query logging (log_min_duration_statement; read only)"}},
       "Rollback if >20% degradation",
       ""},
      {FailureClass::kHighMemory,
       "7.3",
       "High memory usage",
       {{"step-output", "Check error message in output"},
        {"memory", "Check memory usage (free -h)"},
        {"top-memory", "Identify memory-intensive processes (ps aux --sort=-%mem | head)"},
        {"log-tail", "Check for memory leaks in logs"}},
       "Rollback if persistent (diagnostics do not restart services)",
       ""},
      {FailureClass::kDataIntegrity,
       "7.4",
       "Data inconsistency after patch",
       {{"step-output", "HALT deployment immediately; do NOT make any changes"},
        {"pg-record-counts", "Verify data with pre-deployment backup: compare record counts"},
        {"pg-referential", "Check referential integrity (constraints not validated)"}},
       "Execute ROLLBACK immediately; escalate to DBA Lead",
       "dba-lead"},
      {FailureClass::kDatabaseConnection,
       "7.4",
       "Database connection failures",
       {{"step-output", "Check error message in output"},
        {"pg-ready", "Check database status (pg_isready)"},
        {"connection-string", "Verify connection string"},
        {"pg-max-connections", "Check max connections (SHOW max_connections)"},
        {"pg-select", "Test connectivity (SELECT 1)"}},
       "Restart database if needed (escalated to the DBA Lead; diagnostics change nothing)",
       "dba-lead"},
  }};
  for (const DiagnosticTable& t : kTables) {
    if (t.failure == failure) return t;
  }
  return kTables[0];
}

bool LooksTransient(std::string_view output, std::string* match) {
  std::string_view found = FindAny(output, kTransientPatterns);
  if (found.empty()) return false;
  if (match != nullptr) *match = std::string(found);
  return true;
}

Diagnosis ClassifyFailure(const FailureFacts& facts) {
  Diagnosis d;
  const FailedStep* first = facts.failed.empty() ? nullptr : &facts.failed.front();
  auto finish = [&](Diagnosis result) {
    for (const FailedStep& s : facts.failed) AddHost(result.hosts, s.host);
    for (const std::string& h : facts.trigger_hosts) AddHost(result.hosts, h);
    return result;
  };

  // 7.4 data inconsistency: halts everything else.
  for (const FailedStep& s : facts.failed) {
    if (s.type == "data-integrity") {
      return finish(Classified(FailureClass::kDataIntegrity,
                               "the data-integrity check failed: " + StepLabel(s), &s));
    }
  }
  if (Has(facts.fired, TriggerKind::kDataIntegrity)) {
    return finish(Classified(FailureClass::kDataIntegrity,
                             "the data-integrity trigger fired (record counts or constraints)",
                             first));
  }
  // 7.4 database connection: a database step that could not reach the database.
  for (const FailedStep& s : facts.failed) {
    std::string_view match = FindAny(s.output, kConnectionPatterns);
    if (!match.empty() && (IsDatabaseStep(s.type) || s.output.find("psql") != std::string::npos ||
                           s.output.find("pg_") != std::string::npos)) {
      return finish(Classified(
          FailureClass::kDatabaseConnection,
          fmt::format("{} could not use the database: \"{}\"", StepLabel(s), match), &s));
    }
  }
  for (const FailedStep& s : facts.failed) {
    if (s.type == "postgres-migrate") {
      return finish(
          Classified(FailureClass::kMigration, "the migration failed: " + StepLabel(s), &s));
    }
  }
  for (const FailedStep& s : facts.failed) {
    std::string_view match = FindAny(s.output, kDependencyPatterns);
    if (!match.empty()) {
      return finish(Classified(FailureClass::kDependencyConflict,
                               fmt::format("{} reports a missing or incompatible dependency: "
                                           "\"{}\"",
                                           StepLabel(s), match),
                               &s));
    }
  }
  for (const FailedStep& s : facts.failed) {
    std::string_view match = FindAny(s.output, kMemoryPatterns);
    if (!match.empty() || s.exit_code == 137) {
      return finish(
          Classified(FailureClass::kHighMemory,
                     fmt::format("{} ran out of memory: \"{}\"", StepLabel(s),
                                 match.empty() ? std::string_view("killed (exit 137)") : match),
                     &s));
    }
  }
  for (const FailedStep& s : facts.failed) {
    bool start = s.type == "service";
    bool not_listening =
        s.step == "node-health" &&
        !FindAny(s.output, {"connection refused", "failed to connect", "couldn't connect"}).empty();
    if (start || not_listening) {
      return finish(Classified(FailureClass::kServiceStart,
                               start
                                   ? "the service step failed: " + StepLabel(s)
                                   : "the service does not answer after its start: " + StepLabel(s),
                               &s));
    }
  }
  if (Has(facts.fired, TriggerKind::kResponseTime)) {
    return finish(Classified(FailureClass::kPerformance,
                             "the response-time trigger fired: slower than the baseline", first));
  }
  for (const FailedStep& s : facts.failed) {
    if (IsVerificationStep(s.type)) {
      return finish(Classified(FailureClass::kApplicationErrors,
                               "a check of the running application failed: " + StepLabel(s), &s));
    }
  }
  for (TriggerKind k : {TriggerKind::kUsersAffected, TriggerKind::kAvailability,
                        TriggerKind::kSmoke, TriggerKind::kHealth}) {
    if (Has(facts.fired, k)) {
      return finish(Classified(FailureClass::kApplicationErrors,
                               "the application fails its checks after the patch", first));
    }
  }
  if (first != nullptr) {
    return finish(Classified(FailureClass::kDeploymentStep,
                             "a deployment step failed: " + StepLabel(*first), first));
  }
  d.failure = FailureClass::kDeploymentStep;
  d.reason = "no step failed and no trigger fired: the deployment tables, on request";
  return finish(d);
}

ResolutionDecision ResolutionFor(const Diagnosis& diagnosis, bool changed, int retry_budget) {
  const DiagnosticTable& table = TableFor(diagnosis.failure);
  ResolutionDecision r;
  std::string retried;
  if (diagnosis.transient) {
    int retries = std::max(0, diagnosis.attempts - 1);
    retried = fmt::format(
        "transient failure (\"{}\"): retried {} time(s) within the budget of {}, still failing; ",
        diagnosis.transient_match, retries, retry_budget);
  }
  if (diagnosis.failure == FailureClass::kDataIntegrity) {
    r.resolution = Resolution::kHaltRollbackEscalate;
    r.detail =
        "playbook 7.4: deployment halted at once and nothing more changed; record counts "
        "compared with the pre-deployment figures; rollback executed immediately; escalated to "
        "the DBA Lead";
    return r;
  }
  if (!changed) {
    r.resolution = Resolution::kHalt;
    r.detail = retried + fmt::format(
                             "nothing was changed on any node: halted, the environment is as it "
                             "was (playbook {}: {})",
                             table.section, table.resolution);
    return r;
  }
  r.resolution = Resolution::kRollback;
  r.detail = retried + fmt::format("playbook {}: {}", table.section, table.resolution);
  return r;
}

std::vector<std::string> Highlights(std::string_view check, std::string_view output,
                                    const HighlightContext& context) {
  std::vector<std::string> out;
  if (check == "disk") {
    DiskHighlights(output, context, out);
    return out;
  }
  if (check == "pg-record-counts") {
    CountHighlights(output, context, out);
    for (std::string_view line : Split(output, '\n')) {
      if (!FindAny(line, {"error", "fatal"}).empty()) Keep(out, std::string(line));
    }
    return out;
  }
  if (check == "ldd") {
    for (std::string_view line : Split(output, '\n')) {
      if (!FindAny(line, {"not found", "not a dynamic executable", "no such file"}).empty()) {
        Keep(out, std::string(line));
      }
    }
    return out;
  }
  if (check == "ports") {
    for (std::string_view line : Split(output, '\n')) {
      // "rollgate-port-held PORT WHO" (the ports check, when the service is not running).
      constexpr std::string_view kTag = "rollgate-port-held ";
      if (!StartsWith(line, kTag)) continue;
      std::string_view rest = line.substr(kTag.size());
      size_t space = rest.find(' ');
      std::string_view port = rest.substr(0, space);
      std::string_view who = space == std::string_view::npos ? "" : rest.substr(space + 1);
      Keep(out, fmt::format("port {} is held by another process: {}", port, who));
    }
    return out;
  }
  if (check == "pg-referential") {
    for (std::string_view line : Split(output, '\n')) {
      if (StartsWith(line, "rollgate-unvalidated ")) {
        Keep(out, fmt::format("constraint not validated: {}",
                              line.substr(std::string_view("rollgate-unvalidated ").size())));
      } else if (!FindAny(line, {"error", "fatal"}).empty()) {
        Keep(out, std::string(line));
      }
    }
    return out;
  }
  if (check == "pg-ready") {
    for (std::string_view line : Split(output, '\n')) {
      if (!FindAny(line, {"no response", "rejecting connections", "no attempt"}).empty() ||
          !FindAny(line, kConnectionPatterns).empty() ||
          !FindAny(line, {"error", "fatal"}).empty()) {
        Keep(out, std::string(line));
      }
    }
    return out;
  }
  // Everything else: the lines naming an error.
  std::vector<std::string> patterns = context.error_patterns;
  for (const char* extra :
       {"error", "fatal", "failed", "denied", "refused", "not found", "address already in use",
        "syntax error", "out of memory", "cannot", "could not", "degraded", "slower"}) {
    patterns.emplace_back(extra);
  }
  for (std::string_view line : Split(output, '\n')) {
    if (StartsWith(line, "rollgate-fact ")) continue;
    if (MatchesAny(line, patterns)) Keep(out, std::string(line));
  }
  return out;
}

std::string DiagnosisSummary(const DiagnosticReport& report) {
  const DiagnosticTable& table = TableFor(report.failure);
  return fmt::format("playbook {} {} on {}: resolution {}", table.section, table.issue,
                     report.hosts.empty() ? std::string("no host") : Join(report.hosts, ", "),
                     report.resolution);
}

Message DiagnosisMessage(const DiagnosticReport& report, const std::string& change_request,
                         const std::string& environment) {
  const DiagnosticTable& table = TableFor(report.failure);
  Message m;
  m.subject = fmt::format("[DIAGNOSED] {} {}: {} (playbook {})", change_request, environment,
                          table.issue, table.section);
  std::string body;
  body += fmt::format("Run: {}\n", report.run_id);
  body += fmt::format("Issue: {} (playbook {})\n", table.issue, table.section);
  body += fmt::format("Why: {}\n", report.reason);
  body += fmt::format("Resolution: {}: {}\n", report.resolution, report.resolution_detail);
  if (!table.escalate_to.empty()) {
    body += fmt::format("Escalated to: {}\n", table.escalate_to);
  }
  for (const std::string& host : report.hosts) {
    body += fmt::format("\n{}:\n", host);
    bool any = false;
    for (const DiagnosticResult& r : report.results) {
      if (r.host != host || r.highlights.empty()) continue;
      any = true;
      for (const std::string& line : r.highlights) {
        body += fmt::format("  [{}] {}\n", r.check, line);
      }
    }
    if (!any) body += "  nothing stood out; see the full output\n";
  }
  body += fmt::format("\nEvery check's output: rollgate run show {}\n", report.run_id);
  m.body = std::move(body);
  return m;
}

}  // namespace rollgate
