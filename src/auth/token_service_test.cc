#include "auth/token_service.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace thunder {
namespace {

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("thunder_token_test_" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path_);
    auto s = OpenStore(path_.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    tokens_ = std::make_unique<TokenService>(*store_, clock_);
  }
  void TearDown() override {
    tokens_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }

  std::filesystem::path path_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TokenService> tokens_;
};

TEST_F(TokenServiceTest, FirstAdminTokenIsCreatedOnce) {
  auto first = tokens_->EnsureFirstAdminToken();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->starts_with("st_"));
  auto second = tokens_->EnsureFirstAdminToken();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "");
  auto who = tokens_->Authenticate("Bearer " + *first);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->role, Role::kAdmin);
}

TEST_F(TokenServiceTest, StoresOnlyTheHash) {
  auto issued = tokens_->Create(Role::kConsumer, "buyer-9", "app");
  ASSERT_TRUE(issued.ok());
  auto rows = store_->Query("SELECT hash FROM tokens");
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_NE(AsText(rows->rows[0][0]), issued->token);
  EXPECT_EQ(AsText(rows->rows[0][0]), Sha256Hex(issued->token));
}

TEST_F(TokenServiceTest, RejectsMissingMalformedAndUnknownTokens) {
  for (const char* header :
       {"", "Basic abc", "Bearer ", "Bearer st_short",
        "Bearer st_0000000000000000000000000000000000000000000000000000000000000000"}) {
    auto who = tokens_->Authenticate(header);
    ASSERT_FALSE(who.ok()) << header;
    EXPECT_EQ(who.status().http_status(), 401) << header;
  }
}

TEST_F(TokenServiceTest, ScopesAreCheckedAtCreation) {
  EXPECT_EQ(tokens_->Create(Role::kFactory, "", "").status().code(), "scope_required");
  EXPECT_EQ(tokens_->Create(Role::kFactory, "42", "").status().code(), "not_found");
  EXPECT_EQ(tokens_->Create(Role::kHost, "abc", "").status().code(), "scope_required");
  EXPECT_EQ(tokens_->Create(Role::kAdmin, "3", "").status().code(), "scope_not_allowed");
  EXPECT_EQ(tokens_->Create(Role::kConsumer, "bad id!", "").status().code(), "scope_required");

  ASSERT_TRUE(
      store_->Exec("INSERT INTO belts VALUES (1, 'b', 'Zhejiang', 'c', 's', '', 't', 't')").ok());
  ASSERT_TRUE(store_
                  ->Exec("INSERT INTO factories (id, name, belt_id, city, created_at, updated_at) "
                         "VALUES (42, 'f', 1, 'c', 't', 't')")
                  .ok());
  auto ok = tokens_->Create(Role::kFactory, "42", "owner");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto who = tokens_->Authenticate("Bearer " + ok->token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->role, Role::kFactory);
  EXPECT_EQ(who->scope, "42");
}

}  // namespace
}  // namespace thunder
