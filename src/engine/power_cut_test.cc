// Power cuts at a thousand seeded points of a flash sale, in process: a FaultInjectionEnv
// stops the "machine" at the n-th file operation (a write, an fsync, a segment rotation, a
// snapshot's rename, a segment's removal), or fails one operation with EIO or ENOSPC and
// cuts the power later; the power cut keeps some unsynced pages, zeroes others and undoes
// directory changes no sync covered. After each recovery the test checks what clients were
// told, not the engine's own counters:
// - every acknowledged order is there, in a state reachable from the one acknowledged;
// - no reservation or payment that was refused, or answered 503 log_failed, is there;
// - no drop has more units held than clients could have been sold, and stock balances.
// THUNDER_POWER_CUTS sets the number of seeds (default 1000).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <set>

#include "core/fault_injection_env.h"
#include "core/test_dir.h"
#include "engine/crash_points.h"
#include "engine/engine.h"

namespace thunder::engine {
namespace {

using namespace std::chrono_literals;

const Timestamp kStart{1'800'000'000s};

struct AckedOrder {
  uint64_t drop = 0;
  int64_t quantity = 0;
  OrderState state = OrderState::kReserved;  // the last state a client was told
};

struct AckedDrop {
  int64_t stock = 0;
  bool expires = false;  // short pay window: units may return to it without a client knowing
};

class PowerCutTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Engine>> OpenEngine(Env& env, const std::string& dir) {
    EngineOptions o;
    o.dir = dir;
    o.partitions = 2;
    o.segment_bytes = 3 * 4096;  // rotate every few batches
    o.snapshot_every = 8;        // snapshot often
    o.expiry_tick = 1ms;
    return Engine::Open(env, clock_, o);
  }

  template <typename Fn>
  static Reply Wait(Fn submit) {
    return WaitForAnswer<Reply>(std::move(submit));
  }

  // One seed: a sale, a fault, a power cut, a recovery, the checks. False on a failure.
  bool RunSeed(uint64_t seed);

  TestDir tmp_{"power_cut"};
  ManualClock clock_;
};

bool PowerCutTest::RunSeed(uint64_t seed) {
  const std::string dir = tmp_.path() + "/" + std::to_string(seed);
  std::filesystem::remove_all(dir);
  std::mt19937_64 rng(seed);
  clock_.Set(kStart);
  FaultInjectionEnv env(Env::Default(), /*real_syncs=*/false);
  auto opened = OpenEngine(env, dir);
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().ToString();
    return false;
  }
  std::unique_ptr<Engine> engine = std::move(*opened);

  // Three in four seeds crash at a random operation; the others fail one operation and
  // go on answering until the power is cut at the end.
  const bool crash = rng() % 4 != 0;
  const auto fault =
      rng() % 2 ? FaultInjectionEnv::Fault::kIoError : FaultInjectionEnv::Fault::kNoSpace;
  env.FailOperation(1 + rng() % 300, fault, crash);

  std::map<uint64_t, AckedDrop> drops;
  std::map<uint64_t, AckedOrder> orders;
  std::vector<std::pair<std::string, std::string>> refused;  // (buyer, key)
  std::set<uint64_t> pay_refused;  // orders whose payment was refused or not logged
  std::set<uint64_t> pay_maybe;    // orders a payment of which may have been logged
  auto submit = [&](Command c) {
    return Wait([&](ReplyFn fn) { engine->Submit(std::move(c), std::move(fn)); });
  };

  for (int i = 0; i < 3; ++i) {
    const bool expires = i == 2;
    const int64_t stock = 3 + static_cast<int64_t>(rng() % 8);
    DropSpec spec{100 + i, stock, 990, kStart, kStart + 48h, 2, expires ? 1min : 24h};
    Reply r = submit(CreateDrop{spec, "d" + std::to_string(i), "host:1"});
    if (r.status.ok()) drops[r.drop->id] = {stock, expires};
  }
  std::vector<uint64_t> drop_ids;
  for (const auto& [id, d] : drops) drop_ids.push_back(id);
  std::vector<uint64_t> order_ids;
  for (int step = 0; step < 80 && !drop_ids.empty(); ++step) {
    const uint64_t roll = rng() % 10;
    if (roll < 5) {
      const uint64_t drop = drop_ids[rng() % drop_ids.size()];
      const std::string buyer = "b" + std::to_string(rng() % 12);
      const std::string key = "k" + std::to_string(step);
      const int64_t quantity = 1 + static_cast<int64_t>(rng() % 2);
      Reply r = submit(Reserve{drop, buyer, quantity, key});
      if (r.status.ok()) {
        orders[r.order->id] = {drop, quantity, OrderState::kReserved};
        order_ids.push_back(r.order->id);
      } else if (r.status.http_status() == 409 || r.status.code() == "log_failed") {
        // Refused, or certainly not logged (log_outcome_unknown is neither).
        refused.emplace_back(buyer, key);
      }
    } else if (roll < 9 && !order_ids.empty()) {
      const uint64_t id = order_ids[rng() % order_ids.size()];
      const OrderState to = roll < 7   ? OrderState::kPaid
                            : roll < 8 ? OrderState::kCancelled
                                       : OrderState::kRefunded;
      Reply r = to == OrderState::kPaid        ? submit(Pay{id})
                : to == OrderState::kCancelled ? submit(Cancel{id})
                                               : submit(Refund{id});
      if (r.status.ok()) {
        orders[id].state = to;
      } else if (to == OrderState::kPaid) {
        // Certainly refused, or maybe made (log_outcome_unknown): a later refusal of a
        // retry says nothing about an earlier attempt whose outcome is unknown.
        const bool refused_for_sure =
            r.status.http_status() == 409 || r.status.code() == "log_failed";
        (refused_for_sure ? pay_refused : pay_maybe).insert(id);
      }
    } else {
      clock_.Advance(std::chrono::seconds(20 + rng() % 60));
    }
  }
  engine.reset();
  if (Status s = env.SimulatePowerCut(seed); !s.ok()) {
    ADD_FAILURE() << s.ToString();
    return false;
  }

  // An ordinary crash must never look like damage.
  auto recovered = OpenEngine(env, dir);
  if (!recovered.ok()) {
    ADD_FAILURE() << "recovery refused after a power cut: " << recovered.status().ToString();
    return false;
  }
  engine = std::move(*recovered);
  bool ok = true;
  auto check = [&](bool condition, const std::string& what) {
    if (!condition) {
      ADD_FAILURE() << what;
      ok = false;
    }
  };
  std::map<uint64_t, int64_t> held_by_acks;  // units clients were told they hold, per drop
  for (const auto& [id, told] : orders) {
    const uint64_t order_id = id;  // a lambda cannot capture a structured binding (clang 14)
    Reply r = Wait([&](ReplyFn fn) { engine->GetOrder(order_id, std::move(fn)); });
    check(r.status.ok(), "acknowledged order " + std::to_string(id) + " is gone");
    if (!r.status.ok()) continue;
    check(Reachable(told.state, r.order->state),
          "order " + std::to_string(id) + " was acknowledged " + OrderStateName(told.state) +
              " and came back " + OrderStateName(r.order->state));
    // A payment answered with an error is not there: no paid order nobody was told of.
    if (pay_refused.count(order_id) > 0 && pay_maybe.count(order_id) == 0 &&
        told.state != OrderState::kPaid && told.state != OrderState::kRefunded) {
      check(r.order->state != OrderState::kPaid && r.order->state != OrderState::kRefunded,
            "order " + std::to_string(order_id) + " was refused its payment and came back " +
                OrderStateName(r.order->state));
    }
    if (told.state == OrderState::kReserved || told.state == OrderState::kPaid) {
      held_by_acks[told.drop] += told.quantity;
    }
  }
  for (const auto& [buyer, key] : refused) {
    auto p = std::make_shared<std::promise<Result<std::vector<Order>>>>();
    engine->BuyerOrders(buyer, [p](Result<std::vector<Order>> r) { p->set_value(std::move(r)); });
    auto mine = p->get_future().get();
    check(mine.ok(), "buyer orders: " + mine.status().ToString());
    if (!mine.ok()) continue;
    for (const Order& o : *mine) {
      check(o.idempotency_key != key,
            "a reservation refused to " + buyer + " (key " + key + ") is present");
    }
  }
  for (const auto& [id, d] : drops) {
    const uint64_t drop_id = id;
    Reply r = Wait([&](ReplyFn fn) { engine->GetDrop(drop_id, std::move(fn)); });
    check(r.status.ok(), "acknowledged drop " + std::to_string(id) + " is gone");
    if (!r.status.ok()) continue;
    const Drop& found = *r.drop;
    check(found.total == d.stock, "drop total changed");
    check(found.remaining >= 0 && found.remaining + found.reserved + found.paid == found.total,
          "drop " + std::to_string(id) + " does not balance");
    // Units no client was told they lost can only return through expiry.
    if (!d.expires) {
      check(held_by_acks[id] <= d.stock, "clients of drop " + std::to_string(id) + " were sold " +
                                             std::to_string(held_by_acks[id]) + " units of " +
                                             std::to_string(d.stock));
    }
  }
  // And the engine goes on selling.
  if (!drop_ids.empty()) {
    Reply r = submit(Reserve{drop_ids[0], "after", 1, "after"});
    check(r.status.ok() || r.status.code() == "sold_out" || r.status.code() == "limit_exceeded",
          "after recovery: " + r.status.ToString());
  }
  engine.reset();
  std::filesystem::remove_all(dir);
  return ok;
}

TEST_F(PowerCutTest, EveryAcknowledgementSurvivesAThousandCrashPoints) {
  // THUNDER_POWER_CUT_SEED replays one seed.
  ForEachSeed("THUNDER_POWER_CUTS", "THUNDER_POWER_CUT_SEED", 1000,
              [this](uint64_t seed) { return RunSeed(seed); });
}

}  // namespace
}  // namespace thunder::engine
