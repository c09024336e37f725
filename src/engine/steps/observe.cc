// "observe" (§6.1 rollback triggers "availability below 99.5 % over a window" and "critical
// defects affecting >= 5 % of users"): watches a service from the host for a window after the
// deployment and reports what it measured. The triggers (domain/triggers.h) judge the figures;
// the step only measures them.
//
// Params:
//   health_url        the health endpoint, probed every round; "{host}" becomes the host's name
//                     ($ROLLGATE_HOST_NAME).
//   probe_urls        more URLs probed every round, one per line (empty lines ignored); a URL
//                     may appear several times to weigh it. health_url or probe_urls (or both)
//                     must be given.
//   window_seconds    (required, 1..86400) how long to watch.
//   interval_seconds  (optional, default 5, 1..3600, at most window_seconds) from the start of
//                     one round of probes to the next: ceil(window / interval) rounds, round k
//                     due at second k * interval of the window (whole seconds, as `date +%s`
//                     counts them: a round may start up to a second early or late). Rounds a
//                     slow service delays past the window's end are left out.
//   timeout_seconds   (optional, default 5, 1..300) limit of one request.
//   metrics_url       (optional) the service's Prometheus text page (/metrics), read at the
//                     start and the end of the window; needs both metric names below.
//   requests_metric   counter of requests served, e.g. http_requests_total;
//   errors_metric     counter of requests answered with an error. Both are Prometheus metric
//                     names ([a-zA-Z_:][a-zA-Z0-9_:]*); the samples of every label set of a
//                     name are summed.
//
// A probe is one `curl` request (-q, -g, --url, no redirects, --max-time timeout_seconds under
// `timeout`); it succeeds with a 2xx status. No answer (refused, timed out) is a failed probe.
// availability_percent = successful probes / probes * 100.
// With metrics_url: error_percent = (errors at the end - at the start) / (requests at the end -
// at the start) * 100. No figure (a note instead, fact metrics_note, and on stderr) when the page
// cannot be read, the requests counter is missing, no request was counted during the window,
// or a counter went down (the service restarted during the window). An errors counter missing
// at the start but present at the end counts from 0 (client libraries often create it at the
// first error); missing at the end, it gives no figure.
//
// Facts: probes, failed_probes, availability_percent, window_seconds (the seconds actually
//   watched), first_failure ("<url> <status>", status 000 for no answer; empty when none); with
//   metrics_url: requests, errors, error_percent when measured, metrics_note when not.
// Exit: 0 when the measurement was taken, whatever the figures; 1 when no probe could be made
//   at all (curl or timeout missing, or every request refused by curl itself before reaching
//   the network);
//   2 when a URL has "{host}" and the host has no name, or no temporary file can be made.
//
// Measurement only: the probe says "no effect" (not in place), so the step may always run again.
#include <fmt/format.h>

#include "common/strings.h"
#include "engine/steps/host_param_checks.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool first = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!(first || (i > 0 && digit))) return false;
  }
  return true;
}

long IntegerParam(const StepSpec& spec, const std::string& param, long fallback) {
  auto it = spec.params.find(param);
  return it == spec.params.end() ? fallback : std::stol(it->second);
}

class ObserveStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "observe"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"health_url", ParamKind::kUrl, false},
            {"probe_urls", ParamKind::kLines, false},
            {"window_seconds", ParamKind::kInteger, true},
            {"interval_seconds", ParamKind::kInteger, false},
            {"timeout_seconds", ParamKind::kInteger, false},
            {"metrics_url", ParamKind::kUrl, false},
            {"requests_metric", ParamKind::kText, false},
            {"errors_metric", ParamKind::kText, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    const auto& params = spec.params;
    if (!params.contains("health_url") && !params.contains("probe_urls")) {
      return InvalidArgument("an observe step needs param \"health_url\" or \"probe_urls\"");
    }
    constexpr std::string_view kUrlText =
        "an http:// or https:// URL without spaces or control characters";
    for (const char* param : {"health_url", "metrics_url"}) {
      auto it = params.find(param);
      if (it != params.end() && !IsHttpUrl(it->second)) {
        return InvalidArgument(fmt::format("param \"{}\": must be {} (got '{}')", param, kUrlText,
                                           EscapeForDisplay(it->second)));
      }
    }
    RETURN_IF_ERROR(CheckEachLine(spec, "probe_urls", IsHttpUrl, kUrlText));
    RETURN_IF_ERROR(CheckIntegerRange(spec, "window_seconds", 1, 86400));
    RETURN_IF_ERROR(CheckIntegerRange(spec, "interval_seconds", 1, 3600));
    RETURN_IF_ERROR(CheckIntegerRange(spec, "timeout_seconds", 1, 300));
    long window = IntegerParam(spec, "window_seconds", 0);
    long interval = IntegerParam(spec, "interval_seconds", 5);
    if (interval > window) {
      return InvalidArgument(fmt::format(
          "param \"interval_seconds\": {} is longer than window_seconds ({})", interval, window));
    }
    for (const char* param : {"requests_metric", "errors_metric"}) {
      auto it = params.find(param);
      if (it != params.end() && !IsMetricName(it->second)) {
        return InvalidArgument(fmt::format(
            "param \"{}\": must be a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) (got '{}')",
            param, EscapeForDisplay(it->second)));
      }
    }
    bool metrics = params.contains("metrics_url");
    for (const char* param : {"requests_metric", "errors_metric"}) {
      if (metrics && !params.contains(param)) {
        return InvalidArgument(fmt::format("param \"metrics_url\" needs param \"{}\"", param));
      }
      if (!metrics && params.contains(param)) {
        return InvalidArgument(fmt::format("param \"{}\" needs param \"metrics_url\"", param));
      }
    }
    return Status::Ok();
  }

  std::string_view Script() const override {
    return R"sh(window=$RG_WINDOW_SECONDS
interval=${RG_INTERVAL_SECONDS:-5}
limit=${RG_TIMEOUT_SECONDS:-5}
LC_ALL=C; export LC_ALL
for tool in curl timeout; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: no probe could be made: $tool is not installed" >&2; exit 1; }
done
list=$(mktemp "${TMPDIR:-/tmp}/rollgate-observe.XXXXXX") || { echo "error: cannot create a temporary file" >&2; exit 2; }
page="$list.page"
trap 'rm -f "$list" "$page"' EXIT
resolve() {  # resolve URL: prints it with {host} replaced; exit 2 when the host has no name
  case $1 in
    *'{host}'*) if [ -z "${ROLLGATE_HOST_NAME:-}" ]; then
        printf 'error: %s has {host} but ROLLGATE_HOST_NAME is not set\n' "$1" >&2; exit 2; fi ;;
  esac
  with_host "$1"
}
if [ -n "${RG_HEALTH_URL:-}" ]; then
  url=$(resolve "$RG_HEALTH_URL") || exit 2
  printf '%s\n' "$url" >>"$list"
fi
while IFS= read -r url; do
  [ -n "$url" ] || continue
  url=$(resolve "$url") || exit 2
  printf '%s\n' "$url" >>"$list"
done <<EOF
${RG_PROBE_URLS:-}
EOF
metrics_url=""
if [ -n "${RG_METRICS_URL:-}" ]; then metrics_url=$(resolve "$RG_METRICS_URL") || exit 2; fi

# get URL OUT: one request; prints the HTTP status (000: no answer), returns curl's exit status.
get() {
  _get_status=$(timeout $((limit + 5)) curl -q -g -s -o "$2" -w '%{http_code}' \
    --max-time "$limit" --url "$1" </dev/null 2>/dev/null)
  _get_rc=$?
  printf '%s' "${_get_status:-000}"
  return "$_get_rc"
}
# counter FILE NAME: the sum of the samples of NAME (every label set) in a Prometheus text page;
# prints nothing when NAME has no sample.
counter() {
  awk -v n="$2" '
    substr($0, 1, length(n)) == n {
      rest = substr($0, length(n) + 1); c = substr(rest, 1, 1)
      if (c == "{") { if (!match(rest, /}[^}]*$/)) next; rest = substr(rest, RSTART + 1) }
      else if (c != " " && c != "\t") next
      split(rest, f, " ")
      if (f[1] !~ /^[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$/) next
      sum += f[1]; found = 1
    }
    END { if (found) printf "%.15g\n", sum }' "$1"
}
# scrape WHEN: reads both counters from the page into got_requests and got_errors (empty when
# missing); returns 1, with a note, when the page does not come.
note="" got_requests="" got_errors=""
scrape() {
  got_requests="" got_errors=""
  _scrape_status=$(get "$metrics_url" "$page")
  case $_scrape_status in
    2??) ;;
    *) note="no answer from $metrics_url $1 (status $_scrape_status)"; return 1 ;;
  esac
  got_requests=$(counter "$page" "$RG_REQUESTS_METRIC")
  got_errors=$(counter "$page" "$RG_ERRORS_METRIC")
}

req0="" err0=""
if [ -n "$metrics_url" ] && scrape "at the start"; then
  req0=$got_requests err0=$got_errors
  if [ -z "$req0" ]; then note="$RG_REQUESTS_METRIC not found at $metrics_url"; fi
fi

# ceil(window / interval) rounds; round k is due at second k * interval of the window.
rounds=$(((window + interval - 1) / interval))
start=$(date +%s)
deadline=$((start + window))
probes=0 failed=0 refused=0 first="" shown=0 round=0
while [ "$round" -lt "$rounds" ]; do
  now=$(date +%s)
  # A slow service delayed this round past the window's end: it would measure outside it.
  if [ "$round" -gt 0 ] && [ "$now" -ge "$deadline" ]; then break; fi
  due=$((start + round * interval))
  if [ "$now" -lt "$due" ]; then sleep $((due - now)); fi
  round=$((round + 1))
  while IFS= read -r url; do
    status=$(get "$url" /dev/null)
    rc=$?
    case $rc in
      # Unsupported protocol, initialisation failed, malformed URL: curl made no request.
      1|2|3) refused=$((refused + 1)); continue ;;
    esac
    probes=$((probes + 1))
    case "$rc:$status" in
      0:2??) continue ;;
    esac
    failed=$((failed + 1))
    [ -n "$first" ] || first="$url $status"
    if [ "$shown" -lt 10 ]; then
      shown=$((shown + 1))
      printf '+%ss %s: %s\n' "$(($(date +%s) - start))" "$url" \
        "$([ "$status" = 000 ] && echo "no answer (curl exit status $rc)" || echo "status $status")"
    fi
  done <"$list"
done
# The counters are read once the whole window has passed.
now=$(date +%s)
if [ "$now" -lt "$deadline" ]; then sleep $((deadline - now)); fi
watched=$(($(date +%s) - start))
if [ "$failed" -gt "$shown" ]; then printf '... %s more failed probes\n' $((failed - shown)); fi

if [ "$probes" -eq 0 ]; then
  echo "error: no probe could be made: curl refused every URL ($refused requests)" >&2
  fact probes 0
  fact window_seconds "$watched"
  exit 1
fi
percent() { awk -v a="$1" -v b="$2" 'BEGIN { s = sprintf("%.3f", a * 100 / b); sub(/0+$/, "", s); sub(/[.]$/, "", s); print s }'; }
availability=$(percent $((probes - failed)) "$probes")
printf 'availability %s %% over %s s: %s probes, %s failed\n' "$availability" "$watched" "$probes" "$failed"

requests="" errors="" error_percent=""
if [ -n "$metrics_url" ] && [ -z "$note" ]; then
  if scrape "at the end"; then
    req1=$got_requests err1=$got_errors
    if [ -z "$req1" ]; then
      note="$RG_REQUESTS_METRIC not found at $metrics_url at the end"
    elif [ -z "$err1" ]; then
      note="$RG_ERRORS_METRIC not found at $metrics_url"
    else
      set -- $(awk -v r0="$req0" -v r1="$req1" -v e0="${err0:-0}" -v e1="$err1" 'BEGIN {
        if (r1 + 0 < r0 + 0 || e1 + 0 < e0 + 0) { print "reset"; exit }
        printf "ok %.15g %.15g\n", r1 - r0, e1 - e0 }')
      if [ "$1" = reset ]; then
        note="a counter at $metrics_url went down during the window (requests $req0 -> $req1, errors ${err0:-0} -> $err1): the service restarted; no error share"
      else
        requests=$2 errors=$3
        if [ "$requests" = 0 ]; then
          note="no request counted by $RG_REQUESTS_METRIC during the window"
        else
          error_percent=$(percent "$errors" "$requests")
          printf 'errors %s %%: %s of %s requests\n' "$error_percent" "$errors" "$requests"
        fi
      fi
    fi
  fi
fi
if [ -n "$note" ]; then printf 'note: %s\n' "$note" >&2; fi

fact probes "$probes"
fact failed_probes "$failed"
fact availability_percent "$availability"
fact window_seconds "$watched"
fact first_failure "$first"
if [ -n "$requests" ]; then fact requests "$requests"; fact errors "$errors"; fi
if [ -n "$error_percent" ]; then fact error_percent "$error_percent"; fi
if [ -n "$note" ]; then fact metrics_note "$note"; fi
exit 0
)sh";
  }

  std::string_view ProbeScript() const override {
    // A measurement changes nothing: never in place, so it may always run again.
    return "exit 1\n";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeObserveStep() { return std::make_unique<ObserveStep>(); }

}  // namespace rollgate
