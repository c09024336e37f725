// "reachable" (§2.3 "host reachable"): the host answers and runs a POSIX shell. Facts: hostname,
// kernel, uptime_seconds. No params.
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class ReachableStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "reachable"; }

 protected:
  std::vector<ParamRule> Rules() const override { return {}; }
  std::string_view Script() const override {
    return R"sh(fact hostname "$(uname -n)"
fact kernel "$(uname -sr)"
if [ -r /proc/uptime ]; then read -r up _ </proc/uptime; fact uptime_seconds "${up%.*}"; fi
)sh";
  }
  std::string_view ProbeScript() const override { return "exit 0\n"; }
};

}  // namespace

std::unique_ptr<StepType> MakeReachableStep() { return std::make_unique<ReachableStep>(); }

}  // namespace rollgate
