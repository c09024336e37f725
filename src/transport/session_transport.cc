#include "transport/session_transport.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/sha256.h"
#include "common/strings.h"
#include "transport/local_transport.h"
#include "transport/process.h"
#include "transport/shell.h"

namespace rollgate {

// Variables are prefixed rg_ so they never meet the names a command's wrapper uses; every value
// arrives as data (request fields are checked to be decimal numbers before use).
const char* const kSessionDispatcher = R"(umask 077
rg_num() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
rg_nap() { sleep 0.1 2>/dev/null || sleep 1; }
rg_lines() { rg_n=0; while [ "$rg_n" -lt "$1" ]; do IFS= read -r rg_line || exit 0; printf '%s\n' "$rg_line"; rg_n=$((rg_n + 1)); done; }
rg_d=${TMPDIR:-/tmp}/rollgate-session.$$
mkdir -m 700 -- "$rg_d" || { echo "rollgate-session: cannot create $rg_d" >&2; exit 1; }
mkfifo -m 600 -- "$rg_d/done" || { rmdir -- "$rg_d"; echo 'rollgate-session: mkfifo failed' >&2; exit 1; }
rg_setsid=
command -v setsid >/dev/null 2>&1 && rg_setsid=setsid
(
  trap '' HUP PIPE
  rg_jobs=0
  rg_quit=0
  while :; do
    while IFS=' ' read -r rg_op rg_id rg_rc rg_want rg_src; do
      case $rg_op in
        S) rg_jobs=$((rg_jobs + 1)) ;;
        Q) rg_quit=1 ;;
        E)
          rg_jobs=$((rg_jobs - 1))
          rg_f=$rg_d/$rg_id
          rg_out=${rg_src:-$rg_f.out}
          rg_total=0
          if [ -s "$rg_out" ]; then rg_total=$(wc -c <"$rg_out") || rg_total=0; fi
          rg_total=$((rg_total + 0))
          rg_send=$rg_total
          [ "$rg_send" -gt "$rg_want" ] && rg_send=$rg_want
          printf 'E %s %s %s %s\n' "$rg_id" "$rg_rc" "$rg_total" "$rg_send"
          [ "$rg_send" -gt 0 ] && tail -c "$rg_send" "$rg_out"
          set -- "$@" "$rg_f.sh" "$rg_f.in" "$rg_f.sec" "$rg_f.out" "$rg_f.pid"
          if [ "$#" -ge 80 ]; then rm -f -- "$@"; set --; fi ;;
      esac
      [ "$rg_quit" = 1 ] && [ "$rg_jobs" -le 0 ] && break 2
    done <"$rg_d/done"
  done
  rm -rf -- "$rg_d"
) &
exec 4>"$rg_d/done"
trap 'printf "Q\n" >&4' EXIT
echo 'READY rollgate-session 2'
while IFS=' ' read -r rg_op rg_id rg_slen rg_ilen rg_plen rg_want rg_mode; do
  case $rg_op in
    R)
      for rg_n in "$rg_id" "$rg_slen" "$rg_ilen" "$rg_plen" "$rg_want"; do
        rg_num "$rg_n" || { echo 'rollgate-session: malformed request' >&2; exit 2; }
      done
      rg_f=$rg_d/$rg_id
      rg_lines "$rg_slen" >"$rg_f.sh"
      rg_in=/dev/null
      if [ "$rg_ilen" -gt 0 ]; then head -c "$rg_ilen" >"$rg_f.in"; rg_in=$rg_f.in; fi
      IFS= read -r rg_end || exit 0
      [ "$rg_end" = . ] || { echo 'rollgate-session: request not terminated' >&2; exit 2; }
      printf 'S %s\n' "$rg_id" >&4
      if [ "$rg_plen" -gt 0 ]; then
        mkfifo -m 600 -- "$rg_f.sec" || exit 2
        if [ "$rg_mode" = g ]; then
          { cat -- "$rg_f.sec"; cat -- "$rg_in"; } |
            $rg_setsid sh "$rg_f.sh" "$rg_f.pid" "$rg_d/done" "$rg_id" "$rg_want" >"$rg_f.out" 2>&1 4>&- &
        else
          { cat -- "$rg_f.sec"; cat -- "$rg_in"; } |
            ( set -- "$rg_f.pid" "$rg_d/done" "$rg_id" "$rg_want"; . "$rg_f.sh" ) >"$rg_f.out" 2>&1 4>&- &
        fi
        rg_lines "$rg_plen" >"$rg_f.sec"
      elif [ "$rg_mode" = g ]; then
        $rg_setsid sh "$rg_f.sh" "$rg_f.pid" "$rg_d/done" "$rg_id" "$rg_want" <"$rg_in" >"$rg_f.out" 2>&1 4>&- &
      else
        ( set -- "$rg_f.pid" "$rg_d/done" "$rg_id" "$rg_want"; . "$rg_f.sh" ) <"$rg_in" >"$rg_f.out" 2>&1 4>&- &
      fi ;;
    C)
      for rg_n in "$rg_id" "$rg_slen" "$rg_ilen"; do
        rg_num "$rg_n" || { echo 'rollgate-session: malformed request' >&2; exit 2; }
      done
      IFS= read -r rg_dst || exit 0
      IFS= read -r rg_sum || exit 0
      rg_f=$rg_d/$rg_id
      rg_tmp=$rg_dst.rollgate-tmp.$$.$rg_id
      rg_rc=0
      case $rg_dst in
        */*)
          rg_dir=${rg_dst%/*}
          if [ -n "$rg_dir" ] && [ ! -d "$rg_dir" ]; then mkdir -p -- "$rg_dir" >>"$rg_f.out" 2>&1 || rg_rc=3; fi ;;
      esac
      if [ "$rg_rc" = 0 ] && { true >"$rg_tmp"; } >>"$rg_f.out" 2>&1; then
        head -c "$rg_slen" >"$rg_tmp" 2>>"$rg_f.out" || rg_rc=5
      else
        rg_rc=3
        echo "cannot write $rg_tmp" >>"$rg_f.out"
        head -c "$rg_slen" >/dev/null
      fi
      printf 'S %s\n' "$rg_id" >&4
      if [ "$rg_rc" = 5 ]; then
        rm -f -- "$rg_tmp"
        echo "cannot write $rg_tmp" >>"$rg_f.out"
        printf 'E %s 3 %s\n' "$rg_id" "$rg_ilen" >&4
        exit 2
      fi
      IFS= read -r rg_end || { rm -f -- "$rg_tmp"; exit 0; }
      [ "$rg_end" = . ] || { rm -f -- "$rg_tmp"; echo 'rollgate-session: request not terminated' >&2; exit 2; }
      (
        if [ "$rg_rc" = 0 ]; then
          if command -v sha256sum >/dev/null 2>&1; then
            rg_got=$(sha256sum <"$rg_tmp") || rg_rc=3
          else
            rg_got=$(openssl dgst -sha256 -r <"$rg_tmp") || rg_rc=3
          fi
          rg_got=${rg_got%% *}
          if [ "$rg_rc" = 0 ] && [ "$rg_got" != "$rg_sum" ]; then
            echo "SHA-256 mismatch on the host: $rg_got"
            rg_rc=4
          fi
          if [ "$rg_rc" = 0 ]; then mv -f -- "$rg_tmp" "$rg_dst" || rg_rc=3; fi
        fi
        [ "$rg_rc" = 0 ] || rm -f -- "$rg_tmp"
        printf 'E %s %s %s\n' "$rg_id" "$rg_rc" "$rg_ilen" >>"$rg_d/done"
      ) >>"$rg_f.out" 2>&1 4>&- & ;;
    K)
      rg_num "$rg_id" || { echo 'rollgate-session: malformed request' >&2; exit 2; }
      (
        rg_f=$rg_d/$rg_id
        rg_n=0
        while [ ! -s "$rg_f.pid" ] && [ "$rg_n" -lt 50 ]; do rg_nap; rg_n=$((rg_n + 1)); done
        rg_p=$(cat -- "$rg_f.pid" 2>/dev/null)
        rg_num "$rg_p" || exit 0
        kill -s TERM -- "-$rg_p" 2>/dev/null || kill -s TERM "$rg_p" 2>/dev/null || exit 0
        rg_n=0
        while kill -s 0 -- "-$rg_p" 2>/dev/null && [ "$rg_n" -lt 20 ]; do rg_nap; rg_n=$((rg_n + 1)); done
        if kill -s KILL -- "-$rg_p" 2>/dev/null || kill -s KILL "$rg_p" 2>/dev/null; then
          printf 'E %s 137 0\n' "$rg_id" >>"$rg_d/done"
        fi
      ) >/dev/null 2>&1 4>&- & ;;
    *) echo 'rollgate-session: unknown request' >&2; exit 2 ;;
  esac
done)";

namespace {

using std::chrono::milliseconds;

// Commands of the transport itself (status reads, cancels) get this long beyond the connect time.
constexpr Seconds kHousekeepingTimeout{30};
constexpr size_t kStderrKept = 4096;

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return PosixError("fcntl(O_NONBLOCK)", errno);
  }
  return Status::Ok();
}

template <typename Number>
bool ParseNumber(std::string_view text, Number* out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size();
}

// A request small enough to be sent in one write (header, script, stdin and terminator).
constexpr size_t kOneWriteBytes = 64 * 1024;

// The start of every job, run with the arguments PIDFILE DONE ID TAIL: as `sh FILE ...` in a
// process group of its own (mode g), or sourced in a subshell of the dispatcher (mode s: no
// process of its own, no pid file). In mode g it records its pid for K requests. When it exits
// (also on SIGTERM or SIGINT) it reports "E ID STATUS TAIL [OUTPUT]" on the DONE FIFO; OUTPUT is
// the file holding its output when that is not the job's own (rg_output, set by a status-file
// wrapper built without its output tail). Its variables start with rg_, which
// ValidateCommandSpec reserves.
constexpr const char* kJobPidLine = "echo \"$$\" >\"$1\"\n";
constexpr const char* kJobPrologue =
    "rg_done=$2 rg_job=$3 rg_want=$4 rg_output=\n"
    "trap 'printf \"E %s %s %s %s\\n\" \"$rg_job\" \"$?\" \"$rg_want\" \"$rg_output\" "
    ">>\"$rg_done\"' EXIT\n"
    "trap 'exit 143' TERM\n"
    "trap 'exit 130' INT\n"
    "shift 4\n";

// The script run on the host: positional parameters, then `script`.
std::string WithArguments(const std::vector<std::string>& args, const char* script) {
  return "set -- " + ShellQuoteArgv(args) + "\n" + script + "\n";
}

}  // namespace

struct SessionTransport::Reply {
  bool timed_out = false;
  bool connection_lost = false;
  int exit_code = kExitUnknown;
  uint64_t output_bytes = 0;  // the command's whole output, on the host
  std::string tail;           // its last bytes, as sent
  milliseconds elapsed{0};
};

// One request as sent: "<op> <id> <fields>\n" <text> <stdin_data> ".\n" <secret_preamble>.
struct SessionTransport::Frame {
  char op = 'R';
  std::string fields;  // after the id
  std::string text;    // whole lines
  std::string_view stdin_data;
  std::string_view secret_preamble;
};

// One ssh process running the dispatcher, the thread reading its replies, the requests in flight.
class SessionTransport::Session {
 public:
  // What a request became; `sent` is false when nothing reached the session (safe to retry).
  struct Outcome {
    bool sent = false;
    Reply reply;
  };

  Session(const Clock& clock, PipedChild child) : clock_(clock), child_(std::move(child)) {}
  ~Session() {
    BeginShutdown();
    FinishShutdown();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the reader thread and waits for the dispatcher's READY line until `deadline`.
  // Failure: SshConnectError from ssh's exit and messages.
  Status Start(const HostAddress& host, std::chrono::steady_clock::time_point deadline) {
    RETURN_IF_ERROR(SetNonBlocking(child_.stdout_fd.get()));
    RETURN_IF_ERROR(SetNonBlocking(child_.stderr_fd.get()));
    pid_ = child_.process.pid();
    reader_ = std::thread([this] { ReaderLoop(); });
    std::unique_lock<std::mutex> lock(mutex_);
    while (!ready_ && !dead_ && clock_.Monotonic() < deadline) {
      changed_.wait_for(lock, milliseconds(50));
    }
    if (ready_ && !dead_) return Status::Ok();
    shutting_down_ = true;
    child_.process.SignalGroup(SIGKILL);
    ProcessOutcome outcome;
    outcome.timed_out = !dead_;
    outcome.exit_code = exit_code_;
    outcome.output_tail = stderr_tail_;
    lock.unlock();
    return SshConnectError(host, outcome);
  }

  bool alive() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !dead_ && !shutting_down_;
  }
  pid_t pid() const { return pid_; }

  // Sends one request and waits for its reply until `deadline`; on expiry optionally asks the
  // dispatcher to stop the command (K). Never fails: the Outcome says what happened.
  Outcome Call(const Frame& frame, std::chrono::steady_clock::time_point deadline,
               bool kill_on_timeout) {
    Outcome outcome;
    auto start = clock_.Monotonic();
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (dead_ || shutting_down_) return outcome;
      id = next_id_++;
      pending_[id];
    }
    {
      std::lock_guard<std::mutex> write_lock(write_mutex_);
      // The request runs once its terminator arrived; the preamble follows the terminator. A
      // small request leaves in one write, so it crosses ssh as one packet.
      std::string head = fmt::format("{} {} {}\n", frame.op, id, frame.fields) + frame.text;
      size_t written = 0;
      bool complete;
      if (frame.stdin_data.size() <= kOneWriteBytes) {
        head.append(frame.stdin_data);
        head.append(".\n");
        head.append(frame.secret_preamble);
        complete = Send(head, deadline, &written);
      } else {
        complete = Send(head, deadline, &written) && Send(frame.stdin_data, deadline, &written) &&
                   Send(".\n", deadline, &written) &&
                   Send(frame.secret_preamble, deadline, &written);
      }
      outcome.sent = written > 0;
      if (!complete) {
        // A frame cut in the middle leaves the stream unusable: end the session.
        Abort();
        std::lock_guard<std::mutex> lock(mutex_);
        pending_.erase(id);
        outcome.reply.connection_lost = outcome.sent;
        outcome.reply.timed_out = outcome.sent && clock_.Monotonic() >= deadline;
        if (outcome.reply.timed_out) outcome.reply.connection_lost = false;
        outcome.reply.elapsed =
            std::chrono::duration_cast<milliseconds>(clock_.Monotonic() - start);
        return outcome;
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      auto it = pending_.find(id);
      if (it->second.done) {
        outcome.reply = std::move(it->second.reply);
        pending_.erase(it);
        break;
      }
      if (dead_) {
        pending_.erase(it);
        outcome.reply.connection_lost = true;
        break;
      }
      auto now = clock_.Monotonic();
      if (now >= deadline) {
        pending_.erase(it);  // a late reply is read and dropped
        outcome.reply.timed_out = true;
        lock.unlock();
        if (kill_on_timeout) {
          std::lock_guard<std::mutex> write_lock(write_mutex_);
          size_t ignored = 0;
          if (!Send(fmt::format("K {}\n", id), now + Seconds(5), &ignored)) Abort();
        }
        lock.lock();
        break;
      }
      changed_.wait_for(
          lock, std::min<std::chrono::steady_clock::duration>(milliseconds(50), deadline - now));
    }
    outcome.reply.elapsed = std::chrono::duration_cast<milliseconds>(clock_.Monotonic() - start);
    return outcome;
  }

  // Closes the dispatcher's standard input: it exits; the ssh process follows once the commands
  // it runs have ended (FinishShutdown does not wait that long).
  void BeginShutdown() {
    std::lock_guard<std::mutex> write_lock(write_mutex_);
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
    child_.stdin_fd.Reset();
  }

  // Waits a moment for the ssh process to end, then stops it; joins the reader thread.
  void FinishShutdown() {
    if (!reader_.joinable()) return;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      auto until = clock_.Monotonic() + Seconds(2);
      while (!dead_ && clock_.Monotonic() < until) changed_.wait_for(lock, milliseconds(20));
      if (!dead_) child_.process.SignalGroup(SIGTERM);
    }
    reader_.join();
  }

 private:
  struct Pending {
    bool done = false;
    Reply reply;
  };

  // Sends all of `bytes` before `deadline`; adds what was sent to *written. False on failure.
  // Caller holds write_mutex_.
  bool Send(std::string_view bytes, std::chrono::steady_clock::time_point deadline,
            size_t* written) {
    int fd = child_.stdin_fd.get();
    if (fd < 0) return false;
    while (!bytes.empty()) {
      ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        *written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      auto now = clock_.Monotonic();
      if (now >= deadline) return false;
      pollfd ready{fd, POLLOUT, 0};
      auto wait = std::chrono::ceil<milliseconds>(deadline - now);
      poll(&ready, 1, static_cast<int>(std::min<int64_t>(wait.count(), 100)));
    }
    return true;
  }

  // Ends the ssh process (the reader then notices EOF). Caller may hold write_mutex_.
  void Abort() {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
    child_.process.SignalGroup(SIGTERM);
  }

  // Reads replies until the ssh process closed its output, then reaps it.
  void ReaderLoop() {
    std::string buffer;
    bool out_open = true, err_open = true;
    char chunk[65536];
    while (out_open) {
      pollfd fds[2] = {{child_.stdout_fd.get(), POLLIN, 0},
                       {err_open ? child_.stderr_fd.get() : -1, POLLIN, 0}};
      int ready = poll(fds, 2, 200);
      if (ready < 0 && errno != EINTR) break;
      if (fds[1].revents) err_open = DrainStderr();
      if (fds[0].revents) {
        while (true) {
          ssize_t n = read(child_.stdout_fd.get(), chunk, sizeof chunk);
          if (n > 0) {
            buffer.append(chunk, static_cast<size_t>(n));
            continue;
          }
          if (n < 0 && errno == EINTR) continue;
          if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) out_open = false;
          break;
        }
        if (!Parse(buffer)) {
          Abort();
          out_open = false;
        }
      }
    }
    // The dispatcher is gone (or ssh died): collect ssh's last words and its exit.
    std::optional<int> status;
    for (int i = 0; i < 300 && !status; ++i) {
      if (err_open) err_open = DrainStderr();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        status = child_.process.TryWait();
        if (!status && i == 100) child_.process.SignalGroup(SIGTERM);
        if (!status && i == 200) child_.process.SignalGroup(SIGKILL);
      }
      if (!status) std::this_thread::sleep_for(milliseconds(10));
    }
    if (err_open) DrainStderr();
    std::lock_guard<std::mutex> lock(mutex_);
    if (status) {
      exit_code_ = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
    }
    dead_ = true;
    changed_.notify_all();
  }

  // Keeps the last kStderrKept bytes of ssh's (and the dispatcher's) messages. False at EOF.
  bool DrainStderr() {
    char chunk[4096];
    while (true) {
      ssize_t n = read(child_.stderr_fd.get(), chunk, sizeof chunk);
      if (n > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        stderr_tail_.append(chunk, static_cast<size_t>(n));
        if (stderr_tail_.size() > kStderrKept) {
          stderr_tail_.erase(0, stderr_tail_.size() - kStderrKept);
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  // Consumes complete lines and frames from `buffer`. False on a protocol error.
  bool Parse(std::string& buffer) {
    size_t at = 0;
    bool ok = true;
    while (true) {
      if (frame_bytes_ > 0 || in_frame_) {
        if (buffer.size() - at < frame_bytes_) break;
        std::string body = buffer.substr(at, frame_bytes_);
        at += frame_bytes_;
        frame_bytes_ = 0;
        in_frame_ = false;
        Complete(std::move(body));
        continue;
      }
      size_t newline = buffer.find('\n', at);
      if (newline == std::string::npos) break;
      std::string_view line(buffer.data() + at, newline - at);
      at = newline + 1;
      if (!ready_seen_) {
        // Lines a login script may print before the dispatcher starts are skipped.
        if (line == "READY rollgate-session 2") {
          ready_seen_ = true;
          std::lock_guard<std::mutex> lock(mutex_);
          ready_ = true;
          changed_.notify_all();
        }
        continue;
      }
      std::vector<std::string> fields = Split(std::string(line), ' ');
      if (fields.size() != 5 || fields[0] != "E" || !ParseNumber(fields[1], &frame_id_) ||
          !ParseNumber(fields[2], &frame_exit_) || !ParseNumber(fields[3], &frame_total_) ||
          !ParseNumber(fields[4], &frame_bytes_)) {
        std::lock_guard<std::mutex> lock(mutex_);
        stderr_tail_ +=
            "rollgate: malformed reply from the session: " + EscapeForDisplay(line.substr(0, 80)) +
            "\n";
        ok = false;
        break;
      }
      in_frame_ = true;
    }
    buffer.erase(0, at);
    return ok;
  }

  void Complete(std::string body) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pending_.find(frame_id_);
    if (it == pending_.end()) return;  // abandoned after a timeout
    it->second.done = true;
    it->second.reply.exit_code = frame_exit_;
    it->second.reply.output_bytes = frame_total_;
    it->second.reply.tail = std::move(body);
    changed_.notify_all();
  }

  const Clock& clock_;
  PipedChild child_;
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex write_mutex_;  // one request frame at a time on stdin; taken before mutex_
  std::mutex mutex_;        // guards everything below and child_.process
  std::condition_variable changed_;
  bool ready_ = false;
  bool dead_ = false;
  bool shutting_down_ = false;
  int exit_code_ = -1;
  std::string stderr_tail_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending> pending_;
  // Reader thread only: the parser's state.
  bool ready_seen_ = false;
  bool in_frame_ = false;
  uint64_t frame_id_ = 0;
  int frame_exit_ = 0;
  uint64_t frame_total_ = 0;
  size_t frame_bytes_ = 0;
};

Result<std::unique_ptr<SessionTransport>> SessionTransport::Create(const Clock& clock,
                                                                   SshOptions options) {
  RETURN_IF_ERROR(ValidateSshOptions(options));
  return std::unique_ptr<SessionTransport>(new SessionTransport(clock, std::move(options)));
}

SessionTransport::SessionTransport(const Clock& clock, SshOptions options)
    : clock_(clock), options_(std::move(options)) {}

SessionTransport::~SessionTransport() { Close(); }

std::vector<std::string> SessionTransport::SessionArgv(const HostAddress& host) const {
  std::vector<std::string> argv = SshClientArgv(options_, host, {"ControlMaster=no"});
  argv.insert(argv.end(), {"-T", "--", host.name,
                           "sh -c " + ShellQuote(kSessionDispatcher) + " rollgate-session"});
  return argv;
}

std::mutex& SessionTransport::HostLock(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<std::mutex>& entry = host_locks_[key];
  if (!entry) entry = std::make_unique<std::mutex>();
  return *entry;
}

Result<std::shared_ptr<SessionTransport::Session>> SessionTransport::GetSession(
    const HostAddress& host) {
  RETURN_IF_ERROR(ValidateHostName(host.name));
  if (!host.user.empty()) RETURN_IF_ERROR(ValidateUserName(host.user));
  if (host.port != 0) RETURN_IF_ERROR(ValidatePort(host.port));
  std::string key = host.ToString();
  std::lock_guard<std::mutex> host_lock(HostLock(key));
  std::shared_ptr<Session> previous;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(key);
    if (it != sessions_.end()) {
      if (it->second->alive()) return it->second;
      previous = std::move(it->second);
      sessions_.erase(it);
    }
  }
  previous.reset();  // joins its reader (its ssh already ended)
  ASSIGN_OR_RETURN(PipedChild child, SpawnPiped(SessionArgv(host), options_.command_nice));
  auto session = std::make_shared<Session>(clock_, std::move(child));
  RETURN_IF_ERROR(
      session->Start(host, clock_.Monotonic() + options_.connect_timeout + Seconds(10)));
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_[key] = session;
  return session;
}

Result<SessionTransport::Reply> SessionTransport::Request(const HostAddress& host,
                                                          const Frame& frame, Seconds timeout,
                                                          bool kill_on_timeout) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<Session> session, GetSession(host));
    Session::Outcome outcome = session->Call(frame, clock_.Monotonic() + timeout, kill_on_timeout);
    if (outcome.sent) return outcome.reply;
    if (attempt == 1) {
      return Unavailable(
          fmt::format("ssh {}: the session ended before the request was sent", host.ToString()));
    }
  }
}

Result<SessionTransport::Reply> SessionTransport::RunJob(
    const HostAddress& host, const std::string& script, std::string_view stdin_data,
    std::string_view secret_preamble, size_t tail_bytes, Seconds timeout, bool own_group) {
  // Mode g: the job is `sh FILE` in its own process group, whose pid it records for K
  // requests (a timeout stops it). Mode s: a subshell of the dispatcher, for commands that
  // stop themselves through their status file (Cancel).
  std::string job = std::string(own_group ? kJobPidLine : "") + kJobPrologue + script;
  if (job.back() != '\n') job.push_back('\n');
  size_t lines = static_cast<size_t>(std::count(job.begin(), job.end(), '\n'));
  size_t secret_lines =
      static_cast<size_t>(std::count(secret_preamble.begin(), secret_preamble.end(), '\n'));
  Frame frame;
  frame.op = 'R';
  frame.fields = fmt::format("{} {} {} {} {}", lines, stdin_data.size(), secret_lines, tail_bytes,
                             own_group ? 'g' : 's');
  frame.text = std::move(job);
  frame.stdin_data = stdin_data;
  frame.secret_preamble = secret_preamble;
  return Request(host, frame, timeout, /*kill_on_timeout=*/own_group);
}

Result<CommandResult> SessionTransport::Run(const HostAddress& host, const CommandSpec& spec) {
  RETURN_IF_ERROR(ValidateCommandSpec(spec));
  std::string preamble = SecretPreamble(spec);
  if (preamble.size() > kMaxSecretBytes) {
    return InvalidArgument(
        fmt::format("secret_env values exceed {} bytes for one command", kMaxSecretBytes));
  }
  std::vector<std::string> secrets = SecretsOf(spec);
  size_t longest_secret = 0;
  for (const std::string& secret : secrets)
    longest_secret = std::max(longest_secret, secret.size());
  // With a status file the command's output is kept on the host; the reply carries its tail
  // from there, and Cancel (not a K request) stops the command.
  RemoteScriptOptions script_options;
  script_options.exec_command = false;
  script_options.print_output_tail = false;
  Result<Reply> sent = RunJob(host, BuildRemoteScript(spec, script_options), spec.stdin_data,
                              preamble, spec.output_limit + longest_secret, spec.timeout,
                              /*own_group=*/spec.status_file.empty());
  if (!sent.ok()) return Status(sent.error().code(), Redact(sent.error().message(), secrets));
  Reply& reply = *sent;

  CommandResult result;
  result.elapsed = reply.elapsed;
  if (reply.timed_out) {
    result.timed_out = true;
    if (!spec.status_file.empty()) {
      // Stop the command on the host; its wrapper then records how it ended. Best effort: if
      // the host cannot be reached, the status file and the pid file remain the evidence.
      (void)Cancel(host, spec.status_file, Seconds(10));
    }
    return result;
  }
  if (reply.connection_lost) {
    result.connection_lost = true;
    return result;
  }
  OutputTail tail(spec.output_limit, secrets);
  tail.Append(reply.tail);
  if (reply.output_bytes > reply.tail.size()) tail.MarkTruncated();
  result.output_tail = tail.Finish(&result.output_truncated);
  result.exit_code = reply.exit_code;
  return result;
}

Status SessionTransport::CopyTo(const HostAddress& host, const std::filesystem::path& local,
                                const std::string& remote_path, Seconds timeout) {
  RETURN_IF_ERROR(ValidateRemotePath(remote_path));
  if (timeout <= Seconds(0)) return InvalidArgument("copy timeout must be > 0");
  std::string data;
  {
    std::ifstream in(local, std::ios::binary);
    if (!in) return NotFound("cannot read " + local.string());
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Unavailable("read error on " + local.string());
  }
  // The bytes go from the session's input straight into the temporary file beside the target;
  // the host then hashes that file and renames it (C request, kSessionDispatcher).
  Frame frame;
  frame.op = 'C';
  frame.fields = fmt::format("{} {}", data.size(), 4096);
  frame.text = remote_path + "\n" + Sha256Hex(data) + "\n";
  frame.stdin_data = data;
  // Once its bytes arrived a copy is quick to finish; it is not stopped on a timeout (the
  // target is the old file or the complete new one either way).
  ASSIGN_OR_RETURN(Reply reply, Request(host, frame, timeout, /*kill_on_timeout=*/false));
  std::string what = fmt::format("copy {} to {}:{}", local.string(), host.ToString(),
                                 EscapeForDisplay(remote_path));
  std::string why = EscapeForDisplay(Trim(reply.tail));
  if (reply.timed_out) return DeadlineExceeded(what + ": timed out");
  if (reply.connection_lost) return Unavailable(what + ": connection lost");
  switch (reply.exit_code) {
    case 0:
      return Status::Ok();
    case 4:
      return Corruption(fmt::format("{}: {}", what, why));
    default:
      return Failed(fmt::format("{}: exit {}: {}", what, reply.exit_code, why));
  }
}

Result<std::optional<int>> SessionTransport::ReadExitStatus(const HostAddress& host,
                                                            const std::string& status_file) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  ASSIGN_OR_RETURN(Reply reply,
                   RunJob(host, WithArguments({status_file}, kReadStatusScript), "", "", 4096,
                          options_.connect_timeout + kHousekeepingTimeout, true));
  if (reply.timed_out || reply.connection_lost || reply.exit_code != 0) {
    return Unavailable(fmt::format("read {} on {}: {}", status_file, host.ToString(),
                                   reply.timed_out         ? std::string("timed out")
                                   : reply.connection_lost ? std::string("connection lost")
                                                           : EscapeForDisplay(reply.tail)));
  }
  if (Trim(reply.tail) == "pending") return std::optional<int>();
  ASSIGN_OR_RETURN(int code, ParseExitStatusFile(reply.tail));
  return std::optional<int>(code);
}

Status SessionTransport::Cancel(const HostAddress& host, const std::string& status_file,
                                Seconds timeout) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  // The remote loop polls every 0.1 s; give up after `timeout`.
  std::string rounds = std::to_string(std::max<int64_t>(30, timeout.count() * 10));
  ASSIGN_OR_RETURN(Reply reply, RunJob(host, WithArguments({status_file, rounds}, kCancelScript),
                                       "", "", 4096, timeout + Seconds(5), true));
  std::string why = EscapeForDisplay(Trim(reply.tail));
  std::string what = fmt::format("cancel {} on {}", status_file, host.ToString());
  if (reply.timed_out) return DeadlineExceeded(what + ": timed out");
  if (reply.connection_lost) return Unavailable(what + ": connection lost");
  switch (reply.exit_code) {
    case 0:
      return Status::Ok();
    case 4:
      return DeadlineExceeded(fmt::format("{}: {}", what, why));
    default:
      return Corruption(fmt::format("{}: {}", what, why));
  }
}

pid_t SessionTransport::SessionPid(const HostAddress& host) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(host.ToString());
  if (it == sessions_.end() || !it->second->alive()) return -1;
  return it->second->pid();
}

void SessionTransport::Close() {
  std::map<std::string, std::shared_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sessions.swap(sessions_);
  }
  // All dispatchers are told to stop first, so that closing many hosts takes one grace period.
  for (auto& [key, session] : sessions) session->BeginShutdown();
  for (auto& [key, session] : sessions) session->FinishShutdown();
}

}  // namespace rollgate
