// "service" (§3.x "stop application services" / "start application services" / "verify services
// running"): starts, stops or restarts a service and checks that its state really changed, or
// reports its state.
//
// Params:
//   action          start | stop | restart | status, required.
//   manager         systemd | command; default systemd.
//   unit            the systemd unit ([A-Za-z0-9@._-], not starting with '-'); required with
//                   manager=systemd, refused with manager=command.
//   start_command   shell commands run by `sh -c` on the host (with manager=command only, where
//   stop_command    status_command is required, start_command for start and restart,
//   status_command  stop_command for stop and restart). status_command exits 0 when the service
//                   runs and non-zero when it is stopped (as an LSB init script's "status"). They
//                   are commands from the configuration by nature; they see $R (the host root).
//   wait_seconds    how long to wait for the new state after a start or stop, 0..3600;
//                   default 30.
// With systemd: `systemctl start|stop|restart UNIT`, the state by `systemctl is-active UNIT`.
// start when already running and stop when already stopped do nothing (re-runnable); restart
// with manager=command stops (and waits until stopped) when running, then starts.
// Facts: state (running | stopped | unknown, after the action), previous_state (before it).
// Exit: 0 when the service is in the state the action asks for (status: always, reporting it);
//   1 when a command failed or the state did not change within wait_seconds; 2 when the state
//   cannot be read (the status command exits 126 or 127: it could not run, rather than saying
//   "stopped") or systemd has no such unit.
// Probe: start and restart are in place when the service runs, stop when it is stopped; status
//   never (it has no effect and is simply run again); undecided (2) when the state is unknown.
// The output of the start and stop commands goes through a temporary file, so a daemon that
// keeps its parent's output open cannot hold the step open.
#include <fmt/format.h>

#include <set>
#include <string>

#include "common/strings.h"
#include "engine/steps/host_param_checks.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

// The state of the service, shared by the script and the probe.
constexpr std::string_view kStateFunctions = R"sh(manager=${RG_MANAGER:-systemd}
export R
# state: prints running, stopped, or unknown when the status command cannot run (126, 127).
state() {
  if [ "$manager" = systemd ]; then
    systemctl is-active --quiet -- "$RG_UNIT" </dev/null >/dev/null 2>&1
  else
    sh -c "$RG_STATUS_COMMAND" </dev/null >/dev/null 2>&1
  fi
  case $? in
    0) echo running ;;
    126|127) echo unknown ;;
    *) echo stopped ;;
  esac
}
)sh";

constexpr std::string_view kActions = R"sh(action=$RG_ACTION
wait_seconds=${RG_WAIT_SECONDS:-30}
# perform start|stop|restart: runs the command of the manager, its output shown after it ends.
perform() {
  log=$(mktemp) || { printf 'error: cannot create a temporary file\n' >&2; return 1; }
  if [ "$manager" = systemd ]; then
    systemctl "$1" -- "$RG_UNIT" </dev/null >"$log" 2>&1
  else
    case $1 in
      start) sh -c "$RG_START_COMMAND" </dev/null >"$log" 2>&1 ;;
      stop) sh -c "$RG_STOP_COMMAND" </dev/null >"$log" 2>&1 ;;
    esac
  fi
  rc=$?
  cat "$log"
  rm -f "$log"
  if [ "$rc" != 0 ]; then printf 'error: %s %s: exit status %s\n' "$manager" "$1" "$rc" >&2; fi
  return "$rc"
}
# await running|stopped: polls the state once a second for up to wait_seconds.
await() {
  waited=0
  while [ "$(state)" != "$1" ]; do
    if [ "$waited" -ge "$wait_seconds" ]; then
      printf 'error: the service is not %s after %s s: the state did not change\n' "$1" \
        "$wait_seconds" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}
finish() {
  fact state "$(state)"
  fact previous_state "$previous"
  exit "$1"
}
if [ "$manager" = systemd ]; then
  case $(systemctl show -p LoadState -- "$RG_UNIT" </dev/null 2>/dev/null) in
    *=not-found)
      printf 'error: systemd has no unit %s\n' "$RG_UNIT" >&2
      exit 2 ;;
  esac
fi
previous=$(state)
if [ "$previous" = unknown ]; then
  printf 'error: the status of the service cannot be read (the status command could not run)\n' >&2
  finish 2
fi
case $action in
  status)
    printf 'the service is %s\n' "$previous"
    finish 0 ;;
  start)
    [ "$previous" = running ] && { printf 'already running\n'; finish 0; }
    perform start && await running || finish 1 ;;
  stop)
    [ "$previous" = stopped ] && { printf 'already stopped\n'; finish 0; }
    perform stop && await stopped || finish 1 ;;
  restart)
    if [ "$manager" = systemd ]; then
      perform restart && await running || finish 1
    else
      if [ "$previous" = running ]; then perform stop && await stopped || finish 1; fi
      perform start && await running || finish 1
    fi ;;
esac
finish 0
)sh";

constexpr std::string_view kProbe = R"sh(case $RG_ACTION in
  start|restart) wanted=running ;;
  stop) wanted=stopped ;;
  *) exit 1 ;;
esac
now=$(state)
[ "$now" != unknown ] || exit 2
[ "$now" = "$wanted" ]
)sh";

bool IsUnitName(std::string_view unit) {
  if (unit.empty() || unit.front() == '-' || unit.size() > 256) return false;
  for (char c : unit) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!(alnum || c == '@' || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

class ServiceStep final : public ScriptStep {
 public:
  ServiceStep()
      : script_(std::string(kStateFunctions) + std::string(kActions)),
        probe_(std::string(kStateFunctions) + std::string(kProbe)) {}

  std::string_view name() const override { return "service"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"action", ParamKind::kText, true},
            {"manager", ParamKind::kText, false},
            {"unit", ParamKind::kText, false},
            {"start_command", ParamKind::kCommand, false},
            {"stop_command", ParamKind::kCommand, false},
            {"status_command", ParamKind::kCommand, false},
            {"wait_seconds", ParamKind::kInteger, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    auto param = [&](const std::string& key) -> std::string {
      auto it = spec.params.find(key);
      return it == spec.params.end() ? "" : it->second;
    };
    std::string action = param("action");
    std::string manager = spec.params.contains("manager") ? param("manager") : "systemd";
    if (!std::set<std::string>{"start", "stop", "restart", "status"}.contains(action)) {
      return InvalidArgument(
          fmt::format("param \"action\": must be start, stop, restart or status (got '{}')",
                      EscapeForDisplay(action)));
    }
    RETURN_IF_ERROR(CheckIntegerRange(spec, "wait_seconds", 0, 3600));
    bool has_command = spec.params.contains("start_command") ||
                       spec.params.contains("stop_command") ||
                       spec.params.contains("status_command");
    if (manager == "systemd") {
      if (!spec.params.contains("unit")) {
        return InvalidArgument("a service step with manager=systemd needs param \"unit\"");
      }
      if (!IsUnitName(param("unit"))) {
        return InvalidArgument(
            fmt::format("param \"unit\": must be a systemd unit name ([A-Za-z0-9@._-]) (got '{}')",
                        EscapeForDisplay(param("unit"))));
      }
      if (has_command) {
        return InvalidArgument(
            "params \"start_command\", \"stop_command\" and \"status_command\" go with "
            "manager=command, not systemd");
      }
      return Status::Ok();
    }
    if (manager != "command") {
      return InvalidArgument(fmt::format("param \"manager\": must be systemd or command (got '{}')",
                                         EscapeForDisplay(manager)));
    }
    if (spec.params.contains("unit")) {
      return InvalidArgument("param \"unit\" goes with manager=systemd, not command");
    }
    std::vector<std::string> needed = {"status_command"};
    if (action == "start" || action == "restart") needed.push_back("start_command");
    if (action == "stop" || action == "restart") needed.push_back("stop_command");
    for (const std::string& key : needed) {
      if (!spec.params.contains(key)) {
        return InvalidArgument(fmt::format(
            "a service step with manager=command and action={} needs param \"{}\"", action, key));
      }
    }
    return Status::Ok();
  }

  std::string_view Script() const override { return script_; }
  std::string_view ProbeScript() const override { return probe_; }

 private:
  std::string script_;
  std::string probe_;
};

}  // namespace

std::unique_ptr<StepType> MakeServiceStep() { return std::make_unique<ServiceStep>(); }

}  // namespace rollgate
