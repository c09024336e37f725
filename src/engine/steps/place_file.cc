// "place-file": moves a file the transfer left on the host to where the host's own root puts it,
// checking its SHA-256 there. Needed for hosts that live in a directory (param root_env, the lab):
// the transport writes real paths, the other steps read "$R<path>".
//   params: from (kPath, a real host path, not prefixed), to (kPath, prefixed with $R),
//           sha256 (64 hex digits).
//   facts:  location (the destination without the prefix), sha256.
//   exit:   0 placed and verified (also when it already was), 1 missing or wrong digest.
//   probe:  the destination has the digest -> 0, else 1.
#include <fmt/format.h>

#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

class PlaceFileStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "place-file"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"from", ParamKind::kPath, true},
            {"to", ParamKind::kPath, true},
            {"sha256", ParamKind::kText, true}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    const std::string& digest = spec.params.at("sha256");
    bool hex =
        digest.size() == 64 && digest.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) return InvalidArgument("param \"sha256\": expected 64 lowercase hex digits");
    return Status::Ok();
  }
  std::string_view Script() const override {
    return R"sh(to="$R$RG_TO"
digest() { sha256sum -- "$1" 2>/dev/null | cut -d' ' -f1; }
if [ "$(digest "$to")" != "$RG_SHA256" ]; then
  [ -f "$RG_FROM" ] || fail "$RG_FROM is missing on the host"
  [ "$(digest "$RG_FROM")" = "$RG_SHA256" ] || fail "SHA-256 of $RG_FROM is not $RG_SHA256"
  mkdir -p -- "$(dirname -- "$to")" || fail "cannot create the directory of $RG_TO"
  cp -- "$RG_FROM" "$to.rollgate-tmp" && mv -f -- "$to.rollgate-tmp" "$to" ||
    fail "cannot write $RG_TO"
  [ "$(digest "$to")" = "$RG_SHA256" ] || fail "SHA-256 of $RG_TO is not $RG_SHA256 after the copy"
fi
fact location "$RG_TO"
fact sha256 "$RG_SHA256"
)sh";
  }
  std::string_view ProbeScript() const override {
    return R"sh([ "$(sha256sum -- "$R$RG_TO" 2>/dev/null | cut -d' ' -f1)" = "$RG_SHA256" ] && exit 0
exit 1
)sh";
  }
};

}  // namespace

std::unique_ptr<StepType> MakePlaceFileStep() { return std::make_unique<PlaceFileStep>(); }

}  // namespace rollgate
