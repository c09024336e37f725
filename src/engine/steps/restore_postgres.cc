// "restore-postgres" (§6.2 "Restore database"): puts a database back from a backup-postgres dump,
// in one transaction.
//
// Params:
//   database_url  (required) as in backup-postgres ("{host}", password as secret PGPASSWORD)
//   dump          (path, required) a custom-format dump, e.g. a backup-postgres "location"
//   sha256        (optional) the dump's expected SHA-256 (backup-postgres' fact), checked first
//   table         (name, default schema_migrations) where the schema version is read afterwards
// Runs `pg_restore -c --if-exists --exit-on-error --single-transaction -d URL DUMP`: every object
// in the dump is dropped and recreated with the dump's rows, or, on any error, nothing changes.
// Objects created after the dump (a table a later migration added) are not in the dump and stay.
// On success a marker "<dump>.restored-<run>" is left beside the dump for the probe.
//
// Facts: database, schema_version (the highest version in the table afterwards, bytewise; empty
// when the table does not exist), dump (as configured).
// Exit: 0 restored; 1 pg_restore failed (the database is unchanged); 2 the dump is missing, its
// SHA-256 differs or it is not a readable dump, or ROLLGATE_RUN cannot name a file.
// Probe: the marker of this run exists (0), else 1 (restoring again gives the same result).
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kPaths = R"sh(dump="$R$RG_DUMP"
marker="$dump.restored-$ROLLGATE_RUN"
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
pg_restore -c --if-exists --exit-on-error --single-transaction -d "$url" "$dump" ||
  fail "pg_restore of $RG_DUMP failed; the database is unchanged"
: >"$marker" || printf 'warning: cannot write %s\n' "$marker" >&2
version=$(sql -v tbl="${RG_TABLE:-schema_migrations}" <<'SQL'
SELECT to_regclass(quote_ident(:'tbl')) IS NOT NULL AS rollgate_has_table \gset
\if :rollgate_has_table
SELECT coalesce(max(version::text COLLATE "C"), '') FROM :"tbl";
\endif
SQL
) || fail "restored, but the schema version cannot be read"
fact database "$(sql -c 'SELECT current_database()')"
fact schema_version "$version"
fact dump "$RG_DUMP"
)sh";

constexpr std::string_view kProbe = R"sh([ -f "$marker" ] && exit 0
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
            {"table", ParamKind::kName, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(ValidateSha256Param(spec, "sha256"));
    return ValidateDatabaseUrl(spec);
  }
  std::string_view Script() const override {
    static const std::string script = std::string(kRunIdScript) + std::string(kPostgresScript) +
                                      std::string(kPaths) + std::string(kRestore);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kPaths) + std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeRestorePostgresStep() {
  return std::make_unique<RestorePostgresStep>();
}

}  // namespace rollgate
