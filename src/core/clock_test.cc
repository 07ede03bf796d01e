#include "core/clock.h"

#include <gtest/gtest.h>

namespace thunder {
namespace {

using namespace std::chrono_literals;

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(Timestamp{1'000'000us});
  EXPECT_EQ(clock.Now(), Timestamp{1'000'000us});
  clock.Advance(15min);
  EXPECT_EQ(clock.Now(), Timestamp{1'000'000us + 15min});
}

TEST(ClockTest, FormatsRfc3339InUtc) {
  // 2020-04-01T00:00:00Z is 1585699200 seconds after the epoch.
  EXPECT_EQ(FormatRfc3339(Timestamp{1585699200s + 123456us}), "2020-04-01T00:00:00.123456Z");
}

TEST(ClockTest, SystemClockIsAfter2024) {
  EXPECT_GT(SystemClock::Instance().Now(), Timestamp{1704067200s});
}

}  // namespace
}  // namespace thunder
