// Random command sequences, thousands of seeds, against a deliberately simple reference
// model. After every step the promises hold: remaining + reserved + paid = total,
// remaining >= 0, no buyer over its limit, one order per idempotency key; and the events
// replayed into a fresh partition rebuild the same state.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "engine/partition.h"

namespace thunder::engine {
namespace {

using namespace std::chrono_literals;

// The order a Pay, Cancel, Refund or Expire is about (0 for other commands).
uint64_t OrderIdOf(const Command& cmd) {
  return std::visit(
      [](const auto& c) -> uint64_t {
        if constexpr (requires { c.order_id; }) {
          return c.order_id;
        } else {
          return 0;
        }
      },
      cmd);
}

// The reference: lists and linear scans, written from the rules, not from the engine.
struct ModelOrder {
  uint64_t id;
  uint64_t drop;
  std::string buyer;
  std::string key;
  int64_t qty;
  Timestamp pay_by;
  OrderState state;
};
struct ModelDrop {
  DropSpec spec;
  int64_t total;
};
struct Model {
  std::map<uint64_t, ModelDrop> drops;
  std::vector<ModelOrder> orders;

  ModelOrder* Find(uint64_t id) {
    for (auto& o : orders) {
      if (o.id == id) return &o;
    }
    return nullptr;
  }
  static bool Holds(OrderState s) { return s == OrderState::kReserved || s == OrderState::kPaid; }
  int64_t Held(uint64_t drop) const {
    int64_t n = 0;
    for (const auto& o : orders) n += o.drop == drop && Holds(o.state) ? o.qty : 0;
    return n;
  }
  int64_t HeldBy(uint64_t drop, const std::string& buyer) const {
    int64_t n = 0;
    for (const auto& o : orders)
      n += o.drop == drop && o.buyer == buyer && Holds(o.state) ? o.qty : 0;
    return n;
  }
  // The code the rules give for a command ("ok" when accepted).
  std::string Expect(const Command& cmd, Timestamp now) {
    if (const auto* r = std::get_if<Reserve>(&cmd)) {
      auto d = drops.find(r->drop_id);
      if (d == drops.end()) return "drop_not_found";
      for (const auto& o : orders) {
        if (o.drop == r->drop_id && o.buyer == r->buyer && o.key == r->idempotency_key) {
          return o.qty == r->quantity ? "ok" : "idempotency_key_reused";
        }
      }
      if (now < d->second.spec.start) return "drop_not_started";
      if (now >= d->second.spec.end) return "drop_ended";
      if (d->second.total - Held(r->drop_id) < r->quantity) return "sold_out";
      if (HeldBy(r->drop_id, r->buyer) + r->quantity > d->second.spec.per_buyer_limit) {
        return "limit_exceeded";
      }
      return "ok";
    }
    ModelOrder* o = Find(OrderIdOf(cmd));
    if (o == nullptr) return "order_not_found";
    if (o->state == OrderState::kReserved && now >= o->pay_by) {
      return std::holds_alternative<Expire>(cmd) ? "ok" : "order_expired";
    }
    if (std::holds_alternative<Pay>(cmd)) {
      if (o->state == OrderState::kReserved || o->state == OrderState::kPaid) return "ok";
      return o->state == OrderState::kExpired ? "order_expired" : "invalid_state";
    }
    if (std::holds_alternative<Cancel>(cmd)) {
      return o->state == OrderState::kReserved || o->state == OrderState::kCancelled
                 ? "ok"
                 : "invalid_state";
    }
    if (std::holds_alternative<Refund>(cmd)) {
      return o->state == OrderState::kPaid || o->state == OrderState::kRefunded ? "ok"
                                                                                : "invalid_state";
    }
    return "ok";  // Expire
  }
  // Moves the model as the rules say an accepted (or expiring) command does.
  void Advance(const Command& cmd, Timestamp now, uint64_t new_order) {
    if (const auto* r = std::get_if<Reserve>(&cmd)) {
      if (Find(new_order) == nullptr) {
        orders.push_back({new_order, r->drop_id, r->buyer, r->idempotency_key, r->quantity,
                          now + drops.at(r->drop_id).spec.pay_window, OrderState::kReserved});
      }
      return;
    }
    ModelOrder* o = Find(OrderIdOf(cmd));
    if (o == nullptr) return;
    if (o->state == OrderState::kReserved && now >= o->pay_by) {
      o->state = OrderState::kExpired;
      return;
    }
    if (std::holds_alternative<Pay>(cmd) && o->state == OrderState::kReserved)
      o->state = OrderState::kPaid;
    if (std::holds_alternative<Cancel>(cmd) && o->state == OrderState::kReserved) {
      o->state = OrderState::kCancelled;
    }
    if (std::holds_alternative<Refund>(cmd) && o->state == OrderState::kPaid)
      o->state = OrderState::kRefunded;
  }
};

void CheckInvariants(const Partition& p, const Model& m, uint64_t seed, int step) {
  p.ForEach(
      [&](const Drop& d) {
        ASSERT_EQ(d.remaining + d.reserved + d.paid, d.total)
            << "seed " << seed << " step " << step;
        ASSERT_GE(d.remaining, 0) << "seed " << seed << " step " << step;
        ASSERT_EQ(d.total, m.drops.at(d.id).total);
        ASSERT_EQ(d.total - d.remaining, m.Held(d.id)) << "seed " << seed << " step " << step;
      },
      [&](const Order&) {});
  std::map<std::pair<uint64_t, std::string>, int64_t> held;
  std::map<std::tuple<uint64_t, std::string, std::string>, int> keys;
  for (const auto& o : m.orders) {
    const Order* real = p.FindOrder(o.id);
    ASSERT_NE(real, nullptr);
    ASSERT_EQ(real->state, o.state) << "seed " << seed << " step " << step << " order " << o.id;
    if (Model::Holds(o.state)) held[{o.drop, o.buyer}] += o.qty;
    const int uses = ++keys[std::make_tuple(o.drop, o.buyer, o.key)];
    ASSERT_EQ(uses, 1) << "two orders for one key, seed " << seed;
  }
  for (const auto& [k, n] : held) {
    ASSERT_LE(n, m.drops.at(k.first).spec.per_buyer_limit) << "buyer over limit, seed " << seed;
  }
  ASSERT_EQ(p.order_count(), m.orders.size());
}

void RunSeed(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Partition p(static_cast<uint32_t>(seed % 4));
  Model m;
  std::vector<Event> log;
  std::vector<uint64_t> drops;
  Timestamp now{std::chrono::seconds(1'800'000'000)};

  for (int step = 0; step < 150; ++step) {
    now += std::chrono::seconds(pick(0, 40));
    const int64_t kind = pick(0, 99);
    // Built by a lambda: reassigning a default-constructed variant trips a false
    // -Wfree-nonheap-object in GCC 12.
    const Command cmd = [&]() -> Command {
      if (drops.empty() || kind < 4) {
        DropSpec s;
        s.sku_id = pick(1, 5);
        s.stock = pick(0, 12);
        s.price_fen = pick(0, 5000);
        s.start = now + std::chrono::seconds(pick(-60, 60));
        s.end = s.start + std::chrono::seconds(pick(60, 1200));
        s.per_buyer_limit = pick(1, 4);
        s.pay_window = std::chrono::seconds(pick(30, 300));
        return CreateDrop{s};
      } else if (kind < 55) {
        return Reserve{drops[pick(0, static_cast<int64_t>(drops.size()) - 1)] + (pick(0, 30) == 0),
                       "buyer" + std::to_string(pick(1, 6)), pick(1, 3),
                       "key" + std::to_string(pick(1, 8))};
      } else if (kind < 62) {
        return Restock{drops[pick(0, static_cast<int64_t>(drops.size()) - 1)], pick(1, 3)};
      } else {
        uint64_t id = m.orders.empty() || pick(0, 20) == 0
                          ? MakeId(pick(1, 999), p.index())
                          : m.orders[pick(0, static_cast<int64_t>(m.orders.size()) - 1)].id;
        switch (pick(0, 3)) {
          case 0:
            return Pay{id};
          case 1:
            return Cancel{id};
          case 2:
            return Refund{id};
          default:
            return Expire{id};
        }
      }
    }();
    const std::string expected =
        std::holds_alternative<CreateDrop>(cmd) || std::holds_alternative<Restock>(cmd)
            ? "ok"
            : m.Expect(cmd, now);
    std::vector<Event> events;
    Status s = p.Apply(cmd, now, events);
    ASSERT_EQ(s.ok() ? "ok" : s.code(), expected) << "seed " << seed << " step " << step;
    if (const auto* c = std::get_if<CreateDrop>(&cmd)) {
      drops.push_back(events.at(0).drop_id);
      m.drops[events[0].drop_id] = {c->spec, c->spec.stock};
    } else if (const auto* r = std::get_if<Restock>(&cmd)) {
      m.drops.at(r->drop_id).total += r->quantity;
    } else if (expected == "ok" || expected == "order_expired") {
      m.Advance(cmd, now, p.last_order());
    }
    log.insert(log.end(), events.begin(), events.end());

    // The timer's view agrees with the model: every due reserved order expires.
    std::vector<uint64_t> due;
    if (pick(0, 9) == 0) {
      p.DueExpiries(now, due);
      for (uint64_t id : due) {
        std::vector<Event> ev;
        ASSERT_TRUE(p.Apply(Expire{id}, now, ev).ok());
        m.Advance(Expire{id}, now, 0);
        log.insert(log.end(), ev.begin(), ev.end());
      }
    }
    CheckInvariants(p, m, seed, step);
    if (::testing::Test::HasFatalFailure()) return;
  }

  // Replaying the events rebuilds exactly the same drops and orders.
  Partition replay(p.index());
  for (const Event& e : log) replay.ApplyEvent(e);
  p.ForEach(
      [&](const Drop& d) {
        const Drop* r = replay.FindDrop(d.id);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(std::tie(r->total, r->remaining, r->reserved, r->paid),
                  std::tie(d.total, d.remaining, d.reserved, d.paid));
      },
      [&](const Order& o) {
        const Order* r = replay.FindOrder(o.id);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->state, o.state);
        EXPECT_EQ(r->amount_fen, o.amount_fen);
      });
}

TEST(PartitionPropertyTest, RandomSequencesKeepEveryPromise) {
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    RunSeed(seed);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace thunder::engine
