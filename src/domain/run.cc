#include "domain/run.h"

#include <array>
#include <utility>

#include "common/strings.h"

namespace rollgate {

namespace {

constexpr std::array<std::pair<RunState, std::string_view>, 6> kRunStates = {{
    {RunState::kPending, "pending"},
    {RunState::kRunning, "running"},
    {RunState::kSucceeded, "succeeded"},
    {RunState::kFailed, "failed"},
    {RunState::kCancelled, "cancelled"},
    {RunState::kPausedForPerson, "paused-for-person"},
}};

constexpr std::array<std::pair<StepState, std::string_view>, 8> kStepStates = {{
    {StepState::kPending, "pending"},
    {StepState::kIntent, "intent"},
    {StepState::kRunning, "running"},
    {StepState::kSucceeded, "succeeded"},
    {StepState::kFailed, "failed"},
    {StepState::kUnknown, "unknown"},
    {StepState::kSkipped, "skipped"},
    {StepState::kCancelled, "cancelled"},
}};

}  // namespace

std::string_view RunStateName(RunState state) {
  for (const auto& [value, name] : kRunStates) {
    if (value == state) return name;
  }
  return "invalid";
}

Result<RunState> ParseRunState(std::string_view name) {
  for (const auto& [value, known] : kRunStates) {
    if (known == name) return value;
  }
  return InvalidArgument("unknown run state '" + EscapeForDisplay(name) + "'");
}

std::string_view StepStateName(StepState state) {
  for (const auto& [value, name] : kStepStates) {
    if (value == state) return name;
  }
  return "invalid";
}

Result<StepState> ParseStepState(std::string_view name) {
  for (const auto& [value, known] : kStepStates) {
    if (known == name) return value;
  }
  return InvalidArgument("unknown step state '" + EscapeForDisplay(name) + "'");
}

bool IsFinal(RunState state) {
  return state == RunState::kSucceeded || state == RunState::kFailed ||
         state == RunState::kCancelled || state == RunState::kPausedForPerson;
}

bool IsFinal(StepState state) {
  return state == StepState::kSucceeded || state == StepState::kFailed ||
         state == StepState::kUnknown || state == StepState::kSkipped ||
         state == StepState::kCancelled;
}

}  // namespace rollgate
