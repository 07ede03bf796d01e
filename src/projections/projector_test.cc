#include "projections/projector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>

#include "core/test_dir.h"

namespace thunder::projections {
namespace {

using namespace std::chrono_literals;

const Timestamp kStart{1'800'000'000s};  // 2027-01-15T08:00:00Z

class ProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*OpenStore(dir_ + "/thunder.db"));
    // A SKU of factory 1 in belt 1, for the GMV roll-up.
    for (const char* sql : {"INSERT INTO belts VALUES (1, 'Zhuji Datang socks', 'Zhejiang', "
                            "'Zhuji', 'socks', '', 't', 't')",
                            "INSERT INTO factories (id, name, belt_id, city, created_at, "
                            "updated_at) VALUES (1, 'F', 1, 'Zhuji', 't', 't')",
                            "INSERT INTO products (id, name, factory_id, category, created_at, "
                            "updated_at) VALUES (1, 'P', 1, 'socks', 't', 't')",
                            "INSERT INTO skus (id, product_id, code, list_price_fen, created_at, "
                            "updated_at) VALUES (7, 1, 'S', 990, 't', 't')"}) {
      ASSERT_TRUE(store_->Exec(sql).ok()) << sql;
    }
    clock_.Set(kStart);
  }
  void TearDown() override {
    if (projector_) projector_->Stop();  // its callback reaches into the engine
    engine_.reset();
    projector_.reset();
    store_.reset();
  }

  // Opens the engine with a projector attached, as the platform does.
  void Open(bool start_projector = true, uint64_t snapshot_every = 100'000) {
    if (projector_) projector_->Stop();
    engine_.reset();
    projector_ = std::make_unique<Projector>(*store_);
    engine::EngineOptions o;
    o.dir = dir_ + "/engine";
    o.partitions = 2;
    o.snapshot_every = snapshot_every;
    o.sink_from_seq = *projector_->StoredSeq();
    engine_ = std::move(*engine::Engine::Open(Env::Default(), clock_, o, projector_->Sink()));
    if (start_projector) {
      engine::Engine* e = engine_.get();
      projector_->Start([e](uint64_t seq) { e->ConsumerCaughtUp(seq); });
    }
  }
  engine::Reply Call(engine::Command c) {
    std::promise<engine::Reply> p;
    engine_->Submit(std::move(c), [&](engine::Reply r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  void WaitCaughtUp() {
    const uint64_t target = engine_->durable_seq();
    for (int i = 0; i < 1000 && *projector_->StoredSeq() < target; ++i)
      std::this_thread::sleep_for(2ms);
    ASSERT_TRUE(projector_->health().ok()) << projector_->health().ToString();
    ASSERT_EQ(*projector_->StoredSeq(), target);
  }
  std::string Rows(const std::string& sql) {
    std::string out;
    auto result = store_->Query(sql);
    EXPECT_TRUE(result.ok()) << sql;
    for (const auto& row : result->rows) {
      for (const auto& v : row) out += AsText(v) + "|";
      out += "\n";
    }
    return out;
  }
  // Sells: 3 orders, two paid, one of those refunded an hour later.
  void Sell() {
    engine::DropSpec spec{7, 10, 990, kStart, kStart + 3h, 5, 15min};
    const uint64_t drop = Call(engine::CreateDrop{spec, ""}).drop->id;
    std::vector<uint64_t> ids;
    for (int i = 0; i < 3; ++i) {
      ids.push_back(Call(engine::Reserve{drop, "b" + std::to_string(i), 2, "k"}).order->id);
    }
    ASSERT_TRUE(Call(engine::Pay{ids[0]}).status.ok());
    ASSERT_TRUE(Call(engine::Pay{ids[1]}).status.ok());
    ASSERT_TRUE(Call(engine::Cancel{ids[2]}).status.ok());
    clock_.Advance(1h);
    ASSERT_TRUE(Call(engine::Refund{ids[1]}).status.ok());
  }

  TestDir tmp_{"projector"};
  const std::string dir_ = tmp_.path();
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(ProjectorTest, OrdersAndHourlyGmvFollowTheLog) {
  Open();
  Sell();
  WaitCaughtUp();
  EXPECT_EQ(Rows("SELECT buyer, quantity, amount_fen, state FROM orders ORDER BY buyer"),
            "b0|2|1980|paid|\nb1|2|1980|refunded|\nb2|2|1980|cancelled|\n");
  EXPECT_EQ(Rows("SELECT hour, sku_id, factory_id, belt_id, gmv_fen, paid_orders, refunded_orders "
                 "FROM gmv_hourly ORDER BY hour"),
            "2027-01-15T08:00:00Z|7|1|1|3960|2|0|\n2027-01-15T09:00:00Z|7|1|1|-1980|0|1|\n");
  EXPECT_EQ(Rows("SELECT sku_id, stock FROM drops"), "7|10|\n");
}

TEST_F(ProjectorTest, CatchesUpAfterARestartEvenPastASnapshot) {
  // The projector never ran, and snapshots cover the whole log: the records it needs must
  // still be in the log, and recovery must hand them over.
  Open(/*start_projector=*/false, /*snapshot_every=*/2);
  Sell();
  projector_->Stop();
  engine_.reset();
  projector_.reset();
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM orders"), "0|\n");
  Open();
  WaitCaughtUp();
  EXPECT_EQ(Rows("SELECT COUNT(*), SUM(amount_fen) FROM orders"), "3|5940|\n");
  EXPECT_EQ(Rows("SELECT SUM(gmv_fen) FROM gmv_hourly"), "1980|\n");
}

TEST_F(ProjectorTest, RebuildGivesTheSameRows) {
  Open();
  Sell();
  WaitCaughtUp();
  const std::string orders = Rows("SELECT * FROM orders ORDER BY id");
  const std::string gmv = Rows("SELECT * FROM gmv_hourly ORDER BY hour");
  ASSERT_TRUE(store_->Exec("DELETE FROM orders WHERE buyer = 'b0'").ok());
  ASSERT_TRUE(store_->Exec("UPDATE gmv_hourly SET gmv_fen = 0").ok());

  std::mutex mu;
  std::vector<engine::Event> events;
  std::promise<void> done;
  int left = static_cast<int>(engine_->partitions());
  engine_->SnapshotAll([&](std::vector<engine::Event> part) {
    std::lock_guard lock(mu);
    events.insert(events.end(), part.begin(), part.end());
    if (--left == 0) done.set_value();
  });
  done.get_future().wait();
  ASSERT_TRUE(projector_->Rebuild(events, engine_->durable_seq()).ok());
  EXPECT_EQ(Rows("SELECT * FROM orders ORDER BY id"), orders);
  EXPECT_EQ(Rows("SELECT * FROM gmv_hourly ORDER BY hour"), gmv);
}

// A store whose transactions fail with `failure` while `failures_left` lasts (or always,
// when it is negative).
class FlakyStore final : public Store {
 public:
  FlakyStore(Store& inner, Status failure, int failures)
      : inner_(inner), failure_(failure), failures_left_(failures) {}
  using Store::Query;
  Result<QueryResult> Query(std::string_view sql, std::span<const SqlValue> params) override {
    return inner_.Query(sql, params);
  }
  Status InTransaction(const std::function<Status()>& fn) override {
    if (failures_left_ != 0) {
      if (failures_left_ > 0) --failures_left_;
      return failure_;
    }
    return inner_.InTransaction(fn);
  }
  std::string_view Dialect() const override { return inner_.Dialect(); }

 private:
  Store& inner_;
  Status failure_;
  std::atomic<int> failures_left_;
};

std::vector<std::pair<uint64_t, engine::Event>> SomeEvents(int n) {
  std::vector<std::pair<uint64_t, engine::Event>> out;
  engine::Event drop;
  drop.type = engine::EventType::kDropCreated;
  drop.drop_id = 1;
  drop.spec = {7, 100, 990, kStart, kStart + 1h, 5, 15min};
  out.emplace_back(1, drop);
  for (int i = 0; i < n - 1; ++i) {
    engine::Event e;
    e.type = engine::EventType::kOrderReserved;
    e.order_id = static_cast<uint64_t>(100 + i);
    e.drop_id = 1;
    e.buyer = "b" + std::to_string(i);
    e.quantity = 1;
    e.at = e.pay_by = kStart;
    out.emplace_back(static_cast<uint64_t>(i + 2), e);
  }
  return out;
}

const Status kBusy(ErrorKind::kUnavailable, "store_busy", "database is locked");

TEST_F(ProjectorTest, ABusyStoreIsRetriedNotFatal) {
  FlakyStore flaky(*store_, kBusy, 3);
  Projector projector(flaky, {1000, 10s});
  std::atomic<uint64_t> reached{0};
  projector.Start([&](uint64_t seq) { reached = seq; });
  auto sink = projector.Sink();
  for (const auto& [seq, e] : SomeEvents(5)) sink(seq, e);
  for (int i = 0; i < 2000 && reached < 5; ++i) std::this_thread::sleep_for(1ms);
  projector.Stop();
  EXPECT_EQ(reached, 5u);
  EXPECT_TRUE(projector.health().ok()) << projector.health().ToString();
  EXPECT_EQ(*projector.StoredSeq(), 5u);
  EXPECT_GE(projector.stats().retries, 3u);
}

TEST_F(ProjectorTest, APersistentFailureShowsAndStopsQueueing) {
  FlakyStore broken(*store_, Status::IoError("disk I/O error"), -1);
  Projector projector(broken, {1000, 10s});
  projector.Start(nullptr);
  auto sink = projector.Sink();
  for (const auto& [seq, e] : SomeEvents(3)) sink(seq, e);
  for (int i = 0; i < 2000 && projector.health().ok(); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(projector.health().code(), "io_error");
  // What arrives now stays in the log only: memory does not grow.
  for (const auto& [seq, e] : SomeEvents(100)) sink(seq + 10, e);
  EXPECT_EQ(projector.stats().queued, 0u);
  projector.Stop();
}

TEST_F(ProjectorTest, TheQueueIsBounded) {
  // A store that stays busy: the running projector cannot drain its queue.
  FlakyStore busy(*store_, kBusy, -1);
  Projector projector(busy, {5, 10s});
  projector.Start(nullptr);
  auto sink = projector.Sink();
  for (const auto& [seq, e] : SomeEvents(20)) sink(seq, e);
  EXPECT_EQ(projector.health().code(), "projections_behind");
  EXPECT_LE(projector.stats().queued, 5u);
  projector.Stop();
}

// A backlog longer than the bound, handed over while the engine recovers (before the
// thread starts), is stored on the way instead of stopping the projections at every start.
TEST_F(ProjectorTest, ABacklogAtStartIsCaughtUpNotRefused) {
  Projector projector(*store_, {5, 10s});
  auto sink = projector.Sink();
  for (const auto& [seq, e] : SomeEvents(20)) sink(seq, e);
  EXPECT_TRUE(projector.health().ok()) << projector.health().ToString();
  EXPECT_LE(projector.stats().queued, 5u);
  EXPECT_GE(*projector.StoredSeq(), 15u);
  projector.Start(nullptr);
  for (int i = 0; i < 2000 && *projector.StoredSeq() < 20; ++i) std::this_thread::sleep_for(1ms);
  projector.Stop();
  EXPECT_EQ(*projector.StoredSeq(), 20u);
}

}  // namespace
}  // namespace thunder::projections
