// "postgres-migrate" (§3.x "apply database migrations"): runs the forward migrations a database
// has not recorded yet, each in one transaction, and proves each recorded itself.
//
// Params:
//   database_url    (required) as in backup-postgres ("{host}", password as secret PGPASSWORD)
//   migrations_dir  (path, required) a directory on the host holding "<version>.sql" files;
//                   "<version>.down.sql" files are reversals and never run here
//   table           (name, default schema_migrations) the table in which each migration records
//                   its version (column "version", compared as text)
//   backup_dir      (path, optional) the destination_dir of the run's backup-postgres step: when
//                   given, the write counters are recorded again after the migrations (below)
//   backup_label    (name, default "database") that step's label
//   run_on          (optional) the host (as the plan names it) that runs the migrations; on the
//                   other hosts the step does nothing (fact ran_on) - hosts deployed at the same
//                   time never migrate the same database concurrently
// Forward migrations run in file-name order (bytewise). One whose version (the file name without
// ".sql") is already in the table is skipped, so running the step again in DEV, TEST and PROD or
// after a retry is safe. Each other file runs as
//   psql -X -v ON_ERROR_STOP=1 --single-transaction -f FILE -f CHECK
// where CHECK, in the same transaction, raises an error unless the version is now recorded: a
// migration that fails, or does not record itself, leaves nothing behind. (A file that commits
// by itself, "BEGIN; ... COMMIT;", is still atomic, but its check then runs after its commit.)
// Migrations run one after another; the first failure stops the step. Each migration's session
// ends with pg_stat_force_next_flush() (PostgreSQL 15 and later), so its writes reach
// pg_stat_user_tables when its transaction commits.
//
// The migrations' own writes are not users' writes: with backup_dir, when this step applied a
// migration (also when a later one failed), it writes
// "<backup_dir>/<backup_label>-<run>.after-migrate.info" in backup-postgres' .info format: the
// latest counters recorded in this run (that file from an earlier attempt, else the backup's
// .info) plus, per table, what the counters grew by while this step's migrations ran (read just
// before and just after them). Writes made by others between the backup and this step stay
// visible to restore-postgres; writes made by others while the migrations ran are counted as the
// migrations'. A table whose counter went down meanwhile (statistics reset) is recorded as -1:
// "cannot tell". Nothing is written when the backup's .info does not exist (no backup, nothing to
// restore).
//
// Facts: previous_schema_version (highest recorded version before, bytewise; empty when none or
// no table), schema_version (after), applied (the versions applied, space-separated, or empty),
// skipped (how many were already recorded); on failure also failed_migration; with backup_dir
// and a migration applied, counters (the after-migrate file, as configured) and writes (the
// total recorded in it).
// Exit: 0 every forward migration is recorded; 1 a migration failed or did not record itself, or
// the database cannot be read; 2 the migrations directory is missing.
// Probe: every forward migration in the directory is recorded (0), else 1; 2 when the database
// or the directory cannot be read.
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kCommon = R"sh(dir="$R$RG_MIGRATIONS_DIR"
table=${RG_TABLE:-schema_migrations}
LC_ALL=C
export LC_ALL
if [ ! -d "$dir" ]; then
  printf 'error: migrations directory %s does not exist\n' "$RG_MIGRATIONS_DIR" >&2
  exit 2
fi
work=$(mktemp -d) || fail "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
# The recorded versions, one a line, into $work/recorded (none when the table does not exist).
read_versions() {
  sql -v tbl="$table" >"$work/recorded" <<'SQL'
SELECT to_regclass(quote_ident(:'tbl')) IS NOT NULL AS rollgate_has_table \gset
\if :rollgate_has_table
SELECT version::text FROM :"tbl";
\endif
SQL
}
highest() { sort "$work/recorded" | tail -n 1; }
is_recorded() { grep -Fxq -- "$1" "$work/recorded"; }
)sh";

// With backup_dir: the after-migrate counters (see the top of this file). read_counters FILE
// writes the "table N schema.name" lines of pg_stat_user_tables into FILE.
constexpr std::string_view kCounters = R"sh(counters_base=
counters_location=
if [ -n "${RG_BACKUP_DIR:-}" ]; then
  case "${ROLLGATE_RUN:-}" in
    '' | .* | *[!A-Za-z0-9._-]*)
      printf 'error: ROLLGATE_RUN (%s) cannot name a file\n' "${ROLLGATE_RUN:-}" >&2
      exit 2 ;;
  esac
  counters_base="$R${RG_BACKUP_DIR%/}/${RG_BACKUP_LABEL:-database}-$ROLLGATE_RUN"
  counters_location="${RG_BACKUP_DIR%/}/${RG_BACKUP_LABEL:-database}-$ROLLGATE_RUN.after-migrate.info"
fi
read_counters() {
  sql -F ' ' >"$1" <<'SQL'
SELECT 'table', n_tup_ins + n_tup_upd + n_tup_del,
       quote_ident(schemaname) || '.' || quote_ident(relname)
  FROM pg_stat_user_tables ORDER BY 3;
SQL
}
# Writes the after-migrate file: the latest recorded counters plus what each table's counter grew
# by between $work/before and now. Prints its facts. Nothing without backup_dir or a backup.
record_counters() {
  [ -n "$counters_base" ] || return 0
  if [ -f "$counters_base.after-migrate.info" ]; then
    baseline="$counters_base.after-migrate.info"
  elif [ -f "$counters_base.info" ]; then
    baseline="$counters_base.info"
  else
    printf 'warning: no backup counters at %s.info: the write counters are not recorded\n' \
      "${counters_location%.after-migrate.info}" >&2
    return 0
  fi
  { read_counters "$work/after" && [ -f "$work/before" ] &&
    sql -F ' ' >"$work/meta" <<'SQL'
SELECT 'database', current_database();
SELECT 'wal_lsn', CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                       ELSE pg_current_wal_lsn() END;
SQL
  } || { printf 'warning: cannot read the write counters after the migrations\n' >&2; return 1; }
  # time, database, wal_lsn, writes, schema_version, then the table lines (backup-postgres').
  tmp_counters="$counters_base.after-migrate.info.tmp.$$"
  { printf 'time %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" && cat "$work/meta" &&
    schema=$(highest) awk '
      function name_of(line) { sub(/^table -?[0-9]+ /, "", line); return line }
      FILENAME == ARGV[1] && $1 == "table" { base[name_of($0)] = $2 + 0; next }
      FILENAME == ARGV[2] && $1 == "table" { before[name_of($0)] = $2 + 0; next }
      FILENAME == ARGV[3] && $1 == "table" {
        t = name_of($0)
        now = $2 + 0
        b = (t in before) ? before[t] : 0
        r = (t in base) ? base[t] : 0
        if (now < b || r < 0) n = -1; else n = r + now - b
        if (n >= 0) total += n; else unknown = 1
        lines = lines "table " n " " t "\n"
      }
      END {
        printf "writes %s\n", unknown ? "unknown" : total + 0
        printf "schema_version %s\n", ENVIRON["schema"]
        printf "%s", lines
      }' "$baseline" "$work/before" "$work/after"
  } >"$tmp_counters" && mv -f "$tmp_counters" "$counters_base.after-migrate.info" ||
    { rm -f "$tmp_counters"; printf 'warning: cannot write %s\n' "$counters_location" >&2; return 1; }
  fact counters "$counters_location"
}
)sh";

constexpr std::string_view kMigrate =
    R"sh(if [ -n "${RG_RUN_ON:-}" ] && [ "$RG_RUN_ON" != "$ROLLGATE_HOST" ]; then
  printf 'the migrations run on %s; nothing to do on this host\n' "$RG_RUN_ON"
  fact ran_on "$RG_RUN_ON"
  exit 0
fi
read_versions || fail "cannot read the recorded versions from $table"
previous=$(highest)
if [ -n "$counters_base" ]; then
  read_counters "$work/before" || fail "cannot read the write counters of the database"
fi
applied=
skipped=0
for file in "$dir"/*.sql; do
  [ -f "$file" ] || continue
  case "$file" in *.down.sql) continue ;; esac
  version=${file##*/}
  version=${version%.sql}
  if is_recorded "$version"; then
    skipped=$((skipped + 1))
    continue
  fi
  if psql -X -q -v ON_ERROR_STOP=1 --single-transaction -v tbl="$table" -v ver="$version" \
      -d "$url" -f "$file" -f - >"$work/out" 2>&1 <<'SQL'
SELECT EXISTS (SELECT 1 FROM :"tbl" WHERE version::text = :'ver') AS rollgate_recorded \gset
\if :rollgate_recorded
\else
DO $rollgate$ BEGIN
  RAISE EXCEPTION 'rollgate: the migration did not record its version';
END $rollgate$;
\endif
SELECT current_setting('server_version_num')::integer >= 150000 AS rollgate_flush \gset
\if :rollgate_flush
SELECT pg_stat_force_next_flush() AS rollgate_flushed \gset
\endif
SQL
  then
    cat "$work/out"
    printf '%s\n' "$version" >>"$work/recorded"
    applied="$applied $version"
    printf 'applied %s\n' "$version"
    continue
  fi
  cat "$work/out"
  if grep -q 'rollgate: the migration did not record its version' "$work/out"; then
    reason="ran but did not record itself in $table; its transaction was rolled back"
  else
    reason="failed; its transaction was rolled back"
  fi
  read_versions >/dev/null 2>&1 || true
  [ -z "$applied" ] || record_counters || true
  fact previous_schema_version "$previous"
  fact schema_version "$(highest)"
  fact applied "${applied# }"
  fact skipped "$skipped"
  fact failed_migration "$version"
  fail "migration $version $reason"
done
if [ -n "$applied" ]; then
  # Without them a restore takes the migrations' writes for users': it holds, it loses nothing.
  record_counters || true
fi
fact previous_schema_version "$previous"
fact schema_version "$(highest)"
fact applied "${applied# }"
fact skipped "$skipped"
)sh";

constexpr std::string_view kProbe = R"sh(read_versions >/dev/null 2>&1 || exit 2
for file in "$dir"/*.sql; do
  [ -f "$file" ] || continue
  case "$file" in *.down.sql) continue ;; esac
  version=${file##*/}
  version=${version%.sql}
  is_recorded "$version" || exit 1
done
exit 0
)sh";

class PostgresMigrateStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "postgres-migrate"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"database_url", ParamKind::kText, true},  {"migrations_dir", ParamKind::kPath, true},
            {"table", ParamKind::kName, false},        {"backup_dir", ParamKind::kPath, false},
            {"backup_label", ParamKind::kName, false}, {"run_on", ParamKind::kText, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override { return ValidateDatabaseUrl(spec); }
  std::string_view Script() const override {
    static const std::string script = std::string(kPostgresScript) + std::string(kCommon) +
                                      std::string(kCounters) + std::string(kMigrate);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script =
        std::string(kPostgresScript) + std::string(kCommon) + std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakePostgresMigrateStep() {
  return std::make_unique<PostgresMigrateStep>();
}

}  // namespace rollgate
