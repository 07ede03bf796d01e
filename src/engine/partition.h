// Partition: the single-writer state machine that owns some drops and their orders.
// Apply(command, now) checks a command against the state and, when it is accepted, emits
// the events that record it and applies them; ApplyEvent() is the only code that changes
// state, so replaying a log rebuilds exactly the state that wrote it. Deterministic: the
// same commands at the same times give the same events and ids.
// Not thread-safe: one thread (or strand) owns a partition at a time.
#pragma once

#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "engine/types.h"

namespace thunder::engine {

class Partition {
 public:
  explicit Partition(uint32_t index) : index_(index) {}

  // Checks and applies one command. Accepted commands append their events to `events`.
  // A rejection is a non-OK Status; it may still emit events (a payment that arrives after
  // its pay-by time expires the order and is refused). A Reserve that repeats an
  // idempotency key emits nothing and reports the original order through last_order().
  Status Apply(const Command& command, Timestamp now, std::vector<Event>& events);

  // Applies a recorded event: used by Apply() and by recovery.
  void ApplyEvent(const Event& event);

  // The order a Reserve, Pay, Cancel or Refund was about (also when it was refused for its
  // state), or 0.
  uint64_t last_order() const { return last_order_; }
  // The drop a CreateDrop, Reserve or Restock was about (also a replayed create), or 0.
  uint64_t last_drop() const { return last_drop_; }

  // Orders whose pay-by time has passed and that are still reserved, earliest first.
  void DueExpiries(Timestamp now, std::vector<uint64_t>& out);
  // Drops that ended at or before `ended_by` and hold no reserved order: ready to archive.
  void DueArchives(Timestamp ended_by, std::vector<uint64_t>& out);

  const Drop* FindDrop(uint64_t id) const;
  const Order* FindOrder(uint64_t id) const;
  uint32_t index() const { return index_; }
  // The newest ids this partition issued (0 when none), archived ones included.
  uint64_t last_issued_drop() const {
    return next_drop_seq_ > 1 ? MakeId(next_drop_seq_ - 1, index_) : 0;
  }
  uint64_t last_issued_order() const {
    return next_order_seq_ > 1 ? MakeId(next_order_seq_ - 1, index_) : 0;
  }
  size_t drop_count() const { return drops_.size(); }
  size_t order_count() const { return orders_.size(); }

  // Visits every drop and order, for snapshots and checks.
  template <typename DropFn, typename OrderFn>
  void ForEach(DropFn&& on_drop, OrderFn&& on_order) const {
    for (const auto& [id, d] : drops_) on_drop(d.drop);
    for (const auto& [id, o] : orders_) on_order(o);
  }
  // The ids of every order of a drop.
  std::vector<uint64_t> OrderIdsOf(uint64_t drop_id) const;
  // Every order `buyer` has placed here: a lookup per drop, not a scan of all orders.
  std::vector<const Order*> OrdersOf(const std::string& buyer) const;
  // The idempotency key an order was created with ("" when it had none).
  std::string_view KeyOf(uint64_t order_id) const;
  // The idempotency key a drop was created with and who created it.
  std::pair<std::string_view, std::string_view> DropKeyOf(uint64_t drop_id) const;

 private:
  struct DropState {
    Drop drop;
    // One entry per buyer: one hash lookup answers both the limit and the retry checks.
    struct BuyerState {
      int64_t held = 0;  // units reserved or paid in this drop
      // The idempotency key and order of the buyer's first order inline (almost every buyer
      // has one), the rest in `more`: one allocation fewer on the hot path.
      std::string first_key;
      uint64_t first_order = 0;
      std::vector<std::pair<std::string, uint64_t>> more;
    };
    std::unordered_map<std::string, BuyerState> buyers;
  };

  Status ApplyCreate(const CreateDrop& c, Timestamp now, std::vector<Event>& events);
  Status ApplyReserve(const Reserve& c, Timestamp now, std::vector<Event>& events);
  Status ApplyOrderChange(uint64_t order_id, EventType type, Timestamp now,
                          std::vector<Event>& events);
  Status ApplyRestock(const Restock& c, Timestamp now, std::vector<Event>& events);
  Status ApplyArchive(const ArchiveDrop& c, Timestamp now, std::vector<Event>& events);
  void Forget(DropState& d);
  void Emit(Event e, std::vector<Event>& events);
  void ReleaseStock(DropState& d, const Order& o, bool was_paid);

  uint32_t index_;
  uint64_t next_drop_seq_ = 1;
  uint64_t next_order_seq_ = 1;
  uint64_t last_order_ = 0;
  uint64_t last_drop_ = 0;
  std::unordered_map<std::string, uint64_t> drop_keys_;  // (creator, key) -> drop id
  std::unordered_map<uint64_t, std::pair<std::string, std::string>> drop_key_of_;  // (key, creator)
  std::unordered_map<uint64_t, DropState> drops_;
  std::unordered_map<uint64_t, Order> orders_;
  using Deadline = std::pair<Timestamp, uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> drop_ends_;
};

// The refusals for ids that name nothing.
Status DropNotFound(uint64_t id);
Status OrderNotFound(uint64_t id);

// The key under which (buyer, idempotency key) is remembered.
std::string IdempotencySlot(std::string_view buyer, std::string_view key);

}  // namespace thunder::engine
