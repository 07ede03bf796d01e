// API tests over HTTP against an in-process server: every route, every bad-input shape,
// and every cross-tenant case answer as DESIGN.md says and change nothing.
#include <map>
#include <set>

#include "app/test_platform.h"
#include "catalog/schema.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class ApiTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    belt_ = MustPost("/v1/belts", {{"name", "Haining leather"},
                                   {"province", "Zhejiang"},
                                   {"city", "Haining"},
                                   {"specialty", "leather"}});
    base_ = MustPost("/v1/bases", {{"name", "Haining Leather City Live Base"},
                                   {"belt_id", belt_},
                                   {"city", "Haining"},
                                   {"studios", 12}});
    other_base_ =
        MustPost("/v1/bases", {{"name", "Second Base"}, {"belt_id", belt_}, {"city", "Haining"}});
    host_ = MustPost("/v1/hosts", {{"name", "Sun Jia"}, {"base_id", base_}, {"handle", "sunjia"}});
    factory_ = MustPost("/v1/factories", {{"name", "Fine Hide Garments"},
                                          {"belt_id", belt_},
                                          {"city", "Haining"},
                                          {"daily_capacity", {{"leather", 3000}}}});
    other_factory_ = MustPost("/v1/factories",
                              {{"name", "Xucun Works"}, {"belt_id", belt_}, {"city", "Haining"}});
    product_ =
        MustPost("/v1/products",
                 {{"name", "Biker jacket"}, {"factory_id", factory_}, {"category", "leather"}});
    other_product_ =
        MustPost("/v1/products",
                 {{"name", "Belt"}, {"factory_id", other_factory_}, {"category", "leather"}});
    sku_ = MustPost("/v1/skus", {{"product_id", product_},
                                 {"code", "BJ-BLK-M"},
                                 {"list_price", {{"amount_fen", 129900}}},
                                 {"attributes", {{"colour", "black"}, {"size", "M"}}}});
    other_sku_ = MustPost("/v1/skus", {{"product_id", other_product_},
                                       {"code", "BT-105"},
                                       {"list_price", {{"amount_fen", 8900}}}});
    drop_ = MustPost("/v1/drops", {{"sku_id", sku_},
                                   {"stock", 100},
                                   {"price", {{"amount_fen", 99900}}},
                                   {"starts_at", "2020-01-01T00:00:00Z"},
                                   {"ends_at", "2099-01-01T00:00:00+08:00"},
                                   {"per_buyer_limit", 5}});
  }

  // A fingerprint of every catalog table, to show that a refused request changed nothing.
  std::string Snapshot() {
    std::string out;
    for (const auto& spec : catalog::AllResources()) {
      auto r = platform_->store().Query("SELECT * FROM " + std::string(spec.name) + " ORDER BY id");
      for (const auto& row : r->rows) {
        for (const auto& v : row) out += AsText(v) + "|";
        out += "\n";
      }
    }
    return out;
  }

  std::string drop_;
  std::string belt_, base_, other_base_, host_, factory_, other_factory_, product_, other_product_,
      sku_, other_sku_;
};

TEST_F(ApiTest, EveryDocumentedRouteAnswers) {
  // The document the server serves is the one it routes by: call every operation in it.
  auto doc = json::parse(client_->Get("/openapi.json").body);
  // Orders for the order routes: one to pay, one to cancel, one paid to refund.
  auto order = [&](const std::string& key) {
    auto r = client_->Post("/v1/drops/" + drop_ + "/orders",
                           json({{"buyer", "buyer-1"}, {"idempotency_key", key}}).dump(), admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : "";
  };
  const std::string to_pay = order("a"), to_cancel = order("b"), to_refund = order("c");
  ASSERT_EQ(client_->Post("/v1/orders/" + to_refund + "/pay", "", admin_).status, 200);
  const std::map<std::string, std::string> ids = {
      {"belts", belt_}, {"bases", base_},       {"factories", factory_},
      {"hosts", host_}, {"products", product_}, {"skus", sku_},
      {"drops", drop_}, {"orders", to_pay},     {"buyers", "buyer-1"}};
  const std::map<std::string, std::string> ids_by_path = {{"/v1/orders/{id}/cancel", to_cancel},
                                                          {"/v1/orders/{id}/refund", to_refund}};
  const std::map<std::string, json> creates = {
      {"belts",
       {{"name", "Anji office chairs"},
        {"province", "Zhejiang"},
        {"city", "Anji"},
        {"specialty", "chairs"}}},
      {"bases", {{"name", "Another base"}, {"belt_id", belt_}, {"city", "Haining"}}},
      {"factories", {{"name", "New factory"}, {"belt_id", belt_}, {"city", "Haining"}}},
      {"hosts", {{"name", "Qian Hao"}, {"base_id", base_}, {"handle", "qianhao"}}},
      {"products", {{"name", "Gloves"}, {"factory_id", factory_}, {"category", "leather"}}},
      {"skus",
       {{"product_id", product_}, {"code", "BJ-BRN-L"}, {"list_price", {{"amount_fen", 119900}}}}},
      {"drops",
       {{"sku_id", sku_},
        {"stock", 10},
        {"price", {{"amount_fen", 100}}},
        {"starts_at", "2020-01-01T00:00:00Z"},
        {"ends_at", "2099-01-01T00:00:00Z"}}}};
  const std::map<std::string, json> patches = {
      {"belts", {{"description", "leather city"}}},
      {"bases", {{"studios", 14}}},
      {"factories", {{"contact", "Ms Sun"}}},
      {"hosts", {{"followers", 120000}}},
      {"products", {{"description", "soft"}}},
      {"skus", {{"list_price", {{"amount_fen", 109900}}}}}};
  int operations = 0;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      ++operations;
      std::string resource;
      if (path.starts_with("/v1/")) resource = path.substr(4, path.find('/', 4) - 4);
      std::string target = path;
      if (auto pos = target.find("{id}"); pos != std::string::npos) {
        target.replace(pos, 4, ids_by_path.count(path) ? ids_by_path.at(path) : ids.at(resource));
      }
      std::string body;
      if (path == "/v1/drops/{id}/orders") {
        body = json({{"buyer", "buyer-2"}, {"idempotency_key", "every-route"}}).dump();
      } else if (method == "post" && creates.count(resource) &&
                 path.find("{id}") == std::string::npos) {
        body = creates.at(resource).dump();
      } else if (method == "patch") {
        body = patches.at(resource).dump();
      }
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      auto r = client_->Request(upper, target, body, admin_);
      // A retryable create documents 201 and the 200 of a repeat: this is the first call.
      const int want =
          std::stoi(op["responses"].contains("201") ? "201" : op["responses"].begin().key());
      EXPECT_EQ(r.status, want) << upper << " " << target << ": " << r.body;
    }
  }
  // 6 catalog resources x 4 operations, 8 drop and order routes, and /, /healthz,
  // /metrics and /openapi.json.
  EXPECT_EQ(operations, 36);
  EXPECT_EQ(static_cast<size_t>(operations), platform_->router().routes().size());
}

TEST_F(ApiTest, ListsPaginateWithCursors) {
  for (int i = 0; i < 7; ++i) {
    MustPost("/v1/hosts", {{"name", "Host " + std::to_string(i)},
                           {"base_id", other_base_},
                           {"handle", "h" + std::to_string(i)}});
  }
  std::vector<std::string> handles;
  std::string target = "/v1/hosts?base_id=" + other_base_ + "&limit=3";
  for (int page = 0; page < 5; ++page) {
    auto r = client_->Get(target, admin_);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json::parse(r.body);
    EXPECT_LE(j["items"].size(), 3u);
    for (auto& h : j["items"]) handles.push_back(h["handle"]);
    if (j["next_cursor"].is_null()) break;
    target = "/v1/hosts?base_id=" + other_base_ +
             "&limit=3&cursor=" + j["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(handles, (std::vector<std::string>{"h0", "h1", "h2", "h3", "h4", "h5", "h6"}));
}

TEST_F(ApiTest, CreatedEntitiesReadBackWithMoneyInFen) {
  auto r = client_->Get("/v1/skus/" + sku_, admin_);
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["id"], sku_);
  EXPECT_EQ(j["product_id"], product_);
  EXPECT_EQ(j["list_price"], json({{"amount_fen", 129900}}));
  EXPECT_EQ(j["attributes"], json({{"colour", "black"}, {"size", "M"}}));
}

TEST_F(ApiTest, BadInputOfAnyShapeIs4xxAndChangesNothing) {
  const std::string before = Snapshot();
  struct Case {
    std::string method, target, body;
    int status;
    std::string code;
  };
  const std::string sku_path = "/v1/skus/" + sku_;
  const std::vector<Case> cases = {
      {"POST", "/v1/belts", "{\"name\": ", 400, "invalid_json"},
      {"POST", "/v1/belts", "", 400, "invalid_json"},
      {"POST", "/v1/belts", "[]", 400, "not_an_object"},
      {"POST", "/v1/belts",
       R"({"name":"x","province":"Zhejiang","city":"c","specialty":"s","mayor":"y"})", 400,
       "unknown_field"},
      {"POST", "/v1/belts", R"({"name":7,"province":"Zhejiang","city":"c","specialty":"s"})", 400,
       "wrong_type"},
      {"POST", "/v1/belts",
       "{\"name\":\"\xc3\x28\",\"province\":\"Z\",\"city\":\"c\",\"specialty\":\"s\"}", 400,
       "invalid_utf8"},
      {"POST", "/v1/belts", R"({"province":"Zhejiang","city":"c","specialty":"s"})", 400,
       "missing_field"},
      {"POST", "/v1/bases", R"({"name":"b","belt_id":"999","city":"c"})", 400, "unknown_reference"},
      {"POST", "/v1/bases", R"({"name":"b","belt_id":")" + belt_ + R"(","city":"c","studios":-1})",
       400, "out_of_range"},
      {"POST", "/v1/bases",
       R"({"name":"b","belt_id":")" + belt_ + R"(","city":"c","studios":99999999999999999999})",
       400, "out_of_range"},
      {"POST", "/v1/skus",
       R"({"product_id":")" + product_ + R"(","code":"Z","list_price":{"amount_fen":1.5}})", 400,
       "wrong_type"},
      {"POST", "/v1/skus",
       R"({"product_id":")" + product_ + R"(","code":"Z","list_price":{"amount_fen":-100}})", 400,
       "out_of_range"},
      {"POST", "/v1/skus",
       R"({"product_id":")" + product_ + R"(","code":"BJ-BLK-M","list_price":{"amount_fen":1}})",
       409, "already_exists"},
      {"PATCH", sku_path, R"({"product_id":")" + other_product_ + R"("})", 400, "immutable_field"},
      {"PATCH", sku_path, "{}", 400, "empty_patch"},
      {"PATCH", sku_path, R"({"code":"BT-105"})", 409, "already_exists"},
      {"PATCH", "/v1/skus/999999", R"({"code":"Q"})", 404, "not_found"},
      {"GET", "/v1/skus/abc", "", 404, "not_found"},
      {"GET", "/v1/skus?limit=0", "", 400, "out_of_range"},
      {"GET", "/v1/skus?limit=1000", "", 400, "out_of_range"},
      {"GET", "/v1/skus?colour=red", "", 400, "unknown_filter"},
      {"GET", "/v1/skus?cursor=%00", "", 400, "invalid_cursor"},
      {"GET", "/v1/skus?code=%E4%B9", "", 400, "invalid_utf8"},
      {"DELETE", sku_path, "", 405, "method_not_allowed"},
      {"GET", "/v1/nothing", "", 404, "route_not_found"},
  };
  for (const Case& c : cases) {
    auto r = client_->Request(c.method, c.target, c.body, admin_);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " -> "
                                  << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["error"]["code"], c.code) << c.body;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ApiTest, ErrorsNameTheField) {
  auto r = client_->Post(
      "/v1/skus",
      R"({"product_id":")" + product_ + R"(","code":"Z","list_price":{"amount_fen":"9"}})", admin_);
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "list_price.amount_fen");
}

TEST_F(ApiTest, MissingOrWrongTokenIs401AndChangesNothing) {
  const std::string before = Snapshot();
  const std::string body = R"({"name":"x","province":"Zhejiang","city":"c","specialty":"s"})";
  for (const std::string& token : {std::string(""), std::string("st_nope"), std::string(64, 'a'),
                                   "st_" + std::string(64, '0')}) {
    EXPECT_EQ(client_->Post("/v1/belts", body, token).status, 401) << token;
    EXPECT_EQ(client_->Get("/v1/belts", token).status, 401) << token;
  }
  auto raw =
      client_->SendRaw("GET /v1/belts HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWJj\r\n\r\n");
  EXPECT_EQ(raw.status, 401);
  EXPECT_EQ(json::parse(raw.body)["error"]["code"], "unauthenticated");
  EXPECT_EQ(Snapshot(), before);
  // System routes stay open.
  EXPECT_EQ(client_->Get("/healthz").status, 200);
}

TEST_F(ApiTest, TenantsCannotReachEachOthersData) {
  const std::string factory_token = TokenFor(Role::kFactory, factory_);
  const std::string host_token = TokenFor(Role::kHost, base_);
  const std::string consumer_token = TokenFor(Role::kConsumer, "buyer-1");
  const std::string trainer_token = TokenFor(Role::kTrainer, "");
  const std::string before = Snapshot();

  struct Case {
    std::string who, token, method, target, body;
  };
  const std::vector<Case> forbidden = {
      {"factory", factory_token, "PATCH", "/v1/products/" + other_product_, R"({"name":"mine"})"},
      {"factory", factory_token, "PATCH", "/v1/skus/" + other_sku_,
       R"({"list_price":{"amount_fen":1}})"},
      {"factory", factory_token, "PATCH", "/v1/factories/" + other_factory_, R"({"contact":"x"})"},
      {"factory", factory_token, "POST", "/v1/products",
       R"({"name":"n","factory_id":")" + other_factory_ + R"(","category":"c"})"},
      {"factory", factory_token, "POST", "/v1/skus",
       R"({"product_id":")" + other_product_ + R"(","code":"Q1","list_price":{"amount_fen":1}})"},
      {"factory", factory_token, "POST", "/v1/belts",
       R"({"name":"b","province":"p","city":"c","specialty":"s"})"},
      {"factory", factory_token, "PATCH", "/v1/bases/" + base_, R"({"studios":1})"},
      {"host", host_token, "PATCH", "/v1/bases/" + other_base_, R"({"studios":1})"},
      {"host", host_token, "POST", "/v1/hosts",
       R"({"name":"n","base_id":")" + other_base_ + R"(","handle":"intruder"})"},
      {"host", host_token, "PATCH", "/v1/products/" + product_, R"({"name":"x"})"},
      {"consumer", consumer_token, "POST", "/v1/products",
       R"({"name":"n","factory_id":")" + factory_ + R"(","category":"c"})"},
      {"consumer", consumer_token, "PATCH", "/v1/skus/" + sku_,
       R"({"list_price":{"amount_fen":1}})"},
      {"trainer", trainer_token, "PATCH", "/v1/hosts/" + host_, R"({"followers":1})"},
  };
  for (const Case& c : forbidden) {
    auto r = client_->Request(c.method, c.target, c.body, c.token);
    EXPECT_EQ(r.status, 403) << c.who << " " << c.method << " " << c.target << " -> " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "forbidden");
  }
  EXPECT_EQ(Snapshot(), before);

  // What each tenant may do with its own data works.
  EXPECT_EQ(
      client_
          ->Patch("/v1/products/" + product_, R"({"description":"soft lambskin"})", factory_token)
          .status,
      200);
  EXPECT_EQ(client_
                ->Post("/v1/skus",
                       R"({"product_id":")" + product_ +
                           R"(","code":"BJ-BLK-L","list_price":{"amount_fen":129900}})",
                       factory_token)
                .status,
            201);
  EXPECT_EQ(client_->Patch("/v1/bases/" + base_, R"({"studios":20})", host_token).status, 200);
  EXPECT_EQ(client_
                ->Post("/v1/hosts",
                       R"({"name":"New host","base_id":")" + base_ + R"(","handle":"newhost"})",
                       host_token)
                .status,
            201);
  // And everyone reads the catalog.
  for (const std::string& t : {factory_token, host_token, consumer_token, trainer_token}) {
    EXPECT_EQ(client_->Get("/v1/products/" + other_product_, t).status, 200);
  }
}

TEST_F(ApiTest, RetriedCreateWithIdempotencyKeyReturnsTheOriginal) {
  const std::string body = json({{"name", "Lambskin gloves"},
                                 {"factory_id", factory_},
                                 {"category", "leather"},
                                 {"idempotency_key", "gloves-1"}})
                               .dump();
  auto first = client_->Post("/v1/products", body, admin_);
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = client_->Post("/v1/products", body, admin_);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  auto count =
      platform_->store().Query("SELECT COUNT(*) FROM products WHERE name = 'Lambskin gloves'");
  EXPECT_EQ(AsInt(count->rows[0][0]), 1);
}

TEST_F(ApiTest, MetricsSeeApiTraffic) {
  client_->Get("/v1/belts", admin_);
  auto m = client_->Get("/metrics");
  EXPECT_NE(m.body.find(R"(method="GET",route="/v1/belts",status="200")"), std::string::npos);
  // The fixture made one drop: one command, one record, at least one group commit.
  EXPECT_NE(m.body.find("thunder_engine_commands_total 1\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("thunder_wal_records_total 1\n"), std::string::npos);
  EXPECT_NE(m.body.find("thunder_engine_healthy 1\n"), std::string::npos);
}

TEST_F(ApiTest, RoutesThatQueryTheStoreRunOffTheIoThreads) {
  std::set<std::string> catalog_collections;
  for (const auto& spec : catalog::AllResources()) {
    catalog_collections.insert("/v1/" + std::string(spec.name));
  }
  for (const http::Route& r : platform_->router().routes()) {
    const std::string collection = r.pattern.substr(0, r.pattern.find("/{"));
    if (catalog_collections.contains(collection) ||
        (r.method == "POST" && r.pattern == "/v1/drops")) {
      EXPECT_TRUE(r.blocking) << r.method << " " << r.pattern;
    }
    // Purchases never wait behind the store.
    if (r.pattern.starts_with("/v1/drops/") || r.pattern.starts_with("/v1/orders/")) {
      EXPECT_FALSE(r.blocking) << r.method << " " << r.pattern;
    }
  }
}

}  // namespace
}  // namespace thunder::app
