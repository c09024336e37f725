// Child processes for the transports: posix_spawn with an argument vector, pipes, a capped and
// redacted output tail, a timeout on the monotonic clock that kills the whole process group.
//
// UniqueFd and ChildProcess own a file descriptor and a child process (RAII): a ChildProcess
// destroyed while its process still runs kills the process group (SIGKILL) and reaps it, so no
// error path leaks a process. errno is translated into Status here, once, with context
// (STYLE.md 6). RunProcess is thread-safe (it touches no shared state; it never changes the
// process's signal dispositions: stdin is a socket written with MSG_NOSIGNAL).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace rollgate {

// Status for a failed system call: Unavailable/NotFound/PermissionDenied/Internal by errno, the
// message "context: strerror(errno)".
Status PosixError(std::string_view context, int error_number);

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

// A spawned child, leader of its own process group.
class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Non-blocking: the wait status once the child ended (and was reaped), else nullopt.
  std::optional<int> TryWait();
  // Sends `signal` to the child's process group.
  void SignalGroup(int signal) const;

 private:
  pid_t pid_ = -1;
};

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] looked up in PATH
  // Set in the child's environment on top of this process's environment.
  std::map<std::string, std::string> env;
  std::string stdin_data;
  // When set, the child's standard input is this file (and stdin_data is ignored).
  std::optional<std::filesystem::path> stdin_file;
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  // After SIGTERM on timeout, SIGKILL follows after this.
  std::chrono::milliseconds kill_grace{std::chrono::seconds(2)};
  size_t output_limit = size_t{64} * 1024;
  std::vector<std::string> secrets;  // masked as "***" in the tail
  // The child's exit wakes the wait through a pidfd (Linux 5.3). False, or where the kernel or
  // a seccomp filter refuses pidfd_open: noticed by polling waitpid (every 20 ms while output is
  // open). Tests cover both.
  bool exit_by_pidfd = true;
  // The child's nice value relative to this process (0..19; 0: as this process). A positive
  // value lowers the child's CPU priority from its first instruction on (it is spawned from a
  // thread that lowered its own), so that the commands a run starts do not take the cores from
  // the server and the executor. Best effort: where setpriority is refused the child runs as
  // this process does.
  int nice = 0;
};

struct ProcessOutcome {
  int exit_code = -1;  // 0..255, or 128 + signal (also when timed_out: how it died)
  bool timed_out = false;
  std::string output_tail;  // stdout and stderr, interleaved, capped, redacted
  bool output_truncated = false;
  std::chrono::milliseconds elapsed{0};
  pid_t pid = -1;
};

// Called once, right after the child was spawned, with its pid (e.g. to record it for Cancel).
using SpawnObserver = std::function<void(pid_t pid)>;

// Spawns `spec.argv`, feeds its stdin, collects its output and waits for it, at most
// spec.timeout on `clock`'s monotonic time; on timeout kills the child's process group (SIGTERM,
// then SIGKILL after kill_grace) and returns timed_out. Background processes the child left
// holding its output are not waited for. Success: the outcome, whatever the exit code.
// Failure: NotFound (program not in PATH), PermissionDenied, Unavailable/Internal (pipes, spawn).
Result<ProcessOutcome> RunProcess(const ProcessSpec& spec, const Clock& clock,
                                  const SpawnObserver& observer = nullptr);

// A long-lived child talking through pipes, leader of its own process group (destroying it kills
// the group, like ChildProcess). stdin_fd is a socket: write to it with send(MSG_NOSIGNAL), so a
// child that died never raises SIGPIPE here.
struct PipedChild {
  ChildProcess process;
  UniqueFd stdin_fd;
  UniqueFd stdout_fd;
  UniqueFd stderr_fd;
};

// Spawns `argv` (argv[0] looked up in PATH) with the signal set-up of RunProcess and pipes to its
// three standard streams (all with FD_CLOEXEC on our side), at `nice` as ProcessSpec::nice.
// Failure: as RunProcess's spawn.
Result<PipedChild> SpawnPiped(const std::vector<std::string>& argv, int nice = 0);

// Writes `contents` to `path` atomically: a temporary file in the same directory, fsync, rename.
// Creates missing parent directories. Failure: the OS error with the path as context.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace rollgate
