// "extract-switch" (§3.x "deploy the patch package", §6 rollback): installs a .tar.gz already on
// the host into a live directory through a staging directory, so a failed extraction leaves the
// running version as it was, and keeps the replaced version for a rollback.
//
// Params:
//   archive     the .tar.gz on the host (kPath), required.
//   sha256      its expected SHA-256, 64 hex characters, required.
//   target_dir  the live directory (e.g. the application directory), required; an absolute path
//               without "." or ".." components or a trailing slash, not "/".
//   subdir      the directory inside the archive to install ("demo-1.1.0/app"); optional (the
//               whole archive). Relative, no empty, "." or ".." component, not starting with '-'.
//   mode        switch (default) | merge | overlay. merge: the staged directory starts as a copy
//               of the live one and the archive's files go over it, then it is switched in as
//               a whole (a patch that ships only the files it changes, as `tar -xzf -C T` does).
//   owner       user and group given to everything installed (`chown -R -h`); optional, names.
//   group
//   file_mode   octal modes ([0-7]{3,4}) given to every regular file, and every directory, of
//   dir_mode    what is installed; optional (the archive's modes otherwise).
//
// Steps, with T = target_dir, RUN = $ROLLGATE_RUN:
//   1. When T/.rollgate-release already names this sha256 and run, nothing is done (exit 0):
//      a re-run never switches twice.
//   2. The archive's SHA-256 is checked (exit 1 on a mismatch); its listing (`tar -tzf`) is
//      refused when a member is absolute or has a ".." component (exit 1).
//   3. It is extracted (without the archive's owners) into the fresh staging directory
//      "T.rollgate-staging-RUN" beside T; names with a newline are refused, and so is a subdir
//      that is missing or reached through a symbolic link. Ownership and modes are applied
//      there, and the marker T/.rollgate-release ("sha256 ...", "run ...", "archive ...") is
//      written into it. Any failure up to here removes the staging directory and leaves T as it
//      was (exit 1).
//   4. mode=switch: T is renamed to "T.rollgate-previous-RUN" and the staged directory to T (two
//      renames in one directory, so on one file system). If the second rename fails the first
//      is undone. When T did not exist, there is no previous directory.
//      mode=overlay (configuration directories, mount points): every file of the staged
//      directory is copied over T (each through a temporary name and a rename, so no file is
//      ever half-written, and a symbolic link in T is replaced rather than followed). The files
//      it replaces are first copied to "T.rollgate-previous-RUN" (same relative paths), and the
//      list ".rollgate-overlay" there records, in order, "replaced PATH", "added PATH" and
//      "added-dir PATH" lines: a rollback copies the replaced files back and removes the added
//      ones in reverse order. On a failure, or on a re-run after an interrupted overlay, that is
//      done first, so T comes back as it was. The marker is copied last.
// Facts: previous_dir (where the replaced version is, for a rollback; empty on a first
//   install), target_dir, sha256, version (first line of VERSION at the top of T, if any),
//   files (regular files installed, the marker not counted).
// Exit: 0 installed (or already installed by this run), 1 refused or failed with T unchanged,
//   2 bad input on the host (archive missing, T's parent missing, T not a directory, no
//   ROLLGATE_RUN).
// Probe: T/.rollgate-release names this sha256 and run -> in place (0), else not (1).
#include <fmt/format.h>

#include <string>

#include "common/sha256.h"
#include "common/strings.h"
#include "engine/steps/host_param_checks.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

// Names shared by the script and the probe.
constexpr std::string_view kCommon = R"sh(run=${ROLLGATE_RUN:-}
case $run in
  ''|*/*|.|..) printf 'error: ROLLGATE_RUN is not set or not a plain name\n' >&2; exit 2 ;;
esac
sha=$(printf '%s' "$RG_SHA256" | tr 'A-F' 'a-f')
target=$R$RG_TARGET_DIR
marker=.rollgate-release
# installed DIR: whether DIR's marker names this archive and run.
installed() {
  [ -f "$1/$marker" ] && grep -qxF "sha256 $sha" "$1/$marker" && grep -qxF "run $run" "$1/$marker"
}
)sh";

constexpr std::string_view kInstall = R"sh(archive=$R$RG_ARCHIVE
mode=${RG_MODE:-switch}
sub=${RG_SUBDIR:-}
staging=$target.rollgate-staging-$run
merged=$target.rollgate-merge-$run
previous=$target.rollgate-previous-$run
previous_fact=""
list=$previous/.rollgate-overlay
work=$(mktemp -d) || { printf 'error: cannot create a temporary directory\n' >&2; exit 2; }
trap 'rm -rf "$work"' EXIT
# die CODE MESSAGE: removes the staging directory and exits.
die() {
  code=$1
  shift
  rm -rf -- "$staging" "$merged"
  printf 'error: %s\n' "$*" >&2
  exit "$code"
}
report() {
  version=""
  if [ -f "$target/VERSION" ]; then
    IFS= read -r version <"$target/VERSION" || true
    version=$(printf '%s' "$version" | tr -d '\r')
  fi
  if [ "$mode" = overlay ]; then
    files=$(awk -v m="$marker" '($1 == "added" || $1 == "replaced") &&
      substr($0, index($0, " ") + 1) != m { n++ } END { print n + 0 }' "$list" 2>/dev/null) ||
      files=0
  else
    files=$(($(find "$target" -type f | wc -l) - 1))
  fi
  if [ -z "$previous_fact" ] && [ -d "$previous" ]; then
    previous_fact=$RG_TARGET_DIR.rollgate-previous-$run
  fi
  fact previous_dir "$previous_fact"
  fact target_dir "$RG_TARGET_DIR"
  fact sha256 "$sha"
  fact version "$version"
  fact files "$files"
}
# undo_overlay: puts back what an overlay of this run changed in the target (newest first) and
# removes the previous directory.
undo_overlay() {
  [ -f "$list" ] || { rm -rf -- "$previous"; return 0; }
  awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$list" >"$work/undo"
  while IFS= read -r entry; do
    kind=${entry%% *} path=${entry#* }
    case $kind in
      replaced)
        cp -P -p -- "$previous/$path" "$target/$path.rollgate-tmp-$run" &&
          mv -f -- "$target/$path.rollgate-tmp-$run" "$target/$path" || return 1 ;;
      added) rm -f -- "$target/$path" || return 1 ;;
      added-dir) rmdir -- "$target/$path" 2>/dev/null || true ;;
    esac
  done <"$work/undo"
  rm -rf -- "$previous"
}
# put RELATIVE: copies the staged RELATIVE over the target's, recording it first.
put() {
  s=$src/$1 t=$target/$1
  if [ -d "$s" ] && [ ! -L "$s" ]; then
    if [ -d "$t" ]; then return 0; fi
    if [ -e "$t" ] || [ -L "$t" ]; then printf 'error: %s is a file in the target\n' "$1" >&2; return 1; fi
    printf 'added-dir %s\n' "$1" >>"$list" && mkdir -- "$t"
    return
  fi
  if [ -d "$t" ] && [ ! -L "$t" ]; then
    printf 'error: %s is a directory in the target\n' "$1" >&2
    return 1
  fi
  if [ -e "$t" ] || [ -L "$t" ]; then
    mkdir -p -- "$(dirname -- "$previous/$1")" && cp -P -p -- "$t" "$previous/$1" &&
      printf 'replaced %s\n' "$1" >>"$list" || return 1
  else
    printf 'added %s\n' "$1" >>"$list" || return 1
  fi
  cp -P -p -- "$s" "$t.rollgate-tmp-$run" && mv -f -- "$t.rollgate-tmp-$run" "$t" ||
    { rm -f -- "$t.rollgate-tmp-$run"; return 1; }
}

if [ -d "$target" ] && installed "$target"; then
  printf '%s already holds this archive (run %s)\n' "$RG_TARGET_DIR" "$run"
  rm -rf -- "$staging"
  report
  exit 0
fi
[ -f "$archive" ] || { printf 'error: no archive %s\n' "$RG_ARCHIVE" >&2; exit 2; }
[ -d "$(dirname -- "$target")" ] ||
  { printf 'error: the parent directory of %s does not exist\n' "$RG_TARGET_DIR" >&2; exit 2; }
if [ -e "$target" ] && [ ! -d "$target" ]; then
  printf 'error: %s is not a directory\n' "$RG_TARGET_DIR" >&2
  exit 2
fi
actual=$(sha256sum <"$archive" | awk '{ print $1 }')
[ "$actual" = "$sha" ] || die 1 "$RG_ARCHIVE has SHA-256 $actual, expected $sha"
tar -tzf "$archive" >"$work/listing" 2>"$work/tar-errors" ||
  { cat "$work/tar-errors" >&2; die 1 "$RG_ARCHIVE cannot be read as a .tar.gz"; }
bad=$(awk '{ unsafe = substr($0, 1, 1) == "/"; n = split($0, part, "/")
  for (i = 1; i <= n; i++) if (part[i] == "..") unsafe = 1
  if (unsafe) { print; exit } }' "$work/listing")
[ -z "$bad" ] || die 1 "$RG_ARCHIVE has a member outside its directory: $bad"
rm -rf -- "$staging"
mkdir -- "$staging" || die 1 "cannot create $staging"
tar -xzf "$archive" -C "$staging" --no-same-owner 2>"$work/tar-errors" ||
  { cat "$work/tar-errors" >&2; die 1 "extracting $RG_ARCHIVE failed; $RG_TARGET_DIR is unchanged"; }
newline='
'
[ -z "$(find "$staging" -name "*$newline*")" ] || die 1 "$RG_ARCHIVE has a name with a newline"
src=$staging rest=$sub
while [ -n "$rest" ]; do
  src=$src/${rest%%/*}
  case $rest in */*) rest=${rest#*/} ;; *) rest="" ;; esac
  if [ -L "$src" ] || [ ! -d "$src" ]; then die 1 "$RG_ARCHIVE has no directory $sub"; fi
done
if [ -n "${RG_OWNER:-}${RG_GROUP:-}" ]; then
  chown -R -h -- "${RG_OWNER:-}${RG_GROUP:+:$RG_GROUP}" "$src" || die 1 "chown failed"
fi
if [ -n "${RG_FILE_MODE:-}" ]; then
  find "$src" -type f -exec chmod "$RG_FILE_MODE" {} + || die 1 "chmod of the files failed"
fi
if [ -n "${RG_DIR_MODE:-}" ]; then
  find "$src" -type d -exec chmod "$RG_DIR_MODE" {} + || die 1 "chmod of the directories failed"
fi
printf 'sha256 %s\nrun %s\narchive %s\n' "$sha" "$run" "$RG_ARCHIVE" >"$src/$marker" ||
  die 1 "cannot write the marker"

if [ "$mode" = merge ]; then
  # A copy of the live version with the archive's files over it, switched in as a whole.
  rm -rf -- "$merged"
  mkdir -- "$merged" || die 1 "cannot create $merged"
  if [ -d "$target" ]; then
    cp -a -- "$target/." "$merged/" || die 1 "cannot copy $RG_TARGET_DIR; it is unchanged"
  fi
  cp -a -- "$src/." "$merged/" || die 1 "cannot merge the new files; $RG_TARGET_DIR is unchanged"
  src=$merged
fi
if [ "$mode" = switch ] || [ "$mode" = merge ]; then
  if [ -e "$target" ]; then
    [ ! -e "$previous" ] ||
      die 1 "$RG_TARGET_DIR.rollgate-previous-$run already exists; $RG_TARGET_DIR is unchanged"
    mv -- "$target" "$previous" || die 1 "cannot move $RG_TARGET_DIR aside"
    previous_fact=$RG_TARGET_DIR.rollgate-previous-$run
  fi
  if ! mv -- "$src" "$target"; then
    if [ -n "$previous_fact" ] && [ ! -e "$target" ]; then mv -- "$previous" "$target"; fi
    die 1 "cannot move the new version into $RG_TARGET_DIR; it is unchanged"
  fi
else
  if [ -e "$previous" ]; then
    undo_overlay || die 1 "cannot undo the interrupted overlay of this run (see $previous)"
  fi
  mkdir -p -- "$target" "$previous" || die 1 "cannot create $RG_TARGET_DIR or its previous directory"
  : >"$list" || die 1 "cannot write $list"
  (cd "$src" && find . ! -name . ! -path "./$marker") >"$work/entries" ||
    die 1 "cannot list the staged files"
  previous_fact=$RG_TARGET_DIR.rollgate-previous-$run
  failed=""
  while IFS= read -r entry; do
    put "${entry#./}" || { failed=1; break; }
  done <"$work/entries"
  if [ -n "$failed" ] || ! put "$marker"; then
    undo_overlay || die 1 "the overlay failed and could not be undone (see $previous)"
    die 1 "the overlay failed; $RG_TARGET_DIR is as it was"
  fi
fi
rm -rf -- "$staging" "$merged"
report
)sh";

bool IsOctalMode(std::string_view text) {
  if (text.size() < 3 || text.size() > 4) return false;
  for (char c : text) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

bool IsRelativeSubdir(std::string_view text) {
  if (text.empty() || text.front() == '/' || text.front() == '-' || text.back() == '/') {
    return false;
  }
  for (std::string_view part : Split(text, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

class ExtractSwitchStep final : public ScriptStep {
 public:
  ExtractSwitchStep()
      : script_(std::string(kCommon) + std::string(kInstall)),
        probe_(std::string(kCommon) + "installed \"$target\"\n") {}

  std::string_view name() const override { return "extract-switch"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"archive", ParamKind::kPath, true},    {"sha256", ParamKind::kText, true},
            {"target_dir", ParamKind::kPath, true}, {"subdir", ParamKind::kText, false},
            {"mode", ParamKind::kText, false},      {"owner", ParamKind::kName, false},
            {"group", ParamKind::kName, false},     {"file_mode", ParamKind::kText, false},
            {"dir_mode", ParamKind::kText, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    const std::string& sha = spec.params.at("sha256");
    if (!IsSha256Hex(sha)) {
      return InvalidArgument(fmt::format("param \"sha256\": must be 64 hex characters (got '{}')",
                                         EscapeForDisplay(sha)));
    }
    const std::string& target = spec.params.at("target_dir");
    if (!IsPlainAbsolutePath(target)) {
      return InvalidArgument(fmt::format(
          "param \"target_dir\": must be an absolute path other than \"/\", without \".\" or "
          "empty components or a trailing slash (got '{}')",
          EscapeForDisplay(target)));
    }
    if (auto it = spec.params.find("subdir");
        it != spec.params.end() && !IsRelativeSubdir(it->second)) {
      return InvalidArgument(fmt::format(
          "param \"subdir\": must be a relative path without \".\", \"..\" or empty components, "
          "not starting with '-' (got '{}')",
          EscapeForDisplay(it->second)));
    }
    if (auto it = spec.params.find("mode"); it != spec.params.end() && it->second != "switch" &&
                                            it->second != "overlay" && it->second != "merge") {
      return InvalidArgument(
          fmt::format("param \"mode\": must be switch, merge or overlay (got '{}')",
                      EscapeForDisplay(it->second)));
    }
    for (const char* key : {"file_mode", "dir_mode"}) {
      if (auto it = spec.params.find(key); it != spec.params.end() && !IsOctalMode(it->second)) {
        return InvalidArgument(
            fmt::format("param \"{}\": must be an octal mode like 0644 (got '{}')", key,
                        EscapeForDisplay(it->second)));
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

std::unique_ptr<StepType> MakeExtractSwitchStep() { return std::make_unique<ExtractSwitchStep>(); }

}  // namespace rollgate
