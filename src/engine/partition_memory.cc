// Measures the heap a partition holds per drop and per open order (a reservation not yet
// paid), as docs/performance.md reports: `partition_memory [ORDERS] [DROPS]`.
// Heap in use comes from mallinfo2 (large mmapped blocks included); the numbers are the
// growth divided by the count, hash-table slack included.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/partition.h"

namespace {

using namespace std::chrono_literals;
using thunder::Timestamp;
using namespace thunder::engine;

size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace

int main(int argc, char** argv) {
  const long orders = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const long drops = argc > 2 ? std::atol(argv[2]) : 10'000;
  std::vector<Event> events;
  const Timestamp t0{1'800'000'000s};

  Partition by_drops(0);
  size_t before = HeapInUse();
  for (long i = 0; i < drops; ++i) {
    events.clear();
    DropSpec s{1 + i, kMaxStock, 990, t0, t0 + 1h, 1, 15min};
    if (!by_drops.Apply(CreateDrop{s, "launch-" + std::to_string(i), "host:7"}, t0, events).ok()) {
      return 1;
    }
  }
  const double per_drop = static_cast<double>(HeapInUse() - before) / static_cast<double>(drops);

  Partition by_orders(0);
  events.clear();
  DropSpec s{1, kMaxStock, 990, t0, t0 + 1h, 1, 15min};
  if (!by_orders.Apply(CreateDrop{s, "", "host:7"}, t0, events).ok()) return 1;
  const uint64_t drop = by_orders.last_drop();
  before = HeapInUse();
  for (long i = 0; i < orders; ++i) {
    events.clear();
    // Buyer ids and keys as client apps send them: a user id and a UUID-sized key.
    const std::string buyer = "u" + std::to_string(10'000'000 + i);
    if (!by_orders
             .Apply(Reserve{drop, buyer, 1, "k-" + std::to_string(i) + "-3f2a9c1e7b"}, t0, events)
             .ok()) {
      return 1;
    }
  }
  const double per_order = static_cast<double>(HeapInUse() - before) / static_cast<double>(orders);
  std::printf("drops: %ld, %.0f bytes each\nopen orders: %ld in one drop, %.0f bytes each\n", drops,
              per_drop, orders, per_order);
  return 0;
}
