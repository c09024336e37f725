// "postgres-migrate" (§3.x "apply database migrations"): runs the forward migrations a database
// has not recorded yet, each in one transaction, and proves each recorded itself.
//
// Params:
//   database_url    (required) as in backup-postgres ("{host}", password as secret PGPASSWORD)
//   migrations_dir  (path, required) a directory on the host holding "<version>.sql" files;
//                   "<version>.down.sql" files are reversals and never run here
//   table           (name, default schema_migrations) the table in which each migration records
//                   its version (column "version", compared as text)
// Forward migrations run in file-name order (bytewise). One whose version (the file name without
// ".sql") is already in the table is skipped, so running the step again in DEV, TEST and PROD or
// after a retry is safe. Each other file runs as
//   psql -X -v ON_ERROR_STOP=1 --single-transaction -f FILE -f CHECK
// where CHECK, in the same transaction, raises an error unless the version is now recorded: a
// migration that fails, or does not record itself, leaves nothing behind. (A file that commits
// by itself, "BEGIN; ... COMMIT;", is still atomic, but its check then runs after its commit.)
// Migrations run one after another; the first failure stops the step.
//
// Facts: previous_schema_version (highest recorded version before, bytewise; empty when none or
// no table), schema_version (after), applied (the versions applied, space-separated, or empty),
// skipped (how many were already recorded); on failure also failed_migration.
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

constexpr std::string_view kMigrate =
    R"sh(read_versions || fail "cannot read the recorded versions from $table"
previous=$(highest)
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
  fact previous_schema_version "$previous"
  fact schema_version "$(highest)"
  fact applied "${applied# }"
  fact skipped "$skipped"
  fact failed_migration "$version"
  fail "migration $version $reason"
done
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
    return {{"database_url", ParamKind::kText, true},
            {"migrations_dir", ParamKind::kPath, true},
            {"table", ParamKind::kName, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override { return ValidateDatabaseUrl(spec); }
  std::string_view Script() const override {
    static const std::string script =
        std::string(kPostgresScript) + std::string(kCommon) + std::string(kMigrate);
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
