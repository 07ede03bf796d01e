// A fresh migrated SQLite store in a temporary directory, and a CatalogService over it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "catalog/catalog_service.h"
#include "core/test_dir.h"

namespace thunder::catalog {

class CatalogFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenStore((dir_ / "thunder.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    service_ = std::make_unique<CatalogService>(*store_, clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
  }

  // Creates as admin and returns the new id; fails the test on error.
  int64_t MustCreate(std::string_view resource, const std::string& json) {
    auto e = service_->Create(kAdmin, *FindResource(resource), json);
    EXPECT_TRUE(e.ok()) << resource << ": " << e.status().ToString();
    return e.ok() ? e->id : 0;
  }

  const Principal kAdmin{1, Role::kAdmin, ""};
  TestDir tmp_{"catalog"};
  const std::filesystem::path dir_ = tmp_.path();
  ManualClock clock_{Timestamp{std::chrono::seconds(1'700'000'000)}};
  std::unique_ptr<Store> store_;
  std::unique_ptr<CatalogService> service_;
};

}  // namespace thunder::catalog
