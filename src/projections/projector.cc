#include "projections/projector.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

namespace thunder::projections {
namespace {

constexpr const char* kName = "engine";

std::string Rfc(Timestamp t) { return FormatRfc3339(t); }

}  // namespace

std::string HourOf(Timestamp t) {
  return FormatRfc3339(std::chrono::floor<std::chrono::hours>(t)).substr(0, 19) + "Z";
}

Result<uint64_t> Projector::StoredSeq() {
  ASSIGN_OR_RETURN(auto r, store_.Query("SELECT seq FROM projection_state WHERE name = ?",
                                        {std::string(kName)}));
  return r.rows.empty() ? uint64_t{0} : static_cast<uint64_t>(AsInt(r.rows[0][0]));
}

engine::EventSink Projector::Sink() {
  return [this](uint64_t seq, const engine::Event& e) {
    {
      MutexLock lock(mu_);
      if (!failed_.ok()) return;  // stopped: the log keeps the event for the next start
      if (!started_ && queue_.size() >= options_.max_queued_events) {
        // Recovery hands over the log the projections have not stored yet, before the
        // thread starts: store a full queue right here, on the opening thread, so that
        // a long backlog is caught up instead of tripping the bound at every start.
        std::vector<std::pair<uint64_t, engine::Event>> batch;
        batch.swap(queue_);
        lock.Unlock();
        std::stable_sort(batch.begin(), batch.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        if (Status s = ApplyWithRetries(batch); !s.ok()) return Fail(std::move(s));
        MutexLock relock(mu_);
        stored_seq_ = std::max(stored_seq_, batch.back().first);
        queue_.emplace_back(seq, e);
        return;
      }
      if (queue_.size() >= options_.max_queued_events) {
        failed_ =
            Status(ErrorKind::kUnavailable, "projections_behind",
                   "the projections fell more than " + std::to_string(options_.max_queued_events) +
                       " events behind the engine; a restart catches up from the log");
        spdlog::error("projections stopped: {}", failed_.ToString());
        queue_.clear();
        queue_.shrink_to_fit();
        return;
      }
      queue_.emplace_back(seq, e);
    }
    wake_.NotifyOne();
  };
}

void Projector::Fail(Status why) {
  spdlog::error(
      "projections stopped: {}; a restart catches up from the log, or run "
      "'thunder admin rebuild-projections'",
      why.ToString());
  MutexLock lock(mu_);
  if (failed_.ok()) failed_ = std::move(why);
  queue_.clear();
  queue_.shrink_to_fit();
}

Status Projector::ApplyWithRetries(std::span<const std::pair<uint64_t, engine::Event>> batch) {
  const auto give_up = std::chrono::steady_clock::now() + options_.retry_for;
  auto pause = std::chrono::milliseconds(5);
  for (;;) {
    Status s = Apply(batch);
    // Only a busy or locked store is worth another try; anything else will fail again.
    if (s.ok() || s.code() != "store_busy" || std::chrono::steady_clock::now() >= give_up) {
      return s;
    }
    {
      MutexLock lock(mu_);
      ++retries_;
      if (!stop_) wake_.WaitFor(lock, pause);
      if (stop_) return s;
    }
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

void Projector::Start(std::function<void(uint64_t)> caught_up) {
  if (auto stored = StoredSeq(); stored.ok()) {
    MutexLock lock(mu_);
    stored_seq_ = *stored;
  }
  {
    MutexLock lock(mu_);
    started_ = true;
  }
  thread_ = std::thread([this, caught_up = std::move(caught_up)] {
    pthread_setname_np(pthread_self(), "thunder-proj");
    // Projections may lag; purchases may not. When the cores are busy, this thread yields
    // to the ones that answer clients, and catches up when the rush is over.
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    std::vector<std::pair<uint64_t, engine::Event>> batch;
    for (;;) {
      {
        MutexLock lock(mu_);
        while (queue_.empty() && !stop_) wake_.Wait(lock);
        if (queue_.empty()) return;
        batch.swap(queue_);
      }
      // Events from different partitions arrive in any order; store them in log order.
      std::stable_sort(batch.begin(), batch.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      if (Status s = ApplyWithRetries(batch); !s.ok()) return Fail(std::move(s));
      {
        MutexLock lock(mu_);
        stored_seq_ = std::max(stored_seq_, batch.back().first);
      }
      if (caught_up) caught_up(batch.back().first);
      batch.clear();
    }
  });
}

void Projector::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.NotifyOne();
  if (thread_.joinable()) thread_.join();
}

Status Projector::health() {
  MutexLock lock(mu_);
  return failed_;
}

ProjectorStats Projector::stats() {
  MutexLock lock(mu_);
  return {stored_seq_, queue_.size(), retries_};
}

Status Projector::Apply(std::span<const std::pair<uint64_t, engine::Event>> batch) {
  return store_.InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(const uint64_t stored, StoredSeq());
    uint64_t last = stored;
    for (const auto& [seq, e] : batch) {
      if (seq <= stored) continue;
      RETURN_IF_ERROR(ApplyOne(e));
      last = std::max(last, seq);
    }
    return store_.Exec(
        "INSERT INTO projection_state (name, seq) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
        {std::string(kName), static_cast<int64_t>(last)});
  });
}

Status Projector::ApplyOne(const engine::Event& e) {
  using engine::EventType;
  const auto id = static_cast<int64_t>(e.order_id);
  switch (e.type) {
    case EventType::kDropCreated:
      return store_.Exec(
          "INSERT OR REPLACE INTO drops (id, sku_id, price_fen, stock, starts_at, ends_at) "
          "VALUES (?, ?, ?, ?, ?, ?)",
          {static_cast<int64_t>(e.drop_id), e.spec.sku_id, e.spec.price_fen, e.spec.stock,
           Rfc(e.spec.start), Rfc(e.spec.end)});
    case EventType::kDropRestocked:
      return store_.Exec("UPDATE drops SET stock = stock + ? WHERE id = ?",
                         {e.quantity, static_cast<int64_t>(e.drop_id)});
    case EventType::kDropArchived:
      return Status::Ok();  // the engine forgets the drop; the store keeps its rows
    case EventType::kIdsIssued:
      return Status::Ok();  // the engine's own bookkeeping
    case EventType::kOrderReserved:
      return store_.Exec(
          "INSERT OR REPLACE INTO orders (id, drop_id, sku_id, buyer, quantity, amount_fen, state, "
          "created_at, pay_by, updated_at) VALUES (?, ?, "
          "COALESCE((SELECT sku_id FROM drops WHERE id = ?), 0), ?, ?, ?, 'reserved', ?, ?, ?)",
          {id, static_cast<int64_t>(e.drop_id), static_cast<int64_t>(e.drop_id), e.buyer,
           e.quantity, e.amount_fen, Rfc(e.at), Rfc(e.pay_by), Rfc(e.at)});
    case EventType::kOrderPaid:
    case EventType::kOrderCancelled:
    case EventType::kOrderExpired:
    case EventType::kOrderRefunded: {
      const char* state = e.type == EventType::kOrderPaid        ? "paid"
                          : e.type == EventType::kOrderCancelled ? "cancelled"
                          : e.type == EventType::kOrderExpired   ? "expired"
                                                                 : "refunded";
      RETURN_IF_ERROR(store_.Exec("UPDATE orders SET state = ?, updated_at = ? WHERE id = ?",
                                  {std::string(state), Rfc(e.at), id}));
      if (e.type == EventType::kOrderPaid) return AddGmv(id, e.at, false);
      if (e.type == EventType::kOrderRefunded) return AddGmv(id, e.at, true);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status Projector::AddGmv(int64_t order_id, Timestamp at, bool refund) {
  ASSIGN_OR_RETURN(auto order,
                   store_.Query("SELECT sku_id, amount_fen FROM orders WHERE id = ?", {order_id}));
  if (order.rows.empty())
    return Status::Internal("projected order missing: " + std::to_string(order_id));
  const int64_t sku = AsInt(order.rows[0][0]);
  const int64_t amount = AsInt(order.rows[0][1]);
  auto owner = sku_owner_.find(sku);
  if (owner == sku_owner_.end()) {
    ASSIGN_OR_RETURN(auto r, store_.Query("SELECT p.factory_id, f.belt_id FROM skus s "
                                          "JOIN products p ON p.id = s.product_id "
                                          "JOIN factories f ON f.id = p.factory_id WHERE s.id = ?",
                                          {sku}));
    const auto value = r.rows.empty() ? std::make_pair(int64_t{0}, int64_t{0})
                                      : std::make_pair(AsInt(r.rows[0][0]), AsInt(r.rows[0][1]));
    owner = sku_owner_.emplace(sku, value).first;
  }
  return store_.Exec(
      "INSERT INTO gmv_hourly (hour, sku_id, factory_id, belt_id, gmv_fen, paid_orders, "
      "refunded_orders) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hour, sku_id) DO UPDATE SET "
      "gmv_fen = gmv_fen + excluded.gmv_fen, paid_orders = paid_orders + excluded.paid_orders, "
      "refunded_orders = refunded_orders + excluded.refunded_orders",
      {HourOf(at), sku, owner->second.first, owner->second.second, refund ? -amount : amount,
       int64_t{refund ? 0 : 1}, int64_t{refund ? 1 : 0}});
}

Status Projector::Rebuild(const std::vector<engine::Event>& events, uint64_t as_of_seq) {
  return store_.InTransaction([&]() -> Status {
    for (const char* table : {"DELETE FROM orders", "DELETE FROM drops", "DELETE FROM gmv_hourly",
                              "DELETE FROM projection_state"}) {
      RETURN_IF_ERROR(store_.Exec(table));
    }
    // Drops first: orders look their SKU up in the drops table.
    for (const engine::Event& e : events) {
      if (e.type == engine::EventType::kDropCreated) RETURN_IF_ERROR(ApplyOne(e));
    }
    for (const engine::Event& e : events) {
      if (e.type != engine::EventType::kDropCreated) RETURN_IF_ERROR(ApplyOne(e));
    }
    return store_.Exec("INSERT INTO projection_state (name, seq) VALUES (?, ?)",
                       {std::string(kName), static_cast<int64_t>(as_of_seq)});
  });
}

}  // namespace thunder::projections
