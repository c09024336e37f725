// SshTransport: reaches hosts with the OpenSSH client (`ssh`), so users' ssh_config, keys,
// agents and jump hosts work, with one ControlMaster connection per host for a run.
//
// Every ssh process is started with posix_spawn and an argument vector:
//   ssh [-F config] -o BatchMode=yes -o ControlMaster=... -o ControlPath=<dir>/<hash>
//       -o ControlPersist=<s> -o ConnectTimeout=<s> -o StrictHostKeyChecking=yes|accept-new
//       [-o UserKnownHostsFile=<file>] [-i key -o IdentitiesOnly=yes] [-p PORT] [-l USER]
//       -T -- HOST 'sh -c <ShellQuote(wrapper script)>'
// `--` precedes the host, which ParseHostAddress has validated anyway, so a host name can never
// become an option. The remote side needs nothing but a POSIX shell (and sha256sum for CopyTo).
//
// Connections: the master for a host is opened lazily by the first call that needs it
// (`ssh -f -N -o ControlMaster=yes`) so that a host that cannot be reached is reported as
// Unavailable / DeadlineExceeded / PermissionDenied (host key or login refused) before anything
// ran. Commands then run as multiplexed sessions (ControlMaster=auto: if the master died, the
// next session re-opens it). Close() ends every master this transport opened (`ssh -O exit`).
//
// Exit codes: ssh exits 255 when the connection fails; such a result is connection_lost (the
// outcome is unknown; read it with ReadExitStatus), never the command's failure. A command with
// a status_file that itself exits 255 is recognised by reading the status file; without one,
// a command's own exit code 255 is indistinguishable and is reported as connection_lost.
//
// Secrets: secret_env values travel on the wrapper's standard input, never on the ssh command
// line nor the remote one (where `ps` would show them); they and `redact` are masked as "***" in
// output tails and error messages.
//
// Thread-safety: all methods may be called concurrently; masters are opened once per host
// (per-host lock). The transport owns its masters and, when it created it, its control directory.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/time.h"
#include "transport/process.h"
#include "transport/transport.h"

namespace rollgate {

enum class HostKeyPolicy {
  kStrict,     // StrictHostKeyChecking=yes: unknown or changed keys are refused (default)
  kAcceptNew,  // accept-new: unknown keys are added to known_hosts, changed keys refused
};

struct SshOptions {
  std::string ssh_binary = "ssh";
  // -F FILE; empty: the user's ~/.ssh/config and /etc/ssh/ssh_config apply.
  std::filesystem::path config_file;
  // -i FILE with IdentitiesOnly=yes; empty: the agent and configured identities.
  std::filesystem::path identity_file;
  // UserKnownHostsFile; empty: ssh's default (~/.ssh/known_hosts).
  std::filesystem::path known_hosts_file;
  HostKeyPolicy host_key_policy = HostKeyPolicy::kStrict;
  Seconds connect_timeout{10};
  // How long an idle master stays after its last session (ControlPersist).
  Seconds control_persist{600};
  // Directory for the control sockets (short path: sockets are limited to ~100 bytes). Empty: a
  // private directory under /tmp, created by Create() and removed by the destructor.
  std::filesystem::path control_dir;
  // ServerAliveInterval: a dead peer is noticed after about 3 intervals.
  Seconds server_alive_interval{5};
  // The ssh clients (masters, sessions, copies) run at this nice value (0..19) relative to this
  // process (ProcessSpec::nice); the remote commands' priority is the remote host's business.
  int command_nice = 0;
};

// Checks `options` as SshTransport::Create does: paths without whitespace, quotes, '%', '\\' or
// control characters (ssh splits and expands them), timeouts > 0. InvalidArgument otherwise.
Status ValidateSshOptions(const SshOptions& options);

// The ssh argument vector for `host` up to the host name: [-F config] -o BatchMode=yes, then
// `extra_options` (each as -o X), timeouts, host-key policy, identity, -p, -l. The caller appends
// "-T", "--", host.name and the remote command. `host` must have been validated.
std::vector<std::string> SshClientArgv(const SshOptions& options, const HostAddress& host,
                                       const std::vector<std::string>& extra_options);

// Why a connection to `host` could not be opened, from ssh's exit and its last messages:
// DeadlineExceeded (timed out), PermissionDenied (host key refused, login refused) or Unavailable.
Status SshConnectError(const HostAddress& host, const ProcessOutcome& outcome);

// The transport's own remote scripts, run as `sh -c SCRIPT rollgate ARGS...` (SshTransport) or
// as a script file after `set -- ARGS...` (SessionTransport); shared so both behave alike.
//   kReadStatusScript FILE: prints the exit-status file, or "pending".
//   kCancelScript FILE ROUNDS: marks FILE cancelled, stops its process group; exit 0 when gone,
//     4 when it survived SIGKILL for ROUNDS tenths of a second, 3 on errors.
//   kCopyScript DEST SHA256: stdin to DEST via a temporary file, digest checked; exit 4 on a
//     digest mismatch, 3 on write errors.
extern const char* const kReadStatusScript;
extern const char* const kCancelScript;
extern const char* const kCopyScript;

class SshTransport final : public Transport {
 public:
  // Checks the options (paths must not contain whitespace, quotes, '%' or control characters,
  // since ssh splits and expands them; timeouts > 0) and prepares the control directory.
  // InvalidArgument or the OS error on failure.
  static Result<std::unique_ptr<SshTransport>> Create(const Clock& clock, SshOptions options);
  ~SshTransport() override;

  Result<CommandResult> Run(const HostAddress& host, const CommandSpec& spec) override;
  Status CopyTo(const HostAddress& host, const std::filesystem::path& local,
                const std::string& remote_path, Seconds timeout) override;
  Result<std::optional<int>> ReadExitStatus(const HostAddress& host,
                                            const std::string& status_file) override;
  Status Cancel(const HostAddress& host, const std::string& status_file, Seconds timeout) override;
  void Close() override;

  // The control socket of `host`'s master (it exists while the master runs).
  std::filesystem::path ControlSocketPath(const HostAddress& host) const;
  // The ssh argument vector for a remote command line on `host`, for logs and tests.
  std::vector<std::string> SshArgv(const HostAddress& host,
                                   const std::string& remote_command) const;

 private:
  SshTransport(const Clock& clock, SshOptions options, bool owns_control_dir);

  std::vector<std::string> BaseArgv(const HostAddress& host, const char* control_master) const;
  // Opens the master for `host` unless its socket exists. OK, or why the host is unreachable.
  Status EnsureMaster(const HostAddress& host);
  // Runs `script` (with positional `args`) on `host` as a multiplexed session.
  Result<ProcessOutcome> RunScript(const HostAddress& host, const std::string& script,
                                   const std::vector<std::string>& args, ProcessSpec process);
  std::mutex& HostLock(const std::string& key);
  // RunProcess at options_.command_nice.
  Result<ProcessOutcome> Spawn(ProcessSpec process);

  const Clock& clock_;
  const SshOptions options_;
  const bool owns_control_dir_;
  std::mutex mutex_;  // guards host_locks_ and opened_
  std::map<std::string, std::unique_ptr<std::mutex>> host_locks_;
  std::map<std::string, HostAddress> opened_;
};

}  // namespace rollgate
