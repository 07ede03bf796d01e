#include "engine/event_codec.h"

#include <gtest/gtest.h>

namespace thunder::engine {
namespace {

using namespace std::chrono_literals;

TEST(EventCodecTest, EveryEventTypeRoundTrips) {
  Event created;
  created.type = EventType::kDropCreated;
  created.at = Timestamp{1'800'000'000s};
  created.drop_id = MakeId(7, 1);
  created.spec = {42, 1000, 1990, Timestamp{1'800'000'100s}, Timestamp{1'800'003'700s}, 2, 15min};
  Event reserved;
  reserved.type = EventType::kOrderReserved;
  reserved.at = Timestamp{1'800'000'200s};
  reserved.order_id = MakeId(9, 1);
  reserved.drop_id = created.drop_id;
  reserved.buyer = "买家-1";
  reserved.idempotency_key = "key";
  reserved.quantity = 2;
  reserved.amount_fen = 3980;
  reserved.pay_by = Timestamp{1'800'001'100s};
  Event paid;
  paid.type = EventType::kOrderPaid;
  paid.at = Timestamp{1'800'000'300s};
  paid.order_id = reserved.order_id;
  paid.drop_id = created.drop_id;
  Event restocked;
  restocked.type = EventType::kDropRestocked;
  restocked.drop_id = created.drop_id;
  restocked.quantity = 50;
  Event archived;
  archived.type = EventType::kDropArchived;
  archived.drop_id = created.drop_id;
  Event issued;
  issued.type = EventType::kIdsIssued;
  issued.drop_id = created.drop_id;
  issued.order_id = reserved.order_id;
  for (const Event& e : {created, reserved, paid, restocked, archived, issued}) {
    std::string bytes;
    EncodeEvent(e, bytes);
    auto back = DecodeEvent(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, e);
    // Any cut is refused, never misread.
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(DecodeEvent(std::string_view(bytes).substr(0, cut)).ok());
    }
    EXPECT_FALSE(DecodeEvent(bytes + "x").ok());
  }
  EXPECT_EQ(DecodeEvent("\x0a").status().code(), "bad_event");
}

TEST(EventCodecTest, SnapshotEventsRebuildThePartition) {
  Partition p(0);
  std::vector<Event> ev;
  DropSpec s{1, 5, 100, Timestamp{0s}, Timestamp{1000s}, 5, 60s};
  ASSERT_TRUE(p.Apply(CreateDrop{s}, Timestamp{0s}, ev).ok());
  const uint64_t drop = ev[0].drop_id;
  ASSERT_TRUE(p.Apply(Restock{drop, 3}, Timestamp{1s}, ev).ok());
  std::vector<uint64_t> orders;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(p.Apply(Reserve{drop, "b" + std::to_string(i), 1, "k"}, Timestamp{2s}, ev).ok());
    orders.push_back(p.last_order());
  }
  ASSERT_TRUE(p.Apply(Pay{orders[0]}, Timestamp{3s}, ev).ok());
  ASSERT_TRUE(p.Apply(Pay{orders[1]}, Timestamp{3s}, ev).ok());
  ASSERT_TRUE(p.Apply(Refund{orders[1]}, Timestamp{4s}, ev).ok());
  ASSERT_TRUE(p.Apply(Cancel{orders[2]}, Timestamp{5s}, ev).ok());
  ASSERT_TRUE(p.Apply(Expire{orders[3]}, Timestamp{100s}, ev).ok());

  Partition copy(0);
  for (const Event& e : SnapshotEvents(p)) copy.ApplyEvent(e);
  const Drop* a = p.FindDrop(drop);
  const Drop* b = copy.FindDrop(drop);
  EXPECT_EQ(std::tie(a->total, a->remaining, a->reserved, a->paid),
            std::tie(b->total, b->remaining, b->reserved, b->paid));
  for (uint64_t id : orders) {
    EXPECT_EQ(p.FindOrder(id)->state, copy.FindOrder(id)->state);
    EXPECT_EQ(p.FindOrder(id)->paid_at, copy.FindOrder(id)->paid_at);
  }
  // The copy keeps idempotency keys and ids going where the original left off.
  std::vector<Event> more;
  ASSERT_TRUE(copy.Apply(Reserve{drop, "b4", 1, "k"}, Timestamp{6s}, more).ok());
  EXPECT_EQ(copy.last_order(), orders[4]);
  ASSERT_TRUE(copy.Apply(Reserve{drop, "new", 1, "k"}, Timestamp{6s}, more).ok());
  EXPECT_GT(copy.last_order(), orders[4]);
}

}  // namespace
}  // namespace thunder::engine
