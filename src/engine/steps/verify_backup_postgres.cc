// "verify-backup-postgres" (§2.4 step 3 "Test backup restoration ... document restore time for
// RTO planning"): checks that a backup-postgres dump restores, by restoring it into a scratch
// database on the same PostgreSQL server and counting the critical tables' rows there, and
// measures how long the restore took. The scratch database is always dropped afterwards.
//
// Params:
//   database_url   (required) the database the dump was taken of, as in backup-postgres ("{host}",
//                  password as secret PGPASSWORD). The scratch database is created on its server,
//                  so the role needs CREATEDB
//   dump           (path) the dump, e.g. a backup-postgres "location"; or
//   backup_dir     (path) with backup_label (name, default "database"): this run's dump,
//                  "<backup_dir>/<backup_label>-<run>.dump" (in a deployment, right after its
//                  backup-postgres step). Exactly one of dump and backup_dir
//   sha256         (optional) the dump's SHA-256 recorded at backup time (backup-postgres' fact): a
//                  dump that differs is not the backup that was taken and is not restored
//   restore        (yes | no, default yes) no: only the cheap check (the SHA-256 and
//                  `pg_restore --list`), nothing is restored
//   tables         (lines, optional, restore yes only) the critical tables: their rows are counted
//                  in the restored copy (found through the search path, as data-integrity does) and
//                  must equal the counts recorded at backup time
//   state_dir      (path, with tables) where data-integrity keeps counts:
//   counts_label   (name, default "deploy") "<state_dir>/<run>/<counts_label>.counts", the counts
//   recorded_run   (optional) of this run or of recorded_run (the deployment that took the backup)
//   on_failure     (fail | report, default fail) report: a failed check (or a missing dump) is
//                  reported in the facts and the step exits 0, so that a run checking several
//                  backups goes on to the others (`rollgate backup verify` judges the facts)
// The restore: a scratch database "rollgate_verify_<run>_<random>" (lower case, '-' and '.' as
// '_') is created from template0, then `pg_restore --exit-on-error --no-owner --no-privileges`
// restores the dump into it (objects belong to the step's role; ownership and grants are not part
// of the check) and the time it took is measured. Scratch databases of this run left by an earlier
// attempt that was killed before its cleanup are dropped first. The scratch database is dropped
// (`DROP DATABASE ... WITH (FORCE)`) when the checks end, and by a trap on EXIT, HUP, INT and TERM
// on every other way out; only SIGKILL can leave it behind, and the next attempt of the run drops
// it. Work files live in a mktemp -d directory under $TMPDIR (or /tmp), removed the same way.
//
// Facts: dump (as configured), sha256 (now), expected_sha256 (the param, or empty), checksum
// (ok | differs | not-recorded), listed (ok | failed), tables (TABLE entries in the dump's list),
// restore (the param), restored (yes | failed | skipped: a check before it failed | no: not asked),
// restore_seconds (with millisecond decimals, when a restore was attempted), scratch_database (its
// name, empty when none was made), scratch_removed (yes | no | not-made), counts (ok | differ |
// not-recorded | failed | not-checked), count.<table> (restored rows, -1 when the table is missing)
// and recorded.<table> (at backup time); on failure problem (every failed check, "; "-joined),
// after one "error:" line per failed check.
// Exit: 0 every check passed; 1 a check failed (checksum, listing, restore, counts, or the scratch
// database could not be dropped); 2 the dump is missing or ROLLGATE_RUN cannot name a file. With
// on_failure=report, 0 also when a check failed or the dump is missing (the fact problem says so).
// Probe: never in place (1): the step leaves nothing behind and may always run again.
#include <fmt/format.h>

#include "common/strings.h"
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"
#include "engine/steps/verify_backup_support.h"

namespace rollgate {

namespace {

constexpr std::string_view kVerify = R"sh(if [ -n "${RG_DUMP:-}" ]; then
  location=$RG_DUMP
else
  location="${RG_BACKUP_DIR%/}/${RG_BACKUP_LABEL:-database}-$ROLLGATE_RUN.dump"
fi
dump="$R$location"
restore=${RG_RESTORE:-yes}
if [ ! -f "$dump" ]; then
  printf 'error: the dump %s does not exist\n' "$location" >&2
  fact dump "$location"
  fact problem "the dump $location does not exist"
  [ "${RG_ON_FAILURE:-fail}" = report ] && exit 0
  exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/rollgate-verify.XXXXXX") ||
  fail "cannot create a temporary directory"
scratch=
scratch_name=
scratch_removed=
drop_scratch() {
  [ -n "$scratch" ] || return 0
  if sql -v db="$scratch" >/dev/null 2>"$work/drop.err" <<'SQL'
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
  then
    scratch_removed=yes
    scratch=
  else
    scratch_removed=no
    problem "the scratch database $scratch could not be dropped: $(first_error "$work/drop.err")"
  fi
}
cleanup() {
  drop_scratch >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

sha=$(sha256sum <"$dump" | cut -d' ' -f1)
checksum=not-recorded
if [ -n "${RG_SHA256:-}" ]; then
  if [ "$sha" = "$RG_SHA256" ]; then
    checksum=ok
  else
    checksum=differs
    problem "the SHA-256 of $location ($sha) differs from the one recorded at backup time ($RG_SHA256): it is not the backup that was taken, so it is not restored"
  fi
fi
listed=failed
tables=0
if pg_restore --list "$dump" >"$work/list" 2>"$work/list.err"; then
  listed=ok
  tables=$(awk '$2 ~ /^[0-9]+$/ && $4 == "TABLE" && $5 != "DATA"' "$work/list" | wc -l)
else
  problem "$location does not list with pg_restore --list: $(first_error "$work/list.err")"
fi

restored=no
restore_ms=
counts=not-checked
: >"$work/counts"
if [ "$restore" = yes ]; then
  restored=skipped
fi
if [ "$restore" = yes ] && [ "$checksum" != differs ] && [ "$listed" = ok ]; then
  key=$(printf '%s' "$ROLLGATE_RUN" | tr 'A-Z.-' 'a-z__' | cut -c 1-30)
  prefix="rollgate_verify_${key}_"
  # Scratch databases of this run that an attempt killed before its cleanup left behind.
  sql -v prefix="$prefix" >"$work/leftovers" 2>/dev/null <<'SQL' || true
SELECT datname FROM pg_database WHERE left(datname, length(:'prefix')) = :'prefix';
SQL
  while read -r old; do
    [ -n "$old" ] || continue
    sql -v db="$old" >/dev/null 2>&1 <<'SQL' || true
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
  done <"$work/leftovers"
  scratch_name="$prefix$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  if sql -v db="$scratch_name" >/dev/null 2>"$work/create.err" <<'SQL'
CREATE DATABASE :"db" TEMPLATE template0;
SQL
  then
    scratch=$scratch_name
    case "$url" in
      *'?'*) scratch_url="$url&dbname=$scratch" ;;
      *) scratch_url="$url?dbname=$scratch" ;;
    esac
    started=$(now_ms)
    if pg_restore --exit-on-error --no-owner --no-privileges -d "$scratch_url" "$dump" \
      >"$work/restore.out" 2>"$work/restore.err"; then
      restored=yes
    else
      restored=failed
      problem "pg_restore failed: $(first_error "$work/restore.err")"
    fi
    restore_ms=$(($(now_ms) - started))
  else
    restored=failed
    problem "cannot create a scratch database on the server (the role needs CREATEDB): $(first_error "$work/create.err")"
  fi
fi
list=$(printf '%s\n' "${RG_TABLES:-}" | tr -d ' \t\r\v\f' | grep -v '^$' | tr '\n' ' ')
list=${list% }
if [ "$restored" = yes ] && [ -n "$list" ]; then
  counts_run=${RG_RECORDED_RUN:-$ROLLGATE_RUN}
  counts_location="${RG_STATE_DIR%/}/$counts_run/${RG_COUNTS_LABEL:-deploy}.counts"
  counts_file="$R$counts_location"
  if psql -X -q -At -v ON_ERROR_STOP=1 -F ' ' -d "$scratch_url" -v tables="$list" \
    >"$work/now" 2>"$work/count.err" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT t,
       CASE WHEN to_regclass(quote_ident(t)) IS NULL THEN -1
            ELSE (xpath('/row/c/text()',
                        query_to_xml(format('SELECT count(*) AS c FROM %I', t), false, true, '')
                       ))[1]::text::bigint
       END
  FROM unnest(string_to_array(:'tables', ' ')) WITH ORDINALITY AS u(t, n) ORDER BY n;
COMMIT;
SQL
  then
    if [ -f "$counts_file" ]; then
      counts=ok
      differ=
      while read -r t n; do
        before=$(awk -v t="$t" '$1 == t { print $2; exit }' "$counts_file")
        printf 'count.%s %s\n' "$t" "$n" >>"$work/counts"
        printf 'recorded.%s %s\n' "$t" "${before:-none}" >>"$work/counts"
        if [ "$n" -lt 0 ]; then
          differ="$differ $t (missing from the restored copy, ${before:-none} recorded)"
        elif [ "$n" != "$before" ]; then
          differ="$differ $t ($n restored, ${before:-none} recorded)"
        fi
      done <"$work/now"
      if [ -n "$differ" ]; then
        counts=differ
        problem "record counts differ from those recorded at backup time:$differ"
      fi
    else
      counts=not-recorded
      while read -r t n; do printf 'count.%s %s\n' "$t" "$n" >>"$work/counts"; done <"$work/now"
      problem "no record counts were recorded at backup time ($counts_location is missing): the restored rows cannot be compared"
    fi
  else
    counts=failed
    problem "cannot count the rows of the restored copy: $(first_error "$work/count.err")"
  fi
fi
drop_scratch
fact dump "$location"
fact sha256 "$sha"
fact expected_sha256 "${RG_SHA256:-}"
fact checksum "$checksum"
fact listed "$listed"
fact tables "$((tables))"
fact restore "$restore"
fact restored "$restored"
[ -z "$restore_ms" ] || fact restore_seconds "$(seconds "$restore_ms")"
fact scratch_database "$scratch_name"
fact scratch_removed "${scratch_removed:-not-made}"
fact counts "$counts"
while read -r key value; do fact "$key" "$value"; done <"$work/counts"
if [ -n "$problems" ]; then
  fact problem "$(printf '%s' "$problems" | cut -c 1-1000)"
  [ "${RG_ON_FAILURE:-fail}" = report ] && exit 0
  exit 1
fi
exit 0
)sh";

constexpr std::string_view kProbe = "exit 1\n";

const std::string* Param(const StepSpec& spec, const char* name) {
  auto it = spec.params.find(name);
  return it == spec.params.end() ? nullptr : &it->second;
}

class VerifyBackupPostgresStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "verify-backup-postgres"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"database_url", ParamKind::kText, true},  {"dump", ParamKind::kPath, false},
            {"backup_dir", ParamKind::kPath, false},   {"backup_label", ParamKind::kName, false},
            {"sha256", ParamKind::kText, false},       {"restore", ParamKind::kName, false},
            {"tables", ParamKind::kLines, false},      {"state_dir", ParamKind::kPath, false},
            {"counts_label", ParamKind::kName, false}, {"recorded_run", ParamKind::kText, false},
            {"on_failure", ParamKind::kName, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(ValidateDatabaseUrl(spec));
    RETURN_IF_ERROR(ValidateBackupSource(spec, "dump", "backup_label", false));
    RETURN_IF_ERROR(ValidateSha256Param(spec, "sha256"));
    RETURN_IF_ERROR(ValidateRestoreParam(spec));
    RETURN_IF_ERROR(ValidateOnFailureParam(spec));
    const bool restore = Param(spec, "restore") == nullptr || *Param(spec, "restore") == "yes";
    if (Param(spec, "tables") != nullptr) {
      if (!restore) {
        return InvalidArgument(
            "param \"tables\": rows are counted in the restored copy, and with restore no "
            "nothing is restored");
      }
      RETURN_IF_ERROR(ValidateNameLines(spec, "tables"));
      if (Param(spec, "state_dir") == nullptr) {
        return InvalidArgument(
            "param \"state_dir\": required with tables (where the counts recorded at backup "
            "time are)");
      }
    } else {
      for (const char* name : {"state_dir", "counts_label", "recorded_run"}) {
        if (Param(spec, name) != nullptr) {
          return InvalidArgument(
              fmt::format("param \"{}\": only with tables (the record counts to compare)", name));
        }
      }
    }
    if (const std::string* run = Param(spec, "recorded_run"); run != nullptr && !IsRunKey(*run)) {
      return InvalidArgument(
          fmt::format("param \"recorded_run\": must be a run id (letters, digits, '.', '_', '-', "
                      "not starting with '.') (got '{}')",
                      EscapeForDisplay(*run)));
    }
    return Status::Ok();
  }
  std::string_view Script() const override {
    static const std::string script = std::string(kRunIdScript) + std::string(kPostgresScript) +
                                      std::string(kVerifySupportScript) + std::string(kVerify);
    return script;
  }
  std::string_view ProbeScript() const override { return kProbe; }
};

}  // namespace

std::unique_ptr<StepType> MakeVerifyBackupPostgresStep() {
  return std::make_unique<VerifyBackupPostgresStep>();
}

}  // namespace rollgate
