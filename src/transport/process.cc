#include "transport/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "transport/shell.h"

extern char** environ;

namespace rollgate {

namespace {

using std::chrono::milliseconds;

// Owns posix_spawn_file_actions_t / posix_spawnattr_t for the duration of one spawn. The child
// leads a process group of its own, with no signal blocked and the usual signals at their
// default disposition, whatever this process does with them; callers add the file actions.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    sigset_t empty_mask, default_signals;
    sigemptyset(&empty_mask);
    sigemptyset(&default_signals);
    for (int sig :
         {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2}) {
      sigaddset(&default_signals, sig);
    }
    posix_spawnattr_setsigmask(&attributes, &empty_mask);
    posix_spawnattr_setsigdefault(&attributes, &default_signals);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(
        &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return PosixError("fcntl(O_NONBLOCK)", errno);
  }
  return Status::Ok();
}

// posix_spawnp, from a thread of its own at `nice` when nice > 0: Linux keeps the nice value per
// thread and the child inherits the spawning thread's, while a thread cannot take a raised value
// back without CAP_SYS_NICE. The spawn (vfork, then exec) blocks that thread only.
int SpawnAtNice(int nice, pid_t* pid, const char* program, const SpawnSetup& setup,
                char* const argv[], char* const envp[]) {
  auto spawn = [&] {
    return posix_spawnp(pid, program, &setup.actions, &setup.attributes, argv, envp);
  };
  if (nice <= 0) return spawn();
  int error = 0;
  try {
    std::thread spawner([&] {
      // Best effort: a refusal (seccomp, an odd kernel) leaves the child at this thread's value.
      const auto thread = static_cast<id_t>(syscall(SYS_gettid));
      errno = 0;
      int current = getpriority(PRIO_PROCESS, thread);
      if (errno != 0) current = 0;
      (void)setpriority(PRIO_PROCESS, thread, std::min(current + nice, 19));
      error = spawn();
    });
    spawner.join();
  } catch (const std::system_error&) {
    return spawn();  // no thread to spare: the child starts at this thread's priority
  }
  return error;
}

std::vector<std::string> BuildEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    std::string name(text.substr(0, eq));
    if (overrides.count(name)) continue;
    out.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) {
    std::string entry = name;
    entry += '=';
    entry += value;
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reads whatever is available without blocking. Returns false at EOF or on a read error.
bool DrainAvailable(int fd, OutputTail& tail) {
  char buffer[16384];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      tail.Append(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

// A descriptor that becomes readable when `pid` exits (pidfd_open, Linux 5.3), so a poll wakes
// on the exit itself; invalid where the kernel or a seccomp filter refuses it, and the caller
// polls waitpid instead.
UniqueFd OpenPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  long fd = syscall(SYS_pidfd_open, pid, 0);  // close-on-exec by definition
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
#else
  (void)pid;
#endif
  return UniqueFd();
}

}  // namespace

Status PosixError(std::string_view context, int error_number) {
  std::string message = fmt::format("{}: {}", context, std::strerror(error_number));
  switch (error_number) {
    case ENOENT:
      return NotFound(std::move(message));
    case EACCES:
    case EPERM:
      return PermissionDenied(std::move(message));
    case EAGAIN:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOSPC:
    case EDQUOT:
    case EIO:
      return Unavailable(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::optional<int> ChildProcess::TryWait() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return status;
  }
  return std::nullopt;
}

void ChildProcess::SignalGroup(int signal) const {
  if (pid_ > 0) kill(-pid_, signal);
}

Result<ProcessOutcome> RunProcess(const ProcessSpec& spec, const Clock& clock,
                                  const SpawnObserver& observer) {
  if (spec.argv.empty()) return InvalidArgument("RunProcess: empty argv");
  const std::string& program = spec.argv.front();

  int stdin_pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pair) < 0) {
    return PosixError("socketpair for stdin of " + program, errno);
  }
  UniqueFd stdin_child(stdin_pair[0]), stdin_parent(stdin_pair[1]);
  int output_pipe[2];
  if (pipe2(output_pipe, O_CLOEXEC) < 0) return PosixError("pipe for output of " + program, errno);
  UniqueFd output_parent(output_pipe[0]), output_child(output_pipe[1]);

  SpawnSetup setup;
  if (spec.stdin_file) {
    posix_spawn_file_actions_addopen(&setup.actions, 0, spec.stdin_file->c_str(), O_RDONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(&setup.actions, stdin_child.get(), 0);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, output_child.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, output_child.get(), 2);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = BuildEnvironment(spec.env);
  std::vector<char*> envp = CStrings(env_strings);

  auto start = clock.Monotonic();
  pid_t pid = -1;
  int error = SpawnAtNice(spec.nice, &pid, program.c_str(), setup, argv.data(), envp.data());
  if (error != 0) return PosixError(fmt::format("cannot start {}", program), error);
  ChildProcess child(pid);
  if (observer) observer(pid);
  stdin_child.Reset();
  output_child.Reset();

  RETURN_IF_ERROR(SetNonBlocking(output_parent.get()));
  if (spec.stdin_file || spec.stdin_data.empty()) stdin_parent.Reset();
  UniqueFd exited = spec.exit_by_pidfd ? OpenPidFd(pid) : UniqueFd();

  OutputTail tail(spec.output_limit, spec.secrets);
  ProcessOutcome outcome;
  outcome.pid = pid;
  size_t written = 0;
  std::optional<int> wait_status;
  bool output_open = true;
  auto deadline = start + spec.timeout;
  std::chrono::steady_clock::time_point kill_at{};
  bool killed = false;

  while (true) {
    if (!wait_status) wait_status = child.TryWait();
    if (wait_status) {
      if (output_open) DrainAvailable(output_parent.get(), tail);
      break;
    }
    auto now = clock.Monotonic();
    if (!outcome.timed_out && now >= deadline) {
      outcome.timed_out = true;
      child.SignalGroup(SIGTERM);
      kill_at = now + spec.kill_grace;
      stdin_parent.Reset();
    }
    if (outcome.timed_out && !killed && now >= kill_at) {
      child.SignalGroup(SIGKILL);
      killed = true;
    }

    pollfd fds[3];
    nfds_t count = 0;
    if (output_open) fds[count++] = {output_parent.get(), POLLIN, 0};
    int stdin_index = -1;
    if (stdin_parent.valid()) {
      stdin_index = static_cast<int>(count);
      fds[count++] = {stdin_parent.get(), POLLOUT, 0};
    }
    int exit_index = -1;
    if (exited.valid()) {
      exit_index = static_cast<int>(count);
      fds[count++] = {exited.get(), POLLIN, 0};
    }
    // With a pidfd the poll wakes on output, stdin space or the exit itself (the second is a
    // bound, not a tick). Without one, exit is noticed by polling waitpid: often while output is
    // open (a background process may hold it), at once after EOF.
    milliseconds wait = exited.valid() ? milliseconds(1000)
                        : output_open  ? milliseconds(20)
                                       : milliseconds(1);
    auto next_event = outcome.timed_out ? (killed ? now + milliseconds(20) : kill_at) : deadline;
    wait = std::min(wait, std::chrono::ceil<milliseconds>(next_event - now));
    wait = std::max(wait, milliseconds(0));
    int ready = poll(fds, count, static_cast<int>(wait.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return PosixError("poll on " + program, errno);
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (static_cast<int>(i) == exit_index) continue;  // reaped by TryWait at the loop's top
      if (static_cast<int>(i) == stdin_index) {
        if (fds[i].revents & (POLLERR | POLLHUP)) {
          stdin_parent.Reset();
          continue;
        }
        ssize_t n = send(stdin_parent.get(), spec.stdin_data.data() + written,
                         spec.stdin_data.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) written += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
            written == spec.stdin_data.size()) {
          stdin_parent.Reset();  // EOF for the child, or it stopped reading (EPIPE)
        }
      } else {
        output_open = DrainAvailable(output_parent.get(), tail);
      }
    }
  }

  outcome.elapsed = std::chrono::duration_cast<milliseconds>(clock.Monotonic() - start);
  outcome.exit_code = ExitCodeOf(*wait_status);
  outcome.output_tail = tail.Finish(&outcome.output_truncated);
  return outcome;
}

Result<PipedChild> SpawnPiped(const std::vector<std::string>& argv_in, int nice) {
  if (argv_in.empty()) return InvalidArgument("SpawnPiped: empty argv");
  const std::string& program = argv_in.front();
  int stdin_pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pair) < 0) {
    return PosixError("socketpair for stdin of " + program, errno);
  }
  UniqueFd stdin_child(stdin_pair[0]), stdin_parent(stdin_pair[1]);
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) < 0) return PosixError("pipe for stdout of " + program, errno);
  UniqueFd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) < 0) return PosixError("pipe for stderr of " + program, errno);
  UniqueFd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, stdin_child.get(), 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_child.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_child.get(), 2);
  std::vector<std::string> argv_strings = argv_in;
  std::vector<char*> argv = CStrings(argv_strings);
  pid_t pid = -1;
  int error = SpawnAtNice(nice, &pid, program.c_str(), setup, argv.data(), environ);
  if (error != 0) return PosixError(fmt::format("cannot start {}", program), error);
  PipedChild child{ChildProcess(pid), std::move(stdin_parent), std::move(out_parent),
                   std::move(err_parent)};
  return child;
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  static std::atomic<unsigned> counter{0};
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return PosixError("create directory " + path.parent_path().string(), ec.value());
  }
  std::string temporary = fmt::format("{}.tmp.{}.{}", path.string(), getpid(), counter++);
  UniqueFd fd(open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return PosixError("create " + temporary, errno);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status error = PosixError("write " + temporary, errno);
      unlink(temporary.c_str());
      return error;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) < 0) {
    Status error = PosixError("fsync " + temporary, errno);
    unlink(temporary.c_str());
    return error;
  }
  fd.Reset();
  if (rename(temporary.c_str(), path.c_str()) < 0) {
    Status error = PosixError("rename to " + path.string(), errno);
    unlink(temporary.c_str());
    return error;
  }
  return Status::Ok();
}

}  // namespace rollgate
