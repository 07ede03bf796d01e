#include "core/money.h"

#include <fmt/format.h>

namespace thunder {

std::optional<Money> CheckedAdd(Money a, Money b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a.fen, b.fen, &out)) return std::nullopt;
  return Money{out};
}

std::optional<Money> CheckedMultiply(Money a, int64_t n) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a.fen, n, &out)) return std::nullopt;
  return Money{out};
}

std::string FormatYuan(Money m) {
  // Work in unsigned magnitude so that INT64_MIN formats without overflow.
  const bool negative = m.fen < 0;
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(m.fen) : static_cast<uint64_t>(m.fen);
  return fmt::format("{}¥{}.{:02}", negative ? "-" : "", magnitude / 100, magnitude % 100);
}

}  // namespace thunder
