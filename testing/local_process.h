// Real servers started by tests on 127.0.0.1 (the lab's demo service, Prometheus): free ports,
// child processes that are stopped when their object goes (SIGTERM, then SIGKILL), so a failing
// test leaves nothing running, and scratch directories removed the same way.
//
// Not thread-safe: one test thread owns each object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace rollgate::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released); 0 when
// no socket could be made.
int FreeLoopbackPort();

// True once something accepts connections on 127.0.0.1:port; false after `timeout`.
bool WaitForLoopbackPort(int port, std::chrono::milliseconds timeout);

// A fresh directory under the system's temporary directory, removed with everything in it.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One child process: argv[0] is a path (no PATH search), standard input /dev/null, standard
// output and error appended to `log_file`.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Internal when fork fails; the exec's failure shows as the child exiting with status 127.
  Status Start(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  // True while the child has not exited (reaps it when it has).
  bool Running();
  // SIGTERM, up to `grace` for it to exit, then SIGKILL; waits for it. No-op when not started.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// The lab's rollgate-demo-service on 127.0.0.1:<free port>, with a config directory of its own
// whose knobs file (fail_ratio, latency_ms, health) tests rewrite.
class DemoServiceProcess {
 public:
  explicit DemoServiceProcess(std::string binary);
  // Starts it on a free port and waits until it accepts connections (a few tries when the
  // port was taken in between). Unavailable, with the end of its log, when it does not come up.
  Status Start();
  // Replaces the knobs file ("fail_ratio=0.25\n"); read by the service at every request.
  void SetKnobs(const std::string& knobs);
  int port() const { return port_; }
  std::string Url(const std::string& path) const;
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  std::string binary_;
  ScratchDir dir_{"rollgate-demo"};
  ChildProcess process_;
  int port_ = 0;
};

}  // namespace rollgate::testing
