// What the backup verification step types (verify-backup-postgres, verify-backup-files) share:
// checks of their params beyond the ParamKind rules and a fixed piece of shell script.
//
// The script piece only defines functions; no value is ever pasted into it. Thread-safety:
// constants and pure functions.
#pragma once

#include <string_view>

#include "common/status.h"
#include "engine/plan.h"

namespace rollgate {

// Defines, for the verification scripts:
//   problems / problem TEXT   every failed check, "; "-joined; problem also prints "error: TEXT"
//                             on standard error at once, so the output says what failed first;
//   first_error FILE          the first line of FILE mentioning an error (else its first
//                             non-empty line), on one line, cut to 300 bytes;
//   now_ms                    milliseconds since the epoch (seconds * 1000 where `date` has no %N);
//   seconds MS                MS as seconds with three decimals ("2.045").
inline constexpr std::string_view kVerifySupportScript = R"sh(problems=
problem() {
  problems="${problems:+$problems; }$1"
  printf 'error: %s\n' "$1" >&2
}
first_error() {
  { grep -i -m 1 'error' "$1" 2>/dev/null || grep -v -m 1 '^[[:space:]]*$' "$1" 2>/dev/null; } |
    tr '\r\n\t' '   ' | cut -c 1-300
}
now_ms() {
  _now=$(date +%s%N 2>/dev/null || true)
  case "$_now" in
    '' | *[!0-9]*) echo $(($(date +%s) * 1000)) ;;
    *) echo $((_now / 1000000)) ;;
  esac
}
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
)sh";

// Where the backup to verify is: exactly one of `direct` (a path, e.g. "dump" or "archive") and
// "backup_dir"; `label` (e.g. "backup_label") only with backup_dir, and required there when
// `label_required`. InvalidArgument naming the params otherwise.
Status ValidateBackupSource(const StepSpec& spec, std::string_view direct, std::string_view label,
                            bool label_required);

// Param "restore", when present, is "yes" or "no".
Status ValidateRestoreParam(const StepSpec& spec);

// Param "on_failure", when present, is "fail" or "report".
Status ValidateOnFailureParam(const StepSpec& spec);

// A run id as the steps name files by it (ROLLGATE_RUN): letters, digits, '.', '_', '-', not
// starting with '.'.
bool IsRunKey(std::string_view text);

}  // namespace rollgate
