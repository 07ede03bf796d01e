// Helpers the seeded power-cut tests share (engine/power_cut_test.cc and
// projections/power_cut_test.cc): what a client may find after a crash, answers waited
// for without hanging, and the seeds to run. For tests only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>

#include "engine/types.h"

namespace thunder::engine {

// What a client may find after a crash, given the last state it was told: a reserved
// order may have moved on unseen (paid, cancelled, expired...); a paid one may only have
// been refunded; a finished one stays as it is.
inline bool Reachable(OrderState told, OrderState found) {
  switch (told) {
    case OrderState::kReserved:
      return true;
    case OrderState::kPaid:
      return found == OrderState::kPaid || found == OrderState::kRefunded;
    default:
      return found == told;
  }
}

// Calls `submit` with a callback and waits for its answer; a hang aborts the test binary,
// as it would leave threads holding the promise.
template <typename T, typename Fn>
T WaitForAnswer(Fn submit) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  submit([p](T r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "no answer within 10 s";
    std::abort();
  }
  return f.get();
}

// Runs `run(seed)` for seeds 1..N, N from the environment variable `count_variable`
// (else `default_count`), or only the seed `seed_variable` names; stops at the first seed
// that fails, which says enough.
template <typename Fn>
void ForEachSeed(const char* count_variable, const char* seed_variable, uint64_t default_count,
                 Fn run) {
  const char* count = std::getenv(count_variable);
  const char* only = std::getenv(seed_variable);
  const uint64_t first = only != nullptr ? std::strtoull(only, nullptr, 10) : 1;
  const uint64_t last = only != nullptr    ? first
                        : count != nullptr ? std::strtoull(count, nullptr, 10)
                                           : default_count;
  for (uint64_t seed = first; seed <= last; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    if (!run(seed)) break;
  }
}

}  // namespace thunder::engine
