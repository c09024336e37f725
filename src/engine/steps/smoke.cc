// "smoke-test" (§3.1 step 6, §3.2 step 7, §3.3: smoke tests, 100 % pass required): runs the
// configured smoke-test command on the host and counts its results.
//
// Params:
//   command   (required) a shell command line from the configuration, run by `sh -c` on the host
//             with standard input from /dev/null, e.g. "$RELEASE/smoke-test.sh"
//             "$ROLLGATE_BASE_URL".
//             "{host}" in it is NOT replaced: commands read $ROLLGATE_HOST_NAME.
//   base_url  (optional) a URL whose "{host}" becomes the host's name; exported to the command as
//             ROLLGATE_BASE_URL.
//   workdir   (optional) a host directory; the command runs there ("$R$workdir").
// The command also sees ROLLGATE_ROOT (the host root prefix $R, empty on real hosts) to find host
// paths.
//
// Output lines starting (after blanks) with "ok" or "PASS" count as passed, with "FAIL" or
// "not ok" as failed. Facts: passed, failed, pass_rate (100 when the command exits 0 and printed
// no failed line; else passed / (passed + failed) * 100 rounded down, 0 without counted lines),
// exit_code (the command's).
// Exit: 0 when the command exits 0 and printed no failed line (100 % required); 1 otherwise
// (also when it exits 0 but reports failures); 2 when workdir is missing or {host} cannot be
// replaced. The command's own output precedes the facts.
//
// No probe: a check without effect, safe to run again.
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class SmokeTestStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "smoke-test"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"command", ParamKind::kCommand, true},
            {"base_url", ParamKind::kUrl, false},
            {"workdir", ParamKind::kPath, false}};
  }
  std::string_view Script() const override {
    return R"sh(ROLLGATE_ROOT=$R; export ROLLGATE_ROOT
if [ -n "${RG_BASE_URL:-}" ]; then
  case $RG_BASE_URL in
    *"{host}"*) if [ -z "${ROLLGATE_HOST_NAME:-}" ]; then
        echo "error: base_url names {host} but ROLLGATE_HOST_NAME is not set" >&2; exit 2; fi ;;
  esac
  ROLLGATE_BASE_URL=$(with_host "$RG_BASE_URL"); export ROLLGATE_BASE_URL
fi
if [ -n "${RG_WORKDIR:-}" ]; then
  cd "$R$RG_WORKDIR" 2>/dev/null || { echo "error: no directory $RG_WORKDIR on the host" >&2; exit 2; }
fi
log=$(mktemp "${TMPDIR:-/tmp}/rollgate-smoke.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
sh -c "$RG_COMMAND" </dev/null >"$log" 2>&1
code=$?
cat "$log"
passed=$(grep -a -c -E '^[[:space:]]*(ok|PASS)' "$log")
failed=$(grep -a -c -E '^[[:space:]]*(FAIL|not ok)' "$log")
if [ "$code" -eq 0 ] && [ "$failed" -eq 0 ]; then rate=100
elif [ $((passed + failed)) -gt 0 ]; then rate=$((passed * 100 / (passed + failed)))
else rate=0; fi
verdict=0
if [ "$code" -ne 0 ] || [ "$failed" -ne 0 ]; then
  verdict=1
  echo "error: smoke tests failed (exit status $code, $failed failed, pass rate $rate %)" >&2
fi
fact passed "$passed"
fact failed "$failed"
fact pass_rate "$rate"
fact exit_code "$code"
exit "$verdict"
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeSmokeTestStep() { return std::make_unique<SmokeTestStep>(); }

}  // namespace rollgate
