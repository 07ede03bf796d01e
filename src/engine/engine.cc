#include "engine/engine.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <future>
#include <unordered_map>

#include "engine/event_codec.h"
#include "log/format.h"

namespace thunder::engine {

struct Engine::Worker {
  explicit Worker(uint32_t index) : partition(index) {}

  Partition partition;

  Mutex mu;
  CondVar wake;
  std::vector<Task> queue GUARDED_BY(mu);
  bool stop GUARDED_BY(mu) = false;
  bool waiting GUARDED_BY(mu) = false;  // the worker sleeps on `wake`
  std::thread thread;

  // Owned by the worker thread.
  uint64_t last_seq = 0;      // last record this partition logged
  uint64_t snapshot_seq = 0;  // what the newest snapshot covers
  uint64_t events_since_snapshot = 0;
  bool snapshot_in_flight = false;
  std::thread snapshot_writer;
  std::vector<Event> scratch;
  std::vector<uint64_t> due;

  // The first log record this partition still needs at recovery (UINT64_MAX: none).
  std::atomic<uint64_t> needed_from{UINT64_MAX};
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> rejections{0};
  std::atomic<uint64_t> snapshots{0};
};

namespace {

uint64_t OwnerId(const Event& e) {
  return e.type == EventType::kDropCreated || e.type == EventType::kDropRestocked ||
                 e.type == EventType::kDropArchived
             ? e.drop_id
             : e.order_id;
}

}  // namespace

Engine::Engine(Env& env, const Clock& clock, EngineOptions options, EventSink sink)
    : env_(env), clock_(clock), options_(std::move(options)), sink_(std::move(sink)) {}

std::string Engine::SnapshotPath(uint32_t partition) const {
  return fmt::format("{}/snapshot-p{:03}.snap", options_.dir, partition);
}

Result<std::unique_ptr<Engine>> Engine::Open(Env& env, const Clock& clock, EngineOptions options,
                                             EventSink sink) {
  if (options.partitions < 1 || options.partitions > kMaxPartitions) {
    return Status::InvalidArgument(
        "out_of_range", fmt::format("partitions must be 1 to {}", kMaxPartitions), "partitions");
  }
  std::unique_ptr<Engine> engine(new Engine(env, clock, std::move(options), std::move(sink)));
  Engine& e = *engine;
  RETURN_IF_ERROR(env.CreateDirs(e.options_.dir));
  ASSIGN_OR_RETURN(e.lock_, env.LockFile(e.options_.dir + "/LOCK"));
  uint64_t newest_snapshot = 0;
  for (uint32_t i = 0; i < e.options_.partitions; ++i) {
    e.workers_.push_back(std::make_unique<Worker>(i));
    Worker& w = *e.workers_.back();
    RETURN_IF_ERROR(e.LoadSnapshot(w.partition, w.snapshot_seq));
    w.last_seq = w.snapshot_seq;
    newest_snapshot = std::max(newest_snapshot, w.snapshot_seq);
  }
  uint64_t recovered = 0;
  auto info =
      log::RecoverWal(env, e.options_.dir, e.options_.partitions,
                      [&](uint64_t seq, std::string_view body) -> Status {
                        ASSIGN_OR_RETURN(Event ev, DecodeEvent(body));
                        const uint32_t p = PartitionOf(OwnerId(ev));
                        if (p >= e.options_.partitions) {
                          return Status(ErrorKind::kCorruption, "wal_corrupt",
                                        fmt::format("log record {} names partition {}", seq, p));
                        }
                        Worker& w = *e.workers_[p];
                        // The sink may be behind the snapshots: it gets what it has not stored.
                        if (e.sink_ && seq > e.options_.sink_from_seq) e.sink_(seq, ev);
                        if (seq <= w.snapshot_seq) return Status::Ok();  // already in the snapshot
                        w.partition.ApplyEvent(ev);
                        w.last_seq = seq;
                        ++w.events_since_snapshot;
                        ++recovered;
                        return Status::Ok();
                      });
  if (!info.ok()) return info.status();
  if (newest_snapshot >= info->next_seq) {
    // Snapshots are written only after the events they hold are durable in the log.
    return Status(ErrorKind::kCorruption, "snapshot_ahead_of_log",
                  fmt::format("{}: a snapshot holds events up to record {}, but the log ends at "
                              "record {}; the log lost acknowledged records. Restore the data "
                              "directory from a backup",
                              e.options_.dir, newest_snapshot, info->next_seq - 1));
  }
  if (e.sink_ && !info->segments.empty() &&
      e.options_.sink_from_seq + 1 < info->segments.front().second) {
    return Status(
        ErrorKind::kCorruption, "projections_behind_log",
        fmt::format("the projections hold events up to record {}, but the log in {} "
                    "starts at record {}: events between them are gone. Rebuild them "
                    "with `thunder admin rebuild-projections`",
                    e.options_.sink_from_seq, e.options_.dir, info->segments.front().second));
  }
  if (info->removed_empty_segment != 0) {
    spdlog::warn(
        "recovery: removed {}/{}, a segment whose creation was cut short (it held nothing)",
        e.options_.dir, log::SegmentFileName(info->removed_empty_segment));
  }
  if (info->dropped_tail_bytes != 0) {
    spdlog::warn(
        "recovery: cut {} bytes of a torn, unacknowledged last batch from {}/{}; the log now "
        "ends at record {}",
        info->dropped_tail_bytes, e.options_.dir, log::SegmentFileName(info->dropped_tail_segment),
        info->next_seq - 1);
  }
  spdlog::info("recovery: {} events replayed after the snapshots; the log ends at record {}",
               recovered, info->next_seq - 1);
  e.recovered_events_ = recovered;
  e.dropped_tail_bytes_ = info->dropped_tail_bytes;
  {
    MutexLock lock(e.durable_mu_);
    e.durable_seq_ = info->next_seq - 1;
  }
  if (e.sink_) e.consumer_seq_ = e.options_.sink_from_seq;
  ASSIGN_OR_RETURN(
      e.wal_, log::Wal::Open(env, {e.options_.dir, e.options_.partitions, e.options_.segment_bytes},
                             *info));
  for (auto& w : e.workers_) {
    w->needed_from = w->events_since_snapshot > 0 ? w->snapshot_seq + 1 : UINT64_MAX;
  }
  e.DropCoveredSegments();  // what the snapshots cover from before the restart
  for (auto& w : e.workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([&e, raw] {
      pthread_setname_np(pthread_self(),
                         ("thunder-p" + std::to_string(raw->partition.index())).c_str());
      e.RunWorker(*raw);
    });
  }
  return engine;
}

Engine::~Engine() {
  for (auto& w : workers_) {
    {
      MutexLock lock(w->mu);
      w->stop = true;
    }
    w->wake.NotifyOne();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  for (auto& w : workers_) {
    if (w->snapshot_writer.joinable()) w->snapshot_writer.join();
  }
  wal_.reset();  // writes and completes what is pending
}

uint32_t Engine::PartitionForSku(int64_t sku_id) const {
  // Fibonacci hashing spreads consecutive SKU ids over the partitions.
  const uint64_t h = static_cast<uint64_t>(sku_id) * 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>((h >> 32) % workers_.size());
}

void Engine::Post(uint32_t partition, Task task) {
  Worker& w = *workers_[partition];
  bool idle = false;
  {
    MutexLock lock(w.mu);
    idle = w.waiting;
    w.queue.push_back(std::move(task));
  }
  // A worker that is busy finds the task when it next looks at its queue; waking it
  // anyway would cost a system call per command.
  if (idle) w.wake.NotifyOne();
}

void Engine::Submit(Command command, ReplyFn reply) {
  uint64_t id = 0;
  uint32_t partition = 0;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateDrop>) {
          partition = PartitionForSku(c.spec.sku_id);
        } else if constexpr (std::is_same_v<T, Reserve> || std::is_same_v<T, Restock> ||
                             std::is_same_v<T, ArchiveDrop>) {
          id = c.drop_id;
        } else {
          id = c.order_id;
        }
      },
      command);
  if (id != 0) partition = PartitionOf(id);
  if (partition >= workers_.size()) {
    // No partition owns such an id: it was never issued here.
    const bool drop = std::holds_alternative<Reserve>(command) ||
                      std::holds_alternative<Restock>(command) ||
                      std::holds_alternative<ArchiveDrop>(command);
    reply({drop ? DropNotFound(id) : OrderNotFound(id), {}, {}, false});
    return;
  }
  Post(partition, [this, command = std::move(command), reply = std::move(reply)](
                      Worker& w) mutable { Execute(w, command, std::move(reply)); });
}

void Engine::Execute(Worker& w, const Command& command, ReplyFn reply) {
  w.scratch.clear();
  ++w.commands;
  if (Status failed = wal_->health(); !failed.ok()) {
    // Memory may hold changes the log refused; after a log failure nothing reads it again.
    if (reply) reply({std::move(failed), {}, {}, false});
    return;
  }
  Reply r;
  r.status = w.partition.Apply(command, clock_.Now(), w.scratch);
  if (!r.status.ok()) ++w.rejections;
  const uint64_t order_id = w.partition.last_order();
  if (order_id != 0) {
    if (const Order* o = w.partition.FindOrder(order_id)) r.order = *o;
  }
  const uint64_t drop_id = w.partition.last_drop();
  if (drop_id != 0) {
    if (const Drop* d = w.partition.FindDrop(drop_id)) r.drop = *d;
  }
  if (!w.scratch.empty()) {
    Log(w, std::move(w.scratch),
        [reply = std::move(reply), r = std::move(r)](const Status& s) mutable {
          if (!s.ok()) r.status = s;
          if (reply) reply(std::move(r));
        });
    w.scratch = {};
    return;
  }
  if (!reply) return;
  // Nothing new to log: a retry that changed nothing, or a refusal (sold out, over the
  // limit, a bad state). Either was decided on, and shows, a state that may hold others'
  // changes still waiting for their group commit: answer once they are durable, so no
  // client holds an answer that a crash could take back.
  const bool create = std::holds_alternative<CreateDrop>(command);
  if (r.status.ok() && (order_id != 0 || (create && drop_id != 0))) {
    r.replayed = std::holds_alternative<Reserve>(command) || create;
  }
  WaitDurable(w.last_seq, [reply = std::move(reply), r = std::move(r)](const Status& s) mutable {
    if (!s.ok()) r = Reply{s, {}, {}, false};
    reply(std::move(r));
  });
}

void Engine::Log(Worker& w, std::vector<Event> events, std::function<void(const Status&)> done) {
  std::vector<std::string> bodies(events.size());
  for (size_t i = 0; i < events.size(); ++i) EncodeEvent(events[i], bodies[i]);
  const size_t n = events.size();
  // Before the append: a segment clean-up that sees this record's number must also see
  // that this partition needs it (DropCoveredSegments reads them in the other order).
  if (w.needed_from == UINT64_MAX) w.needed_from = w.snapshot_seq + 1;
  const uint64_t last =
      wal_->Append(bodies, [this, events = std::move(events), done = std::move(done)](
                               const Status& s, uint64_t last_seq) {
        if (s.ok() && sink_) {
          for (size_t i = 0; i < events.size(); ++i) {
            sink_(last_seq - events.size() + 1 + i, events[i]);
          }
        }
        OnLogged(last_seq, s);
        done(s);
      });
  if (last == 0) return;  // refused: the log has failed, and `done` has run
  w.last_seq = last;
  w.events_since_snapshot += n;
}

void Engine::OnLogged(uint64_t last_seq, const Status& status) {
  std::vector<std::function<void(const Status&)>> ready;
  {
    MutexLock lock(durable_mu_);
    if (status.ok()) {
      durable_seq_ = std::max(durable_seq_, last_seq);
    } else if (log_failure_.ok()) {
      // The log's failure, not this batch's own answer (which may say "outcome unknown").
      // (Not wal_->health(): this runs on the log thread, also while wal_ is destroyed.)
      log_failure_ = status.code() == "log_outcome_unknown"
                         ? Status(ErrorKind::kUnavailable, "log_failed",
                                  "the write-ahead log failed; no more orders are taken until a "
                                  "restart recovers it")
                         : status;
    }
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (!status.ok() || it->first <= durable_seq_) {
        ready.push_back(std::move(it->second));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& f : ready) f(status);
}

void Engine::WaitDurable(uint64_t seq, std::function<void(const Status&)> done) {
  Status result;
  {
    MutexLock lock(durable_mu_);
    // Once the log has failed, nothing is confirmed any more: what memory holds may include
    // changes it refused.
    if (log_failure_.ok() && seq > durable_seq_) {
      waiters_.emplace_back(seq, std::move(done));
      return;
    }
    result = log_failure_;
  }
  done(result);
}

void Engine::RunWorker(Worker& w) {
  std::vector<Task> batch;
  for (;;) {
    {
      MutexLock lock(w.mu);
      w.waiting = true;
      // Woken by work, or by the tick that runs expiries and snapshots.
      if (w.queue.empty() && !w.stop) w.wake.WaitFor(lock, options_.expiry_tick);
      w.waiting = false;
      if (w.stop && w.queue.empty()) return;
      batch.swap(w.queue);
    }
    for (Task& t : batch) t(w);
    batch.clear();
    if (!options_.run_timers) continue;
    ExpireDue(w);
    MaybeSnapshot(w);
  }
}

void Engine::ExpireDue(Worker& w) {
  w.due.clear();
  w.partition.DueExpiries(clock_.Now(), w.due);
  for (const uint64_t id : w.due) Execute(w, Expire{id}, nullptr);
  w.due.clear();
  w.partition.DueArchives(clock_.Now() - options_.archive_after, w.due);
  for (const uint64_t id : w.due) Execute(w, ArchiveDrop{id}, nullptr);
}

void Engine::GetDrop(uint64_t drop_id, ReplyFn reply) { Lookup(drop_id, true, std::move(reply)); }

void Engine::GetOrder(uint64_t order_id, ReplyFn reply) {
  Lookup(order_id, false, std::move(reply));
}

void Engine::Lookup(uint64_t id, bool drop, ReplyFn reply) {
  auto missing = [drop, id] { return drop ? DropNotFound(id) : OrderNotFound(id); };
  const uint32_t p = PartitionOf(id);
  if (p >= workers_.size()) {
    reply({missing(), {}, {}, false});
    return;
  }
  Post(p, [this, id, drop, missing, reply = std::move(reply)](Worker& w) mutable {
    if (Status failed = wal_->health(); !failed.ok()) return reply({failed, {}, {}, false});
    Reply r;
    if (drop) {
      if (const Drop* d = w.partition.FindDrop(id)) r.drop = *d;
    } else if (const Order* o = w.partition.FindOrder(id)) {
      r.order = *o;
    }
    if (!r.drop && !r.order) r.status = missing();
    // The copy may show changes still waiting for their group commit: answer once
    // everything it shows is durable.
    WaitDurable(w.last_seq, [r = std::move(r), reply = std::move(reply)](const Status& s) mutable {
      if (!s.ok()) r = Reply{s, {}, {}, false};
      reply(std::move(r));
    });
  });
}

void Engine::BuyerOrders(std::string buyer, std::function<void(Result<std::vector<Order>>)> reply) {
  // Each partition adds its part once it is durable; the last one answers.
  struct Gather {
    Mutex mu;
    std::vector<Order> orders GUARDED_BY(mu);
    Status status GUARDED_BY(mu);
    size_t left GUARDED_BY(mu) = 0;
    std::function<void(Result<std::vector<Order>>)> reply;

    void Add(const Status& s, std::vector<Order> part) {
      MutexLock lock(mu);
      if (!s.ok()) status = s;
      orders.insert(orders.end(), part.begin(), part.end());
      if (--left > 0) return;
      const Status result = status;
      std::vector<Order> all = std::move(orders);
      lock.Unlock();
      if (!result.ok()) return reply(result);
      std::sort(all.begin(), all.end(), [](const Order& a, const Order& b) {
        return std::tie(a.created_at, a.id) > std::tie(b.created_at, b.id);
      });
      reply(std::move(all));
    }
  };
  auto g = std::make_shared<Gather>();
  {
    MutexLock lock(g->mu);
    g->left = workers_.size();
  }
  g->reply = std::move(reply);
  for (uint32_t p = 0; p < workers_.size(); ++p) {
    Post(p, [this, g, buyer](Worker& w) {
      // After a log failure memory may hold what the log refused: show none of it.
      if (Status failed = wal_->health(); !failed.ok()) return g->Add(failed, {});
      std::vector<Order> mine;
      for (const Order* o : w.partition.OrdersOf(buyer)) mine.push_back(*o);
      // As for single reads: answered once everything the copy shows is durable.
      WaitDurable(w.last_seq, [g, mine = std::move(mine)](const Status& s) mutable {
        g->Add(s, std::move(mine));
      });
    });
  }
}

void Engine::SnapshotAll(std::function<void(std::vector<Event>)> reply) {
  for (uint32_t p = 0; p < workers_.size(); ++p) {
    Post(p, [reply](Worker& w) { reply(SnapshotEvents(w.partition)); });
  }
}

void Engine::MaybeSnapshot(Worker& w) {
  if (w.events_since_snapshot < options_.snapshot_every || w.snapshot_in_flight) return;
  if (!wal_->health().ok()) return;  // what the log holds is unknown: keep the old snapshot
  if (w.snapshot_writer.joinable()) w.snapshot_writer.join();  // the previous one, finished
  // The state is copied into bytes here, on the partition's thread; writing and syncing
  // the file happen beside it, so commands do not wait for the disk.
  std::string bytes = EncodeSnapshot(w.partition, w.last_seq);
  const uint64_t seq = w.last_seq;
  const uint32_t index = w.partition.index();
  w.events_since_snapshot = 0;
  w.snapshot_in_flight = true;
  w.snapshot_writer = std::thread([this, bytes = std::move(bytes), seq, index] {
    // The copy may include events still waiting for their group commit; a snapshot must
    // never hold what a crash could take back, so it is written once they are durable.
    std::promise<Status> durable;
    WaitDurable(seq, [&durable](const Status& s) { durable.set_value(s); });
    Status s = durable.get_future().get();
    if (s.ok()) s = WriteFileAtomically(env_, SnapshotPath(index), bytes);
    Post(index, [this, s, seq](Worker& owner) {
      owner.snapshot_in_flight = false;
      if (!s.ok()) return;  // tried again after as many events
      owner.snapshot_seq = seq;
      owner.needed_from = owner.events_since_snapshot > 0 ? seq + 1 : UINT64_MAX;
      ++owner.snapshots;
      DropCoveredSegments();
    });
  });
}

void Engine::DropCoveredSegments() {
  // Records appended from here on are kept whatever the partitions say below: the decision
  // covers only what the log holds now. (Read before the partitions' needs; see Log().)
  uint64_t keep_from = wal_->next_seq();
  keep_from = std::min(keep_from, consumer_seq_ == UINT64_MAX ? UINT64_MAX : consumer_seq_ + 1);
  // A partition with no events since its snapshot needs nothing from the log; when none
  // does, every segment but the current one can go.
  for (auto& w : workers_) keep_from = std::min<uint64_t>(keep_from, w->needed_from);
  if (keep_from <= 1) return;
  // Failing to delete only costs disk space; say so and try again after the next snapshot.
  if (Status s = wal_->DropSegmentsThrough(keep_from - 1); !s.ok()) {
    spdlog::warn("could not delete old log segments: {}", s.ToString());
  }
}

std::string Engine::EncodeSnapshot(const Partition& p, uint64_t last_seq) const {
  const uint64_t salt = log::NewSalt();
  std::string out =
      log::EncodeHeader({log::kFormatVersion, options_.partitions, p.index(), last_seq, salt});
  std::string payload;
  std::string body;
  uint32_t n = 0;
  for (const Event& e : SnapshotEvents(p)) {
    body.clear();
    EncodeEvent(e, body);
    log::AppendRecord(payload, body);
    ++n;
  }
  log::AppendBatch(out, salt, 1, n, payload);
  return out;
}

Status Engine::LoadSnapshot(Partition& p, uint64_t& last_seq) {
  const std::string path = SnapshotPath(p.index());
  last_seq = 0;
  if (!env_.FileExists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(const std::string bytes, env_.ReadFile(path));
  auto damaged = [&](const std::string& why) {
    return Status(ErrorKind::kCorruption, "snapshot_corrupt",
                  path + ": " + why + "; restore the data directory from a backup");
  };
  auto header = log::DecodeHeader(std::string_view(bytes).substr(0, log::kBlockSize));
  if (!header.ok()) return damaged(header.status().message());
  if (header->partitions != options_.partitions || header->segment != p.index()) {
    return Status(ErrorKind::kInvalidArgument, "partitions_changed",
                  fmt::format("{} was written for {} partitions; start with --partitions {}", path,
                              header->partitions, header->partitions));
  }
  ASSIGN_OR_RETURN(const log::SegmentScan scan,
                   log::ScanSegment(bytes, 1, [&](uint64_t, std::string_view record) -> Status {
                     ASSIGN_OR_RETURN(Event e, DecodeEvent(record));
                     p.ApplyEvent(e);
                     return Status::Ok();
                   }));
  if (scan.damaged || scan.batches != 1) {
    return damaged(scan.damaged ? scan.damage_reason : "its batch is missing");
  }
  last_seq = header->first_seq;
  return Status::Ok();
}

uint64_t Engine::durable_seq() {
  MutexLock lock(durable_mu_);
  return durable_seq_;
}

EngineStats Engine::stats() const {
  EngineStats s;
  for (const auto& w : workers_) {
    s.commands += w->commands;
    s.rejections += w->rejections;
    s.snapshots += w->snapshots;
  }
  s.wal = wal_->stats();
  s.recovered_events = recovered_events_;
  s.dropped_tail_bytes = dropped_tail_bytes_;
  return s;
}

}  // namespace thunder::engine
