#include "catalog/catalog_service.h"

#include <nlohmann/json.hpp>

#include "catalog/test_fixture.h"

namespace thunder::catalog {
namespace {

using nlohmann::json;

class CatalogServiceTest : public CatalogFixture {
 protected:
  void SeedTwoFactories() {
    belt_ = MustCreate(
        "belts",
        R"({"name":"Zhuji Datang socks","province":"Zhejiang","city":"Zhuji","specialty":"socks"})");
    f1_ = MustCreate("factories", R"({"name":"F1","belt_id":")" + std::to_string(belt_) +
                                      R"(","city":"Zhuji"})");
    f2_ = MustCreate("factories", R"({"name":"F2","belt_id":")" + std::to_string(belt_) +
                                      R"(","city":"Zhuji"})");
    p2_ = MustCreate("products", R"({"name":"Crew socks","factory_id":")" + std::to_string(f2_) +
                                     R"(","category":"socks"})");
  }
  int64_t belt_ = 0, f1_ = 0, f2_ = 0, p2_ = 0;
};

TEST_F(CatalogServiceTest, CreateGetUpdateRoundTrip) {
  SeedTwoFactories();
  auto got = service_->Get(kAdmin, *FindResource("factories"), std::to_string(f1_));
  ASSERT_TRUE(got.ok());
  auto j = json::parse(got->json);
  EXPECT_EQ(j["name"], "F1");
  EXPECT_EQ(j["belt_id"], std::to_string(belt_));
  EXPECT_EQ(j["daily_capacity"], json::object());
  EXPECT_EQ(j["created_at"], "2023-11-14T22:13:20.000000Z");

  clock_.Advance(std::chrono::hours(1));
  auto updated = service_->Update(kAdmin, *FindResource("factories"), std::to_string(f1_),
                                  R"({"daily_capacity":{"socks":50000},"contact":"Ms Zhou"})");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  auto u = json::parse(updated->json);
  EXPECT_EQ(u["daily_capacity"]["socks"], 50000);
  EXPECT_EQ(u["contact"], "Ms Zhou");
  EXPECT_EQ(u["name"], "F1");
  EXPECT_EQ(u["updated_at"], "2023-11-14T23:13:20.000000Z");
}

TEST_F(CatalogServiceTest, MissingAndMalformedIdsAreNotFound) {
  for (const char* id : {"999", "abc", "0", "-1"}) {
    auto r = service_->Get(kAdmin, *FindResource("belts"), id);
    EXPECT_EQ(r.status().http_status(), 404) << id;
  }
  EXPECT_EQ(service_->Update(kAdmin, *FindResource("belts"), "999", R"({"city":"x"})")
                .status()
                .http_status(),
            404);
}

TEST_F(CatalogServiceTest, UnknownReferenceIsRejectedAndNothingIsWritten) {
  auto r = service_->Create(kAdmin, *FindResource("bases"),
                            R"({"name":"B","belt_id":"77","city":"Yiwu"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "unknown_reference");
  EXPECT_EQ(r.status().field(), "belt_id");
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM bases")->rows[0][0]), 0);
}

TEST_F(CatalogServiceTest, DuplicateUniqueNameIsConflict) {
  SeedTwoFactories();
  auto r =
      service_->Create(kAdmin, *FindResource("factories"),
                       R"({"name":"F1","belt_id":")" + std::to_string(belt_) + R"(","city":"x"})");
  EXPECT_EQ(r.status().http_status(), 409);
  EXPECT_EQ(r.status().code(), "already_exists");
}

TEST_F(CatalogServiceTest, IdempotencyKeyReturnsTheOriginal) {
  SeedTwoFactories();
  const Principal factory2{7, Role::kFactory, std::to_string(f2_)};
  const std::string body = R"({"name":"Wool socks","factory_id":")" + std::to_string(f2_) +
                           R"(","category":"socks","idempotency_key":"create-wool-1"})";
  auto first = service_->Create(factory2, *FindResource("products"), body);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->replayed);
  auto again = service_->Create(factory2, *FindResource("products"), body);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM products")->rows[0][0]), 2);

  // The same key for a different request is a conflict, not a silent replay.
  auto different =
      service_->Create(factory2, *FindResource("products"),
                       R"({"name":"Silk socks","factory_id":")" + std::to_string(f2_) +
                           R"(","category":"socks","idempotency_key":"create-wool-1"})");
  EXPECT_EQ(different.status().code(), "idempotency_key_reused");
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM products")->rows[0][0]), 2);
}

TEST_F(CatalogServiceTest, FactoryCannotTouchAnotherFactorysData) {
  SeedTwoFactories();
  const Principal factory1{7, Role::kFactory, std::to_string(f1_)};
  const auto& products = *FindResource("products");
  // Create a product for factory 2: forbidden.
  auto create = service_->Create(
      factory1, products,
      R"({"name":"Fake","factory_id":")" + std::to_string(f2_) + R"(","category":"socks"})");
  EXPECT_EQ(create.status().http_status(), 403);
  // Change factory 2's product: forbidden, and nothing changes.
  auto update = service_->Update(factory1, products, std::to_string(p2_), R"({"name":"Mine now"})");
  EXPECT_EQ(update.status().http_status(), 403);
  EXPECT_EQ(json::parse(service_->Get(kAdmin, products, std::to_string(p2_))->json)["name"],
            "Crew socks");
  // A SKU on factory 2's product: forbidden.
  auto sku = service_->Create(factory1, *FindResource("skus"),
                              R"({"product_id":")" + std::to_string(p2_) +
                                  R"(","code":"X","list_price":{"amount_fen":100}})");
  EXPECT_EQ(sku.status().http_status(), 403);
  // Its own factory record: allowed; the other factory's: forbidden.
  EXPECT_TRUE(
      service_
          ->Update(factory1, *FindResource("factories"), std::to_string(f1_), R"({"contact":"me"})")
          .ok());
  EXPECT_EQ(
      service_
          ->Update(factory1, *FindResource("factories"), std::to_string(f2_), R"({"contact":"me"})")
          .status()
          .http_status(),
      403);
}

TEST_F(CatalogServiceTest, ListPaginatesAndFilters) {
  SeedTwoFactories();
  const auto& products = *FindResource("products");
  for (int i = 0; i < 5; ++i) {
    MustCreate("products", R"({"name":"P)" + std::to_string(i) + R"(","factory_id":")" +
                               std::to_string(i % 2 ? f1_ : f2_) + R"(","category":")" +
                               (i < 3 ? "socks" : "tights") + R"("})");
  }
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::string>> params{{"limit", "2"}};
  for (int page = 0; page < 10; ++page) {
    auto q = ParseListQuery(products, params);
    ASSERT_TRUE(q.ok());
    auto r = service_->List(kAdmin, products, *q);
    ASSERT_TRUE(r.ok());
    auto j = json::parse(*r);
    for (auto& item : j["items"]) names.push_back(item["name"]);
    if (j["next_cursor"].is_null()) break;
    params = {{"limit", "2"}, {"cursor", j["next_cursor"]}};
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Crew socks", "P0", "P1", "P2", "P3", "P4"}));

  auto q = ParseListQuery(products, {{"category", "tights"}, {"factory_id", std::to_string(f1_)}});
  ASSERT_TRUE(q.ok());
  auto j = json::parse(*service_->List(kAdmin, products, *q));
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["name"], "P3");
}

TEST_F(CatalogServiceTest, ListQueryRejectsUnknownFiltersAndBadLimits) {
  const auto& products = *FindResource("products");
  EXPECT_EQ(ParseListQuery(products, {{"colour", "red"}}).status().code(), "unknown_filter");
  EXPECT_EQ(ParseListQuery(products, {{"description", "x"}}).status().code(), "unknown_filter");
  for (const char* bad : {"0", "201", "-1", "ten", "5x", ""}) {
    EXPECT_EQ(ParseListQuery(products, {{"limit", bad}}).status().code(), "out_of_range") << bad;
  }
  EXPECT_EQ(ParseListQuery(products, {{"cursor", "zz"}}).status().code(), "invalid_cursor");
  EXPECT_EQ(ParseListQuery(products, {{"factory_id", "x"}}).status().code(), "wrong_type");
}

}  // namespace
}  // namespace thunder::catalog
