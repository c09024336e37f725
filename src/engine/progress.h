// Progress of a run as events, for the CLI (plain lines, a live summary, JSON lines) and later the
// server's live updates.
//
// The executor emits an event only after the state it describes was committed to the store, so
// nothing is reported that the store does not record (RELIABILITY.md). Events are delivered on
// the thread that called Executor::Start/Resume/Cancel, one at a time, so a sink needs no locking
// of its own. The executor does not own its sink.
#pragma once

#include <optional>
#include <string>

#include "common/time.h"
#include "domain/run.h"

namespace rollgate {

struct ProgressEvent {
  enum class Kind {
    kRunStarted,    // the run is executing (started or resumed); `message` says which
    kBatchStarted,  // batch `batch` of `batches` of a phase; `hosts` hosts
    kStepStarted,   // intents committed for `hosts` hosts of a step (attempt `attempt`)
    kStepFinished,  // one host's step ended in `state`
    kRunFinished,   // the run ended in `run_state`; `message` says why
    kStepRunning,   // a step is still running on `hosts` hosts: sent when no other event was
                    // sent for a minute (kStillRunningEvery), so listeners with a schedule of
                    // their own (the §6.4 rollback updates) hear from a long step
  };
  Kind kind = Kind::kRunStarted;
  std::string run_id;
  Timestamp at{};
  std::string step;  // "phase/step"
  std::string host;
  int attempt = 0;
  int batch = 0;  // 1-based
  int batches = 0;
  int hosts = 0;  // hosts in the batch or step
  StepState state = StepState::kPending;
  std::optional<int> exit_code;
  RunState run_state = RunState::kRunning;
  std::string message;
};

// How long the executor stays silent while a step runs before it sends kStepRunning.
inline constexpr Seconds kStillRunningEvery{60};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void OnEvent(const ProgressEvent& event) = 0;
};

// "kStepFinished" -> "step-finished", the names used in JSON event streams.
std::string_view ProgressKindName(ProgressEvent::Kind kind);

}  // namespace rollgate
