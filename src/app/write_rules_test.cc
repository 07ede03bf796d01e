// The rules every write follows, over HTTP: the idempotency key as a header or in the
// body, the policy before body validation, text without control characters, and
// rendered rows without empty placeholders for fields that were never set.
#include "app/test_platform.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class WriteRulesTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    belt_ = MustPost("/v1/belts", {{"name", "Datang socks"},
                                   {"province", "Zhejiang"},
                                   {"city", "Zhuji"},
                                   {"specialty", "socks"}});
    factory_ =
        MustPost("/v1/factories", {{"name", "Datang Mill"}, {"belt_id", belt_}, {"city", "Zhuji"}});
    product_ = MustPost("/v1/products",
                        {{"name", "Wool socks"}, {"factory_id", factory_}, {"category", "socks"}});
    sku_ = MustPost(
        "/v1/skus",
        {{"product_id", product_}, {"code", "WS-1"}, {"list_price", {{"amount_fen", 1990}}}});
    drop_ = MustPost("/v1/drops", DropBody());
  }

  json DropBody() const {
    return {{"sku_id", sku_},
            {"stock", 10},
            {"price", {{"amount_fen", 990}}},
            {"starts_at", "2020-01-01T00:00:00Z"},
            {"ends_at", "2099-01-01T00:00:00Z"},
            {"per_buyer_limit", 5}};
  }

  // A POST with an Idempotency-Key header: TestClient sends no custom headers.
  http::ClientResponse PostWithKey(const std::string& target, const std::string& body,
                                   const std::string& key) {
    const std::string bytes =
        "POST " + target + " HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + admin_ +
        "\r\nContent-Type: application/json\r\nIdempotency-Key: " + key +
        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return client_->SendRaw(bytes);
  }

  static std::string CodeAt(const http::ClientResponse& r) {
    const auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "none";
    return j["error"]["code"].get<std::string>() + "@" + j["error"].value("field", "");
  }

  std::string belt_, factory_, product_, sku_, drop_;
};

TEST_F(WriteRulesTest, IdempotencyKeyHeaderActsLikeTheBodyField) {
  // A catalog create retried with the header returns the first answer.
  const std::string belt = json({{"name", "Anji chairs"},
                                 {"province", "Zhejiang"},
                                 {"city", "Anji"},
                                 {"specialty", "chairs"}})
                               .dump();
  auto first = PostWithKey("/v1/belts", belt, "belt-1");
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = PostWithKey("/v1/belts", belt, "belt-1");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, first.body);

  // A drop likewise.
  auto drop = PostWithKey("/v1/drops", DropBody().dump(), "drop-1");
  ASSERT_EQ(drop.status, 201) << drop.body;
  auto drop_again = PostWithKey("/v1/drops", DropBody().dump(), "drop-1");
  EXPECT_EQ(drop_again.status, 200) << drop_again.body;
  EXPECT_EQ(drop_again.body, drop.body);

  // An order takes its required key from the header alone.
  const std::string order = json({{"buyer", "buyer-1"}}).dump();
  auto reserved = PostWithKey("/v1/drops/" + drop_ + "/orders", order, "order-1");
  ASSERT_EQ(reserved.status, 201) << reserved.body;
  auto reserved_again = PostWithKey("/v1/drops/" + drop_ + "/orders", order, "order-1");
  EXPECT_EQ(reserved_again.status, 200) << reserved_again.body;
  EXPECT_EQ(json::parse(reserved_again.body)["id"], json::parse(reserved.body)["id"]);

  // Header and body may both be sent when they agree...
  const std::string order_with_key =
      json({{"buyer", "buyer-1"}, {"idempotency_key", "order-1"}}).dump();
  EXPECT_EQ(PostWithKey("/v1/drops/" + drop_ + "/orders", order_with_key, "order-1").status, 200);
  // ...and are refused when they do not, before anything happens.
  const std::string other_key = json({{"buyer", "buyer-1"}, {"idempotency_key", "order-2"}}).dump();
  auto mismatch = PostWithKey("/v1/drops/" + drop_ + "/orders", other_key, "order-3");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(CodeAt(mismatch), "idempotency_key_mismatch@idempotency_key");
  json belt_with_key = json::parse(belt);
  belt_with_key["idempotency_key"] = "x";
  auto belt_mismatch = PostWithKey("/v1/belts", belt_with_key.dump(), "y");
  EXPECT_EQ(CodeAt(belt_mismatch), "idempotency_key_mismatch@idempotency_key");
  // The header is checked like the body field.
  EXPECT_EQ(CodeAt(PostWithKey("/v1/drops/" + drop_ + "/orders", order, std::string(129, 'k'))),
            "too_long@idempotency_key");
  auto d = json::parse(client_->Get("/v1/drops/" + drop_, admin_).body);
  EXPECT_EQ(d["reserved"], 1);
}

TEST_F(WriteRulesTest, CallersWithoutAccessGet403EvenForBadBodies) {
  const std::string trainer = TokenFor(Role::kTrainer, "");
  const std::string consumer = TokenFor(Role::kConsumer, "buyer-9");
  const std::string factory = TokenFor(Role::kFactory, factory_);
  struct Case {
    std::string token, method, target, body;
  };
  const std::vector<Case> cases = {
      {trainer, "POST", "/v1/belts", "{"},
      {trainer, "POST", "/v1/belts", R"({"name":7})"},
      {consumer, "POST", "/v1/products", R"({"unknown":1})"},
      {factory, "POST", "/v1/belts", "[]"},
      {factory, "PATCH", "/v1/belts/" + belt_, R"({"name":""})"},
      {trainer, "PATCH", "/v1/products/" + product_, "not json"},
      {trainer, "POST", "/v1/drops", "{}"},
      {factory, "POST", "/v1/drops", R"({"stock":-1})"},
      {factory, "POST", "/v1/drops/" + drop_ + "/orders", "{}"},
      {trainer, "POST", "/v1/drops/" + drop_ + "/orders", R"({"quantity":"x"})"},
  };
  for (const Case& c : cases) {
    auto r = client_->Request(c.method, c.target, c.body, c.token);
    EXPECT_EQ(r.status, 403) << c.method << " " << c.target << " " << c.body << " -> " << r.body;
  }
  // A caller who may write still learns what is wrong with its body.
  auto bad = client_->Request("POST", "/v1/products", R"({"name":7})", factory);
  EXPECT_EQ(bad.status, 400) << bad.body;
}

TEST_F(WriteRulesTest, TextWithControlCharactersOrOnlyBlanksIsRefused) {
  const std::string rest = R"(,"province":"Zhejiang","city":"Zhuji","specialty":"socks"})";
  auto nul = client_->Post("/v1/belts", R"({"name":"a\u0000b")" + rest, admin_);
  EXPECT_EQ(nul.status, 400);
  EXPECT_EQ(CodeAt(nul), "control_character@name");
  auto blank = client_->Post("/v1/belts", R"({"name":" \u3000 ")" + rest, admin_);
  EXPECT_EQ(CodeAt(blank), "blank@name");
  auto patch = client_->Patch("/v1/products/" + product_, R"({"name":"x\ny"})", admin_);
  EXPECT_EQ(CodeAt(patch), "control_character@name");
  // The engine's strings go through the same checks.
  auto buyer = client_->Post("/v1/drops/" + drop_ + "/orders",
                             R"({"buyer":"b\u0001","idempotency_key":"k1"})", admin_);
  EXPECT_EQ(CodeAt(buyer), "control_character@buyer");
  auto blank_buyer = client_->Post("/v1/drops/" + drop_ + "/orders",
                                   R"({"buyer":"  ","idempotency_key":"k2"})", admin_);
  EXPECT_EQ(CodeAt(blank_buyer), "blank@buyer");
  auto key = client_->Post("/v1/drops/" + drop_ + "/orders",
                           R"({"buyer":"b1","idempotency_key":"k\t3"})", admin_);
  EXPECT_EQ(CodeAt(key), "control_character@idempotency_key");
  auto d = json::parse(client_->Get("/v1/drops/" + drop_, admin_).body);
  EXPECT_EQ(d["reserved"], 0);
}

TEST_F(WriteRulesTest, OptionalTextNeverSetIsLeftOutOfAnswers) {
  // The schema says minLength 1, so an unset description is absent, not "".
  auto belt = json::parse(client_->Get("/v1/belts/" + belt_, admin_).body);
  EXPECT_FALSE(belt.contains("description")) << belt.dump();
  EXPECT_EQ(belt["name"], "Datang socks");
  auto list = json::parse(client_->Get("/v1/factories", admin_).body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_FALSE(list["items"][0].contains("contact")) << list.dump();
  // Once set, it is there.
  auto patched = client_->Patch("/v1/belts/" + belt_, R"({"description":"socks"})", admin_);
  EXPECT_EQ(json::parse(patched.body)["description"], "socks");
}

}  // namespace
}  // namespace thunder::app
