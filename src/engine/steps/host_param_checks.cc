#include "engine/steps/host_param_checks.h"

#include <fmt/format.h>

#include <string>

#include "common/strings.h"

namespace rollgate {

Status CheckIntegerRange(const StepSpec& spec, std::string_view param, long min, long max) {
  auto it = spec.params.find(std::string(param));
  if (it == spec.params.end()) return Status::Ok();
  const std::string& text = it->second;
  bool digits = !text.empty() && text.size() <= 9 && (text == "0" || text.front() != '0');
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  long value = digits ? std::stol(text) : -1;
  if (!digits || value < min || value > max) {
    return InvalidArgument(
        fmt::format("param \"{}\": must be a whole number from {} to {} without leading zeros "
                    "(got '{}')",
                    param, min, max, EscapeForDisplay(text)));
  }
  return Status::Ok();
}

Status CheckEachLine(const StepSpec& spec, std::string_view param,
                     const std::function<bool(std::string_view)>& valid, std::string_view what) {
  auto it = spec.params.find(std::string(param));
  if (it == spec.params.end()) return Status::Ok();
  bool any = false;
  for (std::string_view line : Split(it->second, '\n')) {
    if (line.empty()) continue;
    any = true;
    if (!valid(line)) {
      return InvalidArgument(fmt::format("param \"{}\": each line must be {} (got '{}')", param,
                                         what, EscapeForDisplay(line)));
    }
  }
  if (!any) return InvalidArgument(fmt::format("param \"{}\": no value given", param));
  return Status::Ok();
}

bool IsHttpUrl(std::string_view url) {
  if (!StartsWith(url, "http://") && !StartsWith(url, "https://")) return false;
  size_t rest = url.find("://") + 3;
  if (rest >= url.size()) return false;
  for (char c : url) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
  }
  return true;
}

bool IsPlainAbsolutePath(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  for (std::string_view part : Split(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

}  // namespace rollgate
