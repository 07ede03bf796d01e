// Token lifetime against a running in-process server: a revocation made by another process
// (as `thunder admin token revoke` does) and an expiry both end a token's access, even
// while the server holds the token in its cache.
#include <chrono>
#include <thread>

#include "app/test_platform.h"

namespace thunder::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class TokenApiTest : public PlatformFixture {};

TEST_F(TokenApiTest, RevokedTokenIsRefusedWithinASecond) {
  auto issued = platform_->tokens().Create(Role::kTrainer, "", "to revoke");
  ASSERT_TRUE(issued.ok());
  ASSERT_EQ(client_->Get("/v1/belts", issued->token).status, 200);  // cached by the server

  // The CLI opens the store on its own, beside the running server.
  auto cli_store = OpenExistingStore("sqlite:" + dir_.string() + "/thunder.db");
  ASSERT_TRUE(cli_store.ok()) << cli_store.status().ToString();
  TokenService cli_tokens(**cli_store, SystemClock::Instance());
  ASSERT_TRUE(cli_tokens.Revoke(issued->principal.token_id).ok());
  const auto revoked = steady_clock::now();

  int status = 200;
  while (steady_clock::now() - revoked < milliseconds(1250)) {
    status = client_->Get("/v1/belts", issued->token).status;
    if (status != 200) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(status, 401)
      << "still accepted "
      << std::chrono::duration_cast<milliseconds>(steady_clock::now() - revoked).count()
      << " ms after the revocation";
  EXPECT_EQ(client_->Get("/v1/belts", admin_).status, 200);  // other tokens still work
}

TEST(TokenExpiryApiTest, ExpiredTokenIsRefused) {
  TestDir dir("token_expiry");
  ManualClock clock(SystemClock::Instance().Now());
  Config config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir.path();
  config.shutdown_grace_ms = 2000;
  auto platform = Platform::Open(config, Env::Default(), clock);
  ASSERT_TRUE(platform.ok()) << platform.status().ToString();
  ASSERT_TRUE((*platform)->Start().ok());
  http::TestClient client((*platform)->port());

  auto issued = (*platform)->tokens().Create(Role::kAdmin, "", "short-lived",
                                             clock.Now() + std::chrono::hours(1));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(client.Get("/v1/belts", issued->token).status, 200);
  clock.Advance(std::chrono::minutes(59));
  EXPECT_EQ(client.Get("/v1/belts", issued->token).status, 200);
  clock.Advance(std::chrono::minutes(1));
  auto refused = client.Get("/v1/belts", issued->token);
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("expired"), std::string::npos) << refused.body;
}

}  // namespace
}  // namespace thunder::app
