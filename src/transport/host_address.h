// HostAddress: a validated "[user@]host[:port]" naming one host a transport can reach.
//
// Host names, users and ports come from configuration that people type, so they are checked
// against an allow-list before any transport sees them (RELIABILITY.md "Bad input"): RFC 1123
// host names, IPv4 literals and bracketed IPv6 literals; POSIX portable user names; ports
// 1..65535. Nothing with a leading '-', shell metacharacters, quotes, spaces, control characters
// or NUL passes, so a parsed HostAddress can never become an ssh option or reach a shell raw.
// Values are plain data: copyable, no shared state; the functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace rollgate {

struct HostAddress {
  // An RFC 1123 host name, an IPv4 literal, or an IPv6 literal without brackets.
  std::string name;
  // The login user; empty: not given (ssh's default or the user's ssh_config decides).
  std::string user;
  // 1..65535; 0: not given (ssh's default or the user's ssh_config decides).
  int port = 0;

  // "user@host:port" with brackets around IPv6 names; only the parts that were given.
  std::string ToString() const;
  bool operator==(const HostAddress&) const = default;
};

// Parses "[user@]host[:port]" where host is an RFC 1123 name, an IPv4 literal or "[IPv6]".
// On failure returns InvalidArgument naming the offending part (the text is escaped for display).
Result<HostAddress> ParseHostAddress(std::string_view text);

// The individual checks, for values configured separately (e.g. `user:` and `port:` keys).
// Each returns OK or InvalidArgument saying why the value is refused.
Status ValidateHostName(std::string_view name);  // RFC 1123 name, IPv4 or unbracketed IPv6
Status ValidateUserName(std::string_view user);  // [A-Za-z_][A-Za-z0-9_.-]{0,31}
Status ValidatePort(int port);                   // 1..65535

}  // namespace rollgate
