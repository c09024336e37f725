// "restore-files" (§6.2 "Restore application files"): puts a directory back from a backup-files
// archive.
//
// Params:
//   archive     (path, required) a gzipped tar archive, e.g. a backup-files "location"
//   target_dir  (path, required, not "/") the directory to restore, e.g. /opt/app
//   sha256      (optional) the archive's expected SHA-256 (backup-files' fact), checked first
// The archive is extracted (permissions kept; owners too when run as root) into a staging
// directory next to the target, "<target>.rollgate-restore-<run>". Only when that succeeded is
// the current target moved aside to "<target>.rollgate-replaced-<run>" and the staging directory
// renamed into its place: a failed restore leaves the target as it was. A retry in the same run
// keeps the first set-aside copy (the state before any restore) and replaces the target again.
//
// Facts: target_dir, files (entries of the archive that are not directories), replaced (where
// the previous target now is, as configured; empty when there was none).
// Exit: 0 restored; 1 extraction or the swap failed (the target is unchanged); 2 the archive is
// missing or its SHA-256 differs, or ROLLGATE_RUN cannot name a file.
// Probe: the target's file list equals the archive's and `tar --compare` finds no difference in
// contents, modes or times (0); else 1; 2 when the archive cannot be read.
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kPaths = R"sh(archive="$R$RG_ARCHIVE"
configured=$RG_TARGET_DIR
while [ "${configured%/}" != "$configured" ]; do configured=${configured%/}; done
[ -n "$configured" ] || { printf 'error: target_dir must not be /\n' >&2; exit 2; }
target="$R$configured"
)sh";

constexpr std::string_view kRestore = R"sh(if [ ! -f "$archive" ]; then
  printf 'error: archive %s does not exist\n' "$RG_ARCHIVE" >&2
  exit 2
fi
if [ -n "${RG_SHA256:-}" ]; then
  want=$(printf '%s' "$RG_SHA256" | tr 'A-F' 'a-f')
  have=$(sha256sum <"$archive" | cut -d' ' -f1)
  if [ "$have" != "$want" ]; then
    printf 'error: archive %s has SHA-256 %s, expected %s\n' "$RG_ARCHIVE" "$have" "$want" >&2
    exit 2
  fi
fi
stage="$target.rollgate-restore-$ROLLGATE_RUN"
aside="$target.rollgate-replaced-$ROLLGATE_RUN"
umask 077
mkdir -p "${target%/*}/" || fail "cannot create the parent of $configured"
rm -rf "$stage"
mkdir "$stage" || fail "cannot create $stage"
trap 'rm -rf "$stage"' EXIT
tar -xpzf "$archive" -C "$stage" || fail "cannot extract $RG_ARCHIVE; $configured is unchanged"
moved=no
if [ -e "$target" ] || [ -L "$target" ]; then
  if [ -e "$aside" ] || [ -L "$aside" ]; then
    # An earlier attempt of this run set the original aside; what is here is its restore.
    rm -rf "$target" || fail "cannot remove the earlier restore of $configured"
  else
    mv "$target" "$aside" || fail "cannot move $configured aside; it is unchanged"
    moved=yes
  fi
fi
if ! mv "$stage" "$target"; then
  [ "$moved" = yes ] && mv "$aside" "$target"
  fail "cannot move the restored tree into $configured"
fi
trap - EXIT
files=$(tar -tzf "$archive" | grep -vc '/$' || true)
replaced=
if [ -e "$aside" ] || [ -L "$aside" ]; then
  replaced="$configured.rollgate-replaced-$ROLLGATE_RUN"
fi
fact target_dir "$RG_TARGET_DIR"
fact files "$files"
fact replaced "$replaced"
)sh";

constexpr std::string_view kProbe = R"sh([ -f "$archive" ] || exit 2
[ -d "$target" ] || exit 1
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
tar -tzf "$archive" >"$work/listing" 2>/dev/null || exit 2
sed -e 's|^\./||' -e 's|/$||' "$work/listing" | grep -v '^\.\{0,1\}$' | LC_ALL=C sort >"$work/want"
(cd "$target" && find .) | sed -e 's|^\./||' | grep -v '^\.\{0,1\}$' | LC_ALL=C sort >"$work/have"
[ "$(sha256sum <"$work/want")" = "$(sha256sum <"$work/have")" ] || exit 1
tar -dzf "$archive" -C "$target" >/dev/null 2>&1 || exit 1
exit 0
)sh";

class RestoreFilesStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "restore-files"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"archive", ParamKind::kPath, true},
            {"target_dir", ParamKind::kPath, true},
            {"sha256", ParamKind::kText, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(ValidateSha256Param(spec, "sha256"));
    return ValidateNotRoot(spec, "target_dir");
  }
  std::string_view Script() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kPaths) + std::string(kRestore);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script = std::string(kPaths) + std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeRestoreFilesStep() { return std::make_unique<RestoreFilesStep>(); }

}  // namespace rollgate
