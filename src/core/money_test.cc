#include "core/money.h"

#include <gtest/gtest.h>

#include <limits>

namespace thunder {
namespace {

TEST(MoneyTest, FormatsYuanFromFen) {
  EXPECT_EQ(FormatYuan(Money{1990}), "¥19.90");
  EXPECT_EQ(FormatYuan(Money{5}), "¥0.05");
  EXPECT_EQ(FormatYuan(Money{-250}), "-¥2.50");
  EXPECT_EQ(FormatYuan(Money::FromYuan(100'000'000)), "¥100000000.00");
  EXPECT_EQ(FormatYuan(Money{std::numeric_limits<int64_t>::min()}), "-¥92233720368547758.08");
}

TEST(MoneyTest, CheckedArithmeticRefusesOverflow) {
  EXPECT_EQ(CheckedAdd(Money{1}, Money{2}), Money{3});
  EXPECT_FALSE(CheckedAdd(Money{std::numeric_limits<int64_t>::max()}, Money{1}).has_value());
  EXPECT_EQ(CheckedMultiply(Money{1990}, 3), Money{5970});
  EXPECT_FALSE(CheckedMultiply(Money{std::numeric_limits<int64_t>::max() / 2}, 3).has_value());
}

}  // namespace
}  // namespace thunder
