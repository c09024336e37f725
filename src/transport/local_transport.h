// LocalTransport: runs commands on this machine, for hosts that are the orchestrator itself and
// for steps that run locally (smoke tests against a remote endpoint, notifications by command).
//
// Commands are started with posix_spawn and an argument vector: no shell is involved unless argv
// is explicitly {"sh", "-c", script, ...}. Each command is the leader of its own process group;
// on timeout the whole group gets SIGTERM, then SIGKILL. With a status_file the exit status is
// written to it atomically when the command ends, and the pid to "<status_file>.pid" while it
// runs (for Cancel), as the remote wrapper does. The `host` argument is ignored: this machine.
//
// Thread-safe: Run, CopyTo, ReadExitStatus and Cancel may be called concurrently. Owns nothing
// beyond the duration of a call; Close() has nothing to close.
#pragma once

#include "common/time.h"
#include "transport/transport.h"

namespace rollgate {

class LocalTransport final : public Transport {
 public:
  // `clock` must outlive the transport; its monotonic time measures timeouts. Commands run at
  // `command_nice` (0..19) relative to this process (ProcessSpec::nice).
  explicit LocalTransport(const Clock& clock, int command_nice = 0)
      : clock_(clock), command_nice_(command_nice) {}

  Result<CommandResult> Run(const HostAddress& host, const CommandSpec& spec) override;
  Status CopyTo(const HostAddress& host, const std::filesystem::path& local,
                const std::string& remote_path, Seconds timeout) override;
  Result<std::optional<int>> ReadExitStatus(const HostAddress& host,
                                            const std::string& status_file) override;
  Status Cancel(const HostAddress& host, const std::string& status_file, Seconds timeout) override;
  void Close() override {}

 private:
  const Clock& clock_;
  const int command_nice_;
};

// Parses the content of an exit-status file ("0\n" .. "255\n"). Corruption otherwise.
Result<int> ParseExitStatusFile(std::string_view content);

}  // namespace rollgate
