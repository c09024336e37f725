// "schema-version" (§6.3 "verify database restored": the schema version equals the one before the
// deployment): reads the database's schema version and compares it with the expected one.
//
// Params:
//   database_url  (required) as in backup-postgres ("{host}", password as secret PGPASSWORD)
//   table         (name, default schema_migrations) where the version is read: the highest value
//                 of its "version" column as text, bytewise; empty when the table does not exist
//   expected      (text) the version the database must have; empty: no version (no table, or an
//                 empty one)
//   backup_info   (path) instead of expected: a backup-postgres ".info" file, whose
//                 "schema_version" line is expected. Exactly one of expected and backup_info.
//   restore_dump  (path, optional) the dump a restore-postgres step of this run restores from:
//                 when that step held the restore (its marker "<dump>.held-<run>" exists), the
//                 database was deliberately left as it is and the check is not made
// Facts: schema_version (now), expected, held (yes|no).
// Exit: 0 the versions are equal (or the restore was held); 1 they differ, or the database cannot
// be read; 2 backup_info is missing or records no schema version, or ROLLGATE_RUN cannot name a
// file (with restore_dump).
// Probe: the same comparison: 0 equal (or held), 1 different, 2 the database cannot be read.
#include <fmt/format.h>

#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kExpected = R"sh(if [ -n "${RG_RESTORE_DUMP:-}" ]; then
  case "${ROLLGATE_RUN:-}" in
    '' | .* | *[!A-Za-z0-9._-]*)
      printf 'error: ROLLGATE_RUN (%s) cannot name a file\n' "${ROLLGATE_RUN:-}" >&2
      exit 2 ;;
  esac
  if [ -f "$R$RG_RESTORE_DUMP.held-$ROLLGATE_RUN" ]; then
    printf 'the restore of %s was held in this run: the schema version is not checked\n' \
      "$RG_RESTORE_DUMP"
    fact held yes
    exit 0
  fi
fi
if [ -n "${RG_BACKUP_INFO:-}" ]; then
  info="$R$RG_BACKUP_INFO"
  if [ ! -f "$info" ] || ! grep -q '^schema_version' "$info"; then
    printf 'error: %s does not exist or records no schema version\n' "$RG_BACKUP_INFO" >&2
    exit 2
  fi
  expected=$(sed -n 's/^schema_version //p' "$info" | head -n 1)
else
  expected=$RG_EXPECTED
fi
)sh";

constexpr std::string_view kCheck =
    R"sh(version=$(schema_version) || fail "cannot read the schema version from ${RG_TABLE:-schema_migrations}"
fact schema_version "$version"
fact expected "$expected"
fact held no
[ "$version" = "$expected" ] ||
  fail "the schema version is '$version', expected '$expected' (the version before the deployment)"
)sh";

constexpr std::string_view kProbe = R"sh(version=$(schema_version) || exit 2
[ "$version" = "$expected" ] && exit 0
exit 1
)sh";

class SchemaVersionStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "schema-version"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"database_url", ParamKind::kText, true},
            {"table", ParamKind::kName, false},
            {"expected", ParamKind::kText, false},
            {"backup_info", ParamKind::kPath, false},
            {"restore_dump", ParamKind::kPath, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    if (spec.params.contains("expected") == spec.params.contains("backup_info")) {
      return InvalidArgument(
          "a schema-version step needs exactly one of param \"expected\" (the version) and "
          "param \"backup_info\" (a backup-postgres .info file)");
    }
    return ValidateDatabaseUrl(spec);
  }
  std::string_view Script() const override {
    static const std::string script = std::string(kPostgresScript) +
                                      std::string(kSchemaVersionScript) + std::string(kExpected) +
                                      std::string(kCheck);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script = std::string(kPostgresScript) +
                                      std::string(kSchemaVersionScript) + std::string(kExpected) +
                                      std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeSchemaVersionStep() { return std::make_unique<SchemaVersionStep>(); }

}  // namespace rollgate
