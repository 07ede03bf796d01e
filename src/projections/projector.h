// Projector: turns the engine's durable events into rows of the relational store: the
// drops, an orders table, and GMV by hour per SKU (with its factory and belt, so reports
// can add up per factory and per belt). Events arrive through Sink() from the engine's
// threads and are written by the projector's own thread in batches, one transaction each,
// together with the sequence number they reach; so after a restart the projections catch
// up from the log where they left off. Sink() and Stop() are thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"

namespace thunder::projections {

class Projector {
 public:
  explicit Projector(Store& store) : store_(store) {}
  ~Projector() { Stop(); }
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // The sequence number of the last event the store holds.
  Result<uint64_t> StoredSeq();
  // Queues events for the projector thread; never blocks on the store.
  engine::EventSink Sink();
  // Starts the thread; `caught_up(seq)` runs after each stored batch.
  void Start(std::function<void(uint64_t)> caught_up);
  // Stores what is queued, then stops the thread; `caught_up` is not called after this
  // returns. Events that arrive later are kept in the log, not here: the next start
  // projects them.
  void Stop();
  // Writes one batch in one transaction; events at or below the stored seq are skipped.
  Status Apply(std::span<const std::pair<uint64_t, engine::Event>> batch);
  // Replaces every projection with `events` (the engine's snapshot of its state) as of
  // log position `as_of_seq`.
  Status Rebuild(const std::vector<engine::Event>& events, uint64_t as_of_seq);
  Status health();

 private:
  Status ApplyOne(const engine::Event& e);
  Status AddGmv(int64_t order_id, Timestamp at, bool refund);

  Store& store_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::pair<uint64_t, engine::Event>> queue_;  // guarded by mu_
  bool stop_ = false;                                      // guarded by mu_
  Status failed_;                                          // guarded by mu_
  std::thread thread_;
  // sku -> (factory, belt), owned by the projector thread.
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> sku_owner_;
};

// "2026-11-27T17:00:00Z": the hour a time falls in.
std::string HourOf(Timestamp t);

}  // namespace thunder::projections
