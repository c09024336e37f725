#include "transport/ssh_transport.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/sha256.h"
#include "common/strings.h"
#include "transport/local_transport.h"
#include "transport/shell.h"

namespace rollgate {

namespace {

using std::chrono::milliseconds;

constexpr int kSshConnectionError = 255;
// Commands of the transport itself (status reads, cancels) get this long beyond the connect time.
constexpr Seconds kHousekeepingTimeout{30};

Status ValidateOptionPath(const char* what, const std::filesystem::path& path) {
  for (unsigned char c : path.string()) {
    if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '%' || c == '\\') {
      return InvalidArgument(fmt::format(
          "ssh option {} \"{}\" refused: whitespace, quotes, '%', '\\' and control characters "
          "are not allowed",
          what, EscapeForDisplay(path.string())));
    }
  }
  return Status::Ok();
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

Status SshConnectError(const HostAddress& host, const ProcessOutcome& outcome) {
  std::string why = EscapeForDisplay(Trim(outcome.output_tail));
  std::string name = host.ToString();
  if (outcome.timed_out || Contains(why, "timed out")) {
    return DeadlineExceeded(fmt::format("ssh {}: connection timed out: {}", name, why));
  }
  if (Contains(why, "Host key verification failed") || Contains(why, "HOST IDENTIFICATION") ||
      Contains(why, "No ED25519 host key is known") || Contains(why, "host key")) {
    return PermissionDenied(fmt::format(
        "ssh {}: host key refused (unknown or changed; policy decides): {}", name, why));
  }
  if (Contains(why, "Permission denied")) {
    return PermissionDenied(fmt::format("ssh {}: login refused: {}", name, why));
  }
  return Unavailable(
      fmt::format("ssh {}: cannot connect (exit {}): {}", name, outcome.exit_code, why));
}

const char* const kReadStatusScript = R"(if [ -f "$1" ]; then cat -- "$1"; else echo pending; fi)";

// `kill -s SIG -- -PGID` is the form every POSIX shell accepts (dash refuses `kill -TERM --
// -PGID`).
const char* const kCancelScript = R"(rg_sf=$1
mkdir -p -- "${rg_sf%/*}" && : >"$rg_sf.cancel" || { echo "cannot create $rg_sf.cancel" >&2; exit 3; }
[ -f "$rg_sf.pid" ] || exit 0
[ -f "$rg_sf" ] && exit 0
rg_pid=$(cat -- "$rg_sf.pid")
case $rg_pid in ''|*[!0-9]*) echo "pid file $rg_sf.pid holds no pid" >&2; exit 3 ;; esac
alive() { kill -s 0 -- "-$rg_pid" 2>/dev/null || kill -s 0 "$rg_pid" 2>/dev/null; }
kill -s TERM -- "-$rg_pid" 2>/dev/null || kill -s TERM "$rg_pid" 2>/dev/null || exit 0
rg_i=0
while alive; do
  rg_i=$((rg_i + 1))
  if [ "$rg_i" -eq 20 ]; then kill -s KILL -- "-$rg_pid" 2>/dev/null || kill -s KILL "$rg_pid" 2>/dev/null; fi
  if [ "$rg_i" -gt "$2" ]; then echo "process $rg_pid survived SIGKILL" >&2; exit 4; fi
  sleep 0.1 2>/dev/null || sleep 1
done
exit 0)";

const char* const kCopyScript = R"(rg_dst=$1
rg_want=$2
rg_tmp="$rg_dst.rollgate-tmp.$$"
case $rg_dst in */*) mkdir -p -- "${rg_dst%/*}" || exit 3 ;; esac
umask 077
if ! cat >"$rg_tmp"; then rm -f -- "$rg_tmp"; echo "cannot write $rg_tmp" >&2; exit 3; fi
if command -v sha256sum >/dev/null 2>&1; then
  rg_got=$(sha256sum <"$rg_tmp") || { rm -f -- "$rg_tmp"; exit 3; }
else
  rg_got=$(openssl dgst -sha256 -r <"$rg_tmp") || { rm -f -- "$rg_tmp"; exit 3; }
fi
rg_got=${rg_got%% *}
if [ "$rg_got" != "$rg_want" ]; then
  rm -f -- "$rg_tmp"; echo "SHA-256 mismatch on the host: $rg_got" >&2; exit 4
fi
mv -f -- "$rg_tmp" "$rg_dst" || { rm -f -- "$rg_tmp"; exit 3; })";

Status ValidateSshOptions(const SshOptions& options) {
  RETURN_IF_ERROR(ValidateOptionPath("ssh_binary", options.ssh_binary));
  RETURN_IF_ERROR(ValidateOptionPath("config_file", options.config_file));
  RETURN_IF_ERROR(ValidateOptionPath("identity_file", options.identity_file));
  RETURN_IF_ERROR(ValidateOptionPath("known_hosts_file", options.known_hosts_file));
  RETURN_IF_ERROR(ValidateOptionPath("control_dir", options.control_dir));
  if (options.connect_timeout <= Seconds(0) || options.control_persist <= Seconds(0) ||
      options.server_alive_interval <= Seconds(0)) {
    return InvalidArgument("ssh timeouts must be > 0");
  }
  return Status::Ok();
}

std::vector<std::string> SshClientArgv(const SshOptions& options, const HostAddress& host,
                                       const std::vector<std::string>& extra_options) {
  std::vector<std::string> argv = {options.ssh_binary};
  if (!options.config_file.empty()) {
    argv.push_back("-F");
    argv.push_back(options.config_file.string());
  }
  auto option = [&argv](std::string text) {
    argv.push_back("-o");
    argv.push_back(std::move(text));
  };
  option("BatchMode=yes");
  for (const std::string& extra : extra_options) option(extra);
  option(fmt::format("ConnectTimeout={}", options.connect_timeout.count()));
  option(fmt::format("ServerAliveInterval={}", options.server_alive_interval.count()));
  option("ServerAliveCountMax=3");
  option(std::string("StrictHostKeyChecking=") +
         (options.host_key_policy == HostKeyPolicy::kStrict ? "yes" : "accept-new"));
  if (!options.known_hosts_file.empty()) {
    option("UserKnownHostsFile=" + options.known_hosts_file.string());
  }
  if (!options.identity_file.empty()) {
    argv.push_back("-i");
    argv.push_back(options.identity_file.string());
    option("IdentitiesOnly=yes");
  }
  option("LogLevel=ERROR");
  if (host.port != 0) {
    argv.push_back("-p");
    argv.push_back(std::to_string(host.port));
  }
  if (!host.user.empty()) {
    argv.push_back("-l");
    argv.push_back(host.user);
  }
  return argv;
}

Result<std::unique_ptr<SshTransport>> SshTransport::Create(const Clock& clock, SshOptions options) {
  RETURN_IF_ERROR(ValidateSshOptions(options));
  bool owns = false;
  if (options.control_dir.empty()) {
    char pattern[] = "/tmp/rollgate-ssh-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return PosixError("create ssh control directory", errno);
    options.control_dir = pattern;
    owns = true;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(options.control_dir, ec);
    if (ec) return PosixError("create " + options.control_dir.string(), ec.value());
    chmod(options.control_dir.c_str(), 0700);
  }
  if (options.control_dir.string().size() > 60) {
    return InvalidArgument("ssh control_dir path too long for unix sockets (max 60 characters)");
  }
  return std::unique_ptr<SshTransport>(new SshTransport(clock, std::move(options), owns));
}

SshTransport::SshTransport(const Clock& clock, SshOptions options, bool owns_control_dir)
    : clock_(clock), options_(std::move(options)), owns_control_dir_(owns_control_dir) {}

SshTransport::~SshTransport() {
  Close();
  if (owns_control_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(options_.control_dir, ec);
  }
}

std::filesystem::path SshTransport::ControlSocketPath(const HostAddress& host) const {
  return options_.control_dir / Sha256Hex(host.ToString()).substr(0, 24);
}

std::vector<std::string> SshTransport::BaseArgv(const HostAddress& host,
                                                const char* control_master) const {
  return SshClientArgv(options_, host,
                       {std::string("ControlMaster=") + control_master,
                        "ControlPath=" + ControlSocketPath(host).string(),
                        fmt::format("ControlPersist={}", options_.control_persist.count())});
}

std::vector<std::string> SshTransport::SshArgv(const HostAddress& host,
                                               const std::string& remote_command) const {
  std::vector<std::string> argv = BaseArgv(host, "auto");
  argv.push_back("-T");
  argv.push_back("--");
  argv.push_back(host.name);
  argv.push_back(remote_command);
  return argv;
}

std::mutex& SshTransport::HostLock(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<std::mutex>& entry = host_locks_[key];
  if (!entry) entry = std::make_unique<std::mutex>();
  return *entry;
}

Status SshTransport::EnsureMaster(const HostAddress& host) {
  RETURN_IF_ERROR(ValidateHostName(host.name));
  if (!host.user.empty()) RETURN_IF_ERROR(ValidateUserName(host.user));
  if (host.port != 0) RETURN_IF_ERROR(ValidatePort(host.port));
  std::string key = host.ToString();
  std::lock_guard<std::mutex> host_lock(HostLock(key));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    opened_[key] = host;  // also masters that sessions re-open (ControlMaster=auto)
  }
  std::error_code ec;
  if (std::filesystem::exists(ControlSocketPath(host), ec)) return Status::Ok();
  ProcessSpec process;
  process.argv = BaseArgv(host, "yes");
  process.argv.insert(process.argv.end(), {"-f", "-N", "--", host.name});
  process.timeout = options_.connect_timeout + Seconds(10);
  process.output_limit = 4096;
  ASSIGN_OR_RETURN(ProcessOutcome outcome, Spawn(std::move(process)));
  if (outcome.timed_out || outcome.exit_code != 0) return SshConnectError(host, outcome);
  return Status::Ok();
}

Result<ProcessOutcome> SshTransport::RunScript(const HostAddress& host, const std::string& script,
                                               const std::vector<std::string>& args,
                                               ProcessSpec process) {
  RETURN_IF_ERROR(EnsureMaster(host));
  std::string remote = "sh -c " + ShellQuote(script) + " rollgate";
  for (const std::string& arg : args) remote += " " + ShellQuote(arg);
  process.argv = SshArgv(host, remote);
  return Spawn(std::move(process));
}

Result<CommandResult> SshTransport::Run(const HostAddress& host, const CommandSpec& spec) {
  RETURN_IF_ERROR(ValidateCommandSpec(spec));
  ProcessSpec process;
  process.stdin_data = SecretPreamble(spec) + spec.stdin_data;
  process.timeout = spec.timeout;
  process.output_limit = spec.output_limit;
  process.secrets = SecretsOf(spec);
  Result<ProcessOutcome> ran = RunScript(host, BuildRemoteScript(spec), {}, std::move(process));
  if (!ran.ok()) return Status(ran.error().code(), Redact(ran.error().message(), SecretsOf(spec)));
  ProcessOutcome& outcome = *ran;

  CommandResult result;
  result.output_tail = std::move(outcome.output_tail);
  result.output_truncated = outcome.output_truncated;
  result.elapsed = outcome.elapsed;
  if (outcome.timed_out) {
    result.timed_out = true;
    if (!spec.status_file.empty()) {
      // The local ssh is gone; stop the command on the host too. Best effort: if the host cannot
      // be reached, the status file and the pid file remain the evidence.
      (void)Cancel(host, spec.status_file, Seconds(10));
    }
    return result;
  }
  if (outcome.exit_code != kSshConnectionError) {
    result.exit_code = outcome.exit_code;
    return result;
  }
  if (!spec.status_file.empty()) {
    Result<std::optional<int>> status = ReadExitStatus(host, spec.status_file);
    if (status.ok() && status->has_value() && **status == kSshConnectionError) {
      result.exit_code = kSshConnectionError;  // the command's own exit code
      return result;
    }
  }
  result.connection_lost = true;
  return result;
}

Status SshTransport::CopyTo(const HostAddress& host, const std::filesystem::path& local,
                            const std::string& remote_path, Seconds timeout) {
  RETURN_IF_ERROR(ValidateRemotePath(remote_path));
  if (timeout <= Seconds(0)) return InvalidArgument("copy timeout must be > 0");
  ASSIGN_OR_RETURN(std::string digest, Sha256File(local));
  ProcessSpec process;
  process.stdin_file = local;
  process.timeout = timeout;
  process.output_limit = 4096;
  ASSIGN_OR_RETURN(ProcessOutcome outcome,
                   RunScript(host, kCopyScript, {remote_path, digest}, std::move(process)));
  std::string what = fmt::format("copy {} to {}:{}", local.string(), host.ToString(),
                                 EscapeForDisplay(remote_path));
  std::string why = EscapeForDisplay(Trim(outcome.output_tail));
  if (outcome.timed_out) return DeadlineExceeded(what + ": timed out");
  switch (outcome.exit_code) {
    case 0:
      return Status::Ok();
    case 4:
      return Corruption(fmt::format("{}: {}", what, why));
    case kSshConnectionError:
      return Unavailable(fmt::format("{}: connection lost: {}", what, why));
    default:
      return Failed(fmt::format("{}: exit {}: {}", what, outcome.exit_code, why));
  }
}

Result<std::optional<int>> SshTransport::ReadExitStatus(const HostAddress& host,
                                                        const std::string& status_file) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  ProcessSpec process;
  process.timeout = options_.connect_timeout + kHousekeepingTimeout;
  process.output_limit = 4096;
  ASSIGN_OR_RETURN(ProcessOutcome outcome,
                   RunScript(host, kReadStatusScript, {status_file}, std::move(process)));
  if (outcome.timed_out || outcome.exit_code != 0) {
    return Unavailable(fmt::format(
        "read {} on {}: {}", status_file, host.ToString(),
        outcome.timed_out ? std::string("timed out") : EscapeForDisplay(outcome.output_tail)));
  }
  if (Trim(outcome.output_tail) == "pending") return std::optional<int>();
  ASSIGN_OR_RETURN(int code, ParseExitStatusFile(outcome.output_tail));
  return std::optional<int>(code);
}

Status SshTransport::Cancel(const HostAddress& host, const std::string& status_file,
                            Seconds timeout) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  ProcessSpec process;
  process.timeout = options_.connect_timeout + timeout + Seconds(5);
  process.output_limit = 4096;
  // The remote loop polls every 0.1 s; give up after `timeout`.
  std::string rounds = std::to_string(std::max<int64_t>(30, timeout.count() * 10));
  ASSIGN_OR_RETURN(ProcessOutcome outcome,
                   RunScript(host, kCancelScript, {status_file, rounds}, std::move(process)));
  std::string why = EscapeForDisplay(Trim(outcome.output_tail));
  if (outcome.timed_out) {
    return DeadlineExceeded(
        fmt::format("cancel {} on {}: timed out", status_file, host.ToString()));
  }
  switch (outcome.exit_code) {
    case 0:
      return Status::Ok();
    case 4:
      return DeadlineExceeded(
          fmt::format("cancel {} on {}: {}", status_file, host.ToString(), why));
    case kSshConnectionError:
      return Unavailable(
          fmt::format("cancel {} on {}: connection lost: {}", status_file, host.ToString(), why));
    default:
      return Corruption(fmt::format("cancel {} on {}: {}", status_file, host.ToString(), why));
  }
}

Result<ProcessOutcome> SshTransport::Spawn(ProcessSpec process) {
  process.nice = options_.command_nice;
  return RunProcess(process, clock_);
}

void SshTransport::Close() {
  std::map<std::string, HostAddress> opened;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    opened.swap(opened_);
  }
  for (const auto& [key, host] : opened) {
    std::lock_guard<std::mutex> host_lock(HostLock(key));
    std::error_code ec;
    if (!std::filesystem::exists(ControlSocketPath(host), ec)) continue;
    ProcessSpec process;
    process.argv = BaseArgv(host, "no");
    process.argv.insert(process.argv.end(), {"-O", "exit", "--", host.name});
    process.timeout = Seconds(10);
    process.output_limit = 1024;
    (void)Spawn(std::move(process));
  }
}

}  // namespace rollgate
