#include "transport/simulated_transport.h"

#include <fmt/format.h>

#include "common/sha256.h"
#include "common/strings.h"
#include "transport/local_transport.h"
#include "transport/shell.h"

namespace rollgate {

namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a: a stable hash of the host name (std::hash may differ between library versions).
uint64_t HashName(const std::string& name) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

void SimulatedTransport::SetDefaultBehavior(const SimulatedHostBehavior& behavior) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_behavior_ = behavior;
}

void SimulatedTransport::SetHostBehavior(const std::string& host,
                                         const SimulatedHostBehavior& behavior) {
  std::lock_guard<std::mutex> lock(mutex_);
  behaviors_[host] = behavior;
}

void SimulatedTransport::Script(ScriptedOutcome outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  scripts_.push_back(std::move(outcome));
  script_matches_.push_back(0);
}

void SimulatedTransport::SetLatencySink(std::function<void(std::chrono::milliseconds)> sink) {
  std::lock_guard<std::mutex> lock(mutex_);
  latency_sink_ = std::move(sink);
}

void SimulatedTransport::SetRecording(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  recording_ = on;
}

const SimulatedHostBehavior& SimulatedTransport::BehaviorOf(const std::string& host) const {
  auto it = behaviors_.find(host);
  return it == behaviors_.end() ? default_behavior_ : it->second;
}

double SimulatedTransport::Uniform(const std::string& host, uint64_t n, uint64_t stream) const {
  uint64_t x = SplitMix64(seed_ ^ SplitMix64(HashName(host) ^ SplitMix64(n * 4 + stream)));
  return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
}

void SimulatedTransport::Record(SimulatedCall call) {
  ++call_count_;
  if (recording_) calls_.push_back(std::move(call));
}

void SimulatedTransport::AddLatency(const std::string& host, CommandResult* result) {
  std::chrono::milliseconds latency = BehaviorOf(host).latency;
  if (result) result->elapsed = latency;
  if (latency_sink_ && latency.count() > 0) latency_sink_(latency);
}

Result<CommandResult> SimulatedTransport::Run(const HostAddress& host, const CommandSpec& spec) {
  RETURN_IF_ERROR(ValidateCommandSpec(spec));
  std::string command = Join(spec.argv, " ");
  std::lock_guard<std::mutex> lock(mutex_);
  Record({SimulatedCall::Kind::kRun, host.name, spec.argv, spec.status_file});
  HostState& state = hosts_[host.name];
  uint64_t n = state.commands++;

  CommandResult result;
  std::optional<int> status_code;
  bool scripted = false;
  for (size_t i = 0; i < scripts_.size(); ++i) {
    const ScriptedOutcome& script = scripts_[i];
    if (!script.host.empty() && script.host != host.name) continue;
    if (!script.command_contains.empty() &&
        command.find(script.command_contains) == std::string::npos) {
      continue;
    }
    int match = script_matches_[i]++;
    if (match < script.skip) continue;
    if (script.times >= 0 && match >= script.skip + script.times) continue;
    if (script.error) return *script.error;
    result = script.result;
    if (script.status_file_code) {
      status_code = *script.status_file_code;
    } else if (!result.timed_out && !result.connection_lost) {
      status_code = result.exit_code;
    }
    scripted = true;
    break;
  }
  if (!scripted) {
    const SimulatedHostBehavior& behavior = BehaviorOf(host.name);
    if (behavior.down) {
      return Unavailable(fmt::format("simulated host {} is down", host.ToString()));
    }
    result.exit_code =
        Uniform(host.name, n, 0) < behavior.failure_rate ? behavior.failure_exit_code : 0;
    status_code = result.exit_code;
    if (Uniform(host.name, n, 1) < behavior.connection_loss_rate) {
      result.connection_lost = true;
      result.exit_code = kExitUnknown;  // the command still finished on the host
    }
  }
  result.output_tail = Redact(result.output_tail, SecretsOf(spec));
  if (result.output_tail.size() > spec.output_limit) {
    result.output_tail.erase(0, result.output_tail.size() - spec.output_limit);
    result.output_truncated = true;
  }
  if (!spec.status_file.empty()) {
    state.files.erase(spec.status_file);
    if (status_code) state.files[spec.status_file] = fmt::format("{}\n", *status_code);
  }
  AddLatency(host.name, &result);
  return result;
}

Status SimulatedTransport::CopyTo(const HostAddress& host, const std::filesystem::path& local,
                                  const std::string& remote_path, Seconds /*timeout*/) {
  RETURN_IF_ERROR(ValidateRemotePath(remote_path));
  ASSIGN_OR_RETURN(std::string digest, Sha256File(local));
  std::lock_guard<std::mutex> lock(mutex_);
  Record({SimulatedCall::Kind::kCopy, host.name, {local.string(), remote_path}, ""});
  if (BehaviorOf(host.name).down) {
    return Unavailable(fmt::format("simulated host {} is down", host.ToString()));
  }
  hosts_[host.name].files[remote_path] = "sha256:" + digest;
  AddLatency(host.name, nullptr);
  return Status::Ok();
}

Result<std::optional<int>> SimulatedTransport::ReadExitStatus(const HostAddress& host,
                                                              const std::string& status_file) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  std::lock_guard<std::mutex> lock(mutex_);
  Record({SimulatedCall::Kind::kReadExitStatus, host.name, {}, status_file});
  if (BehaviorOf(host.name).down) {
    return Unavailable(fmt::format("simulated host {} is down", host.ToString()));
  }
  AddLatency(host.name, nullptr);
  const auto& files = hosts_[host.name].files;
  auto it = files.find(status_file);
  if (it == files.end()) return std::optional<int>();
  ASSIGN_OR_RETURN(int code, ParseExitStatusFile(it->second));
  return std::optional<int>(code);
}

Status SimulatedTransport::Cancel(const HostAddress& host, const std::string& status_file,
                                  Seconds /*timeout*/) {
  RETURN_IF_ERROR(ValidateStatusFilePath(status_file));
  std::lock_guard<std::mutex> lock(mutex_);
  Record({SimulatedCall::Kind::kCancel, host.name, {}, status_file});
  if (BehaviorOf(host.name).down) {
    return Unavailable(fmt::format("simulated host {} is down", host.ToString()));
  }
  AddLatency(host.name, nullptr);
  return Status::Ok();  // simulated commands end within their Run call: nothing still runs
}

void SimulatedTransport::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++close_count_;
}

std::vector<SimulatedCall> SimulatedTransport::Calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

std::vector<std::string> SimulatedTransport::CommandsRan(const std::string& host) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const SimulatedCall& call : calls_) {
    if (call.kind != SimulatedCall::Kind::kRun) continue;
    if (!host.empty() && call.host != host) continue;
    out.push_back(Join(call.argv, " "));
  }
  return out;
}

size_t SimulatedTransport::call_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return call_count_;
}

std::optional<std::string> SimulatedTransport::FileOn(const std::string& host,
                                                      const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto host_it = hosts_.find(host);
  if (host_it == hosts_.end()) return std::nullopt;
  auto it = host_it->second.files.find(path);
  if (it == host_it->second.files.end()) return std::nullopt;
  return it->second;
}

void SimulatedTransport::SetFile(const std::string& host, const std::string& path,
                                 std::string content) {
  std::lock_guard<std::mutex> lock(mutex_);
  hosts_[host].files[path] = std::move(content);
}

int SimulatedTransport::close_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return close_count_;
}

}  // namespace rollgate
