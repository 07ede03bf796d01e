#include "http/message.h"

#include <gtest/gtest.h>

namespace thunder::http {
namespace {

TEST(MessageTest, ParsesAndDecodesQueryStrings) {
  auto q = ParseQueryString("limit=5&name=Yiwu%20market&flag&q=a+b&&city=%E4%B9%89%E4%B9%8C");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[0], std::make_pair(std::string("limit"), std::string("5")));
  EXPECT_EQ((*q)[1].second, "Yiwu market");
  EXPECT_EQ((*q)[2], std::make_pair(std::string("flag"), std::string("")));
  EXPECT_EQ((*q)[3].second, "a b");
  EXPECT_EQ((*q)[4].second, "义乌");
}

TEST(MessageTest, RejectsBadEscapesAndInvalidUtf8InQuery) {
  EXPECT_EQ(ParseQueryString("a=%zz").status().code(), "invalid_query");
  EXPECT_EQ(ParseQueryString("limit=1&limit=2").status().code(), "duplicate_query_parameter");
  EXPECT_EQ(ParseQueryString("limit=1&limit=2").status().field(), "limit");
  EXPECT_EQ(ParseQueryString("a=%4").status().code(), "invalid_query");
  EXPECT_EQ(ParseQueryString("a=%ff%fe").status().code(), "invalid_utf8");
}

TEST(MessageTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("海宁皮革 😀"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE4\xB9"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

TEST(MessageTest, ErrorResponseFollowsTheConvention) {
  Response r =
      ErrorResponse(Status::InvalidArgument("wrong_type", "name must be a string", "name"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"wrong_type","message":"name must be a string","field":"name"}})");
  Response nf = ErrorResponse(Status::NotFound("belt 9 does not exist"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body, R"({"error":{"code":"not_found","message":"belt 9 does not exist"}})");
}

}  // namespace
}  // namespace thunder::http
