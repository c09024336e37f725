#include "config/validation.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "common/strings.h"

namespace rollgate {
namespace {

bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }

bool AllOf(std::string_view text, bool (*predicate)(char)) {
  return std::all_of(text.begin(), text.end(), predicate);
}

// Parses a whole decimal number without sign; false on anything else or overflow.
bool ParseUnsigned(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 12 || !AllOf(text, IsAsciiDigit)) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

Status BadHost(std::string_view host, std::string_view why) {
  return InvalidArgument(fmt::format(
      "invalid host '{}': {} (expected [user@]host[:port] with an RFC 1123 name, an IPv4 "
      "address or an IPv6 address)",
      DisplayValue(host), why));
}

bool IsHostCharacter(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '-' || c == ':' || c == '@' || c == '_' || c == '[' ||
         c == ']';
}

// A DNS name or IPv4 address, without user or port. Returns the reason it is invalid, or "".
std::string HostNameProblem(std::string_view name) {
  if (name.empty()) return "empty host name";
  if (name.size() > 253) return "host name longer than 253 characters";
  if (name.find_first_of("_@[]:") != std::string_view::npos) {
    return "host name may contain only letters, digits, '.' and '-'";
  }
  if (AllOf(name, [](char c) { return IsAsciiDigit(c) || c == '.'; })) {
    in_addr address{};
    std::string copy(name);
    if (inet_pton(AF_INET, copy.c_str(), &address) != 1) return "not a valid IPv4 address";
    return "";
  }
  std::string_view rest = name;
  if (rest.back() == '.') rest.remove_suffix(1);  // a fully qualified name may end with '.'
  for (const std::string& label : Split(rest, '.')) {
    if (label.empty()) return "empty label (two dots in a row, or a leading dot)";
    if (label.size() > 63) return "a label is longer than 63 characters";
    if (label.front() == '-' || label.back() == '-') {
      return "a label starts or ends with '-'";
    }
  }
  return "";
}

}  // namespace

std::string DisplayValue(std::string_view value) {
  constexpr size_t kMaxShown = 80;
  if (value.size() <= kMaxShown) return EscapeForDisplay(value);
  size_t cut = kMaxShown;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return EscapeForDisplay(value.substr(0, cut)) + "...";
}

Status ValidateHost(std::string_view host) {
  if (host.empty()) return BadHost(host, "empty");
  // A 253-character name, a 32-character user with '@', ':' and a five-digit port, and brackets.
  constexpr size_t kMaxHostEntry = 253 + 33 + 6 + 2;
  if (host.size() > kMaxHostEntry) return BadHost(host, "longer than 253 characters");
  if (host.front() == '-') return BadHost(host, "must not start with '-'");
  for (char c : host) {
    if (!IsHostCharacter(c)) {
      auto u = static_cast<unsigned char>(c);
      if (std::isspace(u)) return BadHost(host, "contains whitespace");
      if (u < 0x20 || u == 0x7F) return BadHost(host, "contains a control character");
      if (u >= 0x80) return BadHost(host, "contains a non-ASCII character");
      return BadHost(host, fmt::format("contains the character '{}'", c));
    }
  }
  std::string_view rest = host;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (rest.find('@') != std::string_view::npos) return BadHost(host, "more than one '@'");
    if (!ValidateUnixUser(user).ok()) return BadHost(host, "invalid user name before '@'");
    if (!rest.empty() && rest.front() == '-') return BadHost(host, "host must not start with '-'");
  }
  std::string_view name = rest;
  std::string_view port;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return BadHost(host, "'[' without ']'");
    std::string address(rest.substr(1, close - 1));
    in6_addr v6{};
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) {
      return BadHost(host, "not a valid IPv6 address inside [...]");
    }
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadHost(host, "unexpected text after ']'");
      port = after.substr(1);
      has_port = true;
    }
    name = {};
  } else if (std::count(rest.begin(), rest.end(), ':') >= 2) {
    if (rest.find_first_of("[]") != std::string_view::npos) {
      return BadHost(host, "misplaced '[' or ']'");
    }
    std::string address(rest);
    in6_addr v6{};
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) {
      return BadHost(host, "not a valid IPv6 address (write [address]:port to give a port)");
    }
    name = {};
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      name = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      has_port = true;
    }
    std::string problem = HostNameProblem(name);
    if (!problem.empty()) return BadHost(host, problem);
  }
  if (has_port) {
    int64_t number = 0;
    if (!ParseUnsigned(port, number) || number < 1 || number > 65535) {
      return BadHost(host, "port must be a number from 1 to 65535");
    }
  }
  return Status::Ok();
}

Status ValidatePersonName(std::string_view name) {
  auto ok_char = [](char c) {
    return IsAsciiLower(c) || IsAsciiDigit(c) || c == '.' || c == '_' || c == '-';
  };
  if (name.empty() || name.size() > 64 || !IsAsciiLower(name.front()) ||
      !std::all_of(name.begin(), name.end(), ok_char)) {
    return InvalidArgument(fmt::format(
        "invalid person name '{}': use a lowercase letter first, then lowercase letters, digits, "
        "'.', '_' or '-' (at most 64)",
        DisplayValue(name)));
  }
  return Status::Ok();
}

Status ValidateUnixUser(std::string_view user) {
  auto ok_char = [](char c) { return IsAsciiLower(c) || IsAsciiDigit(c) || c == '_' || c == '-'; };
  if (user.empty() || user.size() > 32 || !(IsAsciiLower(user.front()) || user.front() == '_') ||
      !std::all_of(user.begin(), user.end(), ok_char)) {
    return InvalidArgument(fmt::format(
        "invalid unix user '{}': use a lowercase letter or '_' first, then lowercase letters, "
        "digits, '_' or '-' (at most 32)",
        DisplayValue(user)));
  }
  return Status::Ok();
}

Status ValidateIdentifier(std::string_view name, std::string_view what) {
  auto ok_char = [](char c) { return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-'; };
  if (name.empty() || name.size() > 64 || !IsAsciiAlnum(name.front()) ||
      !std::all_of(name.begin(), name.end(), ok_char)) {
    return InvalidArgument(fmt::format(
        "invalid {} name '{}': use a letter or digit first, then letters, digits, '.', '_' or "
        "'-' (at most 64)",
        what, DisplayValue(name)));
  }
  return Status::Ok();
}

Status ValidateText(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return InvalidArgument(
        fmt::format("text longer than {} bytes: '{}'", max_bytes, DisplayValue(text)));
  }
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      return InvalidArgument(
          fmt::format("text contains a control character: '{}'", DisplayValue(text)));
    }
  }
  return Status::Ok();
}

Result<LeadTime> ParseLeadTime(std::string_view text) {
  std::string lowered = ToLower(Trim(text));
  auto bad = [&] {
    return InvalidArgument(fmt::format(
        "invalid lead time '{}': expected same-day, a duration such as 24h, or a number of "
        "business days such as '5 business days' or 5bd",
        DisplayValue(text)));
  };
  if (lowered == "same-day" || lowered == "same day") return LeadTime::SameDay();
  std::string_view view = lowered;
  std::string_view digits = view.substr(0, view.find_first_not_of("0123456789"));
  std::string_view unit = Trim(view.substr(digits.size()));
  if (!digits.empty() && (unit == "bd" || unit == "business day" || unit == "business days")) {
    int64_t days = 0;
    if (!ParseUnsigned(digits, days) || days < 1 || days > 260) {
      return InvalidArgument(fmt::format(
          "invalid lead time '{}': business days must be from 1 to 260", DisplayValue(text)));
    }
    return LeadTime::BusinessDays(static_cast<int>(days));
  }
  auto duration = ParseDuration(lowered);
  if (!duration.ok()) return bad();
  return LeadTime::Hours(*duration);
}

Result<Seconds> ParseResponseTime(std::string_view text) {
  std::string lowered = ToLower(Trim(text));
  if (lowered == "immediate" || lowered == "immediately" || lowered == "0") return Seconds(0);
  auto duration = ParseDuration(lowered, /*allow_zero=*/true);
  if (!duration.ok()) {
    return InvalidArgument(
        fmt::format("invalid response time '{}': expected immediate or a duration such as 15m, 1h",
                    DisplayValue(text)));
  }
  return *duration;
}

Result<double> ParsePercent(std::string_view text) {
  std::string_view number = Trim(text);
  if (!number.empty() && number.back() == '%') number = Trim(number.substr(0, number.size() - 1));
  double value = 0;
  bool ok =
      !number.empty() && number.size() <= 32 &&
      std::all_of(number.begin(), number.end(), [](char c) { return IsAsciiDigit(c) || c == '.'; });
  if (ok) {
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    ok = ec == std::errc() && ptr == number.data() + number.size() && std::isfinite(value) &&
         value >= 0 && value <= 100;
  }
  if (!ok) {
    return InvalidArgument(
        fmt::format("expected a percentage from 0 to 100, got '{}'", DisplayValue(text)));
  }
  return value;
}

Result<std::chrono::weekday> ParseWeekday(std::string_view text) {
  static constexpr const char* kNames[] = {"sunday",   "monday", "tuesday", "wednesday",
                                           "thursday", "friday", "saturday"};
  std::string lowered = ToLower(Trim(text));
  for (unsigned i = 0; i < 7; ++i) {
    std::string_view full = kNames[i];
    if (lowered == full || lowered == full.substr(0, 3)) return std::chrono::weekday(i);
  }
  std::vector<std::string> candidates(std::begin(kNames), std::end(kNames));
  std::string suggestion = DidYouMean(lowered, candidates);
  return InvalidArgument(fmt::format("invalid weekday '{}'{}", DisplayValue(text),
                                     suggestion.empty()
                                         ? std::string(" (expected monday..sunday)")
                                         : fmt::format(" (did you mean '{}'?)", suggestion)));
}

Status ValidateBatch(std::string_view text) {
  int64_t number = 0;
  if (!text.empty() && text.back() == '%') {
    if (ParseUnsigned(text.substr(0, text.size() - 1), number) && number >= 1 && number <= 100) {
      return Status::Ok();
    }
  } else if (ParseUnsigned(text, number) && number >= 1 && number <= 10000) {
    return Status::Ok();
  }
  return InvalidArgument(fmt::format(
      "invalid batch '{}': expected a number of hosts (1-10000) or a percentage such as 25%",
      DisplayValue(text)));
}

Status ValidateAbsolutePath(std::string_view path) {
  auto ok_char = [](char c) {
    return IsAsciiAlnum(c) || c == '/' || c == '.' || c == '_' || c == '-' || c == '+' ||
           c == '@' || c == ',' || c == '=';
  };
  std::string why;
  if (path.empty() || path.front() != '/') {
    why = "must be an absolute path starting with '/'";
  } else if (path.size() > 4096) {
    why = "longer than 4096 characters";
  } else if (!std::all_of(path.begin(), path.end(), ok_char)) {
    why = "may contain only letters, digits and /._-+@,=";
  } else {
    for (const std::string& part : Split(path, '/')) {
      if (part == "..") why = "must not contain '..'";
    }
  }
  if (why.empty()) return Status::Ok();
  return InvalidArgument(fmt::format("invalid path '{}': {}", DisplayValue(path), why));
}

Status ValidateEmail(std::string_view email) {
  size_t at = email.find('@');
  bool ok = email.size() <= 254 && at != std::string_view::npos && at > 0 && at <= 64 &&
            email.find('@', at + 1) == std::string_view::npos;
  if (ok) {
    std::string_view local = email.substr(0, at);
    ok = std::all_of(local.begin(), local.end(), [](char c) {
      return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
    });
    std::string_view domain = email.substr(at + 1);
    ok = ok && domain.find('.') != std::string_view::npos && HostNameProblem(domain).empty() &&
         !AllOf(domain, [](char c) { return IsAsciiDigit(c) || c == '.'; });
  }
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format("invalid e-mail address '{}'", DisplayValue(email)));
}

Status ValidatePhone(std::string_view phone) {
  auto ok_char = [](char c) {
    return IsAsciiDigit(c) || c == ' ' || c == '+' || c == '-' || c == '(' || c == ')' || c == '.';
  };
  if (phone.size() >= 3 && phone.size() <= 32 && std::all_of(phone.begin(), phone.end(), ok_char) &&
      std::count_if(phone.begin(), phone.end(), IsAsciiDigit) >= 3) {
    return Status::Ok();
  }
  return InvalidArgument(fmt::format("invalid phone number '{}': use digits, spaces and +-(). only",
                                     DisplayValue(phone)));
}

Status ValidateHttpUrl(std::string_view url) {
  bool ok = (StartsWith(url, "http://") || StartsWith(url, "https://")) && url.size() <= 2048 &&
            url.size() > 8 && std::none_of(url.begin(), url.end(), [](char c) {
              auto u = static_cast<unsigned char>(c);
              return u <= 0x20 || u == 0x7F || c == '"' || c == '\'' || c == '`' || c == '\\';
            });
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format(
      "invalid URL '{}': expected http:// or https:// without spaces, quotes or control "
      "characters",
      DisplayValue(url)));
}

Status ValidateMetricName(std::string_view name) {
  auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  bool ok = !name.empty() && name.size() <= 200 && first(name.front()) &&
            std::all_of(name.begin(), name.end(),
                        [&](char c) { return first(c) || (c >= '0' && c <= '9'); });
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format(
      "invalid metric name '{}': expected letters, digits, '_' and ':', not starting with a digit",
      DisplayValue(name)));
}

Status ValidateDependency(std::string_view dependency) {
  if (StartsWith(dependency, "http://") || StartsWith(dependency, "https://")) {
    return ValidateHttpUrl(dependency);
  }
  bool has_port = !dependency.empty() && (dependency.back() != ']') &&
                  dependency.find(':') != std::string_view::npos &&
                  std::count(dependency.begin(), dependency.end(), ':') == 1;
  bool bracketed_with_port = !dependency.empty() && dependency.front() == '[' &&
                             dependency.find("]:") != std::string_view::npos;
  if (dependency.find('@') == std::string_view::npos && (has_port || bracketed_with_port) &&
      ValidateHost(dependency).ok()) {
    return Status::Ok();
  }
  return InvalidArgument(fmt::format(
      "invalid dependency '{}': expected host:port or an http(s) URL", DisplayValue(dependency)));
}

Status ValidateTableName(std::string_view table) {
  std::vector<std::string> parts = Split(table, '.');
  bool ok = parts.size() <= 2;
  for (const std::string& part : parts) {
    ok = ok && !part.empty() && part.size() <= 63 &&
         (IsAsciiAlpha(part.front()) || part.front() == '_') &&
         std::all_of(part.begin(), part.end(), [](char c) { return IsAsciiAlnum(c) || c == '_'; });
  }
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format(
      "invalid table name '{}': expected [schema.]table made of letters, digits and '_'",
      DisplayValue(table)));
}

Status ValidateDatabaseUrl(std::string_view url) {
  std::string_view rest;
  if (StartsWith(url, "postgresql://")) {
    rest = url.substr(13);
  } else if (StartsWith(url, "postgres://")) {
    rest = url.substr(11);
  } else {
    return InvalidArgument(
        "invalid database url: expected postgresql://[user@]host[:port]/database");
  }
  if (url.size() > 2048 || std::any_of(url.begin(), url.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7F || c == '"' || c == '\'' || c == '`' || c == '\\';
      })) {
    return InvalidArgument(
        "invalid database url: it contains spaces, quotes or control characters");
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  size_t at = authority.rfind('@');
  bool password_in_userinfo =
      at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos;
  std::string lowered = ToLower(url);
  bool password_in_query = lowered.find("password=") != std::string::npos;
  if (password_in_userinfo || password_in_query) {
    return InvalidArgument(
        "database url must not contain a password; put it in 'password' as a reference such as "
        "env:BILLING_DB_PASSWORD or file:/etc/rollgate/billing-db.pass");
  }
  return Status::Ok();
}

Status ValidateSecretReference(std::string_view reference) {
  auto how = [](std::string_view what) {
    return InvalidArgument(fmt::format(
        "{}: write a reference to the secret, not the secret itself: 'env:NAME' (an environment "
        "variable) or 'file:/absolute/path' (a file readable only by rollgate)",
        what));
  };
  if (StartsWith(reference, "env:")) {
    std::string_view name = reference.substr(4);
    if (name.empty() || name.size() > 128 || IsAsciiDigit(name.front()) ||
        !std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAsciiAlnum(c) || c == '_'; })) {
      return how(
          "invalid secret reference: the variable name after 'env:' must be letters, "
          "digits and '_'");
    }
    return Status::Ok();
  }
  if (StartsWith(reference, "file:")) {
    if (!ValidateAbsolutePath(reference.substr(5)).ok()) {
      return how("invalid secret reference: 'file:' must be followed by an absolute path");
    }
    return Status::Ok();
  }
  return how("a literal secret is not allowed here");
}

}  // namespace rollgate
