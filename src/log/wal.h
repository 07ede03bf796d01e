// The write-ahead log: append-only segments in one directory, written by one log thread
// that batches every record appended since its last write, writes the batch from a fresh
// 4 KiB block, and fdatasyncs it (group commit). A record's completion runs only after
// the batch that holds it is durable, or with the error that stopped it: after a failed
// write or fsync the log accepts nothing more (what reached the disk is unknown), and a
// restart recovers from what is there. Append() is thread-safe; completions run on the
// log thread and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/mutex.h"
#include "log/format.h"

namespace thunder::log {

// Runs when the records of one Append() are durable (OK) or cannot be (the error), with the
// sequence number of the last of them (0 when the log refused them outright). The error is
// log_failed when the records are certainly not in the log, and log_outcome_unknown when
// they were being written as the failure came and cutting them back failed too.
using Completion = std::function<void(const Status&, uint64_t last_seq)>;

struct WalOptions {
  std::string dir;
  uint32_t partitions = 1;
  uint64_t segment_bytes = 64ull << 20;  // start a new segment past this size
};

struct WalStats {
  uint64_t records = 0;
  uint64_t batches = 0;  // = fdatasync calls
  uint64_t bytes = 0;
};

// What recovery found.
struct RecoveryInfo {
  uint64_t next_seq = 1;
  uint64_t last_segment = 0;  // 0 when the directory held no segment
  uint64_t segment_size = 0;  // valid bytes in the last segment
  uint64_t last_salt = 0;     // the last segment's salt
  uint64_t records = 0;
  uint64_t dropped_tail_bytes = 0;     // a torn tail that was cut off...
  uint64_t dropped_tail_segment = 0;   // ...from this segment
  uint64_t removed_empty_segment = 0;  // a segment whose creation was cut short
  // Every segment as (number, first sequence number), ascending.
  std::vector<std::pair<uint64_t, uint64_t>> segments;
};

// Reads every segment of `dir` in order and calls `on_record(seq, body)` for each record.
// A torn last batch of the last segment is cut off (and reported); damage followed by a
// good batch, a damaged segment that is not the last, a partition count other than
// `partitions`, or a gap in the segments or in the record numbers is refused with a
// message that says where.
Result<RecoveryInfo> RecoverWal(Env& env, const std::string& dir, uint32_t partitions,
                                const std::function<Status(uint64_t, std::string_view)>& on_record);

// The partition count the log in `dir` was written with, or nothing when there is no
// readable segment yet.
std::optional<uint32_t> PartitionsOfExistingLog(Env& env, const std::string& dir);

class Wal {
 public:
  // Continues after `recovered` (from RecoverWal on the same directory).
  static Result<std::unique_ptr<Wal>> Open(Env& env, WalOptions options,
                                           const RecoveryInfo& recovered);
  ~Wal();  // writes what is pending, then stops the log thread
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Queues `bodies` as consecutive records; `done` runs once all of them are durable.
  // Returns the sequence number of the last one.
  uint64_t Append(std::span<const std::string> bodies, Completion done);

  // Deletes segments that hold only records with seq <= `seq` (the current one stays).
  Status DropSegmentsThrough(uint64_t seq);

  WalStats stats() const;
  // The sequence number the next appended record will get.
  uint64_t next_seq() const;
  // OK until a write or fsync failed.
  Status health() const;

 private:
  Wal(Env& env, WalOptions options) : env_(env), options_(std::move(options)) {}
  void Run();
  Status StartSegment(uint64_t segment, uint64_t first_seq);

  Env& env_;
  WalOptions options_;

  Mutex drop_mu_;  // held by DropSegmentsThrough: one clean-up at a time
  mutable Mutex mu_;
  CondVar wake_;
  std::string pending_ GUARDED_BY(mu_);         // the next batch's payload: encoded records
  uint32_t pending_count_ GUARDED_BY(mu_) = 0;  // records in it
  std::vector<std::pair<uint64_t, Completion>> pending_done_ GUARDED_BY(mu_);
  uint64_t pending_first_seq_ GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ GUARDED_BY(mu_) = 1;
  bool closing_ GUARDED_BY(mu_) = false;
  bool writer_waiting_ GUARDED_BY(mu_) = false;  // the log thread sleeps on wake_
  Status failed_ GUARDED_BY(mu_);
  WalStats stats_ GUARDED_BY(mu_);
  std::vector<std::pair<uint64_t, uint64_t>> segments_ GUARDED_BY(mu_);  // (segment, first_seq)

  // Owned by the log thread.
  std::unique_ptr<WritableFile> file_;
  uint64_t segment_ = 0;
  uint64_t salt_ = 0;  // the current segment's
  uint64_t file_size_ = 0;

  std::thread thread_;
};

}  // namespace thunder::log
