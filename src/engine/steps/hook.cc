// "hook" (§3.3 step 3 maintenance mode and connection draining; §3.3 step 2 notifications until
// Rollgate sends them itself): runs a command from the configuration on the host.
//
// Params:
//   command  (required) a shell command line, run by `sh -c` on the host with standard input
//            from /dev/null. It sees ROLLGATE_ROOT (the host root prefix $R, empty on real
//            hosts), ROLLGATE_HOOK_PURPOSE and the usual ROLLGATE_* variables.
//   purpose  (required) what the hook is for, recorded as evidence: maintenance-on, drain,
//            notify ... (one line of text).
//   workdir  (optional) a host directory; the command runs there ("$R$workdir").
// The command's output precedes the facts: purpose, exit_code (the command's).
// Exit: 0 when the command exits 0; 1 when it exits non-zero; 2 when workdir is missing.
//
// Probe: the hook's effect is the command's own business: the step's "probe" command when the
// plan gives one, else undecided.
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class HookStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "hook"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"command", ParamKind::kCommand, true},
            {"purpose", ParamKind::kText, true},
            {"workdir", ParamKind::kPath, false}};
  }
  std::string_view Script() const override {
    return R"sh(ROLLGATE_ROOT=$R; export ROLLGATE_ROOT
ROLLGATE_HOOK_PURPOSE=$RG_PURPOSE; export ROLLGATE_HOOK_PURPOSE
if [ -n "${RG_WORKDIR:-}" ]; then
  cd "$R$RG_WORKDIR" 2>/dev/null || { echo "error: no directory $RG_WORKDIR on the host" >&2; exit 2; }
fi
sh -c "$RG_COMMAND" </dev/null 2>&1
code=$?
[ "$code" -eq 0 ] || echo "error: the $RG_PURPOSE hook exited with status $code" >&2
fact purpose "$RG_PURPOSE"
fact exit_code "$code"
[ "$code" -eq 0 ] || exit 1
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeHookStep() { return std::make_unique<HookStep>(); }

}  // namespace rollgate
