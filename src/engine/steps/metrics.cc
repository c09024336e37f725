// "metrics" (§3.3 step 1 baseline, §4.2 performance after the patch: more than 20 % worse is
// flagged): the response time and error share of an HTTP endpoint, measured before the patch
// ("baseline") and compared after it ("compare").
//
// Params:
//   url                      (required) the endpoint; "{host}" becomes the host's name.
//   action                   (required) "baseline" or "compare".
//   state_dir                (required) host directory for cross-step state; the baseline lives
//                            in "$R$state_dir/$ROLLGATE_RUN/<label>.metrics" ("local" when
//                            ROLLGATE_RUN is unset), as "median_ms error_percent".
//   label                    (required) names the baseline, so several endpoints can be watched.
//   samples                  (optional, default 10, 1..1000) requests made one after another.
//   max_degradation_percent  (optional, default 20) the tolerated slowdown of the median.
//   on_degradation           (optional) fail (default): a degradation fails the step; flag: it
//                            is reported (fact flagged yes, on stderr) and the step succeeds.
//   timeout_seconds          (optional, default 5, 1..300) per request.
//
// Each request is `curl -w '%{time_total} %{http_code}'`. median_ms is the median time of the
// requests that got an answer (any HTTP status); error_percent is the share of requests without
// a 2xx answer (including no answer at all).
// baseline: stores the figures. Facts: median_ms, error_percent, samples, baseline_ms (= median),
// baseline_error_percent. Exit 1 when no request got an answer (nothing to compare to later).
// compare: degradation_percent = (median - baseline) / baseline * 100, except that differences
// under 5 ms count as 0: loopback and LAN times of a few milliseconds jitter by more than 20 %
// between runs, and a few milliseconds are no regression a user notices. Facts: median_ms,
// error_percent, samples, baseline_ms, baseline_error_percent, degradation_percent.
// Exit 1 when degradation_percent > max_degradation_percent, or error_percent exceeds the
// baseline's by more than 5 points; 2 when there is no baseline (or it is corrupt).
//
// Probe: baseline is in place when its file exists; compare has no effect (not in place: it may
// run again).
#include <fmt/format.h>

#include <charconv>

#include "common/strings.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

Status CheckRange(const StepSpec& spec, const std::string& param, long min, long max) {
  auto it = spec.params.find(param);
  if (it == spec.params.end()) return Status::Ok();
  long value = 0;
  const std::string& text = it->second;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidArgument(fmt::format("param \"{}\": must be from {} to {} (got '{}')", param, min,
                                       max, EscapeForDisplay(text)));
  }
  return Status::Ok();
}

class MetricsStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "metrics"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"url", ParamKind::kUrl, true},
            {"action", ParamKind::kText, true},
            {"state_dir", ParamKind::kPath, true},
            {"label", ParamKind::kName, true},
            {"samples", ParamKind::kInteger, false},
            {"max_degradation_percent", ParamKind::kNumber, false},
            {"on_degradation", ParamKind::kName, false},
            {"timeout_seconds", ParamKind::kInteger, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    const std::string& action = spec.params.at("action");
    if (action != "baseline" && action != "compare") {
      return InvalidArgument(fmt::format("param \"action\": must be baseline or compare (got '{}')",
                                         EscapeForDisplay(action)));
    }
    RETURN_IF_ERROR(CheckRange(spec, "samples", 1, 1000));
    return CheckRange(spec, "timeout_seconds", 1, 300);
  }

  std::string_view Script() const override {
    return R"sh(case $RG_URL in
  *"{host}"*) if [ -z "${ROLLGATE_HOST_NAME:-}" ]; then
      echo "error: url names {host} but ROLLGATE_HOST_NAME is not set" >&2; exit 2; fi ;;
esac
url=$(with_host "$RG_URL")
LC_ALL=C; export LC_ALL
dir="$R$RG_STATE_DIR/${ROLLGATE_RUN:-local}"
state="$dir/$RG_LABEL.metrics"
if [ "$RG_ACTION" = compare ]; then
  [ -f "$state" ] || { echo "error: no baseline for $RG_LABEL in this run: run the baseline action first" >&2; exit 2; }
  read -r base_ms base_err _ <"$state" || true
  case "${base_ms:-}:${base_err:-}" in
    *[!0-9.:]*|:*|*:) echo "error: corrupt baseline file for $RG_LABEL" >&2; exit 2 ;;
  esac
fi
samples=${RG_SAMPLES:-10}
timeout=${RG_TIMEOUT_SECONDS:-5}
times=$(mktemp "${TMPDIR:-/tmp}/rollgate-metrics.XXXXXX") || exit 2
trap 'rm -f "$times"' EXIT
i=0
while [ "$i" -lt "$samples" ]; do
  curl -q -g -s -o /dev/null -m "$timeout" -w '%{time_total} %{http_code}\n' "$url" >>"$times" 2>/dev/null
  i=$((i + 1))
done
# One line: median_ms error_percent answered.
set -- $(awk -v n="$samples" '
  $2 ~ /^[0-9][0-9][0-9]$/ && $2 != "000" { t[++a] = $1 * 1000; if ($2 ~ /^2/) ok++ }
  END {
    for (i = 2; i <= a; i++) { v = t[i]; for (j = i - 1; j >= 1 && t[j] > v; j--) t[j + 1] = t[j]; t[j + 1] = v }
    if (a == 0) m = 0; else if (a % 2) m = t[(a + 1) / 2]; else m = (t[a / 2] + t[a / 2 + 1]) / 2
    printf "%.1f %.1f %d\n", m, (n - ok) * 100 / n, a
  }' "$times")
median=$1 errors=$2 answered=$3
if [ "$RG_ACTION" = baseline ]; then
  if [ "$answered" -eq 0 ]; then
    echo "error: no answer from $url: no baseline stored" >&2
    fact median_ms "$median"; fact error_percent "$errors"; fact samples "$samples"
    exit 1
  fi
  mkdir -p "$dir" || fail "cannot create $RG_STATE_DIR"
  printf '%s %s\n' "$median" "$errors" >"$state.tmp" && mv -f "$state.tmp" "$state" || fail "cannot store the baseline"
  fact median_ms "$median"
  fact error_percent "$errors"
  fact samples "$samples"
  fact baseline_ms "$median"
  fact baseline_error_percent "$errors"
  exit 0
fi
# Differences under 5 ms count as no change (see the header of metrics.cc).
set -- $(awk -v m="$median" -v b="$base_ms" -v e="$errors" -v be="$base_err" \
    -v max="${RG_MAX_DEGRADATION_PERCENT:-20}" 'BEGIN {
  d = m - b; deg = 0
  if (d >= 5 || d <= -5) { if (b < 0.1) b = 0.1; deg = d * 100 / b }
  bad = (deg > max + 0 || e + 0 > be + 5) ? 1 : 0
  printf "%.1f %d\n", deg, bad
}')
degradation=$1 verdict=$2
if [ "$verdict" -ne 0 ]; then
  echo "error: $url: median $median ms against baseline $base_ms ms ($degradation %), errors $errors % against $base_err %" >&2
  fact flagged yes
  # on_degradation=flag: the finding is reported (fact flagged), the step still succeeds.
  if [ "${RG_ON_DEGRADATION:-fail}" = flag ]; then verdict=0; fi
fi
fact median_ms "$median"
fact error_percent "$errors"
fact samples "$samples"
fact baseline_ms "$base_ms"
fact baseline_error_percent "$base_err"
fact degradation_percent "$degradation"
exit "$verdict"
)sh";
  }

  std::string_view ProbeScript() const override {
    return R"sh([ "$RG_ACTION" = baseline ] || exit 1
[ -f "$R$RG_STATE_DIR/${ROLLGATE_RUN:-local}/$RG_LABEL.metrics" ]
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeMetricsStep() { return std::make_unique<MetricsStep>(); }

}  // namespace rollgate
