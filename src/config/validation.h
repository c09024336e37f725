// Checks for single values of rollgate.yaml: host names, person and unix user names, identifiers,
// lead times, percentages, weekdays, paths, URLs and secret references.
//
// These are allow-lists: a value is accepted only when every character and the overall shape are
// known to be safe, because many of these values later reach ssh, psql or a remote shell (as
// arguments, never through a shell string, but refusing hostile values here is the first line).
// Every failure is InvalidArgument with a message that shows the offending value only through
// DisplayValue (escaped and shortened), so an error can be printed without forging log lines.
// The exception is ValidateSecretReference and ValidateDatabaseUrl, whose messages never show the
// value at all, because it may be a password.
// All functions are pure and thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"

namespace rollgate {

// The value as it may appear in an error message: control and bidirectional characters escaped
// (EscapeForDisplay) and cut to 80 bytes with "..." appended when longer.
std::string DisplayValue(std::string_view value);

// A deployment target: `[user@]host[:port]` where host is an RFC 1123 name (labels of letters,
// digits and '-', not starting or ending with '-', each at most 63 characters, at most 253 in all),
// a dotted IPv4 address, a bare IPv6 address (then without port) or `[IPv6]` (port allowed);
// user follows ValidateUnixUser; port is 1-65535. Anything else — a leading '-', whitespace,
// shell metacharacters, quotes, control characters — is refused naming the reason.
Status ValidateHost(std::string_view host);

// The id of a person: lowercase letter first, then lowercase letters, digits, '.', '_' or '-',
// at most 64 characters ("alice", "j.smith").
Status ValidatePersonName(std::string_view name);

// A POSIX login name: lowercase letter or '_' first, then lowercase letters, digits, '_' or '-',
// at most 32 characters.
Status ValidateUnixUser(std::string_view user);

// A name other configuration entries refer to (environment, system, role, contact, group,
// channel, escalation path, sign-off kind, attachment kind): a letter or digit first, then letters,
// digits, '.', '_' or '-', at most 64 characters. `what` names the thing in the message.
Status ValidateIdentifier(std::string_view name, std::string_view what);

// One line of free text (a full name, a window's name, a description): no control characters
// except tab, at most `max_bytes` bytes.
Status ValidateText(std::string_view text, size_t max_bytes);

// "same-day" (or "same day"), a positive duration ("24h", "4h30m"), or a number of business days
// ("5 business days", "1 business day", "5bd"; 1-260).
Result<LeadTime> ParseLeadTime(std::string_view text);

// "immediate" (or "immediately", "0", "0s") for zero, else a duration as ParseDuration reads it.
Result<Seconds> ParseResponseTime(std::string_view text);

// A number from 0 to 100, optionally followed by '%' ("95", "99.5", "95%").
Result<double> ParsePercent(std::string_view text);

// "monday".."sunday" or "mon".."sun", any case.
Result<std::chrono::weekday> ParseWeekday(std::string_view text);

// "1".."10000" hosts at a time, or "1%".."100%" of an environment's hosts.
Status ValidateBatch(std::string_view text);

// An absolute path without '..' components, made only of letters, digits and "/._-+@,=".
Status ValidateAbsolutePath(std::string_view path);

// A plain e-mail address: local part of letters, digits and "._%+-", '@', a host name.
Status ValidateEmail(std::string_view email);

// A phone number: digits, spaces and "+-().", 3 to 32 characters, at least 3 digits.
Status ValidatePhone(std::string_view phone);

// An http:// or https:// URL without whitespace or control characters, at most 2048 bytes.
Status ValidateHttpUrl(std::string_view url);

// A Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*, at most 200 characters.
Status ValidateMetricName(std::string_view name);

// A readiness dependency: an http(s) URL or `host:port` (ValidateHost, port required).
Status ValidateDependency(std::string_view dependency);

// A database table, optionally schema-qualified: `[A-Za-z_][A-Za-z0-9_]*`, up to 63 per part.
Status ValidateTableName(std::string_view table);

// A PostgreSQL URL (postgresql:// or postgres://) that does not carry a password in its user info
// or its query. The message never repeats the URL.
Status ValidateDatabaseUrl(std::string_view url);

// A reference to a secret, never the secret itself: "env:NAME" (NAME a shell variable name) or
// "file:/absolute/path". The message never repeats the value and says how to write a reference.
Status ValidateSecretReference(std::string_view reference);

}  // namespace rollgate
