#include "engine/partition.h"

#include <gtest/gtest.h>
#include <malloc.h>

namespace thunder::engine {
namespace {

using namespace std::chrono_literals;

const Timestamp kT0{std::chrono::seconds(1'800'000'000)};

class PartitionTest : public ::testing::Test {
 protected:
  uint64_t MakeDrop(int64_t stock, int64_t limit = 2) {
    DropSpec s;
    s.sku_id = 42;
    s.stock = stock;
    s.price_fen = 1990;
    s.start = kT0;
    s.end = kT0 + 1h;
    s.per_buyer_limit = limit;
    s.pay_window = 15min;
    events_.clear();
    EXPECT_TRUE(p_.Apply(CreateDrop{s}, kT0 - 1min, events_).ok());
    return events_.at(0).drop_id;
  }
  Status Do(const Command& c, Timestamp at) {
    events_.clear();
    return p_.Apply(c, at, events_);
  }

  Partition p_{3};
  std::vector<Event> events_;
};

TEST_F(PartitionTest, IdsCarryThePartition) {
  const uint64_t drop = MakeDrop(10);
  EXPECT_EQ(PartitionOf(drop), 3u);
  ASSERT_TRUE(Do(Reserve{drop, "b1", 1, "k1"}, kT0).ok());
  EXPECT_EQ(PartitionOf(p_.last_order()), 3u);
}

TEST_F(PartitionTest, ReserveChecksWindowStockAndLimit) {
  const uint64_t drop = MakeDrop(3, 2);
  EXPECT_EQ(Do(Reserve{drop, "b1", 1, "k0"}, kT0 - 1s).code(), "drop_not_started");
  EXPECT_TRUE(Do(Reserve{drop, "b1", 2, "k1"}, kT0).ok());
  EXPECT_EQ(Do(Reserve{drop, "b1", 1, "k2"}, kT0).code(), "limit_exceeded");
  EXPECT_EQ(Do(Reserve{drop, "b2", 2, "k3"}, kT0).code(), "sold_out");
  EXPECT_TRUE(events_.empty());  // a refusal records nothing
  EXPECT_TRUE(Do(Reserve{drop, "b2", 1, "k3"}, kT0).ok());
  EXPECT_EQ(Do(Reserve{drop, "b3", 1, "k4"}, kT0).code(), "sold_out");
  EXPECT_EQ(Do(Reserve{drop, "b3", 1, "k5"}, kT0 + 1h).code(), "drop_ended");
  EXPECT_EQ(Do(Reserve{99, "b3", 1, "k5"}, kT0).code(), "drop_not_found");
  const Drop* d = p_.FindDrop(drop);
  EXPECT_EQ(d->remaining, 0);
  EXPECT_EQ(d->reserved, 3);
}

TEST_F(PartitionTest, SameKeyReturnsTheOriginalOrderEvenWhenSoldOut) {
  const uint64_t drop = MakeDrop(1);
  ASSERT_TRUE(Do(Reserve{drop, "b1", 1, "k"}, kT0).ok());
  const uint64_t order = p_.last_order();
  ASSERT_TRUE(Do(Reserve{drop, "b1", 1, "k"}, kT0 + 1s).ok());
  EXPECT_EQ(p_.last_order(), order);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(Do(Reserve{drop, "b1", 2, "k"}, kT0).code(), "idempotency_key_reused");
  // The same key from another buyer is another request.
  EXPECT_EQ(Do(Reserve{drop, "b2", 1, "k"}, kT0).code(), "sold_out");
  EXPECT_EQ(p_.order_count(), 1u);
}

TEST_F(PartitionTest, PayAfterPayByExpiresAndNeverOversells) {
  const uint64_t drop = MakeDrop(1);
  ASSERT_TRUE(Do(Reserve{drop, "b1", 1, "k"}, kT0).ok());
  const uint64_t late = p_.last_order();
  // Past pay-by, the payment is refused and the stock returns exactly once...
  EXPECT_EQ(Do(Pay{late}, kT0 + 15min).code(), "order_expired");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].type, EventType::kOrderExpired);
  EXPECT_EQ(p_.FindDrop(drop)->remaining, 1);
  // ...and someone else buys it; the late payer cannot take it back.
  ASSERT_TRUE(Do(Reserve{drop, "b2", 1, "k"}, kT0 + 16min).ok());
  EXPECT_EQ(Do(Pay{late}, kT0 + 16min).code(), "order_expired");
  EXPECT_TRUE(Do(Expire{late}, kT0 + 17min).ok());
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(p_.FindDrop(drop)->remaining, 0);
  EXPECT_EQ(p_.FindDrop(drop)->reserved, 1);
}

TEST_F(PartitionTest, FindsABuyersOrdersAcrossDrops) {
  const uint64_t a = MakeDrop(5, 5);
  const uint64_t b = MakeDrop(5, 5);
  ASSERT_TRUE(Do(Reserve{a, "b1", 1, "k1"}, kT0).ok());
  ASSERT_TRUE(Do(Reserve{a, "b1", 1, "k2"}, kT0).ok());
  ASSERT_TRUE(Do(Reserve{b, "b1", 1, "k1"}, kT0).ok());
  ASSERT_TRUE(Do(Reserve{b, "b2", 1, "k1"}, kT0).ok());
  ASSERT_TRUE(Do(Cancel{p_.last_order()}, kT0).ok());
  EXPECT_EQ(p_.OrdersOf("b1").size(), 3u);
  EXPECT_EQ(p_.OrdersOf("b2").size(), 1u);  // cancelled orders are still the buyer's
  EXPECT_TRUE(p_.OrdersOf("nobody").empty());
}

TEST_F(PartitionTest, TimerExpiresDueOrders) {
  const uint64_t drop = MakeDrop(5, 5);
  ASSERT_TRUE(Do(Reserve{drop, "b1", 2, "k1"}, kT0).ok());
  const uint64_t first = p_.last_order();
  ASSERT_TRUE(Do(Reserve{drop, "b2", 1, "k2"}, kT0 + 5min).ok());
  ASSERT_TRUE(Do(Pay{p_.last_order()}, kT0 + 6min).ok());
  std::vector<uint64_t> due;
  p_.DueExpiries(kT0 + 14min, due);
  EXPECT_TRUE(due.empty());
  p_.DueExpiries(kT0 + 30min, due);
  ASSERT_EQ(due, std::vector<uint64_t>{first});  // the paid one is not due
  ASSERT_TRUE(Do(Expire{first}, kT0 + 30min).ok());
  EXPECT_EQ(p_.FindOrder(first)->state, OrderState::kExpired);
  EXPECT_EQ(p_.FindDrop(drop)->remaining, 4);
}

TEST_F(PartitionTest, CancelRefundAndRestock) {
  const uint64_t drop = MakeDrop(2, 2);
  ASSERT_TRUE(Do(Reserve{drop, "b1", 1, "k1"}, kT0).ok());
  const uint64_t a = p_.last_order();
  ASSERT_TRUE(Do(Reserve{drop, "b2", 1, "k2"}, kT0).ok());
  const uint64_t b = p_.last_order();
  EXPECT_TRUE(Do(Cancel{a}, kT0 + 1min).ok());
  EXPECT_TRUE(Do(Cancel{a}, kT0 + 1min).ok());  // a retry changes nothing
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(Do(Refund{b}, kT0).code(), "invalid_state");
  ASSERT_TRUE(Do(Pay{b}, kT0 + 2min).ok());
  EXPECT_EQ(Do(Cancel{b}, kT0).code(), "invalid_state");
  ASSERT_TRUE(Do(Refund{b}, kT0 + 3min).ok());
  EXPECT_EQ(p_.FindDrop(drop)->remaining, 2);
  ASSERT_TRUE(Do(Restock{drop, 5}, kT0 + 4min).ok());
  const Drop* d = p_.FindDrop(drop);
  EXPECT_EQ(d->total, 7);
  EXPECT_EQ(d->remaining, 7);
  EXPECT_EQ(Do(Restock{drop, 0}, kT0).code(), "out_of_range");
}

TEST_F(PartitionTest, CreateDropValidates) {
  DropSpec s;
  s.sku_id = 1;
  s.stock = 10;
  s.start = kT0;
  s.end = kT0;
  EXPECT_EQ(Do(CreateDrop{s}, kT0).field(), "ends_at");
  s.end = kT0 + 1h;
  s.stock = -1;
  EXPECT_EQ(Do(CreateDrop{s}, kT0).field(), "stock");
  s.stock = 1;
  s.per_buyer_limit = 0;
  EXPECT_EQ(Do(CreateDrop{s}, kT0).field(), "per_buyer_limit");
  s.per_buyer_limit = 1;
  s.pay_window = 0s;
  EXPECT_EQ(Do(CreateDrop{s}, kT0).field(), "pay_window_seconds");
  EXPECT_EQ(p_.drop_count(), 0u);
}

}  // namespace
}  // namespace thunder::engine

namespace thunder::engine {
namespace {

TEST(PartitionDropKeyTest, CreateDropWithTheSameKeyReturnsTheFirstDrop) {
  using namespace std::chrono_literals;
  Partition p(0);
  std::vector<Event> ev;
  DropSpec s{7, 100, 990, Timestamp{0s}, Timestamp{3600s}, 2, 900s};
  ASSERT_TRUE(p.Apply(CreateDrop{s, "launch-1"}, Timestamp{0s}, ev).ok());
  const uint64_t first = p.last_drop();
  ev.clear();
  ASSERT_TRUE(p.Apply(CreateDrop{s, "launch-1"}, Timestamp{1s}, ev).ok());
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(p.last_drop(), first);
  s.stock = 5;
  EXPECT_EQ(p.Apply(CreateDrop{s, "launch-1"}, Timestamp{1s}, ev).code(), "idempotency_key_reused");
  EXPECT_EQ(p.drop_count(), 1u);
}

// Memory follows the buyers who come, not the stock on offer: a drop of a billion units
// costs what a drop of one does.
TEST(PartitionMemoryTest, NoMemoryInProportionToStock) {
  using namespace std::chrono_literals;
  Partition p(0);
  std::vector<Event> ev;
  // Heap in use, large (mmapped) blocks included.
  auto in_use = [] { return mallinfo2().uordblks + mallinfo2().hblkhd; };
  const size_t before = in_use();
  for (int i = 0; i < 200; ++i) {
    DropSpec s{7 + i, kMaxStock, 990, Timestamp{0s}, Timestamp{3600s}, 2, 900s};
    ASSERT_TRUE(p.Apply(CreateDrop{s, "", "host:1"}, Timestamp{0s}, ev).ok());
  }
  const size_t grown = in_use() - before;
  EXPECT_LT(grown, 1u << 20) << grown << " bytes for 200 empty drops";
}

// Archiving forgets a drop, its orders and its keys.
TEST(PartitionMemoryTest, ArchivingForgetsTheDropAndItsOrders) {
  using namespace std::chrono_literals;
  Partition p(0);
  std::vector<Event> ev;
  DropSpec s{7, 10, 990, Timestamp{0s}, Timestamp{3600s}, 2, 900s};
  ASSERT_TRUE(p.Apply(CreateDrop{s, "key", "host:1"}, Timestamp{0s}, ev).ok());
  const uint64_t drop = p.last_drop();
  ASSERT_TRUE(p.Apply(Reserve{drop, "a", 1, "k"}, Timestamp{1s}, ev).ok());
  const uint64_t order = p.last_order();
  ASSERT_TRUE(p.Apply(Pay{order}, Timestamp{2s}, ev).ok());
  std::vector<uint64_t> due;
  p.DueArchives(Timestamp{3599s}, due);
  EXPECT_TRUE(due.empty());
  p.DueArchives(Timestamp{3600s}, due);
  ASSERT_EQ(due, std::vector<uint64_t>{drop});
  ASSERT_TRUE(p.Apply(ArchiveDrop{drop}, Timestamp{4000s}, ev).ok());
  EXPECT_EQ(p.drop_count(), 0u);
  EXPECT_EQ(p.order_count(), 0u);
  EXPECT_EQ(p.FindOrder(order), nullptr);
  // The key is free again: the same request makes a new drop.
  ASSERT_TRUE(p.Apply(CreateDrop{s, "key", "host:1"}, Timestamp{4001s}, ev).ok());
  EXPECT_NE(p.last_drop(), drop);
}

// Keys belong to whoever uses them: another caller's key, even for the same SKU, is
// another drop; the creator survives replay.
TEST(PartitionDropKeyTest, KeysAreScopedToTheCreator) {
  using namespace std::chrono_literals;
  Partition p(0);
  std::vector<Event> ev;
  DropSpec s{7, 100, 990, Timestamp{0s}, Timestamp{3600s}, 2, 900s};
  ASSERT_TRUE(p.Apply(CreateDrop{s, "launch-1", "host:1"}, Timestamp{0s}, ev).ok());
  const uint64_t first = p.last_drop();
  ASSERT_TRUE(p.Apply(CreateDrop{s, "launch-1", "host:2"}, Timestamp{0s}, ev).ok());
  EXPECT_NE(p.last_drop(), first);
  EXPECT_EQ(p.drop_count(), 2u);
  Partition replayed(0);
  for (const Event& e : ev) replayed.ApplyEvent(e);
  std::vector<Event> none;
  ASSERT_TRUE(replayed.Apply(CreateDrop{s, "launch-1", "host:1"}, Timestamp{1s}, none).ok());
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(replayed.last_drop(), first);
}

}  // namespace
}  // namespace thunder::engine
