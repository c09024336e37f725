// "disk-space" (§2.3 step 2, "ensure minimum 20% free space on all volumes"): the free share of
// the volume holding each path, measured with `df -P -k` on the host.
//
// Params:
//   paths             absolute host paths, one per line (empty lines ignored); default "/".
//                     Each is measured on the volume holding "$R<path>".
//   min_free_percent  the lowest acceptable free share, 0..100 (decimals allowed); default 20.
// Facts (of the fullest volume): min_free_percent (its free share, a whole number rounded down),
//   volume (the path that led to it), free_bytes (the bytes available there); checked (how many
//   paths were measured).
// Exit: 0 when every volume has at least min_free_percent free; 1 when one has less (the message
//   names the path, its free share, its free and total KiB); 2 when a path does not exist on the
//   host or df cannot measure it.
// Free share = available blocks / total blocks (blocks reserved for root count as used). A
// volume reporting no blocks at all (a pseudo file system) counts as 100 % free.
// Read-only and re-runnable: no probe.
#include <fmt/format.h>

#include <cstdlib>

#include "common/strings.h"
#include "engine/steps/host_param_checks.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class DiskSpaceStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "disk-space"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"paths", ParamKind::kLines, false}, {"min_free_percent", ParamKind::kNumber, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(CheckEachLine(
        spec, "paths",
        [](std::string_view line) {
          bool dotdot = false;
          for (std::string_view part : Split(line, '/')) dotdot = dotdot || part == "..";
          return line.front() == '/' && line.find('\r') == std::string_view::npos && !dotdot;
        },
        "an absolute path without '..'"));
    if (auto it = spec.params.find("min_free_percent"); it != spec.params.end()) {
      if (std::strtod(it->second.c_str(), nullptr) > 100) {
        return InvalidArgument(
            fmt::format("param \"min_free_percent\": must be at most 100 (got {})", it->second));
      }
    }
    return Status::Ok();
  }

  std::string_view Script() const override {
    return R"sh(min=${RG_MIN_FREE_PERCENT:-20}
paths=${RG_PATHS:-/}
checked=0 low="" worst_pct="" worst_path="" worst_free=""
while IFS= read -r p; do
  [ -n "$p" ] || continue
  if [ ! -e "$R$p" ]; then printf 'error: %s does not exist\n' "$p" >&2; exit 2; fi
  # Fields of `df -P`: file system, total, used, available, capacity%, mount point. The capacity
  # field is found by its shape, so a file system name with spaces does not shift the others.
  sizes=$(df -P -k -- "$R$p" | awk 'NR > 1 { for (i = 5; i <= NF; i++) if ($i ~ /^([0-9]+%|-)$/) {
    print $(i - 3), $(i - 1); exit } }') || sizes=""
  total=${sizes% *} avail=${sizes#* }
  case "$total$avail" in
    ''|*[!0-9]*) printf 'error: df cannot measure the volume of %s\n' "$p" >&2; exit 2 ;;
  esac
  pct=$(awk -v a="$avail" -v t="$total" 'BEGIN { if (t > 0) printf "%d", a * 100 / t; else print 100 }')
  free=$(awk -v a="$avail" 'BEGIN { printf "%.0f", a * 1024 }')
  checked=$((checked + 1))
  if [ -z "$worst_pct" ] || [ "$pct" -lt "$worst_pct" ]; then
    worst_pct=$pct worst_path=$p worst_free=$free
  fi
  if awk -v a="$avail" -v t="$total" -v m="$min" 'BEGIN { exit !(t > 0 && a * 100 / t < m) }'; then
    printf 'error: %s: %s%% free (%s KiB available of %s KiB), below %s%%\n' \
      "$p" "$pct" "$avail" "$total" "$min" >&2
    low=1
  fi
done <<EOF
$paths
EOF
fact checked "$checked"
fact min_free_percent "$worst_pct"
fact volume "$worst_path"
fact free_bytes "$worst_free"
[ -z "$low" ] || exit 1
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakeDiskSpaceStep() { return std::make_unique<DiskSpaceStep>(); }

}  // namespace rollgate
