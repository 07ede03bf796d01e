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

TEST(ClockTest, ParsesRfc3339) {
  EXPECT_EQ(ParseRfc3339("2020-04-01T00:00:00Z"), Timestamp{1585699200s});
  EXPECT_EQ(ParseRfc3339("2020-04-01T08:00:00+08:00"), Timestamp{1585699200s});
  EXPECT_EQ(ParseRfc3339("2020-04-01T00:00:00.5Z"), Timestamp{1585699200s + 500ms});
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(Timestamp{1585699200s + 123456us})),
            Timestamp{1585699200s + 123456us});
  for (const char* bad : {"", "2020-04-01", "2020-04-01 00:00:00Z", "2020-02-30T00:00:00Z",
                          "2020-04-01T24:00:00Z", "2020-04-01T00:00:00", "2020-04-01T00:00:00.Z",
                          "2020-04-01T00:00:00+0800", "2020-04-01T00:00:00Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(ClockTest, SystemClockIsAfter2024) {
  EXPECT_GT(SystemClock::Instance().Now(), Timestamp{1704067200s});
}

}  // namespace
}  // namespace thunder
