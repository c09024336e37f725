// A Clock whose time only moves when a test says so. Not thread-safe.
#pragma once

#include "common/time.h"

namespace rollgate::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(start) {}
  Timestamp Now() const override { return now_; }
  std::chrono::steady_clock::time_point Monotonic() const override { return monotonic_; }

  void Advance(Seconds d) {
    now_ += d;
    monotonic_ += d;
  }
  // Moves only the wall clock (a clock jump); the monotonic clock is unaffected.
  void JumpWallClock(Seconds d) { now_ += d; }
  void Set(Timestamp t) { now_ = t; }

 private:
  Timestamp now_;
  std::chrono::steady_clock::time_point monotonic_{};
};

// 2026-11-30 09:00:00 UTC, a Monday.
Timestamp MondayMorning();

}  // namespace rollgate::testing
