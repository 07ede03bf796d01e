// A node whose log failed says so: every purchase, payment and read answers 503 log_failed
// (memory may hold what the log refused), and /healthz answers 503 so an orchestrator
// restarts it; the restart shows only what was acknowledged.
#include "app/test_platform.h"
#include "core/fault_injection_env.h"

namespace thunder::app {
namespace {

using nlohmann::json;

class HealthApiTest : public PlatformFixture {
 protected:
  void SetUp() override {
    env_ = &faults_;
    PlatformFixture::SetUp();
  }

  FaultInjectionEnv faults_{Env::Default()};
};

TEST_F(HealthApiTest, AFailedLogMakesTheNodeUnhealthyAndAnswersNothingFromMemory) {
  const std::string sku =
      MustCreateSkuChain("Yiwu", "toys", "Yiwu Toys", "Spinning top", "TOP-1", 500).sku;
  const std::string drop = MustPost("/v1/drops", {{"sku_id", sku},
                                                  {"stock", 5},
                                                  {"price", {{"amount_fen", 300}}},
                                                  {"starts_at", "2020-01-01T00:00:00Z"},
                                                  {"ends_at", "2099-01-01T00:00:00Z"},
                                                  {"per_buyer_limit", 2}});
  const std::string alice = TokenFor(Role::kConsumer, "alice");
  auto buy = [&](const std::string& key) {
    return client_->Post("/v1/drops/" + drop + "/orders",
                         json({{"quantity", 1}, {"idempotency_key", key}}).dump(), alice);
  };
  auto first = buy("k1");
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string order = json::parse(first.body)["id"];
  EXPECT_EQ(client_->Get("/healthz", "").status, 200);

  faults_.SetFailSync(true);
  auto refused = buy("k2");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["code"], "log_failed");
  faults_.SetFailSync(false);
  // A retry of the refused purchase, a payment, and reads: none is answered from memory.
  EXPECT_EQ(buy("k2").status, 503);
  EXPECT_EQ(client_->Post("/v1/orders/" + order + "/pay", "", alice).status, 503);
  EXPECT_EQ(client_->Get("/v1/orders/" + order, alice).status, 503);
  EXPECT_EQ(client_->Get("/v1/drops/" + drop, alice).status, 503);
  auto health = client_->Get("/healthz", "");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_EQ(json::parse(health.body)["error"]["code"], "log_failed");

  // The restart recovers what was acknowledged, and only that.
  RestartPlatform();
  EXPECT_EQ(client_->Get("/healthz", "").status, 200);
  auto after = client_->Get("/v1/drops/" + drop, alice);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(json::parse(after.body)["reserved"], 1);
  EXPECT_EQ(json::parse(client_->Get("/v1/orders/" + order, alice).body)["state"], "reserved");
}

}  // namespace
}  // namespace thunder::app
