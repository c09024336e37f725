// "data-integrity" (§3.3 "record counts before/after", §4.1 data checks): counts the rows of the
// named tables before a change and compares after it; also reports constraints the database has
// not validated.
//
// Params:
//   database_url  (required) as in backup-postgres ("{host}", password as secret PGPASSWORD)
//   tables        (lines, required) one table name per line ([A-Za-z_][A-Za-z0-9_]*, found through
//                 the search path, exact case); names are passed to PostgreSQL as one psql variable
//                 and quoted there (format %I, quote_ident), never put into SQL text
//   state_dir     (path, required) where counts are kept between steps of a run
//   label         (name, required) names the counts: "<state_dir>/<run>/<label>.counts"
//   action        (required) record | compare
//   recorded_run  (optional, compare only) compare with the counts that run recorded instead of
//                 this run's: "<state_dir>/<recorded_run>/<label>.counts" (a rollback checks the
//                 database against the counts its deployment recorded before it, §6.3)
// All counts are taken in one REPEATABLE READ, READ ONLY transaction (one snapshot), each by
// query_to_xml (PostgreSQL built with libxml, as the distributions' packages are): no function or
// object is created in the database.
// record: writes "<table> <count>" lines (temporary file, then renamed). A table that does not
//   exist is bad input (exit 2). Running it again in the same run takes the counts again.
// compare: fails when any table has fewer rows than recorded (a table that no longer exists has
//   lost all its rows), or when the database has constraints it has not validated
//   (pg_constraint.convalidated false: added NOT VALID and never validated).
//
// Facts: count.<table> for each table (now), tables (how many), unvalidated_constraints;
// compare also lost_rows (the sum of the decreases) and recorded.<table> (the recorded count).
// Exit: 0 recorded / nothing lost and every constraint validated; 1 rows lost, unvalidated
// constraints, or the database cannot be read; 2 bad input (unknown action, missing table on
// record, no counts recorded under this label in this run (or recorded_run), ROLLGATE_RUN
// unusable).
// Probe: record: the counts file exists (0) else 1; compare has no effect to probe: 1 (run it
// again).
#include <fmt/format.h>

#include "common/strings.h"
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

bool IsRunId(std::string_view text) {
  if (text.empty() || text.front() == '.') return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

constexpr std::string_view kPaths = R"sh(state="$R${RG_STATE_DIR%/}/$ROLLGATE_RUN"
counts="$state/$RG_LABEL.counts"
counts_run=$ROLLGATE_RUN
if [ -n "${RG_RECORDED_RUN:-}" ]; then
  counts_run=$RG_RECORDED_RUN
  counts="$R${RG_STATE_DIR%/}/$RG_RECORDED_RUN/$RG_LABEL.counts"
fi
)sh";

constexpr std::string_view kCheck = R"sh(case "$RG_ACTION" in
  record | compare) ;;
  *) printf 'error: action must be record or compare\n' >&2; exit 2 ;;
esac
if [ "$RG_ACTION" = compare ] && [ ! -f "$counts" ]; then
  printf 'error: no counts recorded under label %s in run %s\n' "$RG_LABEL" "$counts_run" >&2
  exit 2
fi
list=$(printf '%s\n' "$RG_TABLES" | tr -d ' \t\r\v\f' | grep -v '^$' | tr '\n' ' ')
list=${list% }
[ -n "$list" ] || { printf 'error: no tables named\n' >&2; exit 2; }
work=$(mktemp -d) || fail "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
sql -F ' ' -v tables="$list" >"$work/now" <<'SQL' || fail "cannot count the rows of: $list"
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT 'count', t,
       CASE WHEN to_regclass(quote_ident(t)) IS NULL THEN -1
            ELSE (xpath('/row/c/text()',
                        query_to_xml(format('SELECT count(*) AS c FROM %I', t), false, true, '')
                       ))[1]::text::bigint
       END
  FROM unnest(string_to_array(:'tables', ' ')) WITH ORDINALITY AS u(t, n) ORDER BY n;
SELECT 'unvalidated', count(*) FROM pg_constraint WHERE NOT convalidated;
SELECT 'unvalidated_name', conrelid::regclass::text || '.' || quote_ident(conname)
  FROM pg_constraint WHERE NOT convalidated ORDER BY 2 LIMIT 10;
COMMIT;
SQL
unvalidated=$(awk '$1 == "unvalidated" { print $2 }' "$work/now")
unvalidated_names=$(awk '$1 == "unvalidated_name" { print $2 }' "$work/now" | tr '\n' ' ')
tables=$(awk '$1 == "count"' "$work/now" | wc -l)
: >"$work/facts"
)sh";

constexpr std::string_view kRecordCompare = R"sh(if [ "$RG_ACTION" = record ]; then
  missing=$(awk '$1 == "count" && $3 == -1 { print $2 }' "$work/now" | tr '\n' ' ')
  if [ -n "$missing" ]; then
    printf 'error: no such table: %s\n' "${missing% }" >&2
    exit 2
  fi
  mkdir -p "$state" || fail "cannot create $state"
  awk '$1 == "count" { print $2, $3 }' "$work/now" >"$counts.tmp.$$" &&
    mv -f "$counts.tmp.$$" "$counts" || fail "cannot write $counts"
  awk '$1 == "count" { print "count." $2, $3 }' "$work/now" >"$work/facts"
  while read -r key value; do fact "$key" "$value"; done <"$work/facts"
  fact tables "$((tables))"
  fact unvalidated_constraints "$unvalidated"
  exit 0
fi
lost=0
losses=
no_baseline=
while read -r kind t n; do
  [ "$kind" = count ] || continue
  before=$(awk -v t="$t" '$1 == t { print $2; exit }' "$counts")
  if [ -z "$before" ]; then
    no_baseline="$no_baseline $t"
    continue
  fi
  printf 'recorded.%s %s\n' "$t" "$before" >>"$work/facts"
  if [ "$n" -lt 0 ]; then
    lost=$((lost + before))
    losses="$losses $t ($before -> table missing)"
    n=missing
  elif [ "$n" -lt "$before" ]; then
    lost=$((lost + before - n))
    losses="$losses $t ($before -> $n)"
  fi
  printf 'count.%s %s\n' "$t" "$n" >>"$work/facts"
done <"$work/now"
while read -r key value; do fact "$key" "$value"; done <"$work/facts"
fact tables "$((tables))"
fact unvalidated_constraints "$unvalidated"
fact lost_rows "$lost"
if [ -n "$no_baseline" ]; then
  printf 'error: no count recorded for:%s\n' "$no_baseline" >&2
  exit 2
fi
problems=
[ "$lost" -eq 0 ] || problems="rows lost:$losses"
if [ "$unvalidated" -ne 0 ]; then
  problems="${problems:+$problems; }$unvalidated unvalidated constraint(s): ${unvalidated_names% }"
fi
[ -z "$problems" ] || fail "$problems"
exit 0
)sh";

constexpr std::string_view kProbe =
    R"sh(if [ "$RG_ACTION" = record ] && [ -f "$counts" ]; then exit 0; fi
exit 1
)sh";

class DataIntegrityStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "data-integrity"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"database_url", ParamKind::kText, true}, {"tables", ParamKind::kLines, true},
            {"state_dir", ParamKind::kPath, true},    {"label", ParamKind::kName, true},
            {"action", ParamKind::kName, true},       {"recorded_run", ParamKind::kText, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    const std::string& action = spec.params.at("action");
    if (action != "record" && action != "compare") {
      return InvalidArgument(
          fmt::format("param \"action\": must be record or compare (got '{}')", action));
    }
    auto recorded_run = spec.params.find("recorded_run");
    if (recorded_run != spec.params.end()) {
      if (action != "compare") {
        return InvalidArgument("param \"recorded_run\": only for action compare");
      }
      if (!IsRunId(recorded_run->second)) {
        return InvalidArgument(fmt::format(
            "param \"recorded_run\": must be a run id (letters, digits, '.', '_', '-', not "
            "starting with '.') (got '{}')",
            EscapeForDisplay(recorded_run->second)));
      }
    }
    RETURN_IF_ERROR(ValidateNameLines(spec, "tables"));
    return ValidateDatabaseUrl(spec);
  }
  std::string_view Script() const override {
    static const std::string script = std::string(kRunIdScript) + std::string(kPostgresScript) +
                                      std::string(kPaths) + std::string(kCheck) +
                                      std::string(kRecordCompare);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kPaths) + std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeDataIntegrityStep() { return std::make_unique<DataIntegrityStep>(); }

}  // namespace rollgate
