// Clock: the only source of time. SystemClock is safe to share between threads;
// ManualClock is for tests and is also thread-safe (an atomic), so a test can move time
// to a deadline without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace thunder {

// Microseconds since the Unix epoch, UTC.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  // A process-wide instance; lives for the whole program.
  static SystemClock& Instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = Timestamp{}) : micros_(start.time_since_epoch().count()) {}
  Timestamp Now() const override { return Timestamp{std::chrono::microseconds{micros_.load()}}; }
  void Advance(std::chrono::microseconds d) { micros_ += d.count(); }
  void Set(Timestamp t) { micros_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> micros_;
};

// "2026-11-27T17:06:52.123456Z"
std::string FormatRfc3339(Timestamp t);
// Parses "2026-11-27T17:06:52Z", with optional fractional seconds (up to microseconds) and
// a "Z" or "+08:00"-style offset. Nothing else is accepted.
std::optional<Timestamp> ParseRfc3339(std::string_view text);

}  // namespace thunder
