// SimulatedTransport: in-process hosts for tests and benchmarks (STYLE.md 3, 14).
//
// Each host is a small record in a map (no threads, no processes), so 10,000 hosts cost a few
// megabytes. Behaviour is configurable per host (latency, failure rate, connection-loss rate,
// down) and scriptable per host and command (the Nth matching command fails, loses its
// connection, times out ...), and every call is recorded like ninja's `commands_ran_`.
// Random outcomes are deterministic for a seed: they depend only on (seed, host, the host's own
// command count), not on the order in which threads call different hosts.
// Exit-status files live in the simulated host's file table, so ReadExitStatus after a
// "connection loss" reads what the command left, as on a real host.
//
// Latency is simulated, never slept: it is reported as CommandResult::elapsed and passed to the
// latency sink (e.g. to advance a fake clock).
//
// Thread-safe: one mutex guards all state; calls never block on anything else.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "transport/transport.h"

namespace rollgate {

struct SimulatedHostBehavior {
  std::chrono::milliseconds latency{0};  // per call
  double failure_rate = 0;               // share of commands exiting with failure_exit_code
  int failure_exit_code = 1;
  double connection_loss_rate = 0;  // share of commands whose connection drops (they still finish)
  bool down = false;                // unreachable: every call returns Unavailable
};

// A scripted outcome for matching Run calls, applied before the host's random behaviour.
struct ScriptedOutcome {
  std::string host;              // the host's name; "" matches every host
  std::string command_contains;  // matched in the argv joined by spaces; "" matches every command
  int skip = 0;                  // let this many matching calls pass first (fail the Nth: N-1)
  int times = 1;                 // then apply to this many matching calls; -1: for ever
  std::optional<Status> error;   // Run returns this (e.g. Unavailable); else `result`
  CommandResult result;          // exit_code, timed_out, connection_lost, output_tail
  // What the host's exit-status file says afterwards (when the spec has one): by default the
  // result's exit code if it is known, else not written (the command did not finish).
  std::optional<std::optional<int>> status_file_code;
};

struct SimulatedCall {
  enum class Kind { kRun, kCopy, kReadExitStatus, kCancel };
  Kind kind = Kind::kRun;
  std::string host;
  std::vector<std::string> argv;  // kRun: the command; kCopy: {local, remote}
  std::string status_file;        // kRun, kReadExitStatus, kCancel
};

class SimulatedTransport final : public Transport {
 public:
  explicit SimulatedTransport(uint64_t seed = 1) : seed_(seed) {}

  void SetDefaultBehavior(const SimulatedHostBehavior& behavior);
  void SetHostBehavior(const std::string& host, const SimulatedHostBehavior& behavior);
  void Script(ScriptedOutcome outcome);
  // Receives every simulated latency (under the transport's lock: keep it cheap).
  void SetLatencySink(std::function<void(std::chrono::milliseconds)> sink);
  // Recording costs memory per call; benchmarks may turn it off. On by default.
  void SetRecording(bool on);

  Result<CommandResult> Run(const HostAddress& host, const CommandSpec& spec) override;
  Status CopyTo(const HostAddress& host, const std::filesystem::path& local,
                const std::string& remote_path, Seconds timeout) override;
  Result<std::optional<int>> ReadExitStatus(const HostAddress& host,
                                            const std::string& status_file) override;
  Status Cancel(const HostAddress& host, const std::string& status_file, Seconds timeout) override;
  void Close() override;

  // Every call so far, in the order they happened.
  std::vector<SimulatedCall> Calls() const;
  // The commands that ran on `host` ("" for all hosts), argv joined by spaces.
  std::vector<std::string> CommandsRan(const std::string& host = "") const;
  size_t call_count() const;
  // A file on a simulated host: exit-status files hold "N\n", copied files "sha256:<hex>".
  std::optional<std::string> FileOn(const std::string& host, const std::string& path) const;
  void SetFile(const std::string& host, const std::string& path, std::string content);
  int close_count() const;

 private:
  struct HostState {
    uint64_t commands = 0;
    std::unordered_map<std::string, std::string> files;
  };

  const SimulatedHostBehavior& BehaviorOf(const std::string& host) const;
  double Uniform(const std::string& host, uint64_t n, uint64_t stream) const;
  void Record(SimulatedCall call);
  void AddLatency(const std::string& host, CommandResult* result);

  const uint64_t seed_;
  mutable std::mutex mutex_;
  SimulatedHostBehavior default_behavior_;
  std::unordered_map<std::string, SimulatedHostBehavior> behaviors_;
  std::vector<ScriptedOutcome> scripts_;
  std::vector<int> script_matches_;
  std::unordered_map<std::string, HostState> hosts_;
  std::vector<SimulatedCall> calls_;
  size_t call_count_ = 0;
  bool recording_ = true;
  int close_count_ = 0;
  std::function<void(std::chrono::milliseconds)> latency_sink_;
};

}  // namespace rollgate
