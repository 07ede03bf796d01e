#include "engine/event_codec.h"

#include <algorithm>

namespace thunder::engine {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void I64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
  void U64(uint64_t v) { I64(static_cast<int64_t>(v)); }
  void Time(Timestamp t) { I64(t.time_since_epoch().count()); }
  void Str(std::string_view s) {
    const auto n = static_cast<uint16_t>(std::min<size_t>(s.size(), 0xffff));
    out_.push_back(static_cast<char>(n & 0xff));
    out_.push_back(static_cast<char>(n >> 8));
    out_.append(s.substr(0, n));
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  int64_t I64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  uint64_t U64() { return static_cast<uint64_t>(I64()); }
  Timestamp Time() { return Timestamp{std::chrono::microseconds{I64()}}; }
  std::string Str() {
    if (!Need(2)) return {};
    const size_t n = static_cast<uint8_t>(in_[pos_]) | (static_cast<uint8_t>(in_[pos_ + 1]) << 8);
    pos_ += 2;
    if (!Need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  bool Need(size_t n) {
    if (pos_ + n > in_.size()) ok_ = false;
    return ok_;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Event OrderEvent(EventType type, const Order& o, Timestamp at) {
  Event e;
  e.type = type;
  e.at = at;
  e.order_id = o.id;
  e.drop_id = o.drop_id;
  return e;
}

}  // namespace

void EncodeEvent(const Event& e, std::string& out) {
  Writer w(out);
  w.U8(static_cast<uint8_t>(e.type));
  w.Time(e.at);
  switch (e.type) {
    case EventType::kDropCreated:
      w.U64(e.drop_id);
      w.I64(e.spec.sku_id);
      w.I64(e.spec.stock);
      w.I64(e.spec.price_fen);
      w.Time(e.spec.start);
      w.Time(e.spec.end);
      w.I64(e.spec.per_buyer_limit);
      w.I64(e.spec.pay_window.count());
      w.Str(e.idempotency_key);
      w.Str(e.creator);
      break;
    case EventType::kOrderReserved:
      w.U64(e.order_id);
      w.U64(e.drop_id);
      w.Str(e.buyer);
      w.Str(e.idempotency_key);
      w.I64(e.quantity);
      w.I64(e.amount_fen);
      w.Time(e.pay_by);
      break;
    case EventType::kOrderPaid:
    case EventType::kOrderCancelled:
    case EventType::kOrderExpired:
    case EventType::kOrderRefunded:
      w.U64(e.order_id);
      w.U64(e.drop_id);
      break;
    case EventType::kDropRestocked:
      w.U64(e.drop_id);
      w.I64(e.quantity);
      break;
    case EventType::kDropArchived:
      w.U64(e.drop_id);
      break;
    case EventType::kIdsIssued:
      w.U64(e.drop_id);
      w.U64(e.order_id);
      break;
  }
}

Result<Event> DecodeEvent(std::string_view bytes) {
  Reader r(bytes);
  Event e;
  const uint8_t type = r.U8();
  if (type < static_cast<uint8_t>(EventType::kDropCreated) ||
      type > static_cast<uint8_t>(EventType::kIdsIssued)) {
    return Status(ErrorKind::kCorruption, "bad_event",
                  "unknown event type " + std::to_string(type));
  }
  e.type = static_cast<EventType>(type);
  e.at = r.Time();
  switch (e.type) {
    case EventType::kDropCreated:
      e.drop_id = r.U64();
      e.spec.sku_id = r.I64();
      e.spec.stock = r.I64();
      e.spec.price_fen = r.I64();
      e.spec.start = r.Time();
      e.spec.end = r.Time();
      e.spec.per_buyer_limit = r.I64();
      e.spec.pay_window = std::chrono::microseconds{r.I64()};
      e.idempotency_key = r.Str();
      e.creator = r.Str();
      break;
    case EventType::kOrderReserved:
      e.order_id = r.U64();
      e.drop_id = r.U64();
      e.buyer = r.Str();
      e.idempotency_key = r.Str();
      e.quantity = r.I64();
      e.amount_fen = r.I64();
      e.pay_by = r.Time();
      break;
    case EventType::kOrderPaid:
    case EventType::kOrderCancelled:
    case EventType::kOrderExpired:
    case EventType::kOrderRefunded:
      e.order_id = r.U64();
      e.drop_id = r.U64();
      break;
    case EventType::kDropRestocked:
      e.drop_id = r.U64();
      e.quantity = r.I64();
      break;
    case EventType::kDropArchived:
      e.drop_id = r.U64();
      break;
    case EventType::kIdsIssued:
      e.drop_id = r.U64();
      e.order_id = r.U64();
      break;
  }
  if (!r.ok() || !r.done()) {
    return Status(ErrorKind::kCorruption, "bad_event", "event record has the wrong length");
  }
  return e;
}

std::vector<Event> SnapshotEvents(const Partition& p) {
  std::vector<const Drop*> drops;
  std::vector<const Order*> orders;
  p.ForEach([&](const Drop& d) { drops.push_back(&d); },
            [&](const Order& o) { orders.push_back(&o); });
  std::sort(drops.begin(), drops.end(), [](auto* a, auto* b) { return a->id < b->id; });
  std::sort(orders.begin(), orders.end(), [](auto* a, auto* b) { return a->id < b->id; });
  std::vector<Event> out;
  out.reserve(drops.size() + orders.size() * 2 + 1);
  // First, the ids issued so far: archived drops and orders hold ids no longer in memory.
  Event issued;
  issued.type = EventType::kIdsIssued;
  issued.drop_id = p.last_issued_drop();
  issued.order_id = p.last_issued_order();
  out.push_back(issued);
  for (const Drop* d : drops) {
    Event e;
    e.type = EventType::kDropCreated;
    e.drop_id = d->id;
    e.spec = d->spec;
    e.spec.stock = d->total;  // restocks folded in
    const auto [key, creator] = p.DropKeyOf(d->id);
    e.idempotency_key = std::string(key);
    e.creator = std::string(creator);
    out.push_back(std::move(e));
  }
  for (const Order* o : orders) {
    Event e = OrderEvent(EventType::kOrderReserved, *o, o->created_at);
    e.buyer = o->buyer;
    e.idempotency_key = std::string(p.KeyOf(o->id));
    e.quantity = o->quantity;
    e.amount_fen = o->amount_fen;
    e.pay_by = o->pay_by;
    out.push_back(std::move(e));
    switch (o->state) {
      case OrderState::kReserved:
        break;
      case OrderState::kPaid:
        out.push_back(OrderEvent(EventType::kOrderPaid, *o, o->paid_at));
        break;
      case OrderState::kRefunded:
        out.push_back(OrderEvent(EventType::kOrderPaid, *o, o->paid_at));
        out.push_back(OrderEvent(EventType::kOrderRefunded, *o, o->updated_at));
        break;
      case OrderState::kCancelled:
        out.push_back(OrderEvent(EventType::kOrderCancelled, *o, o->updated_at));
        break;
      case OrderState::kExpired:
        out.push_back(OrderEvent(EventType::kOrderExpired, *o, o->updated_at));
        break;
    }
  }
  return out;
}

}  // namespace thunder::engine
