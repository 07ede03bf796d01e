// Everything written through the API is there after the server restarts on the same data
// directory, and tokens keep working.
#include "app/test_platform.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class RestartTest : public PlatformFixture {};

TEST_F(RestartTest, DataAndTokensSurviveARestart) {
  const std::string belt = MustPost("/v1/belts", {{"name", "Wenzhou shoes"},
                                                  {"province", "Zhejiang"},
                                                  {"city", "Wenzhou"},
                                                  {"specialty", "shoes"}});
  const std::string factory = MustPost("/v1/factories", {{"name", "Stride Footwear"},
                                                         {"belt_id", belt},
                                                         {"city", "Wenzhou"},
                                                         {"daily_capacity", {{"shoes", 30000}}}});
  const std::string factory_token = TokenFor(Role::kFactory, factory);
  const std::string create_product = json({{"name", "Derby shoes"},
                                           {"factory_id", factory},
                                           {"category", "shoes"},
                                           {"idempotency_key", "derby"}})
                                         .dump();
  auto product = client_->Post("/v1/products", create_product, factory_token);
  ASSERT_EQ(product.status, 201);
  auto patched =
      client_->Patch("/v1/factories/" + factory, R"({"contact":"Mr Deng"})", factory_token);
  ASSERT_EQ(patched.status, 200);
  const std::string listing_before = client_->Get("/v1/factories", admin_).body;

  RestartPlatform();

  EXPECT_EQ(client_->Get("/v1/factories", admin_).body, listing_before);
  auto f = json::parse(client_->Get("/v1/factories/" + factory, factory_token).body);
  EXPECT_EQ(f["contact"], "Mr Deng");
  EXPECT_EQ(f["daily_capacity"]["shoes"], 30000);
  // The idempotency record survived too: the retry after a restart is a replay.
  auto retry = client_->Post("/v1/products", create_product, factory_token);
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body, product.body);
}

TEST_F(RestartTest, KeepsThePartitionCountOfTheDataDirectory) {
  // The fixture started with the default count; a later start that asks for none keeps it.
  const uint32_t before = platform_->engine().partitions();
  Config config;
  config.data_dir = dir_.string();
  EXPECT_EQ(config.EffectivePartitions(), before);
  config.partitions = before + 1;
  EXPECT_EQ(config.EffectivePartitions(), before + 1);
}

TEST_F(RestartTest, FirstAdminTokenIsPrintedOnlyOnce) {
  // The fixture made an admin token already, so there is nothing to print.
  auto none = platform_->tokens().EnsureFirstAdminToken();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  RestartPlatform();
  EXPECT_TRUE(platform_->tokens().EnsureFirstAdminToken()->empty());
  EXPECT_EQ(client_->Get("/v1/belts", admin_).status, 200);
}

}  // namespace
}  // namespace thunder::app
