#include "engine/partition.h"

namespace thunder::engine {
namespace {

Status Rejected(std::string code, std::string message, std::string field = {}) {
  return Status::Conflict(std::move(code), std::move(message), std::move(field));
}

Status Invalid(std::string code, std::string message, std::string field) {
  return Status::InvalidArgument(std::move(code), std::move(message), std::move(field));
}

}  // namespace

Status DropNotFound(uint64_t id) {
  return Status(ErrorKind::kNotFound, "drop_not_found",
                "drop " + std::to_string(id) + " does not exist");
}

Status OrderNotFound(uint64_t id) {
  return Status(ErrorKind::kNotFound, "order_not_found",
                "order " + std::to_string(id) + " does not exist");
}

const char* OrderStateName(OrderState s) {
  switch (s) {
    case OrderState::kReserved:
      return "reserved";
    case OrderState::kPaid:
      return "paid";
    case OrderState::kCancelled:
      return "cancelled";
    case OrderState::kExpired:
      return "expired";
    case OrderState::kRefunded:
      return "refunded";
  }
  return "unknown";
}

std::string IdempotencySlot(std::string_view buyer, std::string_view key) {
  std::string slot;
  slot.reserve(buyer.size() + key.size() + 1);
  slot.append(buyer).push_back('\0');
  slot.append(key);
  return slot;
}

const Drop* Partition::FindDrop(uint64_t id) const {
  auto it = drops_.find(id);
  return it == drops_.end() ? nullptr : &it->second.drop;
}

const Order* Partition::FindOrder(uint64_t id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::vector<const Order*> Partition::OrdersOf(const std::string& buyer) const {
  std::vector<const Order*> out;
  for (const auto& [id, d] : drops_) {
    auto b = d.buyers.find(buyer);
    if (b == d.buyers.end()) continue;
    if (b->second.first_order != 0) out.push_back(&orders_.at(b->second.first_order));
    for (const auto& [key, order] : b->second.more) out.push_back(&orders_.at(order));
  }
  return out;
}

std::pair<std::string_view, std::string_view> Partition::DropKeyOf(uint64_t drop_id) const {
  auto it = drop_key_of_.find(drop_id);
  if (it == drop_key_of_.end()) return {};
  return {it->second.first, it->second.second};
}

std::string_view Partition::KeyOf(uint64_t order_id) const {
  auto it = orders_.find(order_id);
  return it == orders_.end() ? std::string_view{} : std::string_view(it->second.idempotency_key);
}

void Partition::Emit(Event e, std::vector<Event>& events) {
  ApplyEvent(e);
  events.push_back(std::move(e));
}

Status Partition::Apply(const Command& command, Timestamp now, std::vector<Event>& events) {
  last_order_ = 0;
  last_drop_ = 0;
  return std::visit(
      [&](const auto& c) -> Status {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateDrop>) {
          return ApplyCreate(c, now, events);
        } else if constexpr (std::is_same_v<T, Reserve>) {
          return ApplyReserve(c, now, events);
        } else if constexpr (std::is_same_v<T, Pay>) {
          return ApplyOrderChange(c.order_id, EventType::kOrderPaid, now, events);
        } else if constexpr (std::is_same_v<T, Cancel>) {
          return ApplyOrderChange(c.order_id, EventType::kOrderCancelled, now, events);
        } else if constexpr (std::is_same_v<T, Expire>) {
          return ApplyOrderChange(c.order_id, EventType::kOrderExpired, now, events);
        } else if constexpr (std::is_same_v<T, Refund>) {
          return ApplyOrderChange(c.order_id, EventType::kOrderRefunded, now, events);
        } else if constexpr (std::is_same_v<T, Restock>) {
          return ApplyRestock(c, now, events);
        } else {
          return ApplyArchive(c, now, events);
        }
      },
      command);
}

Status Partition::ApplyCreate(const CreateDrop& c, Timestamp now, std::vector<Event>& events) {
  const DropSpec& s = c.spec;
  if (s.sku_id <= 0) return Invalid("wrong_type", "sku_id must be a positive id", "sku_id");
  if (s.stock < 0 || s.stock > kMaxStock) {
    return Invalid("out_of_range", "stock must be 0 to " + std::to_string(kMaxStock), "stock");
  }
  if (s.price_fen < 0 || s.price_fen > kMaxPriceFen) {
    return Invalid("out_of_range", "price must be 0 to " + std::to_string(kMaxPriceFen) + " fen",
                   "price.amount_fen");
  }
  if (s.end <= s.start)
    return Invalid("out_of_range", "ends_at must be after starts_at", "ends_at");
  if (s.per_buyer_limit < 1 || s.per_buyer_limit > kMaxQuantity) {
    return Invalid("out_of_range", "per_buyer_limit must be 1 to " + std::to_string(kMaxQuantity),
                   "per_buyer_limit");
  }
  if (s.pay_window < std::chrono::seconds(1) || s.pay_window > std::chrono::hours(24)) {
    return Invalid("out_of_range", "pay_window_seconds must be 1 to 86400", "pay_window_seconds");
  }
  if (c.idempotency_key.size() > kMaxKeyChars) {
    return Invalid("too_long", "idempotency_key must be at most 128 characters", "idempotency_key");
  }
  if (!c.idempotency_key.empty()) {
    auto k = drop_keys_.find(IdempotencySlot(c.creator, c.idempotency_key));
    if (k != drop_keys_.end()) {
      last_drop_ = k->second;
      if (!(drops_.at(k->second).drop.spec == s)) {
        return Rejected("idempotency_key_reused",
                        "this idempotency_key was used for a different drop", "idempotency_key");
      }
      return Status::Ok();
    }
  }
  Event e;
  e.type = EventType::kDropCreated;
  e.at = now;
  e.drop_id = MakeId(next_drop_seq_, index_);
  e.spec = s;
  e.idempotency_key = c.idempotency_key;
  e.creator = c.creator;
  last_drop_ = e.drop_id;
  Emit(std::move(e), events);
  return Status::Ok();
}

Status Partition::ApplyReserve(const Reserve& c, Timestamp now, std::vector<Event>& events) {
  auto it = drops_.find(c.drop_id);
  if (it == drops_.end()) return DropNotFound(c.drop_id);
  last_drop_ = c.drop_id;
  DropState& d = it->second;
  if (c.buyer.empty() || c.buyer.size() > kMaxBuyerChars) {
    return Invalid("out_of_range", "buyer must be 1 to 64 characters", "buyer");
  }
  if (c.idempotency_key.empty() || c.idempotency_key.size() > kMaxKeyChars) {
    return Invalid("out_of_range", "idempotency_key must be 1 to 128 characters",
                   "idempotency_key");
  }
  if (c.quantity < 1 || c.quantity > kMaxQuantity) {
    return Invalid("out_of_range", "quantity must be 1 to " + std::to_string(kMaxQuantity),
                   "quantity");
  }
  // A retry returns the original order whatever has happened since, even sold out.
  auto buyer = d.buyers.find(c.buyer);
  if (buyer != d.buyers.end()) {
    const auto& b = buyer->second;
    const uint64_t found =
        b.first_order != 0 && b.first_key == c.idempotency_key ? b.first_order : [&]() -> uint64_t {
      for (const auto& [key, order_id] : b.more) {
        if (key == c.idempotency_key) return order_id;
      }
      return 0;
    }();
    if (found != 0) {
      const uint64_t order_id = found;
      last_order_ = order_id;
      if (orders_.at(order_id).quantity != c.quantity) {
        return Rejected("idempotency_key_reused",
                        "this idempotency_key was used for a different quantity",
                        "idempotency_key");
      }
      return Status::Ok();
    }
  }
  if (now < d.drop.spec.start) return Rejected("drop_not_started", "the drop has not started yet");
  if (now >= d.drop.spec.end) return Rejected("drop_ended", "the drop has ended");
  if (d.drop.remaining < c.quantity) {
    return Status(
        ErrorKind::kConflict, "sold_out",
        d.drop.remaining == 0 ? "sold out" : "only " + std::to_string(d.drop.remaining) + " left");
  }
  const int64_t already = buyer == d.buyers.end() ? 0 : buyer->second.held;
  if (already + c.quantity > d.drop.spec.per_buyer_limit) {
    return Rejected("limit_exceeded",
                    "each buyer may hold at most " + std::to_string(d.drop.spec.per_buyer_limit) +
                        " of this drop",
                    "quantity");
  }
  Event e;
  e.type = EventType::kOrderReserved;
  e.at = now;
  e.order_id = MakeId(next_order_seq_, index_);
  e.drop_id = c.drop_id;
  e.buyer = c.buyer;
  e.idempotency_key = c.idempotency_key;
  e.quantity = c.quantity;
  e.amount_fen = d.drop.spec.price_fen * c.quantity;  // both bounded: no overflow
  e.pay_by = now + d.drop.spec.pay_window;
  last_order_ = e.order_id;
  Emit(std::move(e), events);
  return Status::Ok();
}

Status Partition::ApplyOrderChange(uint64_t order_id, EventType type, Timestamp now,
                                   std::vector<Event>& events) {
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return OrderNotFound(order_id);
  const Order& o = it->second;
  last_order_ = order_id;
  auto emit = [&](EventType t) {
    Event e;
    e.type = t;
    e.at = now;
    e.order_id = order_id;
    e.drop_id = o.drop_id;
    Emit(std::move(e), events);
  };
  // The pay-by time is enforced here too, not only by the timer: whatever comes first.
  if (o.state == OrderState::kReserved && now >= o.pay_by) {
    emit(EventType::kOrderExpired);
    if (type == EventType::kOrderExpired) return Status::Ok();
    return Rejected("order_expired", "the order was not paid in time and has expired");
  }
  const OrderState from = o.state;
  switch (type) {
    case EventType::kOrderPaid:
      if (from == OrderState::kPaid) return Status::Ok();  // a retried payment
      if (from != OrderState::kReserved) {
        return Rejected(from == OrderState::kExpired ? "order_expired" : "invalid_state",
                        std::string("cannot pay an order that is ") + OrderStateName(from));
      }
      break;
    case EventType::kOrderCancelled:
      if (from == OrderState::kCancelled) return Status::Ok();
      if (from != OrderState::kReserved) {
        return Rejected("invalid_state", std::string("cannot cancel an order that is ") +
                                             OrderStateName(from) +
                                             (from == OrderState::kPaid ? "; refund it" : ""));
      }
      break;
    case EventType::kOrderRefunded:
      if (from == OrderState::kRefunded) return Status::Ok();
      if (from != OrderState::kPaid) {
        return Rejected(
            "invalid_state",
            std::string("only paid orders can be refunded; this one is ") + OrderStateName(from));
      }
      break;
    case EventType::kOrderExpired:
      return Status::Ok();  // not due, or no longer reserved: nothing to do
    default:
      return Status::Internal("not an order change");
  }
  emit(type);
  return Status::Ok();
}

Status Partition::ApplyRestock(const Restock& c, Timestamp now, std::vector<Event>& events) {
  auto it = drops_.find(c.drop_id);
  if (it == drops_.end()) return DropNotFound(c.drop_id);
  last_drop_ = c.drop_id;
  if (c.quantity < 1 || it->second.drop.total + c.quantity > kMaxStock) {
    return Invalid("out_of_range",
                   "restock must add 1 unit or more, up to a total of " + std::to_string(kMaxStock),
                   "quantity");
  }
  Event e;
  e.type = EventType::kDropRestocked;
  e.at = now;
  e.drop_id = c.drop_id;
  e.quantity = c.quantity;
  Emit(std::move(e), events);
  return Status::Ok();
}

Status Partition::ApplyArchive(const ArchiveDrop& c, Timestamp now, std::vector<Event>& events) {
  auto it = drops_.find(c.drop_id);
  if (it == drops_.end()) return DropNotFound(c.drop_id);
  if (now < it->second.drop.spec.end || it->second.drop.reserved > 0) {
    return Rejected("drop_active",
                    "a drop is archived only once it has ended and holds no "
                    "reserved order");
  }
  Event e;
  e.type = EventType::kDropArchived;
  e.at = now;
  e.drop_id = c.drop_id;
  Emit(std::move(e), events);
  return Status::Ok();
}

std::vector<uint64_t> Partition::OrderIdsOf(uint64_t drop_id) const {
  std::vector<uint64_t> ids;
  auto it = drops_.find(drop_id);
  if (it == drops_.end()) return ids;
  for (const auto& [buyer, b] : it->second.buyers) {
    if (b.first_order != 0) ids.push_back(b.first_order);
    for (const auto& [key, order] : b.more) ids.push_back(order);
  }
  return ids;
}

void Partition::Forget(DropState& d) {
  const uint64_t id = d.drop.id;  // d lives in the node erased last
  for (const uint64_t order : OrderIdsOf(id)) orders_.erase(order);
  if (auto k = drop_key_of_.find(id); k != drop_key_of_.end()) {
    drop_keys_.erase(IdempotencySlot(k->second.second, k->second.first));
    drop_key_of_.erase(k);
  }
  drops_.erase(id);
}

void Partition::DueArchives(Timestamp ended_by, std::vector<uint64_t>& out) {
  std::vector<Deadline> later;
  while (!drop_ends_.empty() && drop_ends_.top().first <= ended_by) {
    const Deadline due = drop_ends_.top();
    drop_ends_.pop();
    auto it = drops_.find(due.second);
    if (it == drops_.end()) continue;
    // Reserved orders expire by their pay-by; look again an hour on.
    if (it->second.drop.reserved > 0) {
      later.emplace_back(due.first + std::chrono::hours(1), due.second);
    } else {
      out.push_back(due.second);
    }
  }
  for (const Deadline& d : later) drop_ends_.push(d);
}

void Partition::ReleaseStock(DropState& d, const Order& o, bool was_paid) {
  (was_paid ? d.drop.paid : d.drop.reserved) -= o.quantity;
  d.drop.remaining += o.quantity;
  // The buyer's entry stays: it remembers the idempotency keys.
  if (auto b = d.buyers.find(o.buyer); b != d.buyers.end()) b->second.held -= o.quantity;
}

void Partition::ApplyEvent(const Event& e) {
  switch (e.type) {
    case EventType::kDropCreated: {
      DropState& d = drops_[e.drop_id];
      d.drop.id = e.drop_id;
      d.drop.spec = e.spec;
      d.drop.total = d.drop.remaining = e.spec.stock;
      // Tables grow with the buyers who come, never with the stock on offer: a drop of a
      // billion units costs what a drop of one does until people buy.
      if (!e.idempotency_key.empty()) {
        drop_keys_[IdempotencySlot(e.creator, e.idempotency_key)] = e.drop_id;
        drop_key_of_[e.drop_id] = {e.idempotency_key, e.creator};
      }
      next_drop_seq_ = std::max(next_drop_seq_, (e.drop_id >> kPartitionBits) + 1);
      drop_ends_.emplace(e.spec.end, e.drop_id);
      return;
    }
    case EventType::kDropArchived:
      Forget(drops_.at(e.drop_id));
      return;
    case EventType::kIdsIssued:
      if (e.drop_id != 0)
        next_drop_seq_ = std::max(next_drop_seq_, (e.drop_id >> kPartitionBits) + 1);
      if (e.order_id != 0) {
        next_order_seq_ = std::max(next_order_seq_, (e.order_id >> kPartitionBits) + 1);
      }
      return;
    case EventType::kDropRestocked: {
      Drop& d = drops_.at(e.drop_id).drop;
      d.total += e.quantity;
      d.remaining += e.quantity;
      return;
    }
    case EventType::kOrderReserved: {
      DropState& d = drops_.at(e.drop_id);
      d.drop.remaining -= e.quantity;
      d.drop.reserved += e.quantity;
      auto& buyer = d.buyers[e.buyer];
      buyer.held += e.quantity;
      if (buyer.first_order == 0) {
        buyer.first_key = e.idempotency_key;
        buyer.first_order = e.order_id;
      } else {
        buyer.more.emplace_back(e.idempotency_key, e.order_id);
      }
      orders_.try_emplace(e.order_id, Order{e.order_id, e.drop_id, e.buyer, e.quantity,
                                            e.amount_fen, OrderState::kReserved, e.at, e.pay_by,
                                            e.at, Timestamp{}, e.idempotency_key});
      deadlines_.emplace(e.pay_by, e.order_id);
      next_order_seq_ = std::max(next_order_seq_, (e.order_id >> kPartitionBits) + 1);
      return;
    }
    case EventType::kOrderPaid:
    case EventType::kOrderCancelled:
    case EventType::kOrderExpired:
    case EventType::kOrderRefunded: {
      Order& o = orders_.at(e.order_id);
      DropState& d = drops_.at(o.drop_id);
      const bool was_paid = o.state == OrderState::kPaid;
      if (e.type == EventType::kOrderPaid) {
        d.drop.reserved -= o.quantity;
        d.drop.paid += o.quantity;
        o.state = OrderState::kPaid;
        o.paid_at = e.at;
      } else {
        // Cancel, expiry and refund return the units to the drop, once: the state
        // checks in Apply() allow each of them only from a holding state.
        ReleaseStock(d, o, was_paid);
        o.state = e.type == EventType::kOrderCancelled ? OrderState::kCancelled
                  : e.type == EventType::kOrderExpired ? OrderState::kExpired
                                                       : OrderState::kRefunded;
      }
      o.updated_at = e.at;
      return;
    }
  }
}

void Partition::DueExpiries(Timestamp now, std::vector<uint64_t>& out) {
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    auto it = orders_.find(id);
    if (it != orders_.end() && it->second.state == OrderState::kReserved) out.push_back(id);
  }
}

}  // namespace thunder::engine
