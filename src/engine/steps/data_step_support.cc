#include "engine/steps/data_step_support.h"

#include <fmt/format.h>

#include "common/sha256.h"
#include "common/strings.h"

namespace rollgate {

namespace {

const std::string* Param(const StepSpec& spec, std::string_view param) {
  auto it = spec.params.find(std::string(param));
  return it == spec.params.end() ? nullptr : &it->second;
}

bool IsName(std::string_view text) {
  if (text.empty()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// libpq decodes %XX in URI parameter names too: "pass%77ord" is "password".
std::string PercentDecoded(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Status ValidateDatabaseUrl(const StepSpec& spec, std::string_view param) {
  const std::string* value = Param(spec, param);
  if (value == nullptr) return Status::Ok();
  std::string_view url = *value;
  std::string_view rest;
  if (StartsWith(url, "postgresql://")) {
    rest = url.substr(13);
  } else if (StartsWith(url, "postgres://")) {
    rest = url.substr(11);
  } else {
    return InvalidArgument(
        fmt::format("param \"{}\": must be a postgresql:// or postgres:// URL (got '{}')", param,
                    EscapeForDisplay(url.substr(0, std::min<size_t>(url.size(), 20)))));
  }
  // Whether a password is present is decided first, so that no message repeats one.
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  size_t at = authority.rfind('@');
  bool password =
      at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos;
  size_t query = rest.find('?');
  if (query != std::string_view::npos) {
    std::string_view parameters = rest.substr(query + 1);
    parameters = parameters.substr(0, parameters.find('#'));
    for (std::string_view pair : Split(parameters, '&')) {
      std::string key = ToLower(PercentDecoded(pair.substr(0, pair.find('='))));
      if (key == "password") password = true;
    }
  }
  if (password) {
    return InvalidArgument(fmt::format(
        "param \"{}\": the URL holds a password; give it as the secret PGPASSWORD instead "
        "(secrets: {{PGPASSWORD: env:NAME}})",
        param));
  }
  for (char c : url) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == ' ' || c == '\'' || c == '"' || c == '`' || c == '\\') {
      return InvalidArgument(fmt::format(
          "param \"{}\": the URL must not contain spaces, quotes, backslashes or control "
          "characters (got '{}')",
          param, EscapeForDisplay(url)));
    }
  }
  return Status::Ok();
}

Status ValidateSha256Param(const StepSpec& spec, std::string_view param) {
  const std::string* value = Param(spec, param);
  if (value == nullptr) return Status::Ok();
  if (!IsSha256Hex(*value)) {
    return InvalidArgument(
        fmt::format("param \"{}\": must be a SHA-256 digest, 64 hex digits "
                    "(got '{}')",
                    param, EscapeForDisplay(*value)));
  }
  return Status::Ok();
}

Status ValidateNameLines(const StepSpec& spec, std::string_view param) {
  const std::string* value = Param(spec, param);
  if (value == nullptr) return Status::Ok();
  int names = 0;
  for (std::string_view line : Split(*value, '\n')) {
    std::string_view name = Trim(line);
    if (name.empty()) continue;
    if (!IsName(name)) {
      return InvalidArgument(
          fmt::format("param \"{}\": each line must be a name ([A-Za-z_][A-Za-z0-9_]*) "
                      "(got '{}')",
                      param, EscapeForDisplay(name)));
    }
    ++names;
  }
  if (names == 0) {
    return InvalidArgument(fmt::format("param \"{}\": names no table", param));
  }
  return Status::Ok();
}

Status ValidateNotRoot(const StepSpec& spec, std::string_view param) {
  const std::string* value = Param(spec, param);
  if (value == nullptr) return Status::Ok();
  if (value->find_first_not_of('/') == std::string::npos) {
    return InvalidArgument(fmt::format("param \"{}\": must not be the root directory", param));
  }
  return Status::Ok();
}

}  // namespace rollgate
