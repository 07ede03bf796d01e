#include "core/ids.h"

#include <gtest/gtest.h>

namespace thunder {
namespace {

TEST(IdsTest, ParsesPlainPositiveDecimals) {
  EXPECT_EQ(ParseIdText("1"), 1);
  EXPECT_EQ(ParseIdText("9223372036854775807"), INT64_MAX);
}

TEST(IdsTest, RejectsEverythingElse) {
  for (const char* bad : {"", "0", "007", "-1", "+1", "1a", " 1", "1.0", "9223372036854775808",
                          "99999999999999999999"}) {
    EXPECT_FALSE(ParseIdText(bad).has_value()) << bad;
  }
}

TEST(IdsTest, StrongIdsCompareWithinTheirKind) {
  EXPECT_LT(BeltId{1}, BeltId{2});
  EXPECT_EQ(FactoryId{7}.ToString(), "7");
}

}  // namespace
}  // namespace thunder
