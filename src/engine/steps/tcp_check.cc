// "tcp-check" (§2.3 step 3, "test connectivity to dependent services", the playbook's
// `telnet host port`): a TCP connection from the host to each target.
//
// Params:
//   targets          "host:port" per line (empty lines ignored), required. host is a name or an
//                    IPv4 address ([A-Za-z0-9._-], not starting with '-' or '.') or an IPv6
//                    address in brackets ("[::1]:5432"); port is 1..65535.
//   timeout_seconds  how long one connection may take, 1..3600; default 5.
// Facts: checked (targets tried), failed (targets that did not accept a connection),
//   first_failure (the first of them, empty when none).
// Exit: 0 when every target accepts a connection, 1 otherwise (one error line per target, with
//   curl's reason).
//
// How, without bash's /dev/tcp: `curl telnet://host:port` with standard input at end of file
// connects and sends nothing; curl reports in %{num_connects} whether the connection was made.
// curl's telnet client then waits for the server to hang up, so each try is cut off by
// --max-time and judged by num_connects: first with a short budget (0.5 s, which a reachable
// service on a working network meets), then, only when that connection was still pending, with
// the whole timeout_seconds. A refused connection or an unknown name fails at once. Each curl
// also runs under `timeout`, in case it hangs where its own limits do not reach. `-q` keeps a
// .curlrc out of it; `-g` lets brackets of IPv6 addresses through.
// Read-only and re-runnable: no probe.
#include <fmt/format.h>

#include "common/strings.h"
#include "engine/steps/host_param_checks.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.front() == '0') return false;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535;
}

bool IsHost(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!(hex || c == ':' || c == '.')) return false;
    }
    return true;
  }
  if (host.front() == '-' || host.front() == '.' || host.size() > 253) return false;
  for (char c : host) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!(alnum || c == '.' || c == '-' || c == '_')) return false;
  }
  return true;
}

class TcpCheckStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "tcp-check"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"targets", ParamKind::kLines, true}, {"timeout_seconds", ParamKind::kInteger, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(CheckEachLine(
        spec, "targets",
        [](std::string_view line) {
          size_t colon = line.rfind(':');
          return colon != std::string_view::npos && IsHost(line.substr(0, colon)) &&
                 IsPort(line.substr(colon + 1));
        },
        "host:port"));
    return CheckIntegerRange(spec, "timeout_seconds", 1, 3600);
  }

  std::string_view Script() const override {
    return R"sh(limit=${RG_TIMEOUT_SECONDS:-5}
# connect TARGET SECONDS CEILING: prints curl's exit status and %{num_connects}; `timeout`
# stops curl after CEILING seconds whatever it is doing.
connect() {
  n=$(timeout "$3" curl -q -g -s -o /dev/null -w '%{num_connects}' \
    --connect-timeout "$2" --max-time "$2" "telnet://$1" </dev/null 2>/dev/null)
  rc=$?
  printf '%s %s\n' "$rc" "${n:-0}"
}
checked=0 failed=0 first=""
while IFS= read -r target; do
  [ -n "$target" ] || continue
  checked=$((checked + 1))
  set -- $(connect "$target" 0.5 5)
  if [ "$1" = 28 ] && [ "$2" = 0 ]; then set -- $(connect "$target" "$limit" $((limit + 5))); fi
  rc=$1 connects=$2
  if [ "$rc" = 0 ] || [ "$connects" -ge 1 ]; then
    printf '%s: connected\n' "$target"
    continue
  fi
  case $rc in
    6) why="unknown host name" ;;
    7) why="connection refused or no route" ;;
    28) why="no connection within $limit s" ;;
    124) why="curl did not finish in time" ;;
    *) why="curl exit status $rc" ;;
  esac
  printf 'error: %s: %s\n' "$target" "$why" >&2
  failed=$((failed + 1))
  [ -n "$first" ] || first=$target
done <<EOF
$RG_TARGETS
EOF
fact checked "$checked"
fact failed "$failed"
fact first_failure "$first"
[ "$failed" = 0 ] || exit 1
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeTcpCheckStep() { return std::make_unique<TcpCheckStep>(); }

}  // namespace rollgate
