// "log-scan" (§3.1 step 7, §4.1 log review): error patterns written to a log since the step
// began. A "mark" step records where the log ends; a later "scan" step reads only what was
// written after that mark.
//
// Params:
//   file         (required) the log file on the host.
//   action       (required) "mark" or "scan".
//   state_dir    (required) host directory for cross-step state; the offset lives in
//                "$R$state_dir/$ROLLGATE_RUN/<label>.offset" ("local" when ROLLGATE_RUN is unset).
//   label        (required) names the offset file, so several logs can be watched in one run.
//   patterns     (optional) one pattern a line, fixed strings matched case-insensitively
//                (grep -i -F); default "error", "exception", "fatal". Blank lines are ignored.
//   max_matches  (optional, default 0) the number of matching lines tolerated.
//
// mark: stores the file's current size (0 when it does not exist yet). Facts: offset.
// scan: reads from the stored offset to the file's current size. When the file is now smaller
// than the offset it was truncated or rotated, and the whole file is scanned (fact rotated 1).
// Prints up to 20 matching lines, then facts: matches, first_match (the first matching line, cut
// to 200 bytes; absent without matches), scanned_bytes, rotated.
// Exit: 0 (mark done / matches <= max_matches); 1 (matches > max_matches, or the mark cannot be
// stored); 2 (scan without a mark, a corrupt offset file, or the log file missing at scan time).
//
// Probe: mark is in place when its offset file exists; scan has no effect (not in place: it may
// run again).
#include <fmt/format.h>

#include "common/strings.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class LogScanStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "log-scan"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"file", ParamKind::kPath, true},       {"action", ParamKind::kText, true},
            {"state_dir", ParamKind::kPath, true},  {"label", ParamKind::kName, true},
            {"patterns", ParamKind::kLines, false}, {"max_matches", ParamKind::kInteger, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    const std::string& action = spec.params.at("action");
    if (action != "mark" && action != "scan") {
      return InvalidArgument(fmt::format("param \"action\": must be mark or scan (got '{}')",
                                         EscapeForDisplay(action)));
    }
    auto patterns = spec.params.find("patterns");
    if (patterns != spec.params.end()) {
      bool any = false;
      for (std::string_view line : Split(patterns->second, '\n')) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) any = true;
      }
      if (!any) return InvalidArgument("param \"patterns\": needs at least one non-empty line");
    }
    return Status::Ok();
  }

  std::string_view Script() const override {
    return R"sh(dir="$R$RG_STATE_DIR/${ROLLGATE_RUN:-local}"
state="$dir/$RG_LABEL.offset"
log="$R$RG_FILE"
if [ "$RG_ACTION" = mark ]; then
  size=0
  if [ -f "$log" ]; then size=$(wc -c <"$log" | tr -d ' ') || fail "cannot read $RG_FILE"; fi
  mkdir -p "$dir" || fail "cannot create $RG_STATE_DIR"
  printf '%s\n' "$size" >"$state.tmp" && mv -f "$state.tmp" "$state" || fail "cannot store the offset"
  fact offset "$size"
  exit 0
fi
[ -f "$state" ] || { echo "error: no mark for $RG_LABEL in this run: run the mark action first" >&2; exit 2; }
offset=$(head -n 1 "$state")
case $offset in ''|*[!0-9]*) echo "error: corrupt offset file for $RG_LABEL" >&2; exit 2 ;; esac
[ -f "$log" ] || { echo "error: log file $RG_FILE not found" >&2; exit 2; }
size=$(wc -c <"$log" | tr -d ' ')
rotated=0
if [ "$size" -lt "$offset" ]; then offset=0; rotated=1; fi
scanned=$((size - offset))
pf=$(mktemp "${TMPDIR:-/tmp}/rollgate-patterns.XXXXXX") || exit 2
trap 'rm -f "$pf"' EXIT
printf '%s\n' "${RG_PATTERNS:-error
exception
fatal}" | tr -d '\r' | grep -v '^$' >"$pf"
slice() { tail -c +$((offset + 1)) "$log" | head -c "$scanned"; }
matches=$(slice | grep -a -i -F -c -f "$pf")
case $matches in ''|*[!0-9]*) fail "cannot scan $RG_FILE" ;; esac
first=$(slice | grep -a -i -F -m 1 -f "$pf" | tr -d '\r' | cut -b 1-200)
slice | grep -a -i -F -m 20 -f "$pf"
max=${RG_MAX_MATCHES:-0}
verdict=0
if [ "$matches" -gt "$max" ]; then
  verdict=1
  echo "error: $matches matching lines in $RG_FILE since the mark (at most $max allowed)" >&2
fi
fact matches "$matches"
[ -n "$first" ] && fact first_match "$first"
fact scanned_bytes "$scanned"
fact rotated "$rotated"
exit "$verdict"
)sh";
  }

  std::string_view ProbeScript() const override {
    return R"sh([ "$RG_ACTION" = mark ] || exit 1
[ -f "$R$RG_STATE_DIR/${ROLLGATE_RUN:-local}/$RG_LABEL.offset" ]
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeLogScanStep() { return std::make_unique<LogScanStep>(); }

}  // namespace rollgate
