#include "transport/host_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

#include "common/strings.h"

namespace rollgate {

namespace {

constexpr size_t kMaxHostNameLength = 253;
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxUserLength = 32;

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsIpv4(std::string_view text) {
  in_addr address{};
  return inet_pton(AF_INET, std::string(text).c_str(), &address) == 1;
}

bool IsIpv6(std::string_view text) {
  in6_addr address{};
  return inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

Status Refuse(std::string_view what, std::string_view value, std::string_view reason) {
  return InvalidArgument(
      fmt::format("{} \"{}\" refused: {}", what, EscapeForDisplay(value), reason));
}

}  // namespace

Status ValidateHostName(std::string_view name) {
  if (name.empty()) return Refuse("host name", name, "empty");
  if (name.size() > kMaxHostNameLength) {
    return InvalidArgument(fmt::format("host name refused: longer than {} characters ({})",
                                       kMaxHostNameLength, name.size()));
  }
  if (name.front() == '-') return Refuse("host name", name, "starts with '-'");
  if (name.find(':') != std::string_view::npos) {
    if (IsIpv6(name)) return Status::Ok();
    return Refuse("host name", name, "not a valid IPv6 address");
  }
  if (IsIpv4(name)) return Status::Ok();
  bool all_numeric = true;
  for (std::string_view label : Split(name, '.')) {
    if (label.empty()) return Refuse("host name", name, "empty label");
    if (label.size() > kMaxLabelLength) {
      return Refuse("host name", name, "a label is longer than 63 characters");
    }
    if (label.front() == '-' || label.back() == '-') {
      return Refuse("host name", name, "a label starts or ends with '-'");
    }
    for (char c : label) {
      if (!IsAsciiAlnum(c) && c != '-') {
        return Refuse("host name", name,
                      "only letters, digits, '-' and '.' are allowed (RFC 1123)");
      }
      if (!(c >= '0' && c <= '9')) all_numeric = false;
    }
  }
  if (all_numeric) return Refuse("host name", name, "not a valid IPv4 address");
  return Status::Ok();
}

Status ValidateUserName(std::string_view user) {
  if (user.empty()) return Refuse("user", user, "empty");
  if (user.size() > kMaxUserLength) return Refuse("user", user, "longer than 32 characters");
  char first = user.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_')) {
    return Refuse("user", user, "must start with a letter or '_'");
  }
  for (char c : user) {
    if (!IsAsciiAlnum(c) && c != '_' && c != '.' && c != '-') {
      return Refuse("user", user, "only letters, digits, '_', '.' and '-' are allowed");
    }
  }
  return Status::Ok();
}

Status ValidatePort(int port) {
  if (port < 1 || port > 65535) {
    return InvalidArgument(fmt::format("port {} refused: must be 1..65535", port));
  }
  return Status::Ok();
}

std::string HostAddress::ToString() const {
  std::string out;
  if (!user.empty()) out = user + "@";
  bool ipv6 = name.find(':') != std::string::npos;
  out += ipv6 ? "[" + name + "]" : name;
  if (port != 0) out += ":" + std::to_string(port);
  return out;
}

Result<HostAddress> ParseHostAddress(std::string_view text) {
  if (text.empty()) return InvalidArgument("host address refused: empty");
  if (text.size() > kMaxUserLength + 1 + kMaxHostNameLength + 2 + 6) {
    return InvalidArgument(
        fmt::format("host address refused: too long ({} characters)", text.size()));
  }
  HostAddress address;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    address.user = std::string(rest.substr(0, at));
    RETURN_IF_ERROR(ValidateUserName(address.user));
    rest.remove_prefix(at + 1);
  }
  std::string_view port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Refuse("host address", text, "missing ']'");
    address.name = std::string(rest.substr(1, close - 1));
    if (!IsIpv6(address.name)) return Refuse("host address", text, "not a valid IPv6 address");
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Refuse("host address", text, "unexpected text after ']'");
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return Refuse("host address", text, "IPv6 addresses must be written in brackets: [addr]");
    }
    address.name = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      has_port = true;
    }
    RETURN_IF_ERROR(ValidateHostName(address.name));
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) {
      return Refuse("port", port_text, "must be a number 1..65535");
    }
    int port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size()) {
      return Refuse("port", port_text, "must be a number 1..65535");
    }
    RETURN_IF_ERROR(ValidatePort(port));
    address.port = port;
  }
  return address;
}

}  // namespace rollgate
