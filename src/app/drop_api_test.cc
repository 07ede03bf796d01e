// The flash-sale API over HTTP: the purchase flow, idempotent retries, refusals that change
// nothing, buyers kept apart, and orders that survive a restart.
#include "app/test_platform.h"
#include "engine/types.h"
#include "live/public_ids.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class DropApiTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    const SkuChain socks =
        MustCreateSkuChain("Zhuji", "socks", "Hongyun", "Crew socks", "CS-W-M", 990);
    sku_ = socks.sku;
    base_ = MustPost("/v1/bases",
                     {{"name", "Datang Live"}, {"belt_id", socks.belt}, {"city", "Zhuji"}});
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
  // The public id this data directory gives an internal id: for ids that exist nowhere.
  std::string PublicId(live::PublicKind kind, uint64_t internal_id) {
    auto ids = live::LoadOrCreatePublicIds(Env::Default(), dir_.string());
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? ids->Encode(kind, internal_id) : "";
  }
  std::string MissingOrder() { return PublicId(live::PublicKind::kOrder, engine::MakeId(9999, 0)); }

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
  // Another buyer's order is answered exactly as one that does not exist: same status,
  // same body but for the id asked about, so that nobody learns which ids are taken.
  const std::string missing = MissingOrder();
  auto as_missing = [&](const http::ClientResponse& other, const http::ClientResponse& none) {
    EXPECT_EQ(other.status, 404) << other.body;
    EXPECT_EQ(none.status, 404) << none.body;
    std::string body = other.body;
    const size_t at = body.find(id);
    EXPECT_NE(at, std::string::npos) << body;
    if (at != std::string::npos) body.replace(at, id.size(), missing);
    EXPECT_EQ(body, none.body);
    EXPECT_EQ(json::parse(other.body)["error"]["code"], "order_not_found");
    EXPECT_EQ(other.body.find("alice"), std::string::npos) << other.body;
  };
  for (const char* path : {"/pay", "/cancel", "/refund"}) {
    for (const std::string& token : {bob_, host_, factory}) {
      as_missing(client_->Post("/v1/orders/" + id + path, "", token),
                 client_->Post("/v1/orders/" + missing + path, "", token));
      // A bad body does not tell them apart either.
      as_missing(client_->Post("/v1/orders/" + id + path, "{", token),
                 client_->Post("/v1/orders/" + missing + path, "{", token));
    }
  }
  for (const std::string& token : {bob_, host_, factory}) {
    as_missing(client_->Get("/v1/orders/" + id, token),
               client_->Get("/v1/orders/" + missing, token));
  }
  // Another buyer's list is refused whether or not that buyer has orders, and shows none.
  auto list = client_->Get("/v1/buyers/alice/orders", bob_);
  EXPECT_EQ(list.status, 403);
  EXPECT_FALSE(json::parse(list.body).contains("items")) << list.body;
  EXPECT_EQ(client_->Get("/v1/buyers/nobody/orders", bob_).status, 403);
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
      403);
  EXPECT_EQ(client_
                ->Post("/v1/drops/" + drop_ + "/orders",
                       json({{"buyer", "someone"}, {"idempotency_key", "x"}}).dump(), factory)
                .status,
            403);
  // Consumers and factories do not create drops, whatever their bodies hold.
  EXPECT_EQ(client_->Post("/v1/drops", json({{"sku_id", sku_}}).dump(), alice_).status, 403);
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
      {"POST", "/v1/orders/" + MissingOrder() + "/pay", "", 404, "order_not_found"},
      // The order is looked up before the body: a missing one is 404 whatever the body.
      {"POST", "/v1/orders/" + MissingOrder() + "/pay", R"({"amount":5})", 404, "order_not_found"},
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
  // The caller's own order with a bad body: 400, and it stays reserved.
  auto mine = Buy(alice_, 1, "bad-body");
  ASSERT_EQ(mine.status, 201) << mine.body;
  const std::string order = json::parse(mine.body)["id"];
  auto bad = client_->Post("/v1/orders/" + order + "/pay", R"({"amount":5})", alice_);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(json::parse(bad.body)["error"]["code"], "unknown_field");
  EXPECT_EQ(json::parse(client_->Get("/v1/orders/" + order, alice_).body)["state"], "reserved");
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

TEST_F(DropApiTest, PublicIdsAreOpaqueAndDistinctPerKind) {
  auto bought = Buy(alice_, 1, "opaque");
  ASSERT_EQ(bought.status, 201) << bought.body;
  const json order = json::parse(bought.body);
  const std::string order_id = order["id"];
  ASSERT_EQ(drop_.substr(0, 4), "drp_");
  ASSERT_EQ(order_id.substr(0, 4), "ord_");
  EXPECT_EQ(order["drop_id"], drop_);
  // Neighbouring drops are not neighbouring ids, and no id is the engine's number.
  const std::string next_drop = CreateDrop(1, 1, host_);
  ASSERT_EQ(next_drop.size(), drop_.size());
  size_t same_chars = 0;
  for (size_t i = 4; i < drop_.size(); ++i) same_chars += drop_[i] == next_drop[i];
  EXPECT_LT(same_chars, 8u) << drop_ << " " << next_drop;
  for (const std::string internal : {"1", "256", "257", "512"}) {
    EXPECT_EQ(client_->Get("/v1/drops/" + internal, admin_).status, 404) << internal;
    EXPECT_EQ(client_->Get("/v1/orders/" + internal, admin_).status, 404) << internal;
  }
  // A drop id is no order id and the other way round, whatever prefix it is given.
  const std::string order_as_drop = "drp_" + order_id.substr(4);
  const std::string drop_as_order = "ord_" + drop_.substr(4);
  for (const std::string& wrong : {order_id, order_as_drop}) {
    auto r = client_->Get("/v1/drops/" + wrong, admin_);
    EXPECT_EQ(r.status, 404) << wrong;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "drop_not_found");
    EXPECT_EQ(client_
                  ->Post("/v1/drops/" + wrong + "/orders", json({{"idempotency_key", "w"}}).dump(),
                         alice_)
                  .status,
              404);
  }
  for (const std::string& wrong : {drop_, drop_as_order, std::string("ord_!!!!!!!!!!!!!")}) {
    auto r = client_->Get("/v1/orders/" + wrong, admin_);
    EXPECT_EQ(r.status, 404) << wrong;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "order_not_found");
    EXPECT_EQ(client_->Post("/v1/orders/" + wrong + "/pay", "", admin_).status, 404);
  }
  // The buyer's list and its cursor speak the same ids.
  ASSERT_EQ(Buy(alice_, 1, "opaque-2").status, 201);
  auto page = json::parse(client_->Get("/v1/buyers/alice/orders?limit=1", alice_).body);
  ASSERT_EQ(page["items"].size(), 1u);
  const std::string cursor = page["next_cursor"];
  EXPECT_EQ(cursor, page["items"][0]["id"]);
  auto rest = json::parse(client_->Get("/v1/buyers/alice/orders?cursor=" + cursor, alice_).body);
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_EQ(rest["items"][0]["id"], order_id);
  EXPECT_EQ(client_->Get("/v1/buyers/alice/orders?cursor=1", alice_).status, 400);
  // The ids survive a restart: the key lives in the data directory.
  RestartPlatform();
  auto again = client_->Get("/v1/orders/" + order_id, alice_);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["drop_id"], drop_);
}

TEST_F(DropApiTest, HostsCreateDropsOnlyOfTheirOwnBelt) {
  const SkuChain leather =
      MustCreateSkuChain("Haining", "leather", "Xucun", "Jacket", "J-BLK-M", 99900);
  const std::string& other_belt = leather.belt;
  const std::string& jacket_sku = leather.sku;
  const std::string other_base = MustPost(
      "/v1/bases", {{"name", "Haining Live"}, {"belt_id", other_belt}, {"city", "Haining"}});
  auto drop_of = [&](const std::string& sku, const std::string& token) {
    return client_->Post("/v1/drops",
                         json({{"sku_id", sku},
                               {"stock", 5},
                               {"price", {{"amount_fen", 100}}},
                               {"starts_at", "2020-01-01T00:00:00Z"},
                               {"ends_at", "2099-01-01T00:00:00Z"}})
                             .dump(),
                         token);
  };
  // The Datang host sells Datang socks, not Haining jackets; the Haining host the reverse.
  EXPECT_EQ(drop_of(sku_, host_).status, 201);
  auto refused = drop_of(jacket_sku, host_);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["code"], "forbidden");
  const std::string haining_host = TokenFor(Role::kHost, other_base);
  EXPECT_EQ(drop_of(jacket_sku, haining_host).status, 201);
  EXPECT_EQ(drop_of(sku_, haining_host).status, 403);
  // The admin sells anything.
  EXPECT_EQ(drop_of(jacket_sku, admin_).status, 201);
}

// Needs the engine to scope drop idempotency keys by CreateDrop::creator (the route fills
// it in); until the partition does, the second host gets the first host's drop back.
TEST_F(DropApiTest, DropKeysAreScopedToTheCaller) {
  const std::string belt = json::parse(client_->Get("/v1/bases/" + base_, admin_).body)["belt_id"];
  const std::string second_base =
      MustPost("/v1/bases", {{"name", "Datang Live 2"}, {"belt_id", belt}, {"city", "Zhuji"}});
  const std::string second_host = TokenFor(Role::kHost, second_base);
  const json body = {{"sku_id", sku_},
                     {"stock", 10},
                     {"price", {{"amount_fen", 100}}},
                     {"starts_at", "2020-01-01T00:00:00Z"},
                     {"ends_at", "2099-01-01T00:00:00Z"},
                     {"idempotency_key", "launch-1"}};
  auto mine = client_->Post("/v1/drops", body.dump(), host_);
  ASSERT_EQ(mine.status, 201) << mine.body;
  auto theirs = client_->Post("/v1/drops", body.dump(), second_host);
  EXPECT_EQ(theirs.status, 201) << theirs.body;
  EXPECT_NE(json::parse(theirs.body)["id"], json::parse(mine.body)["id"]);
  auto admins = client_->Post("/v1/drops", body.dump(), admin_);
  EXPECT_EQ(admins.status, 201) << admins.body;
  EXPECT_NE(json::parse(admins.body)["id"], json::parse(mine.body)["id"]);
  // Each caller's own retry still finds its own drop.
  auto retry = client_->Post("/v1/drops", body.dump(), second_host);
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(json::parse(retry.body)["id"], json::parse(theirs.body)["id"]);
}

}  // namespace
}  // namespace thunder::app
