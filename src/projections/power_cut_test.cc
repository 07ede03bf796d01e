// Power cuts under the engine and its projections together. Each seed runs a flash sale
// with the projector attached (small log segments and frequent snapshots, so segments
// rotate and are deleted on the projector's reported progress; now and then the sale
// pauses until the projections catch up), then cuts the power at a point drawn from the
// seed: the engine's FaultInjectionEnv stops the "machine" at its n-th file operation (a
// write, an fsync, a rotation, a snapshot's rename, a segment's removal), and the store's
// FaultVfs freezes at the moment of the cut, before the n-th statement the projector runs,
// or just before its n-th commit. Unsynced engine pages are kept, zeroed or dropped, and
// unsynced SQLite bytes are undone. After recovery (store, projector, then the engine from
// the stored progress, as the platform starts):
// - recovery never refuses: an ordinary crash is not damage; in particular the log still
//   holds every event the projections lack, so no segment went on progress a cut undid;
// - every acknowledged order is in the engine, in a state reachable from the one told;
// - the progress the store holds never passes the engine's durable log;
// - once caught up, the orders table holds exactly the engine's orders, in their states,
//   every drop it names is the engine's, and gmv_hourly adds up to the paid orders' amounts.
// The test also checks that its seeds reach these cases: some cuts fail a projector
// transaction, and some recoveries catch up from a log whose first segments were deleted.
// THUNDER_PROJECTION_POWER_CUTS sets the number of seeds (default 200);
// THUNDER_PROJECTION_POWER_CUT_SEED replays one (threads make the replay close, not exact).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
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
#include "projections/projector.h"
#include "store/fault_vfs.h"
#include "store/migrations.h"

namespace thunder::projections {
namespace {

using namespace std::chrono_literals;
using engine::OrderState;
using engine::Reachable;

const Timestamp kStart{1'800'000'000s};
constexpr int64_t kFirstSku = 100;
constexpr int kDrops = 3;
constexpr int kBuyers = 12;

std::string BuyerName(int i) { return "b" + std::to_string(i); }

// Where the store loses its power.
enum class StoreCut {
  kAtTheCut,         // with the engine, while the projector may be inside a commit
  kBeforeStatement,  // before the n-th statement: inside a projector transaction, mostly
  kBeforeCommit,     // after the n-th transaction's statements, so its COMMIT fails
};

// The store the projector writes through before the cut: it freezes the FaultVfs under
// `inner` at a chosen statement or commit, so that the cut lands inside a projector commit
// at a point the seed picks rather than wherever a thread happens to be.
class FreezingStore final : public Store {
 public:
  FreezingStore(Store& inner, FaultVfs& vfs, uint64_t freeze_before_statement,
                uint64_t freeze_before_commit)
      : inner_(inner),
        vfs_(vfs),
        freeze_before_statement_(freeze_before_statement),
        freeze_before_commit_(freeze_before_commit) {}

  using Store::Query;
  Result<QueryResult> Query(std::string_view sql, std::span<const SqlValue> params) override {
    if (++statements_ == freeze_before_statement_) Freeze();
    return inner_.Query(sql, params);
  }
  Status InTransaction(const std::function<Status()>& fn) override {
    return inner_.InTransaction([&]() -> Status {
      Status s = fn();
      if (++transactions_ == freeze_before_commit_) Freeze();
      return s;
    });
  }
  std::string_view Dialect() const override { return inner_.Dialect(); }

  void Freeze() { vfs_.Freeze(); }

 private:
  Store& inner_;
  FaultVfs& vfs_;
  const uint64_t freeze_before_statement_;  // 0: never
  const uint64_t freeze_before_commit_;     // 0: never
  std::atomic<uint64_t> statements_{0};
  std::atomic<uint64_t> transactions_{0};
};

// One running node: the store, the projector writing into it and the engine feeding it.
// Torn down in the only safe order, also when a check gives up early: the projector's
// callback reaches into the engine, and the engine's sink into the projector.
struct Node {
  std::unique_ptr<Store> store;
  std::unique_ptr<FreezingStore> freezing;  // before the cut: what the projector writes to
  std::unique_ptr<Projector> projector;
  std::unique_ptr<engine::Engine> engine;

  ~Node() { Stop(); }
  void Stop() {
    if (projector) projector->Stop();
    engine.reset();
    projector.reset();
    freezing.reset();
    store.reset();
  }
};

class ProjectionPowerCutTest : public ::testing::Test {
 protected:
  // The store as OpenStore makes it, but through the FaultVfs.
  Result<std::unique_ptr<Store>> OpenStoreThroughVfs(const std::string& path) {
    ASSIGN_OR_RETURN(auto store, OpenSqliteStore(path, SqliteOptions{true, vfs_.name()}));
    RETURN_IF_ERROR(ApplyMigrations(*store, clock_));
    return store;
  }
  // SKUs of factory 1 in belt 1, for the GMV roll-up.
  static Status AddSkus(Store& store) {
    for (const char* sql : {"INSERT INTO belts VALUES (1, 'Zhuji Datang socks', 'Zhejiang', "
                            "'Zhuji', 'socks', '', 't', 't')",
                            "INSERT INTO factories (id, name, belt_id, city, created_at, "
                            "updated_at) VALUES (1, 'F', 1, 'Zhuji', 't', 't')",
                            "INSERT INTO products (id, name, factory_id, category, created_at, "
                            "updated_at) VALUES (1, 'P', 1, 'socks', 't', 't')"}) {
      RETURN_IF_ERROR(store.Exec(sql));
    }
    for (int64_t i = 0; i < kDrops; ++i) {
      RETURN_IF_ERROR(store.Exec(
          "INSERT INTO skus (id, product_id, code, list_price_fen, created_at, updated_at) "
          "VALUES (?, 1, ?, 990, 't', 't')",
          {kFirstSku + i, "S" + std::to_string(i)}));
    }
    return Status::Ok();
  }
  // A migrated store with the SKUs, made once and closed (so it is one checkpointed file):
  // each seed starts from a copy instead of paying for the migrations' syncs again.
  const std::string& TemplateStore() {
    if (template_path_.empty()) {
      const std::string path = tmp_.path() + "/template.db";
      auto store = OpenStore(path);
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (store.ok()) {
        Status s = (*store)->InTransaction([&] { return AddSkus(**store); });
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
      store = Status::Ok();  // closes it: the last connection checkpoints and removes the WAL
      EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
      template_path_ = path;
    }
    return template_path_;
  }
  Result<std::unique_ptr<engine::Engine>> OpenEngine(Env& env, const std::string& dir,
                                                     Projector& projector) {
    engine::EngineOptions o;
    o.dir = dir;
    o.partitions = 2;
    o.segment_bytes = 3 * 4096;  // rotate every few batches
    o.snapshot_every = 8;        // snapshot often, so covered segments are deleted
    o.expiry_tick = 1ms;
    ASSIGN_OR_RETURN(o.sink_from_seq, projector.StoredSeq());
    return engine::Engine::Open(env, clock_, o, projector.Sink());
  }
  static void StartProjector(Projector& projector, engine::Engine& engine) {
    engine::Engine* e = &engine;
    projector.Start([e](uint64_t seq) { e->ConsumerCaughtUp(seq); });
  }

  template <typename T, typename Fn>
  static T Wait(Fn submit) {
    return engine::WaitForAnswer<T>(std::move(submit));
  }

  // One seed: a sale, a power cut, a recovery, the checks. False on a failure.
  bool RunSeed(uint64_t seed);

  // How many seeds reached the cases this test exists for.
  struct Coverage {
    uint64_t seeds = 0;
    uint64_t projector_commit_cut = 0;  // the cut failed a projector transaction
    uint64_t segments_deleted = 0;      // the log's first segment was gone after the cut
    uint64_t caught_up_from_log = 0;    // recovery replayed events the store had lost or
                                        // never got, from a log whose old segments were gone
  } coverage_;

  TestDir tmp_{"projection_power_cut"};
  std::string template_path_;
  ManualClock clock_;
  FaultVfs vfs_{"thunder_fault_projection_power_cut_test"};
};

bool ProjectionPowerCutTest::RunSeed(uint64_t seed) {
  const std::string dir = tmp_.path() + "/" + std::to_string(seed);
  const std::string db_path = dir + "/thunder.db";
  const std::string engine_dir = dir + "/engine";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(seed);
  clock_.Set(kStart);
  bool ok = true;
  auto check = [&](bool condition, const std::string& what) {
    if (!condition) {
      ADD_FAILURE() << what;
      ok = false;
    }
    return condition;
  };

  FaultInjectionEnv env(Env::Default(), /*real_syncs=*/false);
  Node node;  // after env: the engine calls into it until it is gone
  // A copy of the migrated store: files the FaultVfs has not seen yet count as synced.
  std::filesystem::copy_file(TemplateStore(), db_path);
  auto opened_store = OpenStoreThroughVfs(db_path);
  if (!check(opened_store.ok(), "open store: " + opened_store.status().ToString())) return false;
  node.store = std::move(*opened_store);

  const auto store_cut = static_cast<StoreCut>(rng() % 3);
  const uint64_t statement = 1 + rng() % 60;
  const uint64_t commit = 1 + rng() % 8;
  node.freezing = std::make_unique<FreezingStore>(
      *node.store, vfs_, store_cut == StoreCut::kBeforeStatement ? statement : 0,
      store_cut == StoreCut::kBeforeCommit ? commit : 0);
  node.projector = std::make_unique<Projector>(*node.freezing);
  auto opened = OpenEngine(env, engine_dir, *node.projector);
  if (!check(opened.ok(), "open engine: " + opened.status().ToString())) return false;
  node.engine = std::move(*opened);
  StartProjector(*node.projector, *node.engine);
  // Most seeds stop the engine's machine at a random file operation; the rest run the
  // whole sale and lose the power at its end.
  if (rng() % 4 != 0) {
    const auto fault =
        rng() % 2 ? FaultInjectionEnv::Fault::kIoError : FaultInjectionEnv::Fault::kNoSpace;
    env.FailOperation(1 + rng() % 300, fault, /*crash=*/true);
  }

  // The sale; what clients were told.
  std::map<uint64_t, OrderState> acked_orders;
  std::set<uint64_t> acked_drops;
  auto submit = [&](engine::Command c) {
    return Wait<engine::Reply>(
        [&](engine::ReplyFn fn) { node.engine->Submit(std::move(c), std::move(fn)); });
  };
  for (int i = 0; i < kDrops; ++i) {
    const bool expires = i == 2;  // a short pay window: some orders expire
    const int64_t stock = 3 + static_cast<int64_t>(rng() % 8);
    engine::DropSpec spec{kFirstSku + i, stock, 990, kStart, kStart + 48h, 2, expires ? 1min : 24h};
    engine::Reply r = submit(engine::CreateDrop{spec, "d" + std::to_string(i), "host:1"});
    if (r.status.ok()) acked_drops.insert(r.drop->id);
  }
  const std::vector<uint64_t> drop_ids(acked_drops.begin(), acked_drops.end());
  std::vector<uint64_t> order_ids;
  for (int step = 0; step < 80 && !drop_ids.empty(); ++step) {
    const uint64_t roll = rng() % 10;
    if (roll < 5) {
      const uint64_t drop = drop_ids[rng() % drop_ids.size()];
      const std::string buyer = BuyerName(static_cast<int>(rng() % kBuyers));
      const int64_t quantity = 1 + static_cast<int64_t>(rng() % 2);
      engine::Reply r = submit(engine::Reserve{drop, buyer, quantity, "k" + std::to_string(step)});
      if (r.status.ok()) {
        acked_orders[r.order->id] = OrderState::kReserved;
        order_ids.push_back(r.order->id);
      }
    } else if (roll < 9 && !order_ids.empty()) {
      const uint64_t id = order_ids[rng() % order_ids.size()];
      const OrderState to = roll < 7   ? OrderState::kPaid
                            : roll < 8 ? OrderState::kCancelled
                                       : OrderState::kRefunded;
      engine::Reply r = to == OrderState::kPaid        ? submit(engine::Pay{id})
                        : to == OrderState::kCancelled ? submit(engine::Cancel{id})
                                                       : submit(engine::Refund{id});
      if (r.status.ok()) acked_orders[id] = to;
    } else if (rng() % 2 == 0) {
      clock_.Advance(std::chrono::seconds(20 + rng() % 60));
    } else {
      // A quiet moment: the projections catch up and report it, so the engine deletes the
      // segments its snapshots cover even on a machine too busy for the low-priority
      // projector to keep pace otherwise.
      const auto give_up = std::chrono::steady_clock::now() + 1s;
      while (node.projector->health().ok() &&
             node.projector->stats().stored_seq < node.engine->durable_seq() &&
             std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
    }
  }

  // The power cut: both disks stop at once, then every thread is stopped and the files
  // are put back to what the disks would hold.
  node.freezing->Freeze();
  env.FailOperation(1, FaultInjectionEnv::Fault::kIoError, /*crash=*/true);
  node.projector->Stop();
  const bool projector_commit_cut = !node.projector->health().ok();
  node.Stop();
  if (Status s = env.SimulatePowerCut(seed); !check(s.ok(), s.ToString())) return false;
  if (Status s = vfs_.PowerCut(); !check(s.ok(), s.ToString())) return false;
  const bool segments_deleted = !std::filesystem::exists(engine_dir + "/wal-000000000001.log");

  // Recovery, as the platform starts: store, projector, engine from the stored progress.
  opened_store = OpenStoreThroughVfs(db_path);
  if (!check(opened_store.ok(), "reopen store: " + opened_store.status().ToString())) {
    return false;
  }
  node.store = std::move(*opened_store);
  Store& store = *node.store;
  node.projector = std::make_unique<Projector>(store);
  Projector& projector = *node.projector;
  const auto stored_before = projector.StoredSeq();
  if (!check(stored_before.ok(), stored_before.status().ToString())) return false;
  opened = OpenEngine(env, engine_dir, projector);
  if (!check(opened.ok(), "recovery refused after a power cut: " + opened.status().ToString())) {
    return false;
  }
  node.engine = std::move(*opened);
  engine::Engine& engine = *node.engine;
  check(*stored_before <= engine.durable_seq(),
        "the projections hold record " + std::to_string(*stored_before) +
            " but the engine's log ends at " + std::to_string(engine.durable_seq()));
  StartProjector(projector, engine);
  ++coverage_.seeds;
  coverage_.projector_commit_cut += projector_commit_cut;
  coverage_.segments_deleted += segments_deleted;
  coverage_.caught_up_from_log += segments_deleted && *stored_before < engine.durable_seq();

  for (const auto& [id, told] : acked_orders) {
    const uint64_t order_id = id;  // a lambda cannot capture a structured binding (clang 14)
    engine::Reply r =
        Wait<engine::Reply>([&](engine::ReplyFn fn) { engine.GetOrder(order_id, std::move(fn)); });
    if (!check(r.status.ok(),
               "acknowledged order " + std::to_string(id) + " is gone: " + r.status.ToString())) {
      continue;
    }
    check(Reachable(told, r.order->state), "order " + std::to_string(id) + " was acknowledged " +
                                               OrderStateName(told) + " and came back " +
                                               OrderStateName(r.order->state));
  }

  // Caught up: the store's progress equals the durable log's end, and stays there while
  // both sides are read (an expiry the cut undid may be logged again after recovery).
  std::map<uint64_t, engine::Order> engine_orders;
  std::map<uint64_t, std::string> projected_orders;
  bool settled = false;
  for (int attempt = 0; attempt < 5000 && !settled; ++attempt) {
    // In this order: the log may grow (expiries) between the two reads, never shrink.
    const auto stored = projector.StoredSeq();
    if (!check(stored.ok(), stored.status().ToString())) return false;
    const uint64_t target = engine.durable_seq();
    if (!check(*stored <= target, "the projections passed the durable log: " +
                                      std::to_string(*stored) + " > " + std::to_string(target)) ||
        !check(projector.health().ok(), "projector: " + projector.health().ToString())) {
      return false;
    }
    if (*stored < target) {
      std::this_thread::sleep_for(2ms);
      continue;
    }
    engine_orders.clear();
    for (int b = 0; b < kBuyers; ++b) {
      auto mine = Wait<Result<std::vector<engine::Order>>>(
          [&](auto fn) { engine.BuyerOrders(BuyerName(b), std::move(fn)); });
      if (!check(mine.ok(), "buyer orders: " + mine.status().ToString())) return false;
      for (engine::Order& o : *mine) engine_orders[o.id] = std::move(o);
    }
    auto rows = store.Query("SELECT id, state FROM orders");
    if (!check(rows.ok(), rows.status().ToString())) return false;
    projected_orders.clear();
    for (const auto& row : rows->rows) {
      projected_orders[static_cast<uint64_t>(AsInt(row[0]))] = AsText(row[1]);
    }
    settled = engine.durable_seq() == target && *projector.StoredSeq() == target;
  }
  if (!check(settled, "the projections never caught up with the log")) return false;

  // The orders table is the engine's orders, no more, no less.
  int64_t paid_fen = 0;
  for (const auto& [id, order] : engine_orders) {
    if (order.state == OrderState::kPaid) paid_fen += order.amount_fen;
    auto row = projected_orders.find(id);
    if (!check(row != projected_orders.end(),
               "order " + std::to_string(id) + " is in the engine but not in the orders table")) {
      continue;
    }
    check(row->second == OrderStateName(order.state),
          "order " + std::to_string(id) + " is " + OrderStateName(order.state) +
              " in the engine but " + row->second + " in the orders table");
  }
  for (const auto& [id, state] : projected_orders) {
    check(engine_orders.contains(id), "the orders table holds order " + std::to_string(id) + " (" +
                                          state + "), which the engine does not have");
  }
  // Every payment adds its amount and every refund takes it back: the total is what the
  // orders that stay paid brought in.
  auto gmv = store.Query("SELECT COALESCE(SUM(gmv_fen), 0) FROM gmv_hourly");
  if (check(gmv.ok(), gmv.status().ToString())) {
    check(AsInt(gmv->rows[0][0]) == paid_fen,
          "gmv_hourly adds up to " + std::to_string(AsInt(gmv->rows[0][0])) +
              " fen, the engine's paid orders to " + std::to_string(paid_fen));
  }
  // Every projected drop is the engine's, and every acknowledged drop is projected.
  auto drops = store.Query("SELECT id, stock FROM drops");
  if (check(drops.ok(), drops.status().ToString())) {
    std::set<uint64_t> projected_drops;
    for (const auto& row : drops->rows) {
      const auto id = static_cast<uint64_t>(AsInt(row[0]));
      projected_drops.insert(id);
      engine::Reply r =
          Wait<engine::Reply>([&](engine::ReplyFn fn) { engine.GetDrop(id, std::move(fn)); });
      if (check(r.status.ok(), "the drops table holds drop " + std::to_string(id) +
                                   ", which the engine does not have")) {
        check(r.drop->total == AsInt(row[1]), "drop " + std::to_string(id) + " stock differs");
      }
    }
    for (uint64_t id : acked_drops) {
      check(projected_drops.contains(id),
            "acknowledged drop " + std::to_string(id) + " is not in the drops table");
    }
  }

  node.Stop();
  std::filesystem::remove_all(dir);
  return ok;
}

TEST_F(ProjectionPowerCutTest, ProjectionsFollowTheLogThroughPowerCuts) {
  engine::ForEachSeed("THUNDER_PROJECTION_POWER_CUTS", "THUNDER_PROJECTION_POWER_CUT_SEED", 200,
                      [this](uint64_t seed) { return RunSeed(seed); });
  std::printf(
      "%llu seeds: %llu cut a projector transaction, %llu lost log segments to "
      "deletion, %llu of those caught the projections up from the rest of the log\n",
      static_cast<unsigned long long>(coverage_.seeds),
      static_cast<unsigned long long>(coverage_.projector_commit_cut),
      static_cast<unsigned long long>(coverage_.segments_deleted),
      static_cast<unsigned long long>(coverage_.caught_up_from_log));
  // A test that stopped reaching these cases would pass without proving anything.
  if (coverage_.seeds >= 100) {
    EXPECT_GT(coverage_.projector_commit_cut, 0u);
    EXPECT_GT(coverage_.caught_up_from_log, 0u);
  }
}

}  // namespace
}  // namespace thunder::projections
