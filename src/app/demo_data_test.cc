#include "app/demo_data.h"

#include "app/test_platform.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class DemoDataTest : public PlatformFixture {};

TEST_F(DemoDataTest, SeedsZhejiangBeltsOnceAndServesThem) {
  auto counts = SeedDemoData(platform_->catalog());
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->belts, 8);
  EXPECT_GE(counts->factories, 16);
  EXPECT_GE(counts->skus, counts->products);

  auto belts = json::parse(client_->Get("/v1/belts?province=Zhejiang&limit=200", admin_).body);
  std::vector<std::string> names;
  for (auto& b : belts["items"]) names.push_back(b["name"]);
  for (const char* want :
       {"Yiwu small commodities", "Zhuji Datang socks", "Haining leather", "Yongkang hardware",
        "Shengzhou neckties", "Anji office chairs", "Cixi home appliances", "Wenzhou shoes"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  // Every factory has capacity for its belt's category, and products carry prices.
  auto socks = json::parse(client_->Get("/v1/products?category=socks&limit=200", admin_).body);
  EXPECT_FALSE(socks["items"].empty());
  auto skus = json::parse(client_->Get("/v1/skus?limit=5", admin_).body);
  for (auto& s : skus["items"]) EXPECT_GT(s["list_price"]["amount_fen"].get<int64_t>(), 0);

  // A second seeding leaves the data set as it is.
  auto again = SeedDemoData(platform_->catalog());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->belts, 0);
  EXPECT_EQ(AsInt(platform_->store().Query("SELECT COUNT(*) FROM belts")->rows[0][0]), 8);
}

}  // namespace
}  // namespace thunder::app
