// "restore-postgres" (§6.2 "Restore database"): puts a database back from a backup-postgres dump,
// in one transaction, unless users wrote to it since the backup.
//
// Params:
//   database_url  (required) as in backup-postgres ("{host}", password as secret PGPASSWORD)
//   dump          (path, required) a custom-format dump, e.g. a backup-postgres "location"
//   sha256        (optional) the dump's expected SHA-256 (backup-postgres' fact), checked first
//   table         (name, default schema_migrations) where the schema version is read
//   on_writes     (hold | restore, default hold) what to do when the database was written to since
//                 the backup (below)
// First, was anything written since the backup? The write counters of pg_stat_user_tables
// (n_tup_ins + n_tup_upd + n_tup_del per table) are compared with the latest ones Rollgate
// recorded beside the dump: "<dump minus .dump>.after-migrate.info" (postgres-migrate, the
// migrations' own writes taken out) when it exists, else "<dump minus .dump>.info"
// (backup-postgres). A counter higher than recorded counts its difference as writes; a counter
// lower than recorded (statistics reset, a server crash) or a recorded table that no longer
// exists means "cannot tell" and counts as written; a table not recorded counts its counter.
// Without either file nothing can tell either. (Sessions still connected report their writes to
// the statistics within about a second, or ten when idle; sessions that ended have reported.)
//   Nothing written: `pg_restore -c --if-exists --exit-on-error --single-transaction -d URL DUMP`:
//   every object in the dump is dropped and recreated with the dump's rows, or, on any error,
//   nothing changes. Objects created after the dump (a table a later migration added) are not in
//   the dump and stay. On success a marker "<dump>.restored-<run>" is left beside the dump.
//   Written (or cannot tell): first a dump of the current database is saved next to the backup,
//   "<dump minus .dump>.current-<run>.dump" (pg_dump -Fc, then listed with pg_restore --list);
//   nothing is restored when it cannot be saved. Then on_writes=restore restores as above, and
//   on_writes=hold leaves the database as it is: a marker "<dump>.held-<run>", a line on stderr
//   saying how many writes to which tables and where the current data is, and exit 0.
//
// Facts: writes_since_backup (a number, or "unknown"), tables_written (schema.table, comma
// separated), checked_against (the counters file, as configured; empty when none), held (yes|no),
// current_dump (as configured, when one was saved), database, schema_version (now: after the
// restore, or the unrestored database's when held; bytewise highest, empty without the table),
// dump (as configured).
// Exit: 0 restored, or held; 1 the database cannot be read, the current database cannot be saved,
// or pg_restore failed (the database is unchanged); 2 the dump is missing, its SHA-256 differs or
// it is not a readable dump, or ROLLGATE_RUN cannot name a file.
// Probe: in place (0) when this run held the restore (it must not be redone without a person's
// decision), when this run's restored marker exists, or when the database's schema version equals
// the one the backup's .info recorded; 1 otherwise; 2 when the database cannot be read.
#include <fmt/format.h>

#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kPaths = R"sh(dump="$R$RG_DUMP"
marker="$dump.restored-$ROLLGATE_RUN"
held="$dump.held-$ROLLGATE_RUN"
base="${dump%.dump}"
base_location="${RG_DUMP%.dump}"
)sh";

constexpr std::string_view kRestore = R"sh(if [ ! -f "$dump" ]; then
  printf 'error: dump %s does not exist\n' "$RG_DUMP" >&2
  exit 2
fi
if [ -n "${RG_SHA256:-}" ]; then
  want=$(printf '%s' "$RG_SHA256" | tr 'A-F' 'a-f')
  have=$(sha256sum <"$dump" | cut -d' ' -f1)
  if [ "$have" != "$want" ]; then
    printf 'error: dump %s has SHA-256 %s, expected %s\n' "$RG_DUMP" "$have" "$want" >&2
    exit 2
  fi
fi
if ! pg_restore --list "$dump" >/dev/null; then
  printf 'error: %s is not a dump pg_restore can read\n' "$RG_DUMP" >&2
  exit 2
fi
work=$(mktemp -d) || fail "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
# The latest counters Rollgate recorded: after the migrations, else at backup time.
if [ -f "$base.after-migrate.info" ]; then
  against="$base.after-migrate.info"
  checked_against="$base_location.after-migrate.info"
elif [ -f "$base.info" ]; then
  against="$base.info"
  checked_against="$base_location.info"
else
  against=/dev/null
  checked_against=
fi
sql -F ' ' >"$work/now" <<'SQL' || fail "cannot read the write counters of the database"
SELECT 'table', n_tup_ins + n_tup_upd + n_tup_del,
       quote_ident(schemaname) || '.' || quote_ident(relname)
  FROM pg_stat_user_tables ORDER BY 3;
SQL
# "writes N" (or "writes unknown"), then "written TABLE" per table written to.
awk -v known="$checked_against" '
  function name_of(line) { sub(/^table -?[0-9]+ /, "", line); return line }
  FILENAME == ARGV[1] { if ($1 == "table") recorded[name_of($0)] = $2 + 0; next }
  $1 == "table" {
    t = name_of($0)
    now = $2 + 0
    seen[t] = 1
    if (t in recorded) {
      if (recorded[t] < 0 || now < recorded[t]) { unknown = 1; written[t] = 1 }
      else if (now > recorded[t]) { total += now - recorded[t]; written[t] = 1 }
    } else if (now > 0) {
      total += now
      written[t] = 1
    }
  }
  END {
    for (t in recorded) if (!(t in seen)) { unknown = 1; written[t] = 1 }
    if (known == "") unknown = 1
    printf "writes %s\n", unknown ? "unknown" : total + 0
    for (t in written) printf "written %s\n", t
  }' "$against" "$work/now" >"$work/writes" || fail "cannot compare the write counters"
writes=$(sed -n 's/^writes //p' "$work/writes")
tables_written=$(sed -n 's/^written //p' "$work/writes" | LC_ALL=C sort | paste -sd, -)
current_location=
if [ "$writes" != 0 ]; then
  # Users' data first: a dump of the database as it is now, next to the backup.
  current="$base.current-$ROLLGATE_RUN.dump"
  current_location="$base_location.current-$ROLLGATE_RUN.dump"
  umask 077
  pg_dump -Fc -f "$current.tmp.$$" -d "$url" &&
    pg_restore --list "$current.tmp.$$" >/dev/null &&
    mv -f "$current.tmp.$$" "$current" || {
      rm -f "$current.tmp.$$"
      fail "the database was written to since the backup ($writes writes to ${tables_written:-unknown tables}) and cannot be saved to $current_location; nothing was restored"
    }
fi
report() {
  fact writes_since_backup "$writes"
  fact tables_written "$tables_written"
  fact checked_against "$checked_against"
  fact held "$1"
  [ -z "$current_location" ] || fact current_dump "$current_location"
  fact database "$(sql -c 'SELECT current_database()')"
  fact schema_version "$version"
  fact dump "$RG_DUMP"
}
if [ "$writes" != 0 ] && [ "${RG_ON_WRITES:-hold}" = hold ]; then
  : >"$held" || fail "cannot write $held"
  printf 'held: the database was written to since the backup (%s writes to %s); it was NOT restored; its current data is saved in %s\n' \
    "$writes" "${tables_written:-tables that cannot be told}" "$current_location" >&2
  version=$(schema_version) || version=
  report yes
  exit 0
fi
pg_restore -c --if-exists --exit-on-error --single-transaction -d "$url" "$dump" ||
  fail "pg_restore of $RG_DUMP failed; the database is unchanged"
: >"$marker" || printf 'warning: cannot write %s\n' "$marker" >&2
version=$(schema_version) || fail "restored, but the schema version cannot be read"
report no
)sh";

constexpr std::string_view kProbe = R"sh([ -f "$held" ] && exit 0
[ -f "$marker" ] && exit 0
[ -f "$base.info" ] && grep -q '^schema_version' "$base.info" || exit 1
expected=$(sed -n 's/^schema_version //p' "$base.info" | head -n 1)
version=$(schema_version) || exit 2
[ "$version" = "$expected" ] && exit 0
exit 1
)sh";

class RestorePostgresStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "restore-postgres"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"database_url", ParamKind::kText, true},
            {"dump", ParamKind::kPath, true},
            {"sha256", ParamKind::kText, false},
            {"table", ParamKind::kName, false},
            {"on_writes", ParamKind::kName, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    auto on_writes = spec.params.find("on_writes");
    if (on_writes != spec.params.end() && on_writes->second != "hold" &&
        on_writes->second != "restore") {
      return InvalidArgument(fmt::format("param \"on_writes\": must be hold or restore (got '{}')",
                                         on_writes->second));
    }
    RETURN_IF_ERROR(ValidateSha256Param(spec, "sha256"));
    return ValidateDatabaseUrl(spec);
  }
  std::string_view Script() const override {
    static const std::string script = std::string(kRunIdScript) + std::string(kPostgresScript) +
                                      std::string(kSchemaVersionScript) + std::string(kPaths) +
                                      std::string(kRestore);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script = std::string(kRunIdScript) + std::string(kPostgresScript) +
                                      std::string(kSchemaVersionScript) + std::string(kPaths) +
                                      std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeRestorePostgresStep() {
  return std::make_unique<RestorePostgresStep>();
}

}  // namespace rollgate
