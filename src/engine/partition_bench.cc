// Reserve decisions per second on one partition, in process: the engine core without the
// log or the network. Each iteration is one Reserve from a fresh buyer with a fresh key;
// "sold_out" measures refusals once the stock is gone.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/partition.h"

namespace thunder::engine {
namespace {

using namespace std::chrono_literals;

const Timestamp kNow{1'800'000'000s};

uint64_t MakeDrop(Partition& p, int64_t stock) {
  std::vector<Event> ev;
  DropSpec s{1, stock, 990, kNow - 1h, kNow + 1h, 1, 15min};
  (void)p.Apply(CreateDrop{s, ""}, kNow, ev);
  return ev.at(0).drop_id;
}

// Buyer ids and keys are made before timing starts, as an HTTP layer would hand them over.
std::vector<std::string> Names(const char* prefix, size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

void BM_ReserveAccepted(benchmark::State& state) {
  constexpr size_t kBatch = 1 << 20;
  const auto buyers = Names("buyer-", kBatch);
  Partition p(0);
  uint64_t drop = MakeDrop(p, kMaxStock);
  std::vector<Event> events;
  events.reserve(4);
  size_t i = 0;
  for (auto _ : state) {
    if (i == kBatch) {
      state.PauseTiming();
      p = Partition(0);  // start over so that maps do not grow without bound
      drop = MakeDrop(p, kMaxStock);
      i = 0;
      state.ResumeTiming();
    }
    events.clear();
    Status s = p.Apply(Reserve{drop, buyers[i], 1, buyers[i]}, kNow, events);
    benchmark::DoNotOptimize(s);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReserveAccepted);

void BM_ReserveSoldOut(benchmark::State& state) {
  constexpr size_t kBatch = 1 << 16;
  const auto buyers = Names("buyer-", kBatch);
  Partition p(0);
  const uint64_t drop = MakeDrop(p, 0);
  std::vector<Event> events;
  size_t i = 0;
  for (auto _ : state) {
    events.clear();
    Status s = p.Apply(Reserve{drop, buyers[i], 1, buyers[i]}, kNow, events);
    benchmark::DoNotOptimize(s);
    i = (i + 1) & (kBatch - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReserveSoldOut);

}  // namespace
}  // namespace thunder::engine

BENCHMARK_MAIN();
