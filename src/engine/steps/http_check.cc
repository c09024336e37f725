// "http-check" (§2.3 step 3 `curl -I https://[service-url]/health`; the health, readiness and
// metrics endpoints checked after a deployment): each URL, asked from the host with curl, answers
// with the expected status (and body text), retried until it does or the attempts run out.
//
// Params:
//   urls              http:// or https:// URLs, one per line (empty lines ignored), required;
//                     "{host}" in a URL stands for the host's name or address
//                     ($ROLLGATE_HOST_NAME).
//   expect_status     the HTTP status that counts as healthy, 100..599; default 200.
//   attempts          tries per URL, 1..100; default 5.
//   interval_seconds  pause between two tries of one URL, 0..3600; default 2.
//   timeout_seconds   limit of one request (connection and answer), 1..3600; default 5.
//   expect_body       text the answer's body must contain (plain substring); optional.
// Facts: checked (URLs), failed (URLs that never answered as expected), last_status (the status
//   of the last request made, 000 when none came), first_failure (the first failed URL, empty
//   when none).
// Exit: 0 when every URL answered as expected, 1 when one did not (an error line says what it
//   answered), 2 when a URL has "{host}" and the host has no name.
//
// curl runs with -q (no .curlrc), -g (brackets and braces are plain characters), --url (the URL
// can never be read as an option), without following redirects, under `timeout`.
// Read-only and re-runnable: no probe.
#include <fmt/format.h>

#include "common/strings.h"
#include "engine/steps/host_param_checks.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class HttpCheckStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "http-check"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"urls", ParamKind::kLines, true},
            {"expect_status", ParamKind::kInteger, false},
            {"attempts", ParamKind::kInteger, false},
            {"interval_seconds", ParamKind::kInteger, false},
            {"timeout_seconds", ParamKind::kInteger, false},
            {"expect_body", ParamKind::kText, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(
        CheckEachLine(spec, "urls", IsHttpUrl,
                      "an http:// or https:// URL without spaces or control characters"));
    RETURN_IF_ERROR(CheckIntegerRange(spec, "expect_status", 100, 599));
    RETURN_IF_ERROR(CheckIntegerRange(spec, "attempts", 1, 100));
    RETURN_IF_ERROR(CheckIntegerRange(spec, "interval_seconds", 0, 3600));
    return CheckIntegerRange(spec, "timeout_seconds", 1, 3600);
  }

  std::string_view Script() const override {
    return R"sh(expect=${RG_EXPECT_STATUS:-200}
attempts=${RG_ATTEMPTS:-5}
interval=${RG_INTERVAL_SECONDS:-2}
limit=${RG_TIMEOUT_SECONDS:-5}
wanted_body=${RG_EXPECT_BODY:-}
body=$(mktemp) || { printf 'error: cannot create a temporary file\n' >&2; exit 2; }
trap 'rm -f "$body"' EXIT
checked=0 failed=0 first="" last=""
while IFS= read -r url; do
  [ -n "$url" ] || continue
  case $url in
    *'{host}'*)
      if [ -z "${ROLLGATE_HOST_NAME:-}" ]; then
        printf 'error: %s has {host} but ROLLGATE_HOST_NAME is not set\n' "$url" >&2
        exit 2
      fi ;;
  esac
  url=$(with_host "$url")
  checked=$((checked + 1))
  tries=0 ok="" why=""
  while [ "$tries" -lt "$attempts" ]; do
    tries=$((tries + 1))
    : >"$body"
    status=$(timeout $((limit + 5)) curl -q -g -s -o "$body" -w '%{http_code}' \
      --max-time "$limit" --url "$url" </dev/null 2>/dev/null)
    rc=$?
    status=${status:-000} last=${status:-000}
    if [ "$rc" = 0 ] && [ "$status" = "$expect" ]; then
      if [ -z "$wanted_body" ] || grep -F -q -e "$wanted_body" "$body"; then ok=1; break; fi
      why="status $status but the body lacks the expected text"
    elif [ "$rc" = 0 ]; then
      why="status $status, expected $expect"
    else
      why="no answer (curl exit status $rc)"
    fi
    if [ "$tries" -lt "$attempts" ]; then sleep "$interval"; fi
  done
  if [ -n "$ok" ]; then
    printf '%s: status %s (attempt %s)\n' "$url" "$status" "$tries"
  else
    printf 'error: %s: %s, after %s attempt(s)\n' "$url" "$why" "$tries" >&2
    failed=$((failed + 1))
    [ -n "$first" ] || first=$url
  fi
done <<EOF
$RG_URLS
EOF
fact checked "$checked"
fact failed "$failed"
fact last_status "$last"
fact first_failure "$first"
[ "$failed" = 0 ] || exit 1
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeHttpCheckStep() { return std::make_unique<HttpCheckStep>(); }

}  // namespace rollgate
