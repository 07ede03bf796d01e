// Engine: the durable flash-sale engine. P partitions, each a Partition owned by one
// thread and fed by a queue; every accepted command's events go to the write-ahead log,
// and the caller's reply is sent only once they are durable. Refusals (sold out, over the
// limit, ...) are answered from memory without touching the disk. Each partition expires
// unpaid orders on a timer driven by the Clock, and writes a snapshot every so many
// events so that recovery replays a bounded tail of the log.
// Reads and refusals are answered only once everything the state they saw holds is
// durable. After a log failure every command and read is answered with that failure
// (503 log_failed): memory may then hold changes the log refused, and nothing reads them.
// Every public method is thread-safe. Replies run on a partition thread or on the log
// thread and must not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/env.h"
#include "core/mutex.h"
#include "engine/partition.h"
#include "log/wal.h"

namespace thunder::engine {

struct EngineOptions {
  std::string dir;  // holds the log segments and snapshots
  uint32_t partitions = 2;
  uint64_t segment_bytes = 64ull << 20;
  uint64_t snapshot_every = 100'000;  // events per partition between snapshots
  std::chrono::milliseconds expiry_tick{100};
  // A drop and its orders leave memory this long after the drop ends (the store keeps them
  // through the projections); refunds after that are refused as not found.
  std::chrono::microseconds archive_after{std::chrono::hours(24 * 7)};
  // False for tools that only read the state (rebuilding projections): no expiry, archive
  // or snapshot runs, so the log does not move while they read it.
  bool run_timers = true;
  // The event sink has stored every event up to this one: recovery sends it the log
  // records after it (even those a snapshot covers), and keeps the segments that hold them.
  uint64_t sink_from_seq = 0;
};

struct Reply {
  Status status;
  std::optional<Order> order;
  std::optional<Drop> drop;
  bool replayed = false;  // an idempotent retry answered with the original order
};
using ReplyFn = std::function<void(Reply)>;

// Called with every event once it is durable, in log order per partition.
using EventSink = std::function<void(uint64_t seq, const Event&)>;

struct EngineStats {
  uint64_t commands = 0;
  uint64_t rejections = 0;
  uint64_t snapshots = 0;
  log::WalStats wal;
  uint64_t recovered_events = 0;
  uint64_t dropped_tail_bytes = 0;
};

class Engine {
 public:
  // Recovers from `options.dir` (snapshots, then the log's tail) and starts the threads.
  static Result<std::unique_ptr<Engine>> Open(Env& env, const Clock& clock, EngineOptions options,
                                              EventSink sink = nullptr);
  ~Engine();  // finishes queued commands, waits for the log, stops
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The partition that owns drops of `sku_id`.
  uint32_t PartitionForSku(int64_t sku_id) const;
  uint32_t partitions() const { return static_cast<uint32_t>(workers_.size()); }

  // Runs a command on its partition: CreateDrop on PartitionForSku(spec.sku_id), the others
  // on the partition their id names. Unknown partitions are answered with not_found.
  void Submit(Command command, ReplyFn reply);
  void GetDrop(uint64_t drop_id, ReplyFn reply);
  void GetOrder(uint64_t order_id, ReplyFn reply);
  // Every order of `buyer`, from every partition, newest first.
  // Answered with the log's failure once it has failed.
  void BuyerOrders(std::string buyer, std::function<void(Result<std::vector<Order>>)> reply);
  // Every event that rebuilds the current state, per partition (for rebuilding projections).
  void SnapshotAll(std::function<void(std::vector<Event>)> reply);

  // A consumer of the event sink (the projections) reports that everything up to `seq` is
  // safely stored, so log segments before it may be deleted once snapshots cover them.
  void ConsumerCaughtUp(uint64_t seq) { consumer_seq_ = seq; }

  EngineStats stats() const;
  Status health() const { return wal_->health(); }
  // Every log record up to this one is durable.
  uint64_t durable_seq();

 private:
  struct Worker;
  using Task = std::function<void(Worker&)>;

  Engine(Env& env, const Clock& clock, EngineOptions options, EventSink sink);
  void Post(uint32_t partition, Task task);
  void RunWorker(Worker& w);
  void Execute(Worker& w, const Command& command, ReplyFn reply);
  void Log(Worker& w, std::vector<Event> events, std::function<void(const Status&)> done);
  void ExpireDue(Worker& w);
  void MaybeSnapshot(Worker& w);
  void WaitDurable(uint64_t seq, std::function<void(const Status&)> done);
  void Lookup(uint64_t id, bool drop, ReplyFn reply);
  void OnLogged(uint64_t last_seq, const Status& status);
  void DropCoveredSegments();
  std::string EncodeSnapshot(const Partition& p, uint64_t last_seq) const;
  Status LoadSnapshot(Partition& p, uint64_t& last_seq);
  std::string SnapshotPath(uint32_t partition) const;

  Env& env_;
  const Clock& clock_;
  EngineOptions options_;
  EventSink sink_;
  std::unique_ptr<FileLock> lock_;  // one process per engine directory
  std::unique_ptr<log::Wal> wal_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> recovered_events_{0};
  std::atomic<uint64_t> consumer_seq_{UINT64_MAX};
  uint64_t dropped_tail_bytes_ = 0;

  // Log positions made durable, and callers waiting for one.
  Mutex durable_mu_;
  uint64_t durable_seq_ GUARDED_BY(durable_mu_) = 0;
  Status log_failure_ GUARDED_BY(durable_mu_);  // the first failure the log reported
  std::vector<std::pair<uint64_t, std::function<void(const Status&)>>> waiters_
      GUARDED_BY(durable_mu_);
};

}  // namespace thunder::engine
