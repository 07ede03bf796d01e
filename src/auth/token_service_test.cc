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

TEST_F(TokenServiceTest, ExpiredTokenIsRefusedEvenWhenCached) {
  clock_.Set(*ParseRfc3339("2026-03-01T00:00:00Z"));
  auto issued =
      tokens_->Create(Role::kConsumer, "buyer-1", "app", *ParseRfc3339("2026-03-01T01:00:00Z"));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const std::string header = "Bearer " + issued->token;
  ASSERT_TRUE(tokens_->Authenticate(header).ok());  // now cached
  clock_.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(tokens_->Authenticate(header).ok());
  clock_.Advance(std::chrono::minutes(1));
  auto who = tokens_->Authenticate(header);
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().http_status(), 401);
  EXPECT_NE(who.status().message().find("expired"), std::string::npos);
  auto cached = tokens_->AuthenticateFromCache(header);
  ASSERT_TRUE(cached.has_value());
  EXPECT_FALSE(cached->ok());
}

TEST_F(TokenServiceTest, ExpiryMustLieInTheFuture) {
  clock_.Set(*ParseRfc3339("2026-03-01T00:00:00Z"));
  auto issued = tokens_->Create(Role::kAdmin, "", "", *ParseRfc3339("2026-02-28T00:00:00Z"));
  EXPECT_EQ(issued.status().code(), "expiry_in_past");
}

TEST_F(TokenServiceTest, RevocationByThisServiceTakesEffectAtOnce) {
  auto issued = tokens_->Create(Role::kAdmin, "", "ops");
  ASSERT_TRUE(issued.ok());
  const std::string header = "Bearer " + issued->token;
  ASSERT_TRUE(tokens_->Authenticate(header).ok());
  ASSERT_TRUE(tokens_->Revoke(issued->principal.token_id).ok());
  EXPECT_EQ(tokens_->Authenticate(header).status().http_status(), 401);
  EXPECT_TRUE(tokens_->Revoke(issued->principal.token_id).ok());  // twice is fine
  EXPECT_EQ(tokens_->Revoke(issued->principal.token_id + 100).code(), "not_found");
}

TEST_F(TokenServiceTest, RevocationByAnotherProcessTakesEffectWithinASecond) {
  auto issued = tokens_->Create(Role::kAdmin, "", "ops");
  ASSERT_TRUE(issued.ok());
  const std::string header = "Bearer " + issued->token;
  ASSERT_TRUE(tokens_->Authenticate(header).ok());
  ASSERT_TRUE(tokens_->AuthenticateFromCache(header).has_value());

  // `thunder admin token revoke` runs in its own process with its own service.
  TokenService elsewhere(*store_, clock_);
  ASSERT_TRUE(elsewhere.Revoke(issued->principal.token_id).ok());

  clock_.Advance(TokenService::kRevalidateAfter);
  EXPECT_FALSE(tokens_->AuthenticateFromCache(header).has_value());  // due for a check
  auto who = tokens_->Authenticate(header);
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().http_status(), 401);
}

// With revocations swept, a cached token needs no store query per token every second,
// and a revocation made elsewhere still lands at the next sweep.
TEST_F(TokenServiceTest, SweptRevocationsKeepCachedTokensOffTheStore) {
  auto issued = tokens_->Create(Role::kConsumer, "alice", "app");
  ASSERT_TRUE(issued.ok());
  const std::string header = "Bearer " + issued->token;
  ASSERT_TRUE(tokens_->Authenticate(header).ok());
  ASSERT_TRUE(tokens_->SweepRevocations().ok());
  clock_.Advance(std::chrono::milliseconds(600));
  ASSERT_TRUE(tokens_->SweepRevocations().ok());
  clock_.Advance(std::chrono::milliseconds(600));  // confirmed 1.2 s ago, swept 0.6 s ago
  auto cached = tokens_->AuthenticateFromCache(header);
  ASSERT_TRUE(cached.has_value()) << "a cached token went back to the store";
  EXPECT_TRUE(cached->ok());

  TokenService elsewhere(*store_, clock_);
  ASSERT_TRUE(elsewhere.Revoke(issued->principal.token_id).ok());
  ASSERT_TRUE(tokens_->SweepRevocations().ok());
  cached = tokens_->AuthenticateFromCache(header);
  EXPECT_FALSE(cached.has_value() && cached->ok()) << "a revoked token still served from cache";
  EXPECT_EQ(tokens_->Authenticate(header).status().http_status(), 401);

  // No sweep for a second: the cache no longer vouches for anything.
  auto other = tokens_->Create(Role::kConsumer, "bob", "app");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(tokens_->Authenticate("Bearer " + other->token).ok());
  clock_.Advance(TokenService::kRevalidateAfter);
  EXPECT_FALSE(tokens_->AuthenticateFromCache("Bearer " + other->token).has_value());
}

TEST_F(TokenServiceTest, ListShowsEverythingButTheSecret) {
  clock_.Set(*ParseRfc3339("2026-03-01T00:00:00Z"));
  auto a = tokens_->Create(Role::kAdmin, "", "ops laptop");
  auto b =
      tokens_->Create(Role::kConsumer, "buyer-7", "app", *ParseRfc3339("2026-04-01T00:00:00Z"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(tokens_->Revoke(a->principal.token_id).ok());
  auto list = tokens_->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  const TokenInfo& first = (*list)[0];
  EXPECT_EQ(first.id, a->principal.token_id);
  EXPECT_EQ(first.role, Role::kAdmin);
  EXPECT_EQ(first.label, "ops laptop");
  EXPECT_EQ(first.created_at, "2026-03-01T00:00:00.000000Z");
  EXPECT_FALSE(first.expires_at.has_value());
  EXPECT_TRUE(first.revoked_at.has_value());
  const TokenInfo& second = (*list)[1];
  EXPECT_EQ(second.scope, "buyer-7");
  EXPECT_EQ(second.expires_at.value_or(""), "2026-04-01T00:00:00.000000Z");
  EXPECT_FALSE(second.revoked_at.has_value());
  for (const TokenInfo& t : *list) {
    for (const std::string& text :
         {t.scope, t.label, t.created_at, t.expires_at.value_or(""), t.revoked_at.value_or("")}) {
      for (const auto* issued : {&*a, &*b}) {
        EXPECT_EQ(text.find(issued->token.substr(3)), std::string::npos);
        EXPECT_EQ(text.find(Sha256Hex(issued->token)), std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace thunder
