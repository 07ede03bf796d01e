#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace thunder {
namespace {

TEST(JsonWriterTest, WritesNestedContainersWithCommas) {
  JsonWriter w;
  w.BeginObject()
      .Key("id")
      .String("3")
      .Key("price")
      .Money(1990)
      .Key("tags")
      .BeginArray()
      .String("a")
      .Int(-2)
      .Bool(true)
      .Null()
      .EndArray()
      .Key("attrs")
      .Raw(R"({"colour":"red"})")
      .EndObject();
  EXPECT_EQ(w.str(), R"({"id":"3","price":{"amount_fen":1990},"tags":["a",-2,true,null],)"
                     R"("attrs":{"colour":"red"}})");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControls) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01", 7) + "袜子");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001袜子\"");
}

}  // namespace
}  // namespace thunder
