// "backup-postgres" (§2.4 "Database: full backup before schema/data changes"): `pg_dump -Fc` of
// one database, verified readable with `pg_restore --list` before it counts.
//
// Params:
//   database_url     (required) postgresql://user@host:port/db; "{host}" stands for the host's
//                    name. No password in the URL: secrets {PGPASSWORD: env:NAME}
//   destination_dir  (path, required) where dumps go (created, mode 0700)
//   label            (name, default "database") names the dump: "<label>-<run>.dump"
//   table            (name, default schema_migrations) where the schema version is read
// Before the dump starts, the database's write counters are recorded for later "was anything
// written since the backup?" checks: the WAL position (pg_current_wal_lsn, or the replay
// position on a standby) and, per table, n_tup_ins + n_tup_upd + n_tup_del of
// pg_stat_user_tables (statistics reach those views with a delay of up to a second or so; the
// WAL position is exact). They are kept in "<label>-<run>.info" beside the dump, with the schema
// version (the highest version in `table`, bytewise; empty when the table does not exist):
//   "time T", "database D", "wal_lsn L", "writes N", "schema_version V", then
//   "table N schema.name" per table.
// postgres-migrate adds "<label>-<run>.after-migrate.info" (same format) beside it, and
// restore-postgres compares the database's counters with the latest of the two.
// The dump is written as a temporary file, listed with `pg_restore --list`, then renamed into
// place (the .info file first). When an earlier attempt of the same run left a readable dump
// and its .info, they are kept (never retaken over a database the deploy may have changed) and
// reported with reused=yes.
//
// Facts: location (as configured), size_bytes, sha256, tables (TABLE entries in the dump's
// list), time (UTC, RFC 3339, when the counters were read, just before the dump), database,
// writes (total of the counters), wal_lsn, schema_version, info (the .info file, as configured),
// reused (yes|no).
// Exit: 0 dump in place and readable; 1 the database cannot be read, pg_dump failed or the dump
// does not list; 2 ROLLGATE_RUN cannot name a file.
// Probe: the dump exists and `pg_restore --list` reads it (0), else 1.
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kPaths = R"sh(dest="$R$RG_DESTINATION_DIR"
name="${RG_LABEL:-database}-$ROLLGATE_RUN"
dump="${dest%/}/$name.dump"
info="${dest%/}/$name.info"
location="${RG_DESTINATION_DIR%/}/$name.dump"
info_location="${RG_DESTINATION_DIR%/}/$name.info"
)sh";

constexpr std::string_view kBackup = R"sh(umask 077
tmp="$dump.tmp.$$"
list="$dump.list.$$"
trap 'rm -f "$tmp" "$tmp.info" "$list"' EXIT
if [ -f "$dump" ] && [ -f "$info" ] && pg_restore --list "$dump" >"$list" 2>/dev/null; then
  reused=yes
else
  reused=no
  mkdir -p "$dest" || fail "cannot create $RG_DESTINATION_DIR"
  printf 'time %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp.info" ||
    fail "cannot write in $RG_DESTINATION_DIR"
  sql -F ' ' -v tbl="${RG_TABLE:-schema_migrations}" >>"$tmp.info" <<'SQL' ||
SELECT 'database', current_database();
SELECT 'wal_lsn', CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                       ELSE pg_current_wal_lsn() END;
SELECT 'writes', coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables;
SELECT to_regclass(quote_ident(:'tbl')) IS NOT NULL AS rollgate_has_table \gset
\if :rollgate_has_table
SELECT 'schema_version', coalesce(max(version::text COLLATE "C"), '') FROM :"tbl";
\else
SELECT 'schema_version', '';
\endif
SELECT 'table', n_tup_ins + n_tup_upd + n_tup_del,
       quote_ident(schemaname) || '.' || quote_ident(relname)
  FROM pg_stat_user_tables ORDER BY 3;
SQL
    fail "cannot read the write counters or the schema version of the database"
  pg_dump -Fc -f "$tmp" -d "$url" || fail "pg_dump failed"
  pg_restore --list "$tmp" >"$list" || fail "the dump does not read back with pg_restore --list"
  sync "$tmp" "$tmp.info" 2>/dev/null || true
  mv -f "$tmp.info" "$info" || fail "cannot move the dump into $RG_DESTINATION_DIR"
  mv -f "$tmp" "$dump" || fail "cannot move the dump into $RG_DESTINATION_DIR"
fi
recorded() { sed -n "s/^$1 //p" "$info" | head -n 1; }
tables=$(awk '$2 ~ /^[0-9]+$/ && $4 == "TABLE" && $5 != "DATA"' "$list" | wc -l)
size=$(($(wc -c <"$dump")))
sha=$(sha256sum <"$dump" | cut -d' ' -f1)
fact location "$location"
fact size_bytes "$size"
fact sha256 "$sha"
fact tables "$((tables))"
fact time "$(recorded time)"
fact database "$(recorded database)"
fact writes "$(recorded writes)"
fact wal_lsn "$(recorded wal_lsn)"
fact schema_version "$(recorded schema_version)"
fact info "$info_location"
fact reused "$reused"
)sh";

constexpr std::string_view kProbe = R"sh([ -f "$dump" ] || exit 1
pg_restore --list "$dump" >/dev/null 2>&1 || exit 1
exit 0
)sh";

class BackupPostgresStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "backup-postgres"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"database_url", ParamKind::kText, true},
            {"destination_dir", ParamKind::kPath, true},
            {"label", ParamKind::kName, false},
            {"table", ParamKind::kName, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override { return ValidateDatabaseUrl(spec); }
  std::string_view Script() const override {
    static const std::string script = std::string(kRunIdScript) + std::string(kPostgresScript) +
                                      std::string(kPaths) + std::string(kBackup);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kPaths) + std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeBackupPostgresStep() {
  return std::make_unique<BackupPostgresStep>();
}

}  // namespace rollgate
