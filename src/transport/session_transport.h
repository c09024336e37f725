// SessionTransport: one long-lived ssh session per host for a whole run, through which every
// command is streamed (the Mitogen idea, with nothing but a POSIX shell on the host).
//
// Why: over a warm ControlMaster each command still costs a client process, a server session
// and a login shell on the host (about 0.15 s on an idle lab host, seconds on a loaded one).
// Here the first call for a host starts ONE `ssh ... -T -- HOST 'sh -c <dispatcher>'` (the same
// options as SshTransport, ControlMaster=no) and keeps it; every later Run, CopyTo,
// ReadExitStatus and Cancel for that host is a framed request on its standard input.
//
// The dispatcher (kSessionDispatcher, sent once on the ssh command line, fixed text: no value is
// ever interpolated into it) reads requests and runs each as its own job on the host,
// concurrently with the others:
//   request:  "R <id> <script lines> <stdin bytes> <secret lines> <tail bytes> <mode>\n"
//             <script> <stdin> ".\n" <secret preamble>
//             "C <id> <bytes> <tail bytes>\n" <remote path> "\n" <SHA-256 hex> "\n" <bytes> ".\n"
//             "K <id>\n"  stop request <id>'s process group (SIGTERM, SIGKILL after 2 s)
//   reply:    "READY rollgate-session 2\n" once, when the dispatcher runs
//             "E <id> <exit code> <output bytes> <sent bytes>\n" <last sent bytes of output>
// Counts are decimal. Standard input is raw bytes (binary-safe, any length; `head -c` reads it).
// The script and the secret preamble contain no NUL (ValidateCommandSpec) and end with a newline,
// so they are framed by line count and read with the shell's own `read -r` — no process per
// request for them. The script is a file; mode g runs it as `sh FILE PIDFILE DONE ID TAIL` in a
// process group of its own (setsid when present) whose pid it records, so that K can stop it
// (commands without a status file, the transport's own scripts); mode s sources it in a subshell
// of the dispatcher (no exec, no pid file: commands with a status file, which Cancel stops).
// Either way its prologue, added by the transport, reports its exit on the DONE FIFO, naming the
// file that holds its output when that is the status file's "<status_file>.out" (the reply's tail
// is read from there, not copied through the job). Stdin is a file; the secret preamble
// (SecretPreamble, at most kMaxSecretBytes) goes through a FIFO, so secrets never rest on the
// host's disk. A C request (CopyTo) writes its bytes straight from the session's input into a
// temporary file beside the target (`head -c`: one pass, no copy through the dispatcher's
// directory), then, in a subshell, checks the file's SHA-256 and renames it into place; exit 3
// on a write error (the temporary file is removed), 4 on a digest mismatch. A request cut short
// by a lost connection lacks its ".\n" terminator and never runs. Replies come from a single
// writer process that reads completions from a FIFO, so concurrent commands never interleave
// frames; it ends once the dispatcher has ended and every job it started has reported. The host
// needs a POSIX sh plus mkfifo, `head -c` (reading exactly N bytes from a pipe, as GNU coreutils
// and the BSDs do), tail, wc, cat, and sha256sum or openssl for CopyTo.
//
// Commands are wrapped with BuildRemoteScript exactly as SshTransport wraps them: with a
// status_file, the exit status is written on the host atomically, also after the session died.
// Semantics match SshTransport: connect failures before anything was sent are Unavailable /
// DeadlineExceeded / PermissionDenied; a session that dies mid-command gives connection_lost
// (the status file decides later); a timeout stops the command on the host (Cancel with a
// status_file, else a K request) and returns timed_out. A dead session is reopened by the next
// call; a request that could not be sent on a session found dead is retried once on a new one.
//
// Thread-safety: all methods may be called concurrently, for different hosts and the same host
// (commands for one host run concurrently on its session). The transport owns its ssh
// processes and their reader threads; Close() and the destructor end them.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "transport/ssh_transport.h"
#include "transport/transport.h"

namespace rollgate {

// The POSIX sh program run on each host for the session (see the protocol above).
extern const char* const kSessionDispatcher;

// The secret preamble of one command (secret_env values) is limited to this many bytes: it must
// fit in a pipe buffer on the host.
inline constexpr size_t kMaxSecretBytes = 16 * 1024;

class SessionTransport final : public Transport {
 public:
  // Checks the options like SshTransport::Create (control_dir and control_persist are unused).
  // InvalidArgument on failure.
  static Result<std::unique_ptr<SessionTransport>> Create(const Clock& clock, SshOptions options);
  ~SessionTransport() override;

  Result<CommandResult> Run(const HostAddress& host, const CommandSpec& spec) override;
  Status CopyTo(const HostAddress& host, const std::filesystem::path& local,
                const std::string& remote_path, Seconds timeout) override;
  Result<std::optional<int>> ReadExitStatus(const HostAddress& host,
                                            const std::string& status_file) override;
  Status Cancel(const HostAddress& host, const std::string& status_file, Seconds timeout) override;
  void Close() override;

  // The local pid of the ssh process carrying `host`'s session, or -1 when none is open.
  pid_t SessionPid(const HostAddress& host);
  // The ssh argument vector of a session to `host`, for logs and tests.
  std::vector<std::string> SessionArgv(const HostAddress& host) const;

  class Session;  // one ssh process, its reader thread and the requests in flight

 private:
  struct Reply;
  struct Frame;

  SessionTransport(const Clock& clock, SshOptions options);
  // The open session of `host`, opening one if needed. Failure: why the host is unreachable.
  Result<std::shared_ptr<Session>> GetSession(const HostAddress& host);
  // Sends `frame` through `host`'s session (retrying once on a fresh session when the current
  // one was found dead before the request was sent) and waits at most `timeout`; on expiry
  // asks the dispatcher to stop the request's process group when `kill_on_timeout`.
  Result<Reply> Request(const HostAddress& host, const Frame& frame, Seconds timeout,
                        bool kill_on_timeout);
  // Runs `script` as a job (an R request): in a process group of its own, stopped on a timeout,
  // when `own_group`; else in a subshell of the dispatcher, left running on a timeout.
  Result<Reply> RunJob(const HostAddress& host, const std::string& script,
                       std::string_view stdin_data, std::string_view secret_preamble,
                       size_t tail_bytes, Seconds timeout, bool own_group);
  std::mutex& HostLock(const std::string& key);

  const Clock& clock_;
  const SshOptions options_;
  std::mutex mutex_;  // guards host_locks_ and sessions_
  std::map<std::string, std::unique_ptr<std::mutex>> host_locks_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
};

}  // namespace rollgate
