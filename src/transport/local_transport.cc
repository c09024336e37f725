#include "transport/local_transport.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/sha256.h"
#include "common/strings.h"
#include "transport/process.h"
#include "transport/shell.h"

namespace rollgate {

namespace {

Result<std::optional<std::string>> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return PosixError("read " + path, errno);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return std::optional<std::string>(content.str());
}

bool ProcessGroupExists(pid_t pgid) { return kill(-pgid, 0) == 0 || errno == EPERM; }

}  // namespace

Result<int> ParseExitStatusFile(std::string_view content) {
  std::string_view text = Trim(content);
  int code = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || code < 0 ||
      code > 255) {
    return Corruption(fmt::format("exit-status file holds \"{}\", not an exit code",
                                  EscapeForDisplay(text.substr(0, 40))));
  }
  return code;
}

Result<CommandResult> LocalTransport::Run(const HostAddress& /*host*/, const CommandSpec& spec) {
  RETURN_IF_ERROR(ValidateCommandSpec(spec));
  ProcessSpec process;
  process.argv = spec.argv;
  process.env = spec.env;
  for (const auto& [name, value] : spec.secret_env) process.env[name] = value;
  process.stdin_data = spec.stdin_data;
  process.timeout = spec.timeout;
  process.output_limit = spec.output_limit;
  process.secrets = SecretsOf(spec);
  process.nice = command_nice_;

  Status pid_write = Status::Ok();
  SpawnObserver observer;
  if (!spec.status_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(spec.status_file, ec);
    std::filesystem::remove(spec.status_file + ".pid", ec);
    if (std::filesystem::exists(spec.status_file + ".cancel", ec)) {
      CommandResult cancelled;
      cancelled.exit_code = kExitCancelledBeforeStart;
      cancelled.output_tail = "rollgate: cancelled before start\n";
      return cancelled;
    }
    observer = [&](pid_t pid) {
      pid_write = WriteFileAtomically(spec.status_file + ".pid", fmt::format("{}\n", pid));
      // Cancel marks first, then reads the pid file; we write the pid file, then read the mark:
      // one of the two sees the other.
      std::error_code exists_error;
      if (std::filesystem::exists(spec.status_file + ".cancel", exists_error)) kill(-pid, SIGTERM);
    };
  }
  ASSIGN_OR_RETURN(ProcessOutcome outcome, RunProcess(process, clock_, observer));
  if (!spec.status_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(spec.status_file, fmt::format("{}\n", outcome.exit_code))
                        .WithContext("exit-status file"));
  }
  RETURN_IF_ERROR(pid_write.WithContext("pid file"));
  CommandResult result;
  result.exit_code = outcome.timed_out ? kExitUnknown : outcome.exit_code;
  result.timed_out = outcome.timed_out;
  result.output_tail = std::move(outcome.output_tail);
  result.output_truncated = outcome.output_truncated;
  result.elapsed = outcome.elapsed;
  return result;
}

Status LocalTransport::CopyTo(const HostAddress& /*host*/, const std::filesystem::path& local,
                              const std::string& remote_path, Seconds /*timeout*/) {
  RETURN_IF_ERROR(ValidateRemotePath(remote_path));
  ASSIGN_OR_RETURN(std::string digest, Sha256File(local));
  std::filesystem::path target(remote_path);
  std::string temporary = fmt::format("{}.rollgate-tmp.{}", remote_path, getpid());
  std::error_code ec;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  std::filesystem::copy_file(local, temporary, std::filesystem::copy_options::overwrite_existing,
                             ec);
  if (ec) return PosixError(fmt::format("copy {} to {}", local.string(), temporary), ec.value());
  Result<std::string> copied = Sha256File(temporary);
  if (!copied.ok() || *copied != digest) {
    std::filesystem::remove(temporary, ec);
    if (!copied.ok()) return copied.status();
    return Corruption(
        fmt::format("copy of {} to {}: SHA-256 mismatch", local.string(), remote_path));
  }
  std::filesystem::rename(temporary, target, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    return PosixError("rename to " + remote_path, ec.value());
  }
  return Status::Ok();
}

Result<std::optional<int>> LocalTransport::ReadExitStatus(const HostAddress& /*host*/,
                                                          const std::string& status_file) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  ASSIGN_OR_RETURN(std::optional<std::string> content, ReadSmallFile(status_file));
  if (!content) return std::optional<int>();
  ASSIGN_OR_RETURN(int code, ParseExitStatusFile(*content));
  return std::optional<int>(code);
}

Status LocalTransport::Cancel(const HostAddress& /*host*/, const std::string& status_file,
                              Seconds timeout) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  RETURN_IF_ERROR(WriteFileAtomically(status_file + ".cancel", "").WithContext("cancel mark"));
  ASSIGN_OR_RETURN(std::optional<std::string> pid_text, ReadSmallFile(status_file + ".pid"));
  if (!pid_text) return Status::Ok();  // never started
  ASSIGN_OR_RETURN(std::optional<std::string> done, ReadSmallFile(status_file));
  if (done) return Status::Ok();  // already ended
  int pid = 0;
  std::string_view text = Trim(*pid_text);
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (error != std::errc() || pid <= 1) {
    return Corruption("pid file " + status_file + ".pid does not hold a pid");
  }
  if (kill(-pid, SIGTERM) < 0 && errno == ESRCH) return Status::Ok();
  auto start = clock_.Monotonic();
  bool killed = false;
  while (ProcessGroupExists(pid)) {
    auto waited = clock_.Monotonic() - start;
    if (!killed && waited >= std::chrono::seconds(2)) {
      kill(-pid, SIGKILL);
      killed = true;
    }
    if (waited >= timeout) {
      return DeadlineExceeded(fmt::format("process group {} still runs after SIGKILL", pid));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Ok();
}

}  // namespace rollgate
