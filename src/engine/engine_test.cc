// The durable engine: replies after durability, recovery, snapshots, the expiry timer, and
// faults injected through Env (lost unsynced data, failed fsync, torn tail, flipped byte).
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <set>
#include <sstream>

#include "core/fault_injection_env.h"
#include "core/test_dir.h"
#include "log/format.h"

namespace thunder::engine {
namespace {

using namespace std::chrono_literals;

const Timestamp kStart{1'800'000'000s};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { clock_.Set(kStart); }
  void TearDown() override { engine_.reset(); }

  Status Open(Env& env, uint64_t snapshot_every = 100'000, uint64_t segment_bytes = 64 << 20) {
    engine_.reset();
    EngineOptions o;
    o.dir = dir_;
    o.partitions = 2;
    o.snapshot_every = snapshot_every;
    o.segment_bytes = segment_bytes;
    o.expiry_tick = 10ms;
    auto e = Engine::Open(env, clock_, o);
    if (!e.ok()) return e.status();
    engine_ = std::move(*e);
    return Status::Ok();
  }

  Reply Call(Command c) {
    std::promise<Reply> p;
    engine_->Submit(std::move(c), [&](Reply r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  Reply Order(uint64_t id) {
    std::promise<Reply> p;
    engine_->GetOrder(id, [&](Reply r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  Reply DropState(uint64_t id) {
    std::promise<Reply> p;
    engine_->GetDrop(id, [&](Reply r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  uint64_t NewDrop(int64_t stock, int64_t sku = 42) {
    DropSpec s{sku, stock, 1990, kStart, kStart + 1h, 3, 15min};
    Reply r = Call(CreateDrop{s});
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    return r.drop ? r.drop->id : 0;
  }
  static void ExpectBalanced(const Drop& d) {
    EXPECT_EQ(d.remaining + d.reserved + d.paid, d.total);
    EXPECT_GE(d.remaining, 0);
  }

  TestDir tmp_{"engine"};
  const std::string dir_ = tmp_.path();
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, AcknowledgedOrdersSurviveRestart) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  const uint64_t drop = NewDrop(10);
  std::vector<uint64_t> orders;
  for (int i = 0; i < 5; ++i) {
    Reply r = Call(Reserve{drop, "buyer" + std::to_string(i), 2, "k"});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    orders.push_back(r.order->id);
  }
  ASSERT_TRUE(Call(Pay{orders[0]}).status.ok());
  EXPECT_EQ(Call(Reserve{drop, "late", 1, "k"}).status.code(), "sold_out");

  ASSERT_TRUE(Open(Env::Default()).ok());
  Reply d = DropState(drop);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.drop->remaining, 0);
  EXPECT_EQ(d.drop->paid, 2);
  EXPECT_EQ(d.drop->reserved, 8);
  EXPECT_EQ(Order(orders[0]).order->state, OrderState::kPaid);
  // The retry after a restart returns the original order.
  Reply retry = Call(Reserve{drop, "buyer3", 2, "k"});
  ASSERT_TRUE(retry.status.ok());
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.order->id, orders[3]);
}

TEST_F(EngineTest, OneProcessPerDirectory) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  EngineOptions o;
  o.dir = dir_;
  o.partitions = 2;
  auto second = Engine::Open(Env::Default(), clock_, o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), "data_dir_in_use");
}

TEST_F(EngineTest, SoldOutIsAnsweredWithoutTouchingTheDisk) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  const uint64_t drop = NewDrop(1);
  ASSERT_TRUE(Call(Reserve{drop, "a", 1, "k"}).status.ok());
  const auto before = engine_->stats().wal;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Call(Reserve{drop, "b" + std::to_string(i), 1, "k"}).status.code(), "sold_out");
  }
  const auto after = engine_->stats().wal;
  EXPECT_EQ(after.records, before.records);
  EXPECT_EQ(after.batches, before.batches);
}

TEST_F(EngineTest, TimerExpiresUnpaidOrdersAndReturnsStockOnce) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  const uint64_t drop = NewDrop(2);
  Reply r = Call(Reserve{drop, "a", 2, "k"});
  ASSERT_TRUE(r.status.ok());
  clock_.Advance(16min);
  for (int i = 0; i < 500 && Order(r.order->id).order->state != OrderState::kExpired; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(Order(r.order->id).order->state, OrderState::kExpired);
  EXPECT_EQ(Call(Pay{r.order->id}).status.code(), "order_expired");
  Reply d = DropState(drop);
  EXPECT_EQ(d.drop->remaining, 2);
  ExpectBalanced(*d.drop);
  // And after a restart the expiry is still there, once.
  ASSERT_TRUE(Open(Env::Default()).ok());
  EXPECT_EQ(DropState(drop).drop->remaining, 2);
}

TEST_F(EngineTest, SnapshotsBoundRecoveryAndOldSegmentsGo) {
  ASSERT_TRUE(Open(Env::Default(), /*snapshot_every=*/50, /*segment_bytes=*/8 * 4096).ok());
  const uint64_t drop = NewDrop(100000);
  std::vector<uint64_t> orders;
  for (int i = 0; i < 600; ++i) {
    Reply r = Call(Reserve{drop, "buyer" + std::to_string(i), 1, "k"});
    ASSERT_TRUE(r.status.ok());
    orders.push_back(r.order->id);
    if (i % 3 == 0) {
      ASSERT_TRUE(Call(Pay{r.order->id}).status.ok());
    }
  }
  EXPECT_GT(engine_->stats().snapshots, 0u);
  ASSERT_TRUE(Open(Env::Default(), 50, 8 * 4096).ok());
  // Replay covers only the tail after the newest snapshot, not all 800 events.
  EXPECT_LT(engine_->stats().recovered_events, 200u);
  Reply d = DropState(drop);
  EXPECT_EQ(d.drop->paid, 200);
  EXPECT_EQ(d.drop->reserved, 400);
  ExpectBalanced(*d.drop);
  for (uint64_t id : {orders.front(), orders[301], orders.back()}) {
    EXPECT_TRUE(Order(id).status.ok());
  }
  size_t segments = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    segments += log::ParseSegmentFileName(f.path().filename().string()) > 0;
  }
  // About a hundred segments were written; those the snapshots cover are gone.
  EXPECT_LT(segments, 20u);
}

TEST_F(EngineTest, PowerCutKeepsEveryAcknowledgedOrder) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Open(env).ok());
  const uint64_t drop = NewDrop(50);
  std::vector<uint64_t> acked;
  std::vector<std::thread> clients;
  std::mutex mu;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::promise<Reply> p;
        engine_->Submit(Reserve{drop, "b" + std::to_string(t * 100 + i), 1, "k"},
                        [&](Reply r) { p.set_value(std::move(r)); });
        Reply r = p.get_future().get();
        if (r.status.ok()) {
          std::lock_guard lock(mu);
          acked.push_back(r.order->id);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  engine_.reset();
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  ASSERT_TRUE(Open(env).ok());
  EXPECT_EQ(acked.size(), 50u);
  for (uint64_t id : acked) EXPECT_TRUE(Order(id).status.ok()) << id;
  Reply d = DropState(drop);
  EXPECT_EQ(d.drop->remaining, 0);
  ExpectBalanced(*d.drop);
}

TEST_F(EngineTest, FailedFsyncFailsTheRequestAndLosesNothingAcknowledged) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Open(env).ok());
  const uint64_t drop = NewDrop(5);
  Reply good = Call(Reserve{drop, "a", 1, "k"});
  ASSERT_TRUE(good.status.ok());
  env.SetFailSync(true);
  Reply bad = Call(Reserve{drop, "b", 1, "k"});
  EXPECT_EQ(bad.status.code(), "log_failed");
  EXPECT_EQ(bad.status.http_status(), 503);
  EXPECT_EQ(Call(Reserve{drop, "c", 1, "k"}).status.code(), "log_failed");
  // Memory may hold what the log refused: reads answer the failure instead of showing it.
  EXPECT_EQ(DropState(drop).status.code(), "log_failed");
  EXPECT_EQ(Order(good.order->id).status.code(), "log_failed");
  EXPECT_FALSE(engine_->health().ok());
  engine_.reset();
  env.SetFailSync(false);
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  ASSERT_TRUE(Open(env).ok());
  EXPECT_TRUE(Order(good.order->id).status.ok());
  ExpectBalanced(*DropState(drop).drop);
  EXPECT_TRUE(Call(Reserve{drop, "d", 1, "k"}).status.ok());
  engine_.reset();  // before the Env it uses goes
}

// A retry of a command the log refused must not be answered from memory: the first
// attempt's change was never durable.
TEST_F(EngineTest, RetriesAfterALogFailureAreNotAcknowledged) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Open(env).ok());
  const uint64_t drop = NewDrop(5);
  Reply reserved = Call(Reserve{drop, "a", 1, "k1"});
  ASSERT_TRUE(reserved.status.ok());
  env.SetFailSync(true);
  EXPECT_EQ(Call(Reserve{drop, "b", 1, "k2"}).status.code(), "log_failed");
  EXPECT_EQ(Call(Pay{reserved.order->id}).status.code(), "log_failed");
  env.SetFailSync(false);
  // The same requests again, as a client retries them.
  EXPECT_EQ(Call(Reserve{drop, "b", 1, "k2"}).status.code(), "log_failed");
  EXPECT_EQ(Call(Pay{reserved.order->id}).status.code(), "log_failed");
  EXPECT_EQ(Call(Reserve{drop, "a", 1, "k1"}).status.code(), "log_failed");
  std::promise<Result<std::vector<engine::Order>>> mine;
  engine_->BuyerOrders("a",
                       [&](Result<std::vector<engine::Order>> r) { mine.set_value(std::move(r)); });
  EXPECT_EQ(mine.get_future().get().status().code(), "log_failed");
  engine_.reset();
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  ASSERT_TRUE(Open(env).ok());
  // Nothing answered with an error is there after the restart.
  EXPECT_EQ(Order(reserved.order->id).order->state, OrderState::kReserved);
  EXPECT_EQ(DropState(drop).drop->reserved, 1);
  engine_.reset();  // before the Env it uses goes
}

// While a change waits for its group commit, reads and refusals must not show it.
TEST_F(EngineTest, ReadsAndRefusalsWaitUntilWhatTheyShowIsDurable) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Open(env).ok());
  const uint64_t drop = NewDrop(1);
  Reply reserved = Call(Reserve{drop, "a", 1, "k"});
  ASSERT_TRUE(reserved.status.ok());
  env.HoldSyncs(true, "/wal-");
  std::promise<Reply> paid;
  engine_->Submit(Pay{reserved.order->id}, [&](Reply r) { paid.set_value(std::move(r)); });
  std::promise<Reply> read;
  engine_->GetOrder(reserved.order->id, [&](Reply r) { read.set_value(std::move(r)); });
  std::promise<Reply> refused;
  engine_->Submit(Reserve{drop, "b", 1, "k"}, [&](Reply r) { refused.set_value(std::move(r)); });
  auto read_answer = read.get_future();
  auto refused_answer = refused.get_future();
  // The payment is not durable yet: the read has no answer to give that is true both
  // now and after a crash.
  EXPECT_EQ(read_answer.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(refused_answer.wait_for(1ms), std::future_status::timeout);
  env.HoldSyncs(false);
  EXPECT_TRUE(paid.get_future().get().status.ok());
  EXPECT_EQ(read_answer.get().order->state, OrderState::kPaid);
  EXPECT_EQ(refused_answer.get().status.code(), "sold_out");
  engine_.reset();  // before the Env it uses goes
}

// A retry answers with the drop's counts too: they must not include another buyer's
// reservation whose group commit has not finished.
TEST_F(EngineTest, RetriesWaitUntilWhatTheyShowIsDurable) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Open(env).ok());
  const uint64_t drop = NewDrop(5);
  ASSERT_TRUE(Call(Reserve{drop, "a", 1, "k"}).status.ok());
  env.HoldSyncs(true, "/wal-");
  std::promise<Reply> other;
  engine_->Submit(Reserve{drop, "b", 1, "k"}, [&](Reply r) { other.set_value(std::move(r)); });
  std::promise<Reply> retry;
  engine_->Submit(Reserve{drop, "a", 1, "k"}, [&](Reply r) { retry.set_value(std::move(r)); });
  auto retried = retry.get_future();
  EXPECT_EQ(retried.wait_for(200ms), std::future_status::timeout);
  env.HoldSyncs(false);
  EXPECT_TRUE(other.get_future().get().status.ok());
  const Reply r = retried.get();
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.replayed);
  EXPECT_EQ(r.drop->reserved, 2);
  engine_.reset();  // before the Env it uses goes
}

// A snapshot never holds events whose group commit had not finished: a crash then keeps
// neither.
TEST_F(EngineTest, SnapshotsHoldOnlyDurableEvents) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Open(env, /*snapshot_every=*/5).ok());
  const uint64_t drop = NewDrop(100);
  env.HoldSyncs(true, "/wal-");
  std::vector<std::future<Reply>> pending;
  std::vector<std::promise<Reply>> promises(20);
  for (int i = 0; i < 20; ++i) {
    pending.push_back(promises[i].get_future());
    engine_->Submit(Reserve{drop, "b" + std::to_string(i), 1, "k"},
                    [&promises, i](Reply r) { promises[i].set_value(std::move(r)); });
    // The first batch goes to its (held) fsync alone; the rest queue behind it.
    if (i == 0) std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(300ms);  // time for a snapshot to be attempted
  // The machine stops: the fsync already under way may finish, nothing after it does.
  env.FailOperation(1, FaultInjectionEnv::Fault::kIoError, /*crash=*/true);
  env.HoldSyncs(false);
  int64_t acked = 0;
  for (auto& f : pending) acked += f.get().status.ok() ? 1 : 0;
  EXPECT_LT(acked, 20);
  engine_.reset();
  ASSERT_TRUE(env.SimulatePowerCut(7).ok());
  ASSERT_TRUE(Open(env, 5).ok());
  Reply d = DropState(drop);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.drop->reserved, acked);
  ExpectBalanced(*d.drop);
  engine_.reset();  // before the Env it uses goes
}

// Memory holds what is live: a drop and its orders leave it once the drop has ended and
// its retention has passed, and stay gone after a restart.
TEST_F(EngineTest, EndedDropsLeaveMemoryAfterTheirRetention) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  const uint64_t old_drop = NewDrop(10);
  std::vector<uint64_t> orders;
  for (int i = 0; i < 4; ++i) {
    orders.push_back(Call(Reserve{old_drop, "b" + std::to_string(i), 1, "k"}).order->id);
  }
  ASSERT_TRUE(Call(Pay{orders[0]}).status.ok());
  clock_.Advance(2h);  // the drop has ended; the unpaid orders expire
  const uint64_t live_drop =
      Call(CreateDrop{{43, 5, 990, kStart, kStart + 30 * 24h, 1, 15min}}).drop->id;
  clock_.Advance(7 * 24h);  // past the default retention of a week
  Reply gone;
  for (int i = 0; i < 500; ++i) {
    gone = DropState(old_drop);
    if (!gone.status.ok()) break;
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(gone.status.code(), "drop_not_found");
  EXPECT_EQ(Order(orders[0]).status.code(), "order_not_found");
  EXPECT_TRUE(DropState(live_drop).status.ok());
  ASSERT_TRUE(Open(Env::Default()).ok());
  EXPECT_EQ(DropState(old_drop).status.code(), "drop_not_found");
  EXPECT_TRUE(DropState(live_drop).status.ok());
}

// A consumer of the event stream (the projections) whose position is older than the oldest
// log segment would silently miss events: the engine refuses to start instead.
TEST_F(EngineTest, RefusesToStartWhenTheProjectionsAreBehindTheLog) {
  ASSERT_TRUE(Open(Env::Default(), /*snapshot_every=*/4, /*segment_bytes=*/3 * 4096).ok());
  const uint64_t drop = NewDrop(100);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(Call(Reserve{drop, "b" + std::to_string(i), 1, "k"}).status.ok());
  }
  engine_.reset();
  EngineOptions o;
  o.dir = dir_;
  o.partitions = 2;
  o.sink_from_seq = 0;  // a store that never saw an event
  auto e = Engine::Open(Env::Default(), clock_, o, [](uint64_t, const Event&) {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), "projections_behind_log");
  EXPECT_NE(e.status().message().find("rebuild-projections"), std::string::npos);
}

// An operator reading the log learns what recovery cut: how many bytes, from which
// segment, and the last record kept.
TEST_F(EngineTest, RecoverySaysWhatItCut) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  const uint64_t drop = NewDrop(10);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Call(Reserve{drop, "b" + std::to_string(i), 1, "k"}).status.ok());
  }
  engine_.reset();
  const std::string segment = log::SegmentFileName(1);
  {
    auto f = Env::Default().NewAppendableFile(dir_ + "/" + segment);
    ASSERT_TRUE((*f)->Append(std::string(1000, '\x7f')).ok());
  }
  std::ostringstream said;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(said)));
  const Status opened = Open(Env::Default());
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  const std::string text = said.str();
  EXPECT_NE(text.find("cut 1000 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find(segment), std::string::npos) << text;
  EXPECT_NE(text.find("ends at record 4"), std::string::npos) << text;  // a drop, 3 orders
}

// Ids of archived drops and orders are never issued again, even once a snapshot holds
// neither and the log before it is gone: clients and the store still know those ids.
TEST_F(EngineTest, IdsOfArchivedDropsAreNeverIssuedAgain) {
  ASSERT_TRUE(Open(Env::Default(), /*snapshot_every=*/2).ok());
  // A long-running drop first; then the newest drop and order, which will be archived.
  const uint64_t keep =
      Call(CreateDrop{{42, 5, 990, kStart, kStart + 30 * 24h, 3, 15min}}).drop->id;
  const uint64_t old_drop = NewDrop(10, 42);
  const uint64_t old_order = Call(Reserve{old_drop, "a", 1, "k"}).order->id;
  ASSERT_TRUE(Call(Pay{old_order}).status.ok());
  clock_.Advance(2h + 7 * 24h);  // ended, and past its retention
  for (int i = 0; i < 500 && DropState(old_drop).status.ok(); ++i) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_EQ(DropState(old_drop).status.code(), "drop_not_found");
  // Events that issue no id, so that a snapshot is written after the archive.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Call(Restock{keep, 1}).status.ok());
  std::this_thread::sleep_for(100ms);  // the snapshot's writer finishes
  ASSERT_GT(engine_->stats().snapshots, 0u);
  ASSERT_TRUE(Open(Env::Default(), 2).ok());
  DropSpec fresh{42, 5, 990, clock_.Now(), clock_.Now() + 1h, 3, 15min};
  const Reply d = Call(CreateDrop{fresh, "", "host:1"});
  ASSERT_TRUE(d.status.ok());
  EXPECT_NE(d.drop->id, old_drop) << "an archived drop's id was issued again";
  const Reply o = Call(Reserve{d.drop->id, "z", 1, "k"});
  ASSERT_TRUE(o.status.ok());
  EXPECT_NE(o.order->id, old_order) << "an archived order's id was issued again";
}

TEST_F(EngineTest, TornTailIsDroppedAndAFlippedByteRefused) {
  ASSERT_TRUE(Open(Env::Default()).ok());
  const uint64_t drop = NewDrop(100);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(Call(Reserve{drop, "b" + std::to_string(i), 1, "k"}).status.ok());
  engine_.reset();
  const std::string segment = dir_ + "/" + log::SegmentFileName(1);
  // A torn tail: half a block of garbage after the last batch.
  {
    auto f = Env::Default().NewAppendableFile(segment);
    ASSERT_TRUE((*f)->Append(std::string(2000, '\x7f')).ok());
  }
  ASSERT_TRUE(Open(Env::Default()).ok());
  // The garbage, and the zero padding of the last batch's block before it.
  EXPECT_GE(engine_->stats().dropped_tail_bytes, 2000u);
  EXPECT_LT(engine_->stats().dropped_tail_bytes, 2000u + log::kBlockSize);
  EXPECT_EQ(DropState(drop).drop->reserved, 10);
  engine_.reset();
  // A flipped byte in the first batch, with good batches after it: refused, clearly.
  std::string bytes = *Env::Default().ReadFile(segment);
  bytes[log::kBlockSize + 20] ^= 0x10;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), segment, bytes).ok());
  Status s = Open(Env::Default());
  EXPECT_EQ(s.code(), "wal_corrupt");
  EXPECT_NE(s.message().find(segment), std::string::npos) << s.message();
}

}  // namespace
}  // namespace thunder::engine
