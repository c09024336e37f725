// "backup-files" (§2.4 "Application: snapshot or version backup", "Configuration: configuration
// file backup"): a gzipped tar archive of a directory, verified before it counts.
//
// Params:
//   source           (path, required) the directory to back up, e.g. /opt/app or /etc/app
//   destination_dir  (path, required) where archives go, e.g. /var/backups/rollgate (created,
//                    mode 0700)
//   label            (name, required) names the archive: "<label>-<run>.tar.gz", e.g. app, config
// The archive is written as a temporary file, read back whole with `tar -tzf`, then renamed into
// place: an archive under its final name is always complete. When an earlier attempt of the same
// run left a complete archive, it is kept (a retry never retakes a backup over a source that the
// deploy may have changed since) and reported with reused=yes.
//
// Facts: location (the archive's path as configured, without the host root), size_bytes,
// sha256, files (entries that are not directories), time (UTC, RFC 3339, when the archive was
// completed), source, reused (yes|no).
// Exit: 0 archive in place and verified; 1 the source is missing, or tar failed, or the archive
// does not read back; 2 ROLLGATE_RUN cannot name a file.
// Probe: the archive exists and `tar -tzf` reads it (0), else 1.
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr std::string_view kPaths = R"sh(dest="$R$RG_DESTINATION_DIR"
name="$RG_LABEL-$ROLLGATE_RUN.tar.gz"
archive="${dest%/}/$name"
location="${RG_DESTINATION_DIR%/}/$name"
)sh";

constexpr std::string_view kBackup = R"sh(src="$R$RG_SOURCE"
umask 077
tmp="$archive.tmp.$$"
list="$archive.list.$$"
trap 'rm -f "$tmp" "$list"' EXIT
if [ -f "$archive" ] && tar -tzf "$archive" >"$list" 2>/dev/null; then
  reused=yes
else
  reused=no
  [ -d "$src" ] || fail "source directory $RG_SOURCE does not exist"
  mkdir -p "$dest" || fail "cannot create $RG_DESTINATION_DIR"
  tar -C "$src" -czf "$tmp" . || fail "tar could not archive $RG_SOURCE"
  tar -tzf "$tmp" >"$list" || fail "the archive of $RG_SOURCE does not read back"
  sync "$tmp" 2>/dev/null || true
  mv -f "$tmp" "$archive" || fail "cannot move the archive into $RG_DESTINATION_DIR"
fi
files=$(grep -vc '/$' "$list" || true)
size=$(($(wc -c <"$archive")))
sha=$(sha256sum <"$archive" | cut -d' ' -f1)
time=$(date -u -r "$archive" +%Y-%m-%dT%H:%M:%SZ)
fact location "$location"
fact size_bytes "$size"
fact sha256 "$sha"
fact files "$files"
fact time "$time"
fact source "$RG_SOURCE"
fact reused "$reused"
)sh";

constexpr std::string_view kProbe = R"sh([ -f "$archive" ] || exit 1
tar -tzf "$archive" >/dev/null 2>&1 || exit 1
exit 0
)sh";

class BackupFilesStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "backup-files"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"source", ParamKind::kPath, true},
            {"destination_dir", ParamKind::kPath, true},
            {"label", ParamKind::kName, true}};
  }
  std::string_view Script() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kPaths) + std::string(kBackup);
    return script;
  }
  std::string_view ProbeScript() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kPaths) + std::string(kProbe);
    return script;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeBackupFilesStep() { return std::make_unique<BackupFilesStep>(); }

}  // namespace rollgate
