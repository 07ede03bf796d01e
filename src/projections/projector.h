// Projector: turns the engine's durable events into rows of the relational store: the
// drops, an orders table, and GMV by hour per SKU (with its factory and belt, so reports
// can add up per factory and per belt). Events arrive through Sink() from the engine's
// threads and are written by the projector's own thread in batches, one transaction each,
// together with the sequence number they reach; so after a restart the projections catch
// up from the log where they left off. The store syncs every commit, so the progress the
// projector reports is progress a power cut cannot take back.
// Failures are never silent: a busy store is retried with back-off; an error that persists,
// or a queue that outgrows its bound while the store cannot keep up, stops the projector,
// empties its queue (the events stay in the log, which keeps them while the projections are
// behind) and shows in health(), so /healthz answers 503 until a restart catches up.
// Sink(), Stop(), health() and stats() are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "engine/engine.h"
#include "store/store.h"

namespace thunder::projections {

struct ProjectorOptions {
  size_t max_queued_events = 1'000'000;
  // A busy store is retried for this long before the failure counts as persistent.
  std::chrono::milliseconds retry_for{30'000};
};

struct ProjectorStats {
  uint64_t stored_seq = 0;  // the last event the store holds
  uint64_t queued = 0;      // events waiting for the projector thread
  uint64_t retries = 0;     // batches tried again after a transient store error
};

class Projector {
 public:
  explicit Projector(Store& store, ProjectorOptions options = {})
      : store_(store), options_(options) {}
  ~Projector() { Stop(); }
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // The sequence number of the last event the store holds.
  Result<uint64_t> StoredSeq();
  // Queues events for the projector thread; never blocks on the store once Start() ran.
  // Before that (while the engine recovers), a full queue is stored on the calling thread.
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
  // OK until the projector stopped; then why.
  Status health();
  ProjectorStats stats();

 private:
  void Fail(Status why);
  Status ApplyWithRetries(std::span<const std::pair<uint64_t, engine::Event>> batch);
  Status ApplyOne(const engine::Event& e);
  Status AddGmv(int64_t order_id, Timestamp at, bool refund);

  Store& store_;
  const ProjectorOptions options_;
  Mutex mu_;
  CondVar wake_;
  std::vector<std::pair<uint64_t, engine::Event>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;  // Start() ran: the thread drains the queue
  Status failed_ GUARDED_BY(mu_);
  uint64_t stored_seq_ GUARDED_BY(mu_) = 0;
  uint64_t retries_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
  // sku -> (factory, belt), owned by the projector thread.
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> sku_owner_;
};

// "2026-11-27T17:00:00Z": the hour a time falls in.
std::string HourOf(Timestamp t);

}  // namespace thunder::projections
