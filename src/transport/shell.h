// Shell quoting, the remote command wrapper, and output redaction: the one place where a value
// meets a shell (RELIABILITY.md "Bad input", "Secrets").
//
// Everything here is pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "transport/transport.h"

namespace rollgate {

// POSIX single-quote quoting: 'text' with each ' written as '\''. The result is one shell word
// whose value is exactly `text` in any POSIX shell (sh, dash, bash, zsh). "" becomes ''.
// `text` must not contain NUL (a shell cannot represent it); callers validate first.
std::string ShellQuote(std::string_view text);

// ShellQuote of each element, joined by spaces.
std::string ShellQuoteArgv(const std::vector<std::string>& argv);

// Checks a CommandSpec before anything runs: non-empty argv, no NUL anywhere, valid env names,
// secret values without newline/NUL, timeout > 0, output_limit > 0, status_file an absolute
// path of [A-Za-z0-9._/-] without "..". InvalidArgument naming the problem (never the value of
// a secret).
Status ValidateCommandSpec(const CommandSpec& spec);
// The status_file rule alone (also used for ReadExitStatus and Cancel).
Status ValidateStatusFilePath(std::string_view path);
// An absolute or relative remote path for CopyTo: no NUL, newline or control characters, not
// starting with '-'. InvalidArgument otherwise.
Status ValidateRemotePath(std::string_view path);

// The POSIX sh script that runs `spec` on a host (passed as `sh -c <script>`). It
//  - reads the secret_env values, one line each in the map's order, from standard input, then
//    leaves the rest of standard input (stdin_data) to the command;
//  - exports env and secret_env, runs the ShellQuote'd argv;
//  - with a status_file: ignores SIGHUP (a dropped connection does not kill the command), runs the
//    command in its own session when `setsid` exists (unless "<status_file>.cancel" exists: then
//    it exits kExitCancelledBeforeStart), writes its pid to "<status_file>.pid" (and stops the
//    command if "<status_file>.cancel" appeared meanwhile), its
//    output to "<status_file>.out" (with secret_env values masked as "***" by an awk filter on
//    the way: no secret is ever stored on the host; output lines end with '\n'), then its exit
//    status to "<status_file>" atomically (write to a temporary file in the same directory, then
//    mv), and finally prints the last spec.output_limit bytes of the output;
//  - without a status_file: execs the command directly (with `exec_command` false: runs it as a
//    child and exits with its status, so that the script's EXIT trap runs).
// `spec` must have passed ValidateCommandSpec (which reserves variable names starting "rg_").
struct RemoteScriptOptions {
  // Without a status_file: exec the command (false: run it as a child, see above).
  bool exec_command = true;
  // With a status_file: print the output tail at the end. False: print nothing and, once the
  // exit status is recorded, set the shell variable rg_output to "<status_file>.out", for a
  // caller that reads the tail from that file itself (the session transport).
  bool print_output_tail = true;
};
std::string BuildRemoteScript(const CommandSpec& spec, RemoteScriptOptions options = {});

// The secret_env values as the wrapper expects them on standard input: each value and '\n'.
std::string SecretPreamble(const CommandSpec& spec);

// Replaces every occurrence of each non-empty secret by "***" (longest secrets first).
std::string Redact(std::string_view text, const std::vector<std::string>& secrets);

// The secrets of a spec: `redact` plus the secret_env values.
std::vector<std::string> SecretsOf(const CommandSpec& spec);

// Keeps the last `limit` bytes of a stream, redacting secrets without ever leaving a fragment of
// one behind at the cut: it holds `limit` + the longest secret's length, redacts, then cuts.
class OutputTail {
 public:
  OutputTail(size_t limit, std::vector<std::string> secrets);
  void Append(std::string_view bytes);
  // Records that bytes before the appended ones were dropped elsewhere (e.g. on the host), so the
  // beginning of what was appended may hold a fragment of a secret: Finish then drops it.
  void MarkTruncated() { dropped_ = true; }
  // The redacted tail, at most `limit` bytes; `truncated` set when bytes were dropped.
  std::string Finish(bool* truncated) const;

 private:
  size_t limit_;
  size_t slack_;
  std::vector<std::string> secrets_;
  std::string buffer_;
  bool dropped_ = false;
};

}  // namespace rollgate
