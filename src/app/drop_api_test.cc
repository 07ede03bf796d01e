// The flash-sale API over HTTP: the purchase flow, idempotent retries, refusals that change
// nothing, buyers kept apart, and orders that survive a restart.
#include "app/test_platform.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class DropApiTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    const std::string belt = MustPost("/v1/belts", {{"name", "Zhuji Datang socks"},
                                                    {"province", "Zhejiang"},
                                                    {"city", "Zhuji"},
                                                    {"specialty", "socks"}});
    const std::string factory =
        MustPost("/v1/factories", {{"name", "Hongyun"}, {"belt_id", belt}, {"city", "Zhuji"}});
    const std::string product = MustPost(
        "/v1/products", {{"name", "Crew socks"}, {"factory_id", factory}, {"category", "socks"}});
    sku_ = MustPost(
        "/v1/skus",
        {{"product_id", product}, {"code", "CS-W-M"}, {"list_price", {{"amount_fen", 990}}}});
    base_ = MustPost("/v1/bases", {{"name", "Datang Live"}, {"belt_id", belt}, {"city", "Zhuji"}});
    alice_ = TokenFor(Role::kConsumer, "alice");
    bob_ = TokenFor(Role::kConsumer, "bob");
    host_ = TokenFor(Role::kHost, base_);
    drop_ = CreateDrop(3, 2, host_);
  }

  std::string CreateDrop(int stock, int limit, const std::string& token) {
    auto r = client_->Post("/v1/drops",
                           json({{"sku_id", sku_},
                                 {"stock", stock},
                                 {"price", {{"amount_fen", 590}}},
                                 {"starts_at", "2020-01-01T00:00:00Z"},
                                 {"ends_at", "2099-01-01T00:00:00Z"},
                                 {"per_buyer_limit", limit},
                                 {"pay_window_seconds", 600}})
                               .dump(),
                           token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : "";
  }
  http::ClientResponse Buy(const std::string& token, int qty, const std::string& key) {
    return client_->Post("/v1/drops/" + drop_ + "/orders",
                         json({{"quantity", qty}, {"idempotency_key", key}}).dump(), token);
  }
  json Drop() { return json::parse(client_->Get("/v1/drops/" + drop_, alice_).body); }

  std::string sku_, base_, alice_, bob_, host_, drop_;
};

TEST_F(DropApiTest, PurchaseFlowKeepsStockBalanced) {
  auto first = Buy(alice_, 2, "alice-1");
  ASSERT_EQ(first.status, 201) << first.body;
  auto order = json::parse(first.body);
  EXPECT_EQ(order["buyer"], "alice");
  EXPECT_EQ(order["state"], "reserved");
  EXPECT_EQ(order["amount"]["amount_fen"], 1180);
  EXPECT_FALSE(order["pay_by"].get<std::string>().empty());

  // A retry returns the original order, and creates nothing.
  auto retry = Buy(alice_, 2, "alice-1");
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body, first.body);

  EXPECT_EQ(json::parse(Buy(alice_, 1, "alice-2").body)["error"]["code"], "limit_exceeded");
  auto sold_out = Buy(bob_, 2, "bob-1");
  EXPECT_EQ(sold_out.status, 409);
  EXPECT_EQ(json::parse(sold_out.body)["error"]["code"], "sold_out");
  ASSERT_EQ(Buy(bob_, 1, "bob-2").status, 201);
  auto d = Drop();
  EXPECT_EQ(d["remaining"], 0);
  EXPECT_EQ(d["reserved"], 3);

  const std::string id = order["id"];
  auto paid = client_->Post("/v1/orders/" + id + "/pay", "", alice_);
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(json::parse(paid.body)["state"], "paid");
  EXPECT_EQ(client_->Post("/v1/orders/" + id + "/pay", "{}", alice_).status, 200);  // retried
  EXPECT_EQ(
      json::parse(client_->Post("/v1/orders/" + id + "/cancel", "", alice_).body)["error"]["code"],
      "invalid_state");
  d = Drop();
  EXPECT_EQ(d["sold"], 2);
  EXPECT_EQ(d["reserved"], 1);
  auto refunded = client_->Post("/v1/orders/" + id + "/refund", "", alice_);
  EXPECT_EQ(json::parse(refunded.body)["state"], "refunded");
  d = Drop();
  EXPECT_EQ(d["remaining"], 2);
  EXPECT_EQ(d["remaining"].get<int>() + d["reserved"].get<int>() + d["sold"].get<int>(),
            d["total"]);

  auto mine = json::parse(client_->Get("/v1/buyers/alice/orders", alice_).body);
  ASSERT_EQ(mine["items"].size(), 1u);
  EXPECT_EQ(mine["items"][0]["state"], "refunded");
}

TEST_F(DropApiTest, BuyersCannotReachEachOthersOrders) {
  auto r = Buy(alice_, 1, "a");
  ASSERT_EQ(r.status, 201);
  const std::string id = json::parse(r.body)["id"];
  const std::string factory = TokenFor(Role::kFactory, "1");
  for (const char* path : {"/pay", "/cancel", "/refund"}) {
    EXPECT_EQ(client_->Post("/v1/orders/" + id + path, "", bob_).status, 403) << path;
    EXPECT_EQ(client_->Post("/v1/orders/" + id + path, "", host_).status, 403) << path;
  }
  EXPECT_EQ(client_->Get("/v1/orders/" + id, bob_).status, 403);
  EXPECT_EQ(client_->Get("/v1/orders/" + id, factory).status, 403);
  EXPECT_EQ(client_->Get("/v1/buyers/alice/orders", bob_).status, 403);
  // Bob cannot place an order in Alice's name; hosts and factories do not buy.
  EXPECT_EQ(client_
                ->Post("/v1/drops/" + drop_ + "/orders",
                       json({{"buyer", "alice"}, {"idempotency_key", "x"}}).dump(), bob_)
                .status,
            403);
  EXPECT_EQ(
      client_
          ->Post("/v1/drops/" + drop_ + "/orders", json({{"idempotency_key", "x"}}).dump(), host_)
          .status,
      400);
  EXPECT_EQ(client_
                ->Post("/v1/drops/" + drop_ + "/orders",
                       json({{"buyer", "someone"}, {"idempotency_key", "x"}}).dump(), factory)
                .status,
            403);
  // Consumers and factories do not create drops.
  EXPECT_EQ(client_->Post("/v1/drops", json({{"sku_id", sku_}}).dump(), alice_).status, 400);
  auto forbidden = client_->Post("/v1/drops",
                                 json({{"sku_id", sku_},
                                       {"stock", 1},
                                       {"price", {{"amount_fen", 1}}},
                                       {"starts_at", "2020-01-01T00:00:00Z"},
                                       {"ends_at", "2099-01-01T00:00:00Z"}})
                                     .dump(),
                                 factory);
  EXPECT_EQ(forbidden.status, 403);
  // Nothing moved.
  EXPECT_EQ(json::parse(client_->Get("/v1/orders/" + id, alice_).body)["state"], "reserved");
  EXPECT_EQ(Drop()["reserved"], 1);
}

TEST_F(DropApiTest, BadInputIs4xxAndChangesNothing) {
  const json before = Drop();
  struct Case {
    std::string method, target, body;
    int status;
    std::string code;
  };
  const std::string orders = "/v1/drops/" + drop_ + "/orders";
  const std::vector<Case> cases = {
      {"POST", orders, R"({"quantity":1})", 400, "missing_field"},
      {"POST", orders, R"({"quantity":0,"idempotency_key":"k"})", 400, "out_of_range"},
      {"POST", orders, R"({"quantity":"2","idempotency_key":"k"})", 400, "wrong_type"},
      {"POST", orders, R"({"quantity":1,"idempotency_key":"k","coupon":"x"})", 400,
       "unknown_field"},
      {"POST", orders, "{\"idempotency_key\":\"\xff\"}", 400, "invalid_utf8"},
      {"POST", orders, "not json", 400, "invalid_json"},
      {"POST", "/v1/drops/99999/orders", R"({"buyer":"alice","idempotency_key":"k"})", 404,
       "drop_not_found"},
      {"POST", "/v1/drops/abc/orders", R"({"idempotency_key":"k"})", 404, "drop_not_found"},
      {"POST", "/v1/orders/99999/pay", "", 404, "order_not_found"},
      {"POST", "/v1/orders/1/pay", R"({"amount":5})", 400, "unknown_field"},
      {"GET", "/v1/drops/424242", "", 404, "drop_not_found"},
      {"POST", "/v1/drops",
       R"({"sku_id":"999","stock":1,"price":{"amount_fen":1},"starts_at":"2020-01-01T00:00:00Z","ends_at":"2099-01-01T00:00:00Z"})",
       400, "unknown_reference"},
      {"POST", "/v1/drops",
       R"({"sku_id":")" + sku_ +
           R"(","stock":1,"price":{"amount_fen":1},"starts_at":"2020-01-01T00:00:00Z","ends_at":"2019-01-01T00:00:00Z"})",
       400, "out_of_range"},
      {"POST", "/v1/drops",
       R"({"sku_id":")" + sku_ +
           R"(","stock":1,"price":{"amount_fen":1},"starts_at":"tomorrow","ends_at":"2099-01-01T00:00:00Z"})",
       400, "wrong_type"},
      {"POST", "/v1/drops",
       R"({"sku_id":")" + sku_ +
           R"(","stock":-5,"price":{"amount_fen":1},"starts_at":"2020-01-01T00:00:00Z","ends_at":"2099-01-01T00:00:00Z"})",
       400, "out_of_range"},
      {"GET", "/v1/buyers/alice/orders?limit=0", "", 400, "out_of_range"},
  };
  for (const Case& c : cases) {
    auto r = client_->Request(c.method, c.target, c.body, admin_);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " -> "
                                  << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], c.code) << c.body;
  }
  EXPECT_EQ(Drop(), before);
  EXPECT_EQ(client_->Post(orders, R"({"idempotency_key":"k"})", "").status, 401);
}

TEST_F(DropApiTest, RetriedDropCreationReturnsTheFirstDrop) {
  const json body = {{"sku_id", sku_},
                     {"stock", 10},
                     {"price", {{"amount_fen", 100}}},
                     {"starts_at", "2020-01-01T00:00:00Z"},
                     {"ends_at", "2099-01-01T00:00:00Z"},
                     {"idempotency_key", "launch-1"}};
  auto first = client_->Post("/v1/drops", body.dump(), host_);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = client_->Post("/v1/drops", body.dump(), host_);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(again.body)["id"], json::parse(first.body)["id"]);
  json changed = body;
  changed["stock"] = 11;
  auto reused = client_->Post("/v1/drops", changed.dump(), host_);
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(json::parse(reused.body)["error"]["code"], "idempotency_key_reused");
}

TEST_F(DropApiTest, OrdersAndRetriesSurviveARestart) {
  auto first = Buy(alice_, 1, "before-restart");
  ASSERT_EQ(first.status, 201);
  RestartPlatform();
  auto retry = Buy(alice_, 1, "before-restart");
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(Drop()["reserved"], 1);
}

}  // namespace
}  // namespace thunder::app
