#include "core/status.h"

#include <gtest/gtest.h>

namespace thunder {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd", "x must be even", "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.http_status(), 200);
}

TEST(StatusTest, KindsMapToHttpStatuses) {
  EXPECT_EQ(HttpStatusFor(ErrorKind::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kRateLimited), 429);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kHeaderTooLarge), 431);
  EXPECT_EQ(HttpStatusFor(ErrorKind::kIoError), 500);
}

TEST(StatusTest, ResultCarriesValueOrError) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);

  auto bad = Quarter(6);  // 6 / 2 = 3 is odd
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), "odd");
  EXPECT_EQ(bad.status().field(), "x");
  EXPECT_EQ(bad.status().http_status(), 400);
  EXPECT_EQ(bad.status().ToString(), "odd: x must be even (field x)");
}

}  // namespace
}  // namespace thunder
