// The engine's vocabulary: commands that ask for a change, events that record one, and
// the state of drops and orders. Plain values. Ids carry the partition that owns them in
// their low kPartitionBits bits, so any thread can route a command by id alone.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "core/clock.h"

namespace thunder::engine {

inline constexpr int kPartitionBits = 8;
inline constexpr uint32_t kMaxPartitions = 1u << kPartitionBits;

inline uint32_t PartitionOf(uint64_t id) {
  return static_cast<uint32_t>(id & (kMaxPartitions - 1));
}
inline uint64_t MakeId(uint64_t sequence, uint32_t partition) {
  return (sequence << kPartitionBits) | partition;
}

// Limits every command is checked against.
inline constexpr int64_t kMaxStock = 1'000'000'000;
inline constexpr int64_t kMaxPriceFen = 10'000'000'000;  // 100 million yuan
inline constexpr int64_t kMaxQuantity = 10'000;
inline constexpr size_t kMaxBuyerChars = 64;
inline constexpr size_t kMaxKeyChars = 128;

enum class OrderState : uint8_t { kReserved, kPaid, kCancelled, kExpired, kRefunded };
const char* OrderStateName(OrderState s);

struct DropSpec {
  int64_t sku_id = 0;
  int64_t stock = 0;
  int64_t price_fen = 0;
  Timestamp start;
  Timestamp end;
  int64_t per_buyer_limit = 1;
  std::chrono::microseconds pay_window{std::chrono::minutes(15)};

  friend bool operator==(const DropSpec&, const DropSpec&) = default;
};

// ---- Commands -------------------------------------------------------------------------
struct CreateDrop {
  DropSpec spec;
  std::string idempotency_key;  // optional; scoped to the creator
  std::string creator;          // who asks (Principal::Name()): the scope of the key
};
struct Reserve {
  uint64_t drop_id;
  std::string buyer;
  int64_t quantity;
  std::string idempotency_key;
};
struct Pay {
  uint64_t order_id;
};
struct Cancel {
  uint64_t order_id;
};
struct Expire {
  uint64_t order_id;
};
struct Refund {
  uint64_t order_id;
};
struct Restock {
  uint64_t drop_id;
  int64_t quantity;
};
// Issued by the engine's timer once a drop has ended and its retention has passed: the drop
// and its orders leave memory (the store keeps them through the projections).
struct ArchiveDrop {
  uint64_t drop_id;
};
using Command =
    std::variant<CreateDrop, Reserve, Pay, Cancel, Expire, Refund, Restock, ArchiveDrop>;

// ---- Events ---------------------------------------------------------------------------
// One struct for every kind keeps encoding and replay simple; each kind uses the fields
// its comment names.
enum class EventType : uint8_t {
  kDropCreated = 1,     // drop_id, spec, key, creator
  kOrderReserved = 2,   // order_id, drop_id, buyer, quantity, amount_fen, pay_by, key
  kOrderPaid = 3,       // order_id
  kOrderCancelled = 4,  // order_id
  kOrderExpired = 5,    // order_id
  kOrderRefunded = 6,   // order_id
  kDropRestocked = 7,   // drop_id, quantity
  kDropArchived = 8,    // drop_id: the drop and its orders leave memory
  // In snapshots only: the newest drop and order ids issued (0 when none), so that ids of
  // archived drops and orders are never issued again.
  kIdsIssued = 9,  // drop_id, order_id
};

struct Event {
  EventType type{};
  Timestamp at;
  uint64_t drop_id = 0;
  uint64_t order_id = 0;
  DropSpec spec;  // kDropCreated
  std::string buyer;
  std::string idempotency_key;
  std::string creator;  // kDropCreated: who created it, the scope of its key
  int64_t quantity = 0;
  int64_t amount_fen = 0;
  Timestamp pay_by;

  friend bool operator==(const Event&, const Event&) = default;
};

struct Drop {
  uint64_t id = 0;
  DropSpec spec;
  int64_t total = 0;  // initial stock plus restocks
  int64_t remaining = 0;
  int64_t reserved = 0;
  int64_t paid = 0;
};

struct Order {
  uint64_t id = 0;
  uint64_t drop_id = 0;
  std::string buyer;
  int64_t quantity = 0;
  int64_t amount_fen = 0;
  OrderState state = OrderState::kReserved;
  Timestamp created_at;
  Timestamp pay_by;
  Timestamp updated_at;
  Timestamp paid_at;  // when it was paid, if it was
  std::string idempotency_key;
};

}  // namespace thunder::engine
