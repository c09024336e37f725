// Time for Rollgate: instants, the Clock interface, local time zones and text formats.
//
// Instants are UTC seconds (Timestamp). The wall clock and the monotonic clock are read only
// through Clock (STYLE.md 8), so lead times, escalations and timeouts are tested with FakeClock
// (testing/fake_clock.h). Local calendar questions (business days, windows) go through TimeZone.
// All functions here are thread-safe; implementations of the interfaces say so themselves.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rollgate {

using Timestamp = std::chrono::sys_seconds;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current UTC wall-clock time, whole seconds.
  virtual Timestamp Now() const = 0;
  // A monotonic reading for timeouts; never jumps with the wall clock.
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
};

// The process's real clocks. The only place in Rollgate that reads them.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;
};

// A local date and time of day, in some zone.
struct LocalDateTime {
  std::chrono::year_month_day date;
  Seconds time_of_day{0};  // [0, 86400)

  bool operator==(const LocalDateTime&) const = default;
};

class TimeZone {
 public:
  virtual ~TimeZone() = default;
  virtual LocalDateTime ToLocal(Timestamp t) const = 0;
  // The instant a local time names. Ambiguous or skipped local times (DST changes) resolve to
  // the earlier offset.
  virtual Timestamp FromLocal(const LocalDateTime& local) const = 0;
};

// The zone of the process (TZ, /etc/localtime), through localtime_r/mktime.
class SystemTimeZone final : public TimeZone {
 public:
  LocalDateTime ToLocal(Timestamp t) const override;
  Timestamp FromLocal(const LocalDateTime& local) const override;
};

// A fixed offset from UTC, for tests and for configurations that name one.
class FixedOffsetZone final : public TimeZone {
 public:
  explicit FixedOffsetZone(Seconds offset_east_of_utc) : offset_(offset_east_of_utc) {}
  LocalDateTime ToLocal(Timestamp t) const override;
  Timestamp FromLocal(const LocalDateTime& local) const override;

 private:
  Seconds offset_;
};

// "2026-11-29T16:01:23Z".
std::string FormatRfc3339Utc(Timestamp t);
// "2026-11-29 17:01" in the given zone.
std::string FormatLocalMinutes(Timestamp t, const TimeZone& zone);
// "2026-11-29".
std::string FormatDate(std::chrono::year_month_day date);

// Parses RFC 3339 ("2026-12-01T09:00:00Z", "...+01:00", fractional seconds dropped) or the local
// forms "YYYY-MM-DD HH:MM[:SS]" / "YYYY-MM-DDTHH:MM" interpreted in `zone`.
// InvalidArgument naming what is wrong on failure.
Result<Timestamp> ParseTime(std::string_view text, const TimeZone& zone);
// Parses "YYYY-MM-DD" as a valid calendar date.
Result<std::chrono::year_month_day> ParseDate(std::string_view text);
// Parses "HH:MM" (00:00..24:00) as seconds after midnight.
Result<Seconds> ParseTimeOfDay(std::string_view text);
// Parses durations such as "30s", "15m", "24h", "4h30m", "2d" (d = 24 h). Must be > 0 unless
// `allow_zero`. InvalidArgument naming the text on failure.
Result<Seconds> ParseDuration(std::string_view text, bool allow_zero = false);
// "4h30m", "2d", "15m", "0s".
std::string FormatDuration(Seconds d);

}  // namespace rollgate
