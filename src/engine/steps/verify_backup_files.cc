// "verify-backup-files" (§2.4 step 3 "Test backup restoration"): checks that a backup-files
// archive is the one taken and restores, by extracting it into a scratch directory, and measures
// how long that took. The scratch directory is always removed afterwards.
//
// Params:
//   archive      (path) the archive, e.g. a backup-files "location"; or
//   backup_dir   (path) with label (name, required): this run's archive,
//                "<backup_dir>/<label>-<run>.tar.gz" (in a deployment, right after its
//                backup-files step). Exactly one of archive and backup_dir
//   expected     (lines, optional) the SHA-256 recorded at backup time on each host, one
//                "HOST SHA256" per line (HOST as the plan names it, $ROLLGATE_HOST; "HOST -":
//                none was recorded there, not compared). An archive that differs is not the
//                backup that was taken and is not restored. A host not listed took no such
//                backup: nothing is checked there (fact checked=no)
//   compare_dir  (path, optional, restore yes only) the directory the backup was taken of, not
//                changed since (in a deployment, before the install): the restored files must
//                equal it (names, regular files' contents by SHA-256, symbolic links' targets;
//                owners, modes and times are not compared)
//   restore      (yes | no, default yes) no: only the cheap check (the SHA-256, and `tar -tzf`,
//                which reads the whole archive and its gzip checksum), nothing is extracted
//   on_failure   (fail | report, default fail) report: a failed check (or a missing archive) is
//                reported in the facts and the step exits 0, so that a run checking several
//                backups goes on to the others (`rollgate backup verify` judges the facts)
// The restore: `mktemp -d` beside the archive (".rollgate-verify-<run>.XXXXXX", on the volume
// that holds the backups), `tar -xzf --no-same-owner` into it, timed; the files extracted must
// be as many as the archive lists. The scratch directory is removed when the checks end, and by a
// trap on EXIT, HUP, INT and TERM on every other way out (only SIGKILL can leave it behind).
// Work files live in a mktemp -d directory under $TMPDIR (or /tmp), removed the same way.
//
// Facts: archive (as configured), checked (yes | no: no backup recorded on this host); when
// checked: sha256 (now), expected_sha256 (this host's, or empty), checksum (ok | differs |
// not-recorded), listed (ok | failed), files (entries that are not directories), restore (the
// param), restored (yes | failed | skipped: a check before it failed | no: not asked),
// restore_seconds (with millisecond decimals, when extracted), restored_files, compared (ok |
// differs | failed | not-compared), scratch_dir (as configured, empty when none was made),
// scratch_removed (yes | no | not-made); on failure problem (every failed check, "; "-joined),
// after one "error:" line per failed check.
// Exit: 0 every check passed (or nothing to check on this host); 1 a check failed; 2 the archive
// is missing, or ROLLGATE_RUN cannot name a file. With on_failure=report, 0 also when a check
// failed or the archive is missing (the fact problem says so).
// Probe: never in place (1): the step leaves nothing behind and may always run again.
#include <fmt/format.h>

#include "common/sha256.h"
#include "common/strings.h"
#include "engine/steps/data_step_support.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"
#include "engine/steps/verify_backup_support.h"

namespace rollgate {

namespace {

constexpr std::string_view kVerify = R"sh(if [ -n "${RG_ARCHIVE:-}" ]; then
  location=$RG_ARCHIVE
else
  location="${RG_BACKUP_DIR%/}/$RG_LABEL-$ROLLGATE_RUN.tar.gz"
fi
archive="$R$location"
restore=${RG_RESTORE:-yes}
expected=
if [ -n "${RG_EXPECTED:-}" ]; then
  expected=$(printf '%s\n' "$RG_EXPECTED" |
    awk '$1 == ENVIRON["ROLLGATE_HOST"] { print $2; exit }')
  if [ -z "$expected" ]; then
    printf 'no backup %s was recorded on %s: nothing to check here\n' "$location" \
      "${ROLLGATE_HOST:-this host}"
    fact archive "$location"
    fact checked no
    exit 0
  fi
  # "-": the backup was taken on this host, but no SHA-256 was recorded.
  [ "$expected" != - ] || expected=
fi
if [ ! -f "$archive" ]; then
  printf 'error: the archive %s does not exist\n' "$location" >&2
  fact archive "$location"
  fact checked yes
  fact problem "the archive $location does not exist"
  [ "${RG_ON_FAILURE:-fail}" = report ] && exit 0
  exit 2
fi
# Name, then content digest or link target, of everything under a directory; sorted.
manifest() (
  cd "$1" || exit 1
  {
    find . -type f -exec sha256sum {} + | sed 's/^\([0-9a-f]*\)  \(.*\)$/f \2 \1/'
    find . -type d | sed 's/^/d /'
    find . -type l | while IFS= read -r link; do
      printf 'l %s -> %s\n' "$link" "$(readlink "$link")"
    done
  } | LC_ALL=C sort
)
work=$(mktemp -d "${TMPDIR:-/tmp}/rollgate-verify.XXXXXX") ||
  fail "cannot create a temporary directory"
scratch=
scratch_dir=
scratch_removed=
remove_scratch() {
  [ -n "$scratch" ] || return 0
  if rm -rf "$scratch" && [ ! -e "$scratch" ]; then
    scratch_removed=yes
    scratch=
  else
    scratch_removed=no
    problem "the scratch directory $scratch_dir could not be removed"
  fi
}
cleanup() {
  remove_scratch >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

sha=$(sha256sum <"$archive" | cut -d' ' -f1)
checksum=not-recorded
if [ -n "$expected" ]; then
  if [ "$sha" = "$expected" ]; then
    checksum=ok
  else
    checksum=differs
    problem "the SHA-256 of $location ($sha) differs from the one recorded at backup time ($expected): it is not the backup that was taken, so it is not restored"
  fi
fi
listed=failed
files=0
if tar -tzf "$archive" >"$work/list" 2>"$work/list.err"; then
  listed=ok
  files=$(grep -vc '/$' "$work/list" || true)
else
  problem "$location does not read back with tar -tzf: $(first_error "$work/list.err")"
fi
restored=no
restore_ms=
restored_files=
compared=not-compared
if [ "$restore" = yes ]; then
  restored=skipped
fi
if [ "$restore" = yes ] && [ "$checksum" != differs ] && [ "$listed" = ok ]; then
  if scratch=$(mktemp -d "${archive%/*}/.rollgate-verify-$ROLLGATE_RUN.XXXXXX"); then
    scratch_dir="${location%/*}/${scratch##*/}"
    started=$(now_ms)
    if tar -xzf "$archive" -C "$scratch" --no-same-owner 2>"$work/restore.err"; then
      restored=yes
    else
      restored=failed
      problem "tar could not restore $location: $(first_error "$work/restore.err")"
    fi
    restore_ms=$(($(now_ms) - started))
    restored_files=$(find "$scratch" ! -type d | wc -l)
    restored_files=$((restored_files))
    if [ "$restored" = yes ] && [ "$restored_files" -ne "$files" ]; then
      problem "$restored_files files restored from $location, its listing has $files"
    fi
    if [ "$restored" = yes ] && [ -n "${RG_COMPARE_DIR:-}" ]; then
      if [ ! -d "$R$RG_COMPARE_DIR" ]; then
        compared=failed
        problem "the directory to compare with, $RG_COMPARE_DIR, does not exist"
      elif manifest "$scratch" >"$work/restored" &&
        manifest "$R$RG_COMPARE_DIR" >"$work/source"; then
        if cmp -s "$work/restored" "$work/source"; then
          compared=ok
        else
          compared=differs
          first=$(LC_ALL=C comm -3 "$work/restored" "$work/source" |
            sed 's/^[[:space:]]*[fdl] \.\///; s/ [0-9a-f]\{64\}$//; s/ -> .*$//' |
            LC_ALL=C sort -u | head -n 3 | tr '\n' ' ' | cut -c 1-300)
          problem "the restored files differ from $RG_COMPARE_DIR: ${first% }"
        fi
      else
        compared=failed
        problem "cannot read the files of $RG_COMPARE_DIR or of the restored copy"
      fi
    fi
  else
    scratch=
    restored=failed
    problem "cannot create a scratch directory beside $location"
  fi
fi
remove_scratch
fact archive "$location"
fact checked yes
fact sha256 "$sha"
fact expected_sha256 "$expected"
fact checksum "$checksum"
fact listed "$listed"
fact files "$files"
fact restore "$restore"
fact restored "$restored"
[ -z "$restore_ms" ] || fact restore_seconds "$(seconds "$restore_ms")"
[ -z "$restored_files" ] || fact restored_files "$restored_files"
fact compared "$compared"
fact scratch_dir "$scratch_dir"
fact scratch_removed "${scratch_removed:-not-made}"
if [ -n "$problems" ]; then
  fact problem "$(printf '%s' "$problems" | cut -c 1-1000)"
  [ "${RG_ON_FAILURE:-fail}" = report ] && exit 0
  exit 1
fi
exit 0
)sh";

constexpr std::string_view kProbe = "exit 1\n";

// One "HOST SHA256" per line: HOST without blanks, SHA256 of 64 hex digits; blank lines ignored.
Status ValidateExpected(const StepSpec& spec) {
  auto it = spec.params.find("expected");
  if (it == spec.params.end()) return Status::Ok();
  int lines = 0;
  for (std::string_view line : Split(it->second, '\n')) {
    std::string_view text = Trim(line);
    if (text.empty()) continue;
    size_t blank = text.find_first_of(" \t");
    std::string_view host = text.substr(0, blank);
    std::string_view digest =
        blank == std::string_view::npos ? std::string_view() : Trim(text.substr(blank));
    if (host.empty() || (!IsSha256Hex(digest) && digest != "-")) {
      return InvalidArgument(
          fmt::format("param \"expected\": each line must be \"HOST SHA256\" or \"HOST -\" "
                      "(got '{}')",
                      EscapeForDisplay(text)));
    }
    ++lines;
  }
  if (lines == 0) return InvalidArgument("param \"expected\": names no host");
  return Status::Ok();
}

class VerifyBackupFilesStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "verify-backup-files"; }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"archive", ParamKind::kPath, false},     {"backup_dir", ParamKind::kPath, false},
            {"label", ParamKind::kName, false},       {"expected", ParamKind::kLines, false},
            {"compare_dir", ParamKind::kPath, false}, {"restore", ParamKind::kName, false},
            {"on_failure", ParamKind::kName, false}};
  }
  Status ValidateMore(const StepSpec& spec) const override {
    RETURN_IF_ERROR(ValidateBackupSource(spec, "archive", "label", true));
    RETURN_IF_ERROR(ValidateRestoreParam(spec));
    RETURN_IF_ERROR(ValidateOnFailureParam(spec));
    RETURN_IF_ERROR(ValidateExpected(spec));
    auto restore = spec.params.find("restore");
    if (spec.params.contains("compare_dir") && restore != spec.params.end() &&
        restore->second == "no") {
      return InvalidArgument(
          "param \"compare_dir\": the restored files are compared, and with restore no nothing "
          "is restored");
    }
    return Status::Ok();
  }
  std::string_view Script() const override {
    static const std::string script =
        std::string(kRunIdScript) + std::string(kVerifySupportScript) + std::string(kVerify);
    return script;
  }
  std::string_view ProbeScript() const override { return kProbe; }
};

}  // namespace

std::unique_ptr<StepType> MakeVerifyBackupFilesStep() {
  return std::make_unique<VerifyBackupFilesStep>();
}

}  // namespace rollgate
