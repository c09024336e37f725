#include "transport/shell.h"

#include <fmt/format.h>

#include <algorithm>

namespace rollgate {

namespace {

bool IsValidEnvName(std::string_view name) {
  if (name.empty()) return false;
  char first = name.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool HasNul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// Names the wrapper uses for itself; a command's env may not override them.
bool IsReservedName(std::string_view name) { return name.substr(0, 3) == "rg_" || name == "IFS"; }

// Masks each secret (the environment variables named in rg_names, longest first) as "***" in
// every line; literal matching (index), not regular expressions.
constexpr const char* kRedactAwk =
    R"(BEGIN { n = split(rg_names, rg_v, " "); for (i = 1; i <= n; i++) rg_s[i] = ENVIRON[rg_v[i]] }
{
  line = $0
  for (i = 1; i <= n; i++) {
    s = rg_s[i]
    if (s == "") continue
    out = ""
    while ((k = index(line, s)) > 0) { out = out substr(line, 1, k - 1) "***"; line = substr(line, k + length(s)) }
    line = out line
  }
  print line
  fflush()
})";

}  // namespace

std::string ShellQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string ShellQuoteArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out.push_back(' ');
    out += ShellQuote(arg);
  }
  return out;
}

Status ValidateStatusFilePath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("status file must be an absolute path");
  }
  if (path.size() > 1024) return InvalidArgument("status file path longer than 1024 characters");
  for (char c : path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '/' || c == '-';
    if (!ok) return InvalidArgument("status file path may contain only [A-Za-z0-9._/-]");
  }
  if (path.find("..") != std::string_view::npos) {
    return InvalidArgument("status file path may not contain \"..\"");
  }
  if (path.back() == '/') return InvalidArgument("status file path names a directory");
  return Status::Ok();
}

Status ValidateRemotePath(std::string_view path) {
  if (path.empty()) return InvalidArgument("remote path is empty");
  if (path.front() == '-') return InvalidArgument("remote path may not start with '-'");
  if (path.size() > 4096) return InvalidArgument("remote path longer than 4096 characters");
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("remote path may not contain control characters or NUL");
    }
  }
  if (path.back() == '/') return InvalidArgument("remote path names a directory");
  return Status::Ok();
}

Status ValidateCommandSpec(const CommandSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    return InvalidArgument("command has no program (empty argv)");
  }
  for (size_t i = 0; i < spec.argv.size(); ++i) {
    if (HasNul(spec.argv[i])) {
      return InvalidArgument(fmt::format("argument {} contains NUL", i));
    }
  }
  if (spec.timeout <= Seconds(0)) return InvalidArgument("command timeout must be > 0");
  if (spec.output_limit == 0) return InvalidArgument("output limit must be > 0");
  for (const auto& [name, value] : spec.env) {
    if (!IsValidEnvName(name) || IsReservedName(name)) {
      return InvalidArgument(fmt::format("environment variable name \"{}\" refused", name));
    }
    if (HasNul(value)) return InvalidArgument(fmt::format("value of {} contains NUL", name));
  }
  for (const auto& [name, value] : spec.secret_env) {
    if (!IsValidEnvName(name) || IsReservedName(name)) {
      return InvalidArgument(fmt::format("secret variable name \"{}\" refused", name));
    }
    if (spec.env.count(name)) {
      return InvalidArgument(fmt::format("{} is both in env and secret_env", name));
    }
    if (value.find('\n') != std::string::npos || HasNul(value)) {
      return InvalidArgument(fmt::format("value of secret {} contains newline or NUL", name));
    }
  }
  if (!spec.status_file.empty()) RETURN_IF_ERROR(ValidateStatusFilePath(spec.status_file));
  return Status::Ok();
}

std::string SecretPreamble(const CommandSpec& spec) {
  std::string out;
  for (const auto& [name, value] : spec.secret_env) {
    out += value;
    out.push_back('\n');
  }
  return out;
}

std::string BuildRemoteScript(const CommandSpec& spec, RemoteScriptOptions options) {
  std::string script;
  for (const auto& [name, value] : spec.secret_env) {
    script += fmt::format(
        "IFS= read -r {0} || {{ echo 'rollgate: secret {0} missing on stdin' >&2; exit 125; }}\n"
        "export {0}\n",
        name);
  }
  for (const auto& [name, value] : spec.env) {
    script += fmt::format("export {}={}\n", name, ShellQuote(value));
  }
  std::string command = ShellQuoteArgv(spec.argv);
  if (spec.status_file.empty()) {
    script += options.exec_command ? "exec " + command + "\n" : command + "\nexit \"$?\"\n";
    return script;
  }
  if (!spec.secret_env.empty()) {
    // The output kept on the host ("<status_file>.out") must not hold a secret either: the
    // command's output passes through a filter that masks every secret value (read from the
    // environment, longest first) before it reaches the file. The filter's exit does not count:
    // the command's own status is the inner shell's.
    std::vector<std::pair<size_t, std::string>> by_length;
    for (const auto& [name, value] : spec.secret_env) by_length.emplace_back(value.size(), name);
    std::sort(by_length.begin(), by_length.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::string names;
    for (const auto& [length, name] : by_length) names += (names.empty() ? "" : " ") + name;
    std::string inner = fmt::format(R"(rg_sf=$1
{{ {} 2>&1; printf '%s\n' "$?" >"$rg_sf.rc"; }} | LC_ALL=C awk -v rg_names={} {}
rg_rc=$(cat -- "$rg_sf.rc" 2>/dev/null)
rm -f -- "$rg_sf.rc"
[ -n "$rg_rc" ] || {{ echo 'rollgate: the exit status of the command was lost' >&2; exit 1; }}
exit "$rg_rc"
)",
                                    command, ShellQuote(names), ShellQuote(kRedactAwk));
    command = "sh -c " + ShellQuote(inner) + " rollgate-step \"$rg_sf\"";
  }
  script += "trap '' HUP\n";
  script += "rg_sf=" + ShellQuote(spec.status_file) + "\n";
  // Test builtins first: a step's directory usually exists and its files usually do not, and
  // every process spared counts when many steps stream through one session.
  script += R"([ -d "${rg_sf%/*}" ] || mkdir -p -- "${rg_sf%/*}" || exit 126
if [ -e "$rg_sf" ] || [ -e "$rg_sf.pid" ]; then rm -f -- "$rg_sf" "$rg_sf.pid"; fi
if [ -e "$rg_sf.cancel" ]; then echo 'rollgate: cancelled before start' >&2; exit 125; fi
exec 3<&0
if command -v setsid >/dev/null 2>&1; then
  setsid )" +
            command + R"( 0<&3 >"$rg_sf.out" 2>&1 &
else
  )" + command +
            R"( 0<&3 >"$rg_sf.out" 2>&1 &
fi
rg_pid=$!
exec 3<&-
printf '%s\n' "$rg_pid" >"$rg_sf.pid.tmp.$$" && mv -f -- "$rg_sf.pid.tmp.$$" "$rg_sf.pid"
if [ -e "$rg_sf.cancel" ]; then
  kill -s TERM -- "-$rg_pid" 2>/dev/null || kill -s TERM "$rg_pid" 2>/dev/null
fi
wait "$rg_pid"
rg_rc=$?
printf '%s\n' "$rg_rc" >"$rg_sf.tmp.$$" && mv -f -- "$rg_sf.tmp.$$" "$rg_sf")";
  if (options.print_output_tail) {
    script += fmt::format("\ntail -c {} \"$rg_sf.out\"\n", spec.output_limit);
  } else {
    script += " && rg_output=$rg_sf.out\n";
  }
  script += "exit \"$rg_rc\"\n";
  return script;
}

std::string Redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<std::string_view> sorted;
  for (const std::string& s : secrets) {
    if (!s.empty()) sorted.push_back(s);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
  std::string out(text);
  for (std::string_view secret : sorted) {
    std::string replaced;
    size_t from = 0;
    for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, from)) {
      replaced.append(out, from, at - from);
      replaced += "***";
      from = at + secret.size();
    }
    if (from == 0) continue;
    replaced.append(out, from, std::string::npos);
    out = std::move(replaced);
  }
  return out;
}

std::vector<std::string> SecretsOf(const CommandSpec& spec) {
  std::vector<std::string> secrets = spec.redact;
  for (const auto& [name, value] : spec.secret_env) secrets.push_back(value);
  return secrets;
}

OutputTail::OutputTail(size_t limit, std::vector<std::string> secrets)
    : limit_(limit), slack_(0), secrets_(std::move(secrets)) {
  for (const std::string& s : secrets_) slack_ = std::max(slack_, s.size());
}

void OutputTail::Append(std::string_view bytes) {
  buffer_.append(bytes);
  size_t keep = limit_ + slack_;
  // Compact only when the buffer doubled, so appends stay amortised O(1).
  if (buffer_.size() > 2 * keep + 4096) {
    buffer_.erase(0, buffer_.size() - keep);
    dropped_ = true;
  }
}

std::string OutputTail::Finish(bool* truncated) const {
  size_t keep = limit_ + slack_;
  std::string_view window = buffer_;
  bool dropped = dropped_;
  if (window.size() > keep) {
    window.remove_prefix(window.size() - keep);
    dropped = true;
  }
  std::string redacted = Redact(window, secrets_);
  // A secret cut at the window's start leaves a fragment shorter than slack_: drop it.
  if (dropped) redacted.erase(0, std::min(slack_, redacted.size()));
  if (redacted.size() > limit_) {
    redacted.erase(0, redacted.size() - limit_);
    dropped = true;
  }
  if (truncated) *truncated = dropped;
  return redacted;
}

}  // namespace rollgate
