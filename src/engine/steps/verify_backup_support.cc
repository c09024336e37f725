#include "engine/steps/verify_backup_support.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace rollgate {

Status ValidateBackupSource(const StepSpec& spec, std::string_view direct, std::string_view label,
                            bool label_required) {
  const bool has_direct = spec.params.contains(std::string(direct));
  const bool has_dir = spec.params.contains("backup_dir");
  const bool has_label = spec.params.contains(std::string(label));
  if (has_direct == has_dir) {
    return InvalidArgument(fmt::format(
        "params \"{}\" and \"backup_dir\": give exactly one (the backup itself, or the directory "
        "where this run's backup is)",
        direct));
  }
  if (has_label && !has_dir) {
    return InvalidArgument(fmt::format("param \"{}\": only with backup_dir", label));
  }
  if (label_required && has_dir && !has_label) {
    return InvalidArgument(
        fmt::format("param \"{}\": required with backup_dir (it names the backup)", label));
  }
  return Status::Ok();
}

Status ValidateRestoreParam(const StepSpec& spec) {
  auto it = spec.params.find("restore");
  if (it != spec.params.end() && it->second != "yes" && it->second != "no") {
    return InvalidArgument(fmt::format("param \"restore\": must be yes or no (got '{}')",
                                       EscapeForDisplay(it->second)));
  }
  return Status::Ok();
}

Status ValidateOnFailureParam(const StepSpec& spec) {
  auto it = spec.params.find("on_failure");
  if (it != spec.params.end() && it->second != "fail" && it->second != "report") {
    return InvalidArgument(fmt::format("param \"on_failure\": must be fail or report (got '{}')",
                                       EscapeForDisplay(it->second)));
  }
  return Status::Ok();
}

bool IsRunKey(std::string_view text) {
  if (text.empty() || text.front() == '.') return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace rollgate
