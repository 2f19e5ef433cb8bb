// Event time, durations and the injected clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "vigil/cep/status.h"

namespace vigil::cep {

// Nanoseconds since the Unix epoch, UTC. Covers the years 1678..2262.
using Timestamp = int64_t;
// Nanoseconds.
using Duration = int64_t;

inline constexpr Timestamp kMinTimestamp = std::numeric_limits<int64_t>::min();
inline constexpr Timestamp kMaxTimestamp = std::numeric_limits<int64_t>::max();

inline constexpr Duration kNanosecond = 1;
inline constexpr Duration kMicrosecond = 1000;
inline constexpr Duration kMillisecond = 1000 * kMicrosecond;
inline constexpr Duration kSecond = 1000 * kMillisecond;
inline constexpr Duration kMinute = 60 * kSecond;
inline constexpr Duration kHour = 60 * kMinute;
inline constexpr Duration kDay = 24 * kHour;

// a + b, clamped to [kMinTimestamp, kMaxTimestamp] instead of overflowing.
Timestamp SaturatingAdd(Timestamp a, Duration b);

// Parses "250ms", "30s", "5m", "2h", "1d" (also "us", "ns" and combinations such as "1h30m").
Result<Duration> ParseDuration(std::string_view text);
// Renders a duration the way ParseDuration reads it, e.g. "5m" or "1h30m".
std::string FormatDuration(Duration d);

// Parses an RFC 3339 timestamp ("2026-11-21T10:15:02.123Z", "...+02:00", fraction up to ns;
// a space instead of 'T' is accepted). Returns false if the text is not one.
bool ParseRfc3339(std::string_view text, Timestamp* out);
// "2026-11-21T10:15:02.000Z": UTC with milliseconds, as alerts carry it.
std::string FormatRfc3339Millis(Timestamp t);
void AppendRfc3339Millis(Timestamp t, std::string* out);

// Days since 1970-01-01 for a proleptic Gregorian date (month 1..12).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

// The wall clock, injected so that tests are deterministic.
// Thread safety: Now() may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  static const SystemClock* Default();
};

// A clock that only moves when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start) {}
  Timestamp Now() const override { return now_.load(std::memory_order_relaxed); }
  void Set(Timestamp t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(Duration d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<Timestamp> now_;
};

}  // namespace vigil::cep
