// Money is an integer count of fen (1 yuan = 100 fen); never floating point.
// A plain value type; arithmetic that could overflow reports it instead of wrapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace thunder {

struct Money {
  int64_t fen = 0;

  static constexpr Money FromYuan(int64_t yuan) { return Money{yuan * 100}; }
  friend constexpr bool operator==(Money, Money) = default;
  friend constexpr auto operator<=>(Money, Money) = default;
};

// a + b, or nothing when the sum does not fit in int64.
std::optional<Money> CheckedAdd(Money a, Money b);
// a * n, or nothing on overflow.
std::optional<Money> CheckedMultiply(Money a, int64_t n);
// "¥19.90" style text for people (logs, CLI); the API always sends amount_fen.
std::string FormatYuan(Money m);

}  // namespace thunder
