#include "catalog/schema.h"

#include <gtest/gtest.h>

#include <array>
#include <nlohmann/json.hpp>

namespace thunder::catalog {
namespace {

const ResourceSpec& Skus() { return *FindResource("skus"); }
const ResourceSpec& Belts() { return *FindResource("belts"); }

std::string CodeOf(const ResourceSpec& spec, std::string_view body,
                   BodyMode mode = BodyMode::kCreate) {
  auto r = ParseBody(spec, body, mode);
  return r.ok() ? "ok" : r.status().code() + "@" + r.status().field();
}

TEST(SchemaTest, AcceptsAValidSku) {
  auto r = ParseBody(Skus(),
                     R"({"product_id":"4","code":"S-1","list_price":{"amount_fen":1990},)"
                     R"("attributes":{"size":"L","colour":"红"},"idempotency_key":"k1"})",
                     BodyMode::kCreate);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::get<int64_t>(*r->Get("product_id")), 4);
  EXPECT_EQ(std::get<int64_t>(*r->Get("list_price")), 1990);
  // Maps are stored canonically: keys sorted.
  EXPECT_EQ(std::get<std::string>(*r->Get("attributes")), R"({"colour":"红","size":"L"})");
  EXPECT_EQ(r->idempotency_key, "k1");
}

TEST(SchemaTest, RejectsEachKindOfBadInputWithCodeAndField) {
  const std::string base = R"("product_id":"4","code":"S-1")";
  struct Case {
    std::string body;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"", "invalid_json@"},
      {"{", "invalid_json@"},
      {"[1,2]", "not_an_object@"},
      {"\"text\"", "not_an_object@"},
      {"{\"code\":\"\xff\xfe\"}", "invalid_utf8@"},
      {"{" + base + R"(,"list_price":{"amount_fen":1990},"colour":"red"})", "unknown_field@colour"},
      {"{" + base + R"(,"list_price":{"amount_fen":1990},"code":"again"})", "duplicate_field@code"},
      {"{" + base + "}", "missing_field@list_price"},
      {"{" + base + R"(,"list_price":1990})", "wrong_type@list_price"},
      {"{" + base + R"(,"list_price":{"amount_fen":"1990"}})", "wrong_type@list_price.amount_fen"},
      {"{" + base + R"(,"list_price":{"amount_fen":19.9}})", "wrong_type@list_price.amount_fen"},
      {"{" + base + R"(,"list_price":{"amount_fen":-1}})", "out_of_range@list_price.amount_fen"},
      {"{" + base + R"(,"list_price":{"amount_fen":18446744073709551615}})",
       "out_of_range@list_price.amount_fen"},
      {"{" + base + R"(,"list_price":{"amount_fen":1e400}})", "out_of_range@"},
      {"{" + base + R"(,"list_price":{"amount_fen":1990,"currency":"CNY"}})",
       "wrong_type@list_price"},
      {R"({"product_id":4,"code":"S-1","list_price":{"amount_fen":1}})", "wrong_type@product_id"},
      {R"({"product_id":"04","code":"S-1","list_price":{"amount_fen":1}})",
       "wrong_type@product_id"},
      {R"({"product_id":"4","code":null,"list_price":{"amount_fen":1}})", "wrong_type@code"},
      {R"({"product_id":"4","code":"","list_price":{"amount_fen":1}})", "too_short@code"},
      {R"({"product_id":"4","code":")" + std::string(65, 'x') +
           R"(","list_price":{"amount_fen":1}})",
       "too_long@code"},
      {"{" + base + R"(,"list_price":{"amount_fen":1},"attributes":{"size":7}})",
       "wrong_type@attributes.size"},
      {"{" + base + R"(,"list_price":{"amount_fen":1},"attributes":[]})", "wrong_type@attributes"},
      {"{" + base + R"(,"list_price":{"amount_fen":1},"idempotency_key":5})",
       "wrong_type@idempotency_key"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CodeOf(Skus(), c.body), c.expect) << c.body;
  }
}

TEST(SchemaTest, RefusesControlCharactersAndBlankText) {
  const std::string rest = R"(,"province":"Zhejiang","city":"Zhuji","specialty":"socks"})";
  struct Case {
    std::string name;  // the JSON text of the name, quotes included
    std::string expect;
  };
  const std::vector<Case> cases = {
      {R"("So\u0000cks")", "control_character@name"},
      {R"("Socks\n")", "control_character@name"},
      {R"("So\u001bcks")", "control_character@name"},
      {R"("Socks\u007f")", "control_character@name"},
      {R"("Socks\u0085")", "control_character@name"},
      {R"("   ")", "blank@name"},
      {R"(" \t ")", "control_character@name"},
      {R"("\u3000\u00a0")", "blank@name"},
      {R"("Zhuji socks")", "ok"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CodeOf(Belts(), R"({"name":)" + c.name + rest), c.expect) << c.name;
  }
  // Free text may span lines, but takes no other control characters and is not blank.
  const std::string belt = R"({"name":"n","province":"p","city":"c","specialty":"s",)";
  EXPECT_EQ(CodeOf(Belts(), belt + R"("description":"line 1\nline 2\tend"})"), "ok");
  EXPECT_EQ(CodeOf(Belts(), belt + R"("description":"bell\u0007"})"),
            "control_character@description");
  EXPECT_EQ(CodeOf(Belts(), belt + R"("description":"\n\n"})"), "blank@description");
  // Map keys and values, and the idempotency key, follow the same rules.
  const std::string sku = R"({"product_id":"4","code":"S-1","list_price":{"amount_fen":1},)";
  EXPECT_EQ(CodeOf(Skus(), sku + R"("attributes":{"size":" "}})"), "blank@attributes.size");
  EXPECT_EQ(CodeOf(Skus(), sku + R"("attributes":{"si\u0000ze":"L"}})"),
            "control_character@attributes");
  EXPECT_EQ(CodeOf(Skus(), sku + R"("idempotency_key":"k\u0000"})"),
            "control_character@idempotency_key");
  EXPECT_EQ(CodeOf(Skus(), sku + R"("idempotency_key":"  "})"), "blank@idempotency_key");
}

TEST(SchemaTest, IdempotencyKeyComesFromBodyOrHeader) {
  const std::string sku = R"({"product_id":"4","code":"S-1","list_price":{"amount_fen":1})";
  auto header_only = ParseBody(Skus(), sku + "}", BodyMode::kCreate, "h1");
  ASSERT_TRUE(header_only.ok()) << header_only.status().ToString();
  EXPECT_EQ(header_only->idempotency_key, "h1");
  auto both = ParseBody(Skus(), sku + R"(,"idempotency_key":"h1"})", BodyMode::kCreate, "h1");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->idempotency_key, "h1");
  auto differ = ParseBody(Skus(), sku + R"(,"idempotency_key":"b1"})", BodyMode::kCreate, "h1");
  EXPECT_EQ(differ.status().code(), "idempotency_key_mismatch");
  EXPECT_EQ(differ.status().field(), "idempotency_key");
  EXPECT_EQ(ParseBody(Skus(), sku + "}", BodyMode::kCreate, "").status().code(), "too_short");
  EXPECT_EQ(ParseBody(Skus(), sku + "}", BodyMode::kCreate, std::string(129, 'k')).status().code(),
            "too_long");
  EXPECT_EQ(ParseBody(Skus(), sku + "}", BodyMode::kCreate, "a\x01").status().code(),
            "control_character");
  // A patch is idempotent by itself: the header changes nothing.
  EXPECT_TRUE(ParseBody(Skus(), R"({"code":"S-2"})", BodyMode::kPatch, "h1").ok());
}

TEST(SchemaTest, CountsLengthInCharactersNotBytes) {
  // 100 Chinese characters are 300 bytes and still within a 100-character limit.
  std::string name;
  for (int i = 0; i < 100; ++i) name += "袜";
  const std::string body =
      R"({"name":")" + name + R"(","province":"浙江","city":"诸暨","specialty":"袜子"})";
  EXPECT_EQ(CodeOf(Belts(), body), "ok");
  EXPECT_EQ(CodeOf(Belts(), R"({"name":")" + name + "袜" +
                                R"(","province":"浙江","city":"诸暨","specialty":"袜子"})"),
            "too_long@name");
}

TEST(SchemaTest, PatchRulesDifferFromCreate) {
  EXPECT_EQ(CodeOf(Skus(), R"({"code":"S-2"})", BodyMode::kPatch), "ok");
  EXPECT_EQ(CodeOf(Skus(), R"({"product_id":"5"})", BodyMode::kPatch),
            "immutable_field@product_id");
  EXPECT_EQ(CodeOf(Skus(), "{}", BodyMode::kPatch), "empty_patch@");
  EXPECT_EQ(CodeOf(Skus(), R"({"idempotency_key":"k"})", BodyMode::kPatch),
            "unknown_field@idempotency_key");
}

TEST(SchemaTest, JsonSchemasListFieldsAndRequirements) {
  auto create = nlohmann::json::parse(BodyJsonSchema(Skus(), BodyMode::kCreate));
  EXPECT_EQ(create["additionalProperties"], false);
  EXPECT_EQ(create["required"], nlohmann::json::array({"product_id", "code", "list_price"}));
  EXPECT_EQ(create["properties"]["list_price"]["properties"]["amount_fen"]["type"], "integer");
  auto patch = nlohmann::json::parse(BodyJsonSchema(Skus(), BodyMode::kPatch));
  EXPECT_FALSE(patch["properties"].contains("product_id"));
  auto entity = nlohmann::json::parse(EntityJsonSchema(Skus()));
  EXPECT_TRUE(entity["properties"].contains("id"));
  EXPECT_TRUE(entity["properties"].contains("created_at"));
  // Titles name the OpenAPI components.
  EXPECT_EQ(create["title"], "NewSku");
  EXPECT_EQ(patch["title"], "SkuPatch");
  EXPECT_EQ(entity["title"], "Sku");
  // Optional text is left out of a row when unset, so only other fields are required.
  auto belt = nlohmann::json::parse(EntityJsonSchema(Belts()));
  EXPECT_EQ(belt["required"], nlohmann::json::array({"id", "name", "province", "city", "specialty",
                                                     "created_at", "updated_at"}));
  // A body with no required field has no "required" (an empty one is invalid in OpenAPI 3.0),
  // unless the idempotency key is.
  static constexpr std::array<FieldSpec, 1> kOptional = {
      FieldSpec{"note", FieldType::kString, false, true, false, 1, 10, "", "a note"}};
  const ResourceSpec optional_only{"notes",          "note",   "Notes", ResourceKind::kOrder,
                                   OwnerRule::kNone, kOptional};
  EXPECT_FALSE(
      nlohmann::json::parse(BodyJsonSchema(optional_only, BodyMode::kCreate)).contains("required"));
  EXPECT_EQ(nlohmann::json::parse(
                BodyJsonSchema(optional_only, BodyMode::kCreate, KeyRule::kRequired))["required"],
            nlohmann::json::array({"idempotency_key"}));
}

}  // namespace
}  // namespace thunder::catalog
