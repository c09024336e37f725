#include "common/time.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <ctime>

namespace rollgate {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::sys_days;

Timestamp SystemClock::Now() const { return floor<Seconds>(std::chrono::system_clock::now()); }

std::chrono::steady_clock::time_point SystemClock::Monotonic() const {
  return std::chrono::steady_clock::now();
}

namespace {

LocalDateTime SplitLocal(Timestamp local_as_utc) {
  sys_days day = floor<days>(local_as_utc);
  return {std::chrono::year_month_day(day), local_as_utc - day};
}

Timestamp JoinLocal(const LocalDateTime& local) { return sys_days(local.date) + local.time_of_day; }

}  // namespace

LocalDateTime SystemTimeZone::ToLocal(Timestamp t) const {
  std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  localtime_r(&tt, &tm);
  return SplitLocal(t + Seconds(tm.tm_gmtoff));
}

Timestamp SystemTimeZone::FromLocal(const LocalDateTime& local) const {
  std::tm tm{};
  tm.tm_year = static_cast<int>(local.date.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(local.date.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(local.date.day()));
  auto secs = local.time_of_day.count();
  tm.tm_hour = static_cast<int>(secs / 3600);
  tm.tm_min = static_cast<int>((secs / 60) % 60);
  tm.tm_sec = static_cast<int>(secs % 60);
  tm.tm_isdst = -1;
  std::time_t tt = mktime(&tm);
  return Timestamp(Seconds(tt));
}

LocalDateTime FixedOffsetZone::ToLocal(Timestamp t) const { return SplitLocal(t + offset_); }

Timestamp FixedOffsetZone::FromLocal(const LocalDateTime& local) const {
  return JoinLocal(local) - offset_;
}

std::string FormatDate(std::chrono::year_month_day d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

std::string FormatRfc3339Utc(Timestamp t) {
  // Hand-formatted: this runs once per audit event when a chain of millions is verified.
  LocalDateTime l = SplitLocal(t);
  int year = static_cast<int>(l.date.year());
  if (year < 0 || year > 9999) {
    auto s = l.time_of_day.count();
    return fmt::format("{}T{:02}:{:02}:{:02}Z", FormatDate(l.date), s / 3600, (s / 60) % 60,
                       s % 60);
  }
  auto two = [](char* at, unsigned v) {
    at[0] = static_cast<char>('0' + v / 10);
    at[1] = static_cast<char>('0' + v % 10);
  };
  char out[] = "0000-00-00T00:00:00Z";
  two(out, static_cast<unsigned>(year / 100));
  two(out + 2, static_cast<unsigned>(year % 100));
  two(out + 5, static_cast<unsigned>(l.date.month()));
  two(out + 8, static_cast<unsigned>(l.date.day()));
  auto s = static_cast<unsigned>(l.time_of_day.count());
  two(out + 11, s / 3600);
  two(out + 14, (s / 60) % 60);
  two(out + 17, s % 60);
  return std::string(out, sizeof out - 1);
}

std::string FormatLocalMinutes(Timestamp t, const TimeZone& zone) {
  LocalDateTime l = zone.ToLocal(t);
  auto s = l.time_of_day.count();
  return fmt::format("{} {:02}:{:02}", FormatDate(l.date), s / 3600, (s / 60) % 60);
}

namespace {

// Reads exactly `width` digits at `pos`.
bool ReadDigits(std::string_view text, size_t& pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  pos += width;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

bool ReadDate(std::string_view text, size_t& pos, std::chrono::year_month_day& out) {
  int y = 0, m = 0, d = 0;
  if (!ReadDigits(text, pos, 4, y) || !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, m) ||
      !Expect(text, pos, '-') || !ReadDigits(text, pos, 2, d)) {
    return false;
  }
  out =
      std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d));
  return out.ok();
}

}  // namespace

Result<std::chrono::year_month_day> ParseDate(std::string_view text) {
  size_t pos = 0;
  std::chrono::year_month_day date;
  if (!ReadDate(text, pos, date) || pos != text.size()) {
    return InvalidArgument(fmt::format("invalid date '{}': expected YYYY-MM-DD", text));
  }
  return date;
}

Result<Seconds> ParseTimeOfDay(std::string_view text) {
  size_t pos = 0;
  int h = 0, m = 0;
  if (!ReadDigits(text, pos, 2, h) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, m) ||
      pos != text.size() || m > 59 || h > 24 || (h == 24 && m != 0)) {
    return InvalidArgument(fmt::format("invalid time of day '{}': expected HH:MM", text));
  }
  return Seconds(h * 3600 + m * 60);
}

Result<Timestamp> ParseTime(std::string_view text, const TimeZone& zone) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(
        fmt::format("invalid time '{}': {} (expected RFC 3339 such as 2026-12-01T09:00:00Z, or "
                    "'YYYY-MM-DD HH:MM' in the local zone)",
                    text, why));
  };
  size_t pos = 0;
  std::chrono::year_month_day date;
  if (!ReadDate(text, pos, date)) return bad("not a valid date");
  if (!Expect(text, pos, 'T') && !Expect(text, pos, 't') && !Expect(text, pos, ' ')) {
    return bad("missing time");
  }
  int h = 0, m = 0, s = 0;
  if (!ReadDigits(text, pos, 2, h) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, m)) {
    return bad("missing HH:MM");
  }
  if (Expect(text, pos, ':')) {
    if (!ReadDigits(text, pos, 2, s)) return bad("bad seconds");
    if (Expect(text, pos, '.')) {
      size_t start = pos;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
      if (pos == start) return bad("bad fraction");
    }
  }
  if (h > 23 || m > 59 || s > 60) return bad("time of day out of range");
  LocalDateTime local{date, Seconds(h * 3600 + m * 60 + std::min(s, 59))};
  if (pos == text.size()) return zone.FromLocal(local);
  Timestamp naive = JoinLocal(local);
  if (Expect(text, pos, 'Z') || Expect(text, pos, 'z')) {
    if (pos != text.size()) return bad("trailing characters");
    return naive;
  }
  char sign = text[pos];
  if (sign != '+' && sign != '-') return bad("bad zone offset");
  ++pos;
  int oh = 0, om = 0;
  if (!ReadDigits(text, pos, 2, oh) || !Expect(text, pos, ':') || !ReadDigits(text, pos, 2, om) ||
      pos != text.size() || oh > 23 || om > 59) {
    return bad("bad zone offset");
  }
  Seconds offset(oh * 3600 + om * 60);
  return sign == '+' ? naive - offset : naive + offset;
}

Result<Seconds> ParseDuration(std::string_view text, bool allow_zero) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format(
        "invalid duration '{}': {} (expected e.g. 30s, 15m, 24h, 4h30m, 5d)", text, why));
  };
  if (text.empty()) return bad("empty");
  if (text.size() > 32) return bad("too long");
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == start) return bad("expected a number");
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + pos, value);
    if (ec != std::errc() || value > 100000000) return bad("number out of range");
    if (pos == text.size()) return bad("missing unit");
    int64_t unit = 0;
    switch (text[pos]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return bad(fmt::format("unknown unit '{}'", text[pos]));
    }
    ++pos;
    total += value * unit;
    if (total > int64_t{10} * 365 * 86400) return bad("longer than ten years");
  }
  if (total == 0 && !allow_zero) return bad("must be greater than zero");
  return Seconds(total);
}

std::string FormatDuration(Seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  if (s % 86400 == 0) return out + fmt::format("{}d", s / 86400);
  int64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (sec) out += fmt::format("{}s", sec);
  return out;
}

}  // namespace rollgate
