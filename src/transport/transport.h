// Transport: how a command or a file reaches a host. The interface every step uses.
//
// Implementations: LocalTransport (this machine, posix_spawn), SshTransport (the OpenSSH client
// with one ControlMaster connection per host) and SimulatedTransport (in-process hosts for tests
// and benchmarks). Steps and the engine see only this header (STYLE.md 2).
//
// The durability contract (RELIABILITY.md 1, 3, 8): a command given a `status_file` leaves its
// exit status in that file on the host, written atomically (temporary file + rename) when the
// command ends, even when the connection to the host was lost meanwhile. After a crash or a lost
// connection the outcome is read with ReadExitStatus, not guessed and not re-run; Cancel stops a
// command still running and returns only once it is gone.
//
// Quoting contract: argv elements are passed as an argument vector locally and ShellQuote'd one
// by one remotely; nothing a user typed reaches a shell unquoted. Secrets (secret_env values and
// `redact` strings) never appear on any command line and are replaced by "***" in output tails
// and error messages.
//
// Thread-safety: every implementation may be called concurrently from several threads for
// different hosts and for the same host. A Transport owns the connections and helper processes
// it opens; Close() (and the destructor) releases them.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "transport/host_address.h"

namespace rollgate {

// Exit code of a command whose process was killed by a signal: 128 + signal number (as sh does).
// Exit code reported when the outcome is not known (timed out, connection lost): kExitUnknown.
inline constexpr int kExitUnknown = -1;
// Exit code of a Run whose status_file had been cancelled before the command started: the command
// did not run and no exit-status file is written.
inline constexpr int kExitCancelledBeforeStart = 125;

struct CommandSpec {
  // The program and its arguments; argv[0] is looked up in PATH. Must not be empty; no element
  // may contain NUL. Runs without a shell unless argv is explicitly {"sh", "-c", script, ...}.
  std::vector<std::string> argv;
  // Bytes written to the command's standard input, then EOF.
  std::string stdin_data;
  // The whole command, from spawn to exit. Must be > 0. On expiry the command (and, for remote
  // commands with a status_file, the process on the host) is killed: SIGTERM, then SIGKILL.
  Seconds timeout{300};
  // Extra environment variables. Names must match [A-Za-z_][A-Za-z0-9_]*. These values may appear
  // on the remote command line (visible to `ps` on the host): never put secrets here.
  std::map<std::string, std::string> env;
  // Secret environment variables (passwords, tokens). Never on a command line: remote transports
  // send them through the standard input of the wrapper, ahead of stdin_data. Values must not
  // contain newline or NUL. Their values are redacted from output like `redact`.
  std::map<std::string, std::string> secret_env;
  // Absolute path on the host of the exit-status file, named by run and step, e.g.
  // "/var/lib/rollgate/runs/R-12/step-3-host1.status". Characters: [A-Za-z0-9._/-], no "..".
  // Empty: no status file (the command's outcome is lost with the connection). With a status file,
  // the remote command's output is also kept on the host in "<status_file>.out" (secret_env values
  // masked as "***" before they reach the file) and its pid in
  // "<status_file>.pid" (for Cancel); Cancel leaves "<status_file>.cancel". A status_file that was
  // cancelled is never run again (Run returns kExitCancelledBeforeStart): name one per attempt.
  std::string status_file;
  // The output tail keeps at most this many bytes (the end of stdout+stderr interleaved).
  size_t output_limit = size_t{64} * 1024;
  // Strings masked as "***" in the output tail (in addition to secret_env values).
  std::vector<std::string> redact;
};

struct CommandResult {
  // 0..255 as the command exited; 128 + signal when it was killed by a signal; kExitUnknown when
  // timed_out or connection_lost.
  int exit_code = kExitUnknown;
  // The timeout expired; the command was killed (its real outcome, if it finished in between, is
  // in the status file).
  bool timed_out = false;
  // The connection dropped after the command may have started (ssh exit 255): the outcome is
  // unknown, never a failure of the command. Read it with ReadExitStatus.
  bool connection_lost = false;
  // The last output_limit bytes of stdout+stderr, secrets replaced by "***".
  std::string output_tail;
  // Output was longer than output_limit and its beginning was dropped.
  bool output_truncated = false;
  // Wall time on the monotonic clock, spawn to exit.
  std::chrono::milliseconds elapsed{0};

  bool succeeded() const { return exit_code == 0 && !timed_out && !connection_lost; }
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Runs `spec` on `host` and waits for it to end (or time out).
  // Success: a CommandResult, also when the command failed, timed out or the connection dropped
  // mid-command (see its flags). Failure: InvalidArgument for a bad spec; Unavailable when the host
  // could not be reached before the command was sent (nothing ran: safe to retry);
  // DeadlineExceeded when connecting took longer than the connect timeout (nothing ran).
  virtual Result<CommandResult> Run(const HostAddress& host, const CommandSpec& spec) = 0;

  // Copies the local file `local` to `remote_path` on `host`: written to a temporary file next to
  // it, checked against the local file's SHA-256, then renamed into place, so the target is either
  // the old file or the complete new one. Missing parent directories are created. Remote copies
  // are created with mode 0600 (set other modes with a command).
  // Failure: NotFound (local file), Unavailable (host unreachable or connection lost),
  // DeadlineExceeded, Corruption (digest mismatch; nothing renamed), Failed (remote write error,
  // e.g. disk full; the temporary file is removed), InvalidArgument (path).
  virtual Status CopyTo(const HostAddress& host, const std::filesystem::path& local,
                        const std::string& remote_path, Seconds timeout) = 0;

  // Reads the exit-status file a Run with this status_file left on the host.
  // Success: the exit code, or nullopt when the file does not exist (not finished, or never
  // started). Failure: Unavailable (host unreachable), Corruption (file content is not a number),
  // InvalidArgument (path).
  virtual Result<std::optional<int>> ReadExitStatus(const HostAddress& host,
                                                    const std::string& status_file) = 0;

  // Stops the command started with `status_file` on `host`, if it still runs: SIGTERM to its
  // process group, SIGKILL after a grace period. It first marks the status_file cancelled
  // ("<status_file>.cancel"), so a command whose start races with Cancel either never starts or
  // is stopped by its own wrapper right after it started. Returns OK once no such process runs
  // (also when it had already ended or never started); Unavailable when the host cannot be
  // reached; DeadlineExceeded when the process survived SIGKILL for `timeout`.
  virtual Status Cancel(const HostAddress& host, const std::string& status_file,
                        Seconds timeout) = 0;

  // Closes every connection and helper process this transport opened. Idempotent; the transport
  // may be used again afterwards (connections reopen lazily).
  virtual void Close() = 0;
};

}  // namespace rollgate
