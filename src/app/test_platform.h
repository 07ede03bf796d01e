// An in-process platform on an ephemeral port over a fresh data directory, with a token
// per role, for API tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/platform.h"
#include "core/test_dir.h"
#include "http/test_client.h"

namespace thunder::app {

class PlatformFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    StartPlatform();
    auto admin = platform_->tokens().Create(Role::kAdmin, "", "test");
    ASSERT_TRUE(admin.ok());
    admin_ = admin->token;
  }
  void TearDown() override {
    client_.reset();
    platform_.reset();
  }

  void StartPlatform() {
    Config config;
    config.listen = "127.0.0.1:0";
    config.data_dir = dir_.string();
    config.shutdown_grace_ms = 2000;
    auto p = Platform::Open(config, *env_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    platform_ = std::move(*p);
    ASSERT_TRUE(platform_->Start().ok());
    client_ = std::make_unique<http::TestClient>(platform_->port());
  }

  void RestartPlatform() {
    client_.reset();
    platform_.reset();
    StartPlatform();
  }

  std::string TokenFor(Role role, const std::string& scope) {
    auto t = platform_->tokens().Create(role, scope, "test");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->token : "";
  }

  // POSTs as admin and returns the new id; fails the test on anything but 201.
  std::string MustPost(const std::string& path, const nlohmann::json& body) {
    auto r = client_->Post(path, body.dump(), admin_);
    EXPECT_EQ(r.status, 201) << path << " " << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::string>() : "";
  }

  // A belt with one factory making one product with one SKU, created as admin.
  struct SkuChain {
    std::string belt, factory, product, sku;
  };
  SkuChain MustCreateSkuChain(const std::string& city, const std::string& specialty,
                              const std::string& factory, const std::string& product,
                              const std::string& sku_code, int64_t list_price_fen) {
    SkuChain c;
    c.belt = MustPost("/v1/belts", {{"name", city + " " + specialty},
                                    {"province", "Zhejiang"},
                                    {"city", city},
                                    {"specialty", specialty}});
    c.factory = MustPost("/v1/factories", {{"name", factory}, {"belt_id", c.belt}, {"city", city}});
    c.product = MustPost("/v1/products",
                         {{"name", product}, {"factory_id", c.factory}, {"category", specialty}});
    c.sku = MustPost("/v1/skus", {{"product_id", c.product},
                                  {"code", sku_code},
                                  {"list_price", {{"amount_fen", list_price_fen}}}});
    return c;
  }

  TestDir tmp_{"api"};
  const std::filesystem::path dir_ = tmp_.path();
  Env* env_ = &Env::Default();  // a test may point it at a fault-injecting Env first
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<http::TestClient> client_;
  std::string admin_;
};

}  // namespace thunder::app
