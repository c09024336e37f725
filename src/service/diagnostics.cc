#include "service/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "common/strings.h"
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"

namespace rollgate {

namespace {

constexpr size_t kOutputLimit = size_t{16} * 1024;

// $R: the host's root prefix (empty on real hosts; lab hosts live in a directory), as the step
// scripts have it (engine/steps/script_step.h).
constexpr std::string_view kPrelude = R"sh(set -u
R=""
if [ -n "${RG_ROOT_ENV:-}" ]; then R=$(printenv "$RG_ROOT_ENV" || true); fi
)sh";

// Every database check: read-only sessions with a statement timeout, after kPostgresScript.
constexpr std::string_view kPostgresReadOnly = R"sh(if [ -z "${RG_DATABASE_URL:-}" ]; then
  echo "no database configured for this environment (systems[].database)"
  exit 0
fi
PGOPTIONS="${PGOPTIONS:-} -c default_transaction_read_only=on -c statement_timeout=15000"
export PGOPTIONS
tables=$(printf '%s\n' "${RG_TABLES:-}" | tr -d ' \t\r' | grep -v '^$' | tr '\n' ' ')
tables=${tables% }
)sh";

struct Script {
  std::string_view id;
  std::string_view command;  // for people
  bool database = false;
  std::string_view body;
};

constexpr Script kScripts[] = {
    {"log-tail", "tail -n N LOG_FILE", false, R"sh(if [ -z "${RG_LOG_FILE:-}" ]; then
  echo "no log file configured (systems[].logs.file)"
  exit 0
fi
f="$R$RG_LOG_FILE"
[ -r "$f" ] || { echo "cannot read $RG_LOG_FILE"; exit 2; }
echo "== tail -n ${RG_LINES:-100} $RG_LOG_FILE"
tail -n "${RG_LINES:-100}" "$f"
)sh"},
    {"permissions", "ls -la APP_DIR CONFIG_DIR", false, R"sh(rc=0
for d in "${RG_APP_DIR:-}" "${RG_CONFIG_DIR:-}"; do
  [ -n "$d" ] || continue
  echo "== ls -la $d"
  ls -la "$R$d" 2>&1 || rc=$?
done
exit $rc
)sh"},
    {"disk", "df -hP APP_DIR WORK_DIR BACKUP_DIR", false, R"sh(set --
for p in "${RG_APP_DIR:-}" "${RG_WORK_DIR:-}" "${RG_BACKUP_DIR:-}"; do
  if [ -n "$p" ] && [ -e "$R$p" ]; then set -- "$@" "$R$p"; fi
done
[ $# -gt 0 ] || set -- /
df -hP "$@"
)sh"},
    {"ldd", "ldd BINARY...", false, R"sh(set -f
list=$(printf '%s\n' "${RG_BINARIES:-}" | grep -v '^$' | sed "s|^|$R|" || true)
if [ -z "$list" ] && [ -n "${RG_APP_DIR:-}" ] && [ -d "$R$RG_APP_DIR" ]; then
  list=$(find "$R$RG_APP_DIR" -maxdepth 2 -type f -perm -u+x 2>/dev/null | sort | head -n 20)
fi
if [ -z "$list" ]; then
  echo "no binaries to check (systems[].diagnostics.binaries)"
  exit 0
fi
old_ifs=$IFS
IFS='
'
for b in $list; do
  IFS=$old_ifs
  case $(head -c 4 "$b" 2>/dev/null | od -An -c | tr -d ' ') in
    177ELF) ;;
    *) echo "$b: not an ELF binary (skipped)"; continue ;;
  esac
  echo "$b:"
  ldd "$b" 2>&1
done
exit 0
)sh"},
    {"service-status", "systemctl status SERVICE (or the status command)", false,
     R"sh(case "${RG_MANAGER:-systemd}" in
  systemd) systemctl status --no-pager -n 20 -- "$RG_SERVICE" 2>&1 ;;
  *)
    if [ -z "${RG_STATUS_COMMAND:-}" ]; then
      echo "no status command configured (systems[].service.status)"
      exit 0
    fi
    sh -c "$RG_STATUS_COMMAND" 2>&1 ;;
esac
)sh"},
    {"journal", "journalctl -u SERVICE -n 100 (or the end of the service's log)", false,
     R"sh(case "${RG_MANAGER:-systemd}" in
  systemd) journalctl -u "$RG_SERVICE" -n 100 --no-pager 2>&1 ;;
  *)
    echo "the command service manager keeps no journal: the end of the service's log instead"
    if [ -n "${RG_LOG_FILE:-}" ] && [ -r "$R$RG_LOG_FILE" ]; then tail -n 100 "$R$RG_LOG_FILE"; fi
    exit 0 ;;
esac
)sh"},
    {"config-check", "the configured configuration check (e.g. nginx -t)", false,
     R"sh(if [ -z "${RG_CONFIG_CHECK:-}" ]; then
  echo "no configuration check configured (systems[].diagnostics.config_check, e.g. nginx -t)"
  exit 0
fi
sh -c "$RG_CONFIG_CHECK" 2>&1
)sh"},
    {"ports", "ss -Htlnp '( sport = :PORT )'", false, R"sh(running=no
case "${RG_MANAGER:-systemd}" in
  systemd) if systemctl is-active --quiet -- "$RG_SERVICE" 2>/dev/null; then running=yes; fi ;;
  *)
    if [ -n "${RG_STATUS_COMMAND:-}" ] && sh -c "$RG_STATUS_COMMAND" >/dev/null 2>&1; then
      running=yes
    fi ;;
esac
echo "service running: $running"
for port in ${RG_PORTS:-}; do
  case $port in '' | *[!0-9]*) continue ;; esac
  echo "== ss -Htlnp '( sport = :$port )'"
  lines=$(ss -Htlnp "( sport = :$port )" 2>&1) || { echo "$lines"; continue; }
  [ -n "$lines" ] || { echo "nothing listens on port $port"; continue; }
  printf '%s\n' "$lines" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    addr=$(printf '%s\n' "$line" | awk '{ print $4 }')
    if [ -n "${RG_HOST_ADDR:-}" ]; then
      case "$addr" in
        "$RG_HOST_ADDR:$port" | "0.0.0.0:$port" | "*:$port" | "[::]:$port") ;;
        *) continue ;;
      esac
    fi
    echo "$line"
    if [ "$running" = no ]; then
      who=$(printf '%s\n' "$line" | awk '{ for (i = 6; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : "") }')
      echo "rollgate-port-held $port ${who:-(process not visible to this user)}"
    fi
  done
done
)sh"},
    {"memory", "free -h", false, "free -h\n"},
    {"top-memory", "ps aux --sort=-%mem | head -n 11", false, "ps aux --sort=-%mem | head -n 11\n"},
    {"resources", "top -b -n 1; free -h; iostat -x", false, R"sh(echo "== top -b -n 1"
top -b -n 1 2>&1 | head -n 15
echo "== free -h"
free -h
if command -v iostat >/dev/null 2>&1; then
  echo "== iostat -x 1 2"
  iostat -x 1 2 2>&1 | tail -n 20
else
  echo "iostat: not installed (Debian package sysstat)"
fi
)sh"},
    {"error-patterns", "grep -c -i PATTERN LOG_FILE (last 2000 lines)", false,
     R"sh(if [ -z "${RG_LOG_FILE:-}" ] || [ ! -r "$R$RG_LOG_FILE" ]; then
  echo "no readable log file (systems[].logs.file)"
  exit 0
fi
f="$R$RG_LOG_FILE"
errors=$(tail -n 2000 "$f" | awk 'BEGIN { n = split(tolower(ENVIRON["RG_ERROR_PATTERNS"]), p, "\n") }
  { l = tolower($0); for (i = 1; i <= n; i++) if (p[i] != "" && index(l, p[i])) { print; next } }')
printf '%s\n' "${RG_ERROR_PATTERNS:-}" | while IFS= read -r p; do
  [ -n "$p" ] || continue
  n=$(tail -n 2000 "$f" | grep -c -i -F -- "$p" || true)
  echo "pattern \"$p\": $n of the last 2000 lines"
done
echo "== error lines by kind"
printf '%s\n' "$errors" | awk 'NF {
    l = tolower($0)
    if (l ~ /sql|database|postgres|psql|deadlock|connection to server/) d++
    else if (l ~ /config|setting|option|yaml|parameter/) c++
    else if (l ~ /get |post |put |delete |http|api|\/[a-z]/) a++
    else o++
  }
  END { printf "api %d\ndatabase %d\nconfiguration %d\nother %d\n", a, d, c, o }'
echo "== the last error lines"
printf '%s\n' "$errors" | tail -n 10
)sh"},
    {"version", "cat APP_DIR/VERSION; ls -la APP_DIR", false,
     R"sh(if [ -r "$R$RG_APP_DIR/VERSION" ]; then
  echo "deployed version: $(cat "$R$RG_APP_DIR/VERSION")"
else
  echo "no VERSION file in $RG_APP_DIR"
fi
ls -la --time-style=full-iso "$R$RG_APP_DIR" 2>&1 | head -n 30
)sh"},
    {"config-files", "ls -la --time-style=full-iso CONFIG_DIR", false,
     R"sh(if [ -z "${RG_CONFIG_DIR:-}" ]; then echo "no configuration directory"; exit 0; fi
ls -la --time-style=full-iso "$R$RG_CONFIG_DIR" 2>&1
)sh"},
    {"dependency-list", "the configured dependency listing (e.g. pip list)", false,
     R"sh(if [ -z "${RG_DEPENDENCY_COMMAND:-}" ]; then
  echo "no dependency listing configured (systems[].diagnostics.dependency_command, e.g. pip list)"
  exit 0
fi
sh -c "$RG_DEPENDENCY_COMMAND" 2>&1 | head -n 300
)sh"},
    {"pg-ready", "pg_isready; psql -c 'SELECT 1'", true, R"sh(echo "== pg_isready"
pg_isready -d "$url" 2>&1
rc=$?
echo "== SELECT 1"
sql -c 'SELECT 1' 2>&1 || rc=$?
exit $rc
)sh"},
    {"pg-select", "psql -c 'SELECT 1'", true, "sql -c 'SELECT 1' 2>&1\n"},
    {"pg-max-connections", "psql -c 'SHOW max_connections'", true, R"sh(sql 2>&1 <<'SQL'
SELECT 'max_connections ' || current_setting('max_connections');
SELECT 'connections ' || count(*) FROM pg_stat_activity;
SELECT 'connections to this database ' || count(*) FROM pg_stat_activity
 WHERE datname = current_database();
SQL
)sh"},
    {"pg-migrations", "psql: SELECT version FROM schema_migrations", true, R"sh(sql 2>&1 <<'SQL'
SELECT to_regclass('schema_migrations') IS NOT NULL AS rollgate_has_table \gset
\if :rollgate_has_table
SELECT 'recorded ' || version FROM schema_migrations ORDER BY version;
\else
SELECT 'no schema_migrations table';
\endif
SQL
)sh"},
    {"pg-tables", "psql: the critical tables exist", true, R"sh(if [ -z "$tables" ]; then
  echo "no critical tables configured (systems[].critical_tables)"
  exit 0
fi
sql -v tables="$tables" 2>&1 <<'SQL'
SELECT 'table ' || t || CASE WHEN to_regclass(quote_ident(t)) IS NULL THEN ' MISSING'
                             ELSE ' present' END
  FROM unnest(string_to_array(:'tables', ' ')) WITH ORDINALITY AS u(t, n) ORDER BY n;
SQL
)sh"},
    {"pg-columns", "psql: information_schema.columns of the critical tables", true,
     R"sh(if [ -z "$tables" ]; then
  echo "no critical tables configured (systems[].critical_tables)"
  exit 0
fi
sql -v tables="$tables" 2>&1 <<'SQL'
SELECT table_name || '.' || column_name || ' ' || data_type ||
       CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END
  FROM information_schema.columns
 WHERE table_schema = current_schema() AND table_name = ANY (string_to_array(:'tables', ' '))
 ORDER BY table_name, ordinal_position;
SQL
)sh"},
    {"pg-record-counts", "psql: SELECT count(*) of the critical tables", true,
     R"sh(if [ -z "$tables" ]; then
  echo "no critical tables configured (systems[].critical_tables)"
  exit 0
fi
sql -v tables="$tables" 2>&1 <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT 'rollgate-count ' || t || ' ' ||
       CASE WHEN to_regclass(quote_ident(t)) IS NULL THEN -1
            ELSE (xpath('/row/c/text()',
                        query_to_xml(format('SELECT count(*) AS c FROM %I', t), false, true, '')
                       ))[1]::text::bigint
       END
  FROM unnest(string_to_array(:'tables', ' ')) WITH ORDINALITY AS u(t, n) ORDER BY n;
COMMIT;
SQL
)sh"},
    {"pg-referential", "psql: pg_constraint (not validated, foreign keys)", true,
     R"sh(sql -v tables="$tables" 2>&1 <<'SQL'
SELECT 'rollgate-unvalidated ' || conrelid::regclass::text || '.' || quote_ident(conname)
  FROM pg_constraint WHERE NOT convalidated ORDER BY 1 LIMIT 20;
SELECT 'constraints not validated: ' || count(*) FROM pg_constraint WHERE NOT convalidated;
SELECT 'foreign key ' || conrelid::regclass::text || ' -> ' || confrelid::regclass::text ||
       ' (' || conname || ')'
  FROM pg_constraint
 WHERE contype = 'f' AND conrelid::regclass::text = ANY (string_to_array(:'tables', ' '))
 ORDER BY 1 LIMIT 50;
SQL
)sh"},
    {"pg-activity", "psql: pg_stat_activity (queries running)", true, R"sh(sql 2>&1 <<'SQL'
SELECT pid || ' ' || coalesce(state, '') || ' ' ||
       coalesce(extract(epoch FROM now() - query_start)::int::text, '?') || 's ' ||
       left(regexp_replace(query, '\s+', ' ', 'g'), 120)
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'
 ORDER BY query_start NULLS LAST LIMIT 10;
SELECT 'queries running: ' || count(*) FROM pg_stat_activity
 WHERE pid <> pg_backend_pid() AND state = 'active';
SQL
)sh"},
    {"pg-index-usage", "psql: pg_stat_user_tables (seq_scan, idx_scan)", true,
     R"sh(if [ -z "$tables" ]; then
  echo "no critical tables configured (systems[].critical_tables)"
  exit 0
fi
sql -v tables="$tables" 2>&1 <<'SQL'
SELECT relname || ': seq_scan ' || seq_scan || ', idx_scan ' || coalesce(idx_scan, 0) ||
       ', live rows ' || n_live_tup
  FROM pg_stat_user_tables WHERE relname = ANY (string_to_array(:'tables', ' '))
 ORDER BY relname;
SQL
)sh"},
    {"pg-slow-log", "psql: SHOW log_min_duration_statement", true, R"sh(sql 2>&1 <<'SQL'
SELECT 'log_min_duration_statement ' || current_setting('log_min_duration_statement');
SQL
rc=$?
echo "(diagnostics change nothing: enable slow query logging with ALTER SYSTEM if it is off)"
exit $rc
)sh"},
};

const Script* FindScript(std::string_view id) {
  for (const Script& s : kScripts) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool IsIpv4(std::string_view text) {
  int dots = 0;
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

std::optional<double> FactNumber(const std::map<std::string, std::string>& facts,
                                 const std::string& key) {
  auto it = facts.find(key);
  if (it == facts.end()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

struct HostRecord {
  std::string failed_output;  // the failed steps' output on this host
  int failed_exit = 0;
  bool any_failed = false;
  std::map<std::string, std::string> metrics;  // facts of the metrics steps
};

// The latest attempt of every (phase, step, host).
std::vector<const StepExecution*> LatestAttempts(const std::vector<StepExecution>& steps) {
  std::map<std::tuple<int, int, std::string>, const StepExecution*> latest;
  for (const StepExecution& e : steps) {
    auto& slot = latest[{e.phase, e.step, e.host}];
    if (slot == nullptr || e.attempt >= slot->attempt) slot = &e;
  }
  std::vector<const StepExecution*> out;
  for (const auto& [key, e] : latest) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const StepExecution* a, const StepExecution* b) {
    return std::tie(a->phase, a->step, a->host) < std::tie(b->phase, b->step, b->host);
  });
  return out;
}

const StepSpec* SpecOf(const Plan& plan, const StepExecution& e) {
  if (e.phase < 0 || e.phase >= static_cast<int>(plan.phases.size())) return nullptr;
  const Phase& phase = plan.phases[e.phase];
  if (e.step < 0 || e.step >= static_cast<int>(phase.steps.size())) return nullptr;
  return &phase.steps[e.step];
}

std::string WithoutFacts(std::string_view output) {
  std::string out;
  for (std::string_view line : Split(output, '\n')) {
    if (StartsWith(line, "rollgate-fact ")) continue;
    out += line;
    out += '\n';
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

Result<int64_t> StoreDiagnosticReport(Store& store, const DiagnosticReport& report) {
  int64_t id = 0;
  RETURN_IF_ERROR(store.Write([&](Transaction& txn) -> Status {
    ASSIGN_OR_RETURN(id, txn.AddDiagnosticReport(report));
    nlohmann::json details = {{"report", id},
                              {"failure", FailureClassName(report.failure)},
                              {"resolution", report.resolution},
                              {"hosts", report.hosts},
                              {"automatic", report.automatic}};
    return txn
        .AppendAudit(
            {report.at, report.requested_by, "run.diagnosed", report.run_id, details.dump()})
        .status();
  }));
  return id;
}

Evidence DiagnosisEvidence(const DiagnosticReport& report, const std::string& environment) {
  Evidence e;
  e.environment = environment;
  e.kind = kEvidenceDiagnosis;
  e.passed = false;
  e.detail = DiagnosisSummary(report);
  e.run_id = report.run_id;
  std::vector<std::string> highlights;
  for (const DiagnosticResult& r : report.results) {
    for (const std::string& line : r.highlights) {
      if (highlights.size() < 5) highlights.push_back(r.host + " " + r.check + ": " + line);
    }
  }
  e.fields = {{"failure", std::string(FailureClassName(report.failure))},
              {"resolution", report.resolution},
              {"resolution_detail", report.resolution_detail},
              {"run", report.run_id},
              {"report", std::to_string(report.id)},
              {"hosts", Join(report.hosts, ", ")},
              {"highlights", Join(highlights, "; ")}};
  return e;
}

std::string DiagnosticScript(std::string_view check) {
  const Script* s = FindScript(check);
  return s == nullptr ? std::string() : std::string(s->body);
}

std::vector<int> PortsNamedIn(std::string_view output) {
  std::vector<int> ports;
  for (std::string_view line : Split(output, '\n')) {
    std::string lower = ToLower(line);
    bool about_ports = lower.find("in use") != std::string::npos ||
                       lower.find("cannot listen") != std::string::npos ||
                       lower.find("bind") != std::string::npos;
    if (!about_ports) continue;
    for (size_t i = 0; i < lower.size(); ++i) {
      bool colon = lower[i] == ':';
      bool word = lower.compare(i, 5, "port ") == 0;
      if (!colon && !word) continue;
      size_t start = i + (colon ? 1 : 5);
      size_t end = start;
      while (end < lower.size() && lower[end] >= '0' && lower[end] <= '9') ++end;
      if (end == start || end - start > 5) continue;
      // Part of an address ("10.0.0.1"), not a port.
      if (end < lower.size() && lower[end] == '.') continue;
      int port = 0;
      std::from_chars(lower.data() + start, lower.data() + end, port);
      if (port > 0 && port <= 65535 && std::find(ports.begin(), ports.end(), port) == ports.end()) {
        ports.push_back(port);
      }
    }
  }
  return ports;
}

FailureFacts FailureFactsFromRun(const Plan& plan, const std::vector<StepExecution>& steps,
                                 const std::vector<TriggerFiring>& fired) {
  FailureFacts facts;
  bool has_rollout = false;
  for (const Phase& phase : plan.phases) has_rollout = has_rollout || phase.name == "rollout";
  std::map<std::tuple<int, int, std::string>, int> attempts;
  for (const StepExecution& e : steps) {
    int& n = attempts[{e.phase, e.step, e.host}];
    n = std::max(n, e.attempt);
  }
  for (const StepExecution* e : LatestAttempts(steps)) {
    const StepSpec* spec = SpecOf(plan, *e);
    if (spec == nullptr) continue;
    const std::string& phase = plan.phases[e->phase].name;
    if (e->state == StepState::kSucceeded) {
      if (has_rollout ? spec->name == "backup-app" : phase != "readiness") facts.changed = true;
      continue;
    }
    if (e->state != StepState::kFailed && e->state != StepState::kUnknown) continue;
    FailedStep s;
    s.phase = phase;
    s.step = spec->name;
    s.type = spec->type;
    s.host = e->host;
    s.exit_code = e->exit_code.value_or(-1);
    s.timed_out = e->evidence.find("timed out") != std::string::npos;
    s.output = e->output_tail;
    s.attempts = attempts[{e->phase, e->step, e->host}];
    s.changed_node = phase == "rollout";
    facts.failed.push_back(std::move(s));
  }
  // In the plan's order of phases.
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < plan.phases.size(); ++i) order.emplace(plan.phases[i].name, i);
  std::stable_sort(
      facts.failed.begin(), facts.failed.end(),
      [&](const FailedStep& a, const FailedStep& b) { return order[a.phase] < order[b.phase]; });
  for (const TriggerFiring& f : fired) {
    facts.fired.push_back(f.kind);
    if (!f.host.empty()) facts.trigger_hosts.push_back(f.host);
  }
  return facts;
}

Result<DiagnosticReport> Diagnostician::Diagnose(const Run& run, const Plan& plan,
                                                 const std::vector<StepExecution>& steps,
                                                 const DiagnoseRequest& request) const {
  if (request.system == nullptr || request.environment == nullptr) {
    return InvalidArgument("diagnostics need the run's system and environment");
  }
  const System& system = *request.system;
  const Environment& env = *request.environment;
  FailureFacts facts = FailureFactsFromRun(plan, steps, request.fired);
  Diagnosis diagnosis = ClassifyFailure(facts);
  if (request.failure) {
    diagnosis.failure = *request.failure;
    diagnosis.reason = fmt::format("table {} chosen by {}", FailureClassName(*request.failure),
                                   request.requested_by);
  }
  std::vector<std::string> hosts = diagnosis.hosts;
  if (hosts.empty()) hosts = plan.hosts;
  if (request.host) {
    if (std::find(plan.hosts.begin(), plan.hosts.end(), *request.host) == plan.hosts.end()) {
      return InvalidArgument(fmt::format("{} is not a host of run {} (its hosts: {})",
                                         EscapeForDisplay(*request.host), run.id,
                                         Join(plan.hosts, ", ")));
    }
    hosts = {*request.host};
  }
  const DiagnosticTable& table = TableFor(diagnosis.failure);
  ResolutionDecision resolution =
      ResolutionFor(diagnosis, facts.changed, env.thresholds.transient_retries);

  // What the record says per host.
  std::map<std::string, HostRecord> record;
  std::map<std::string, int64_t> counts_before;
  std::vector<int> ports;
  if (system.port > 0) ports.push_back(system.port);
  for (const StepExecution* e : LatestAttempts(steps)) {
    const StepSpec* spec = SpecOf(plan, *e);
    if (spec == nullptr) continue;
    HostRecord& host = record[e->host];
    if (e->state == StepState::kFailed || e->state == StepState::kUnknown) {
      std::string text = WithoutFacts(e->output_tail);
      host.failed_output += fmt::format(
          "== {} (attempt {}, {}{})\n{}\n", e->step_name, e->attempt, StepStateName(e->state),
          e->exit_code ? fmt::format(", exit {}", *e->exit_code) : std::string(), text);
      if (!host.any_failed) host.failed_exit = e->exit_code.value_or(-1);
      host.any_failed = true;
      for (int port : PortsNamedIn(e->output_tail)) {
        if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
      }
    }
    auto step_facts = ParseFacts(e->output_tail);
    if (spec->type == "metrics") {
      for (const auto& [key, value] : step_facts) host.metrics[key] = value;
    }
    if (spec->name == "integrity-before") {
      for (const auto& [key, value] : step_facts) {
        if (!StartsWith(key, "count.")) continue;
        if (auto n = FactNumber(step_facts, key)) {
          counts_before[key.substr(6)] = static_cast<int64_t>(*n);
        }
      }
    }
  }

  HighlightContext context;
  context.error_patterns = system.error_patterns;
  context.min_free_disk_percent = env.thresholds.min_free_disk_percent;
  context.port = system.port;
  context.counts_before = counts_before;

  // Plain variables, not a structured binding: the lambda below captures them.
  const std::pair<std::string, std::string> database = system.DatabaseFor(env.name);
  const std::string& database_url = database.first;
  const std::string& password_reference = database.second;
  std::optional<std::string> password;
  std::string password_problem;
  if (!password_reference.empty()) {
    Result<std::string> value = ResolveSecret(password_reference);
    if (value.ok()) {
      password = *value;
    } else {
      password_problem = value.error().message();
    }
  }
  for (const std::string& host : hosts) record[host];  // the threads below only read it
  std::string ports_text;
  for (int port : ports) ports_text += (ports_text.empty() ? "" : " ") + std::to_string(port);

  auto run_host = [&](const std::string& host_text) {
    std::vector<DiagnosticResult> results;
    Result<HostAddress> address = ParseHostAddress(host_text);
    std::string unreachable;
    for (const DiagnosticCheck& check : table.checks) {
      DiagnosticResult r;
      r.host = host_text;
      r.check = check.id;
      r.title = check.title;
      r.started = clock_.Now();
      const HostRecord& here = record.at(host_text);
      if (check.id == "step-output") {
        r.command = "the failed step's output (from the run's record)";
        r.output = here.any_failed ? here.failed_output : "no step failed on this host";
        if (here.any_failed) r.exit_code = here.failed_exit;
      } else if (check.id == "baseline") {
        r.command = "the metrics step's baseline and measurement (from the run's record)";
        auto number = [&](const char* key) { return FactNumber(here.metrics, key); };
        std::optional<double> baseline = number("baseline_ms");
        std::optional<double> median = number("median_ms");
        std::optional<double> degradation = number("degradation_percent");
        if (!baseline && !median) {
          r.output = "no metrics were measured on this host";
        } else {
          r.output = fmt::format(
              "baseline median {} ms, after the deployment {} ms{}",
              baseline ? fmt::format("{:g}", *baseline) : "?",
              median ? fmt::format("{:g}", *median) : "?",
              degradation ? fmt::format(": {:.1f}% slower (threshold {:g}%)", *degradation,
                                        env.thresholds.max_performance_degradation_percent)
                          : std::string());
          if (degradation && *degradation > env.thresholds.max_performance_degradation_percent) {
            r.highlights.push_back(
                fmt::format("{:.1f}% slower than the baseline, over the {:g}% threshold",
                            *degradation, env.thresholds.max_performance_degradation_percent));
          }
        }
      } else if (check.id == "connection-string") {
        r.command = "the environment's database URL (from the configuration)";
        if (database_url.empty()) {
          r.output = "no database configured for this environment";
        } else {
          r.output =
              fmt::format("{}\npassword: {}", database_url,
                          password_reference.empty() ? std::string("none given (peer or .pgpass)")
                          : password_problem.empty()
                              ? std::string("from a secret reference (read)")
                              : "from a secret reference that cannot be read: " + password_problem);
          if (!password_problem.empty()) {
            r.highlights.push_back("the database password cannot be read: " + password_problem);
          }
        }
      } else if (const Script* script = FindScript(check.id); script == nullptr) {
        r.command = "unknown check";
        r.output = "this build has no script for check " + check.id;
      } else if (!address.ok()) {
        r.command = std::string(script->command);
        r.output = "not run: " + address.error().message();
      } else if (!unreachable.empty()) {
        r.command = std::string(script->command);
        r.output = "not run: " + unreachable;
      } else if (script->database && !password_problem.empty()) {
        r.command = std::string(script->command);
        r.output = "not run: the database password cannot be read: " + password_problem;
        r.highlights.push_back(r.output);
      } else {
        r.command = std::string(script->command);
        CommandSpec spec;
        std::string text(kPrelude);
        if (script->database) {
          text += kPostgresScript;
          text += kPostgresReadOnly;
        }
        text += script->body;
        spec.argv = {"sh", "-c", text, "rollgate-diagnose"};
        spec.timeout = env.thresholds.diagnostics_timeout;
        spec.output_limit = kOutputLimit;
        spec.env = {
            {"ROLLGATE_RUN", run.id},
            {"ROLLGATE_HOST", host_text},
            {"ROLLGATE_HOST_NAME", address->name},
            {"RG_APP_DIR", system.app_dir},
            {"RG_CONFIG_DIR", system.config_dir},
            {"RG_LOG_FILE", system.log_file},
            {"RG_WORK_DIR", system.work_dir},
            {"RG_BACKUP_DIR", system.backup_dir.empty() ? "/var/backups/rollgate/" + system.name
                                                        : system.backup_dir},
            {"RG_SERVICE", system.service},
            {"RG_MANAGER", system.service_manager},
            {"RG_STATUS_COMMAND", system.status_command},
            {"RG_PORTS", ports_text},
            {"RG_HOST_ADDR", IsIpv4(address->name) ? address->name : ""},
            {"RG_BINARIES", Join(system.diagnostics.binaries, "\n")},
            {"RG_CONFIG_CHECK", system.diagnostics.config_check},
            {"RG_DEPENDENCY_COMMAND", system.diagnostics.dependency_command},
            {"RG_DATABASE_URL", database_url},
            {"RG_TABLES", Join(system.critical_tables, "\n")},
            {"RG_ERROR_PATTERNS", Join(system.error_patterns, "\n")},
            {"RG_LINES", diagnosis.failure == FailureClass::kApplicationErrors ? "200" : "100"}};
        if (!system.host_root_env.empty()) spec.env["RG_ROOT_ENV"] = system.host_root_env;
        if (script->database && password) spec.secret_env["PGPASSWORD"] = *password;
        Result<CommandResult> result = transport_.Run(*address, spec);
        if (!result.ok()) {
          unreachable = result.error().message();
          r.output = "not run: " + unreachable;
          r.highlights.push_back(r.output);
        } else {
          r.exit_code = result->exit_code;
          r.timed_out = result->timed_out;
          r.truncated = result->output_truncated;
          r.output = result->output_tail;
          if (result->timed_out) {
            r.output += fmt::format("\n(stopped after {})",
                                    FormatDuration(env.thresholds.diagnostics_timeout));
          }
        }
      }
      // Stored text is UTF-8; output is whatever the host printed.
      if (!IsValidUtf8(r.output)) {
        for (char& c : r.output) {
          if (static_cast<unsigned char>(c) >= 0x80) c = '?';
        }
      }
      for (std::string& line : Highlights(check.id, r.output, context)) {
        if (std::find(r.highlights.begin(), r.highlights.end(), line) == r.highlights.end()) {
          r.highlights.push_back(std::move(line));
        }
      }
      r.finished = clock_.Now();
      results.push_back(std::move(r));
    }
    return results;
  };

  std::vector<std::future<std::vector<DiagnosticResult>>> running;
  running.reserve(hosts.size());
  for (const std::string& host : hosts) {
    running.push_back(std::async(std::launch::async, run_host, host));
  }
  DiagnosticReport report;
  report.run_id = run.id;
  report.failure = diagnosis.failure;
  report.reason = diagnosis.reason;
  report.transient = diagnosis.transient;
  report.resolution = std::string(ResolutionName(resolution.resolution));
  report.resolution_detail = resolution.detail;
  report.requested_by = request.requested_by;
  report.automatic = request.automatic;
  report.at = clock_.Now();
  report.hosts = hosts;
  for (auto& future : running) {
    for (DiagnosticResult& r : future.get()) report.results.push_back(std::move(r));
  }
  return report;
}

}  // namespace rollgate
