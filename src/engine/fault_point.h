// Named fault points for crash tests (RELIABILITY.md "Faults"; STYLE.md 14).
//
// ROLLGATE_FAULT_POINT=name:N makes the Nth call of FaultPoint("name") end the process at once
// with _exit(137), as `kill -9` would (no destructors, no flushing, no store commit). The variable
// is read in this one place, once per process; without it FaultPoint costs one atomic load.
// Tests loop N over 1, 2, 3 ... like SQLite's crash tests.
//
// Thread-safe: may be called from any thread.
#pragma once

#include <string_view>

namespace rollgate {

// Points the executor passes (engine/executor.cc):
inline constexpr std::string_view kFaultIntentCommitted = "intent-committed";  // before Run
inline constexpr std::string_view kFaultRemoteDone = "remote-done";  // exited, result not committed
inline constexpr std::string_view kFaultResultCommitted = "result-committed";

// Ends the process with _exit(137) when this is the Nth call for the configured name.
void FaultPoint(std::string_view name);

}  // namespace rollgate
