#include "log/wal.h"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>

namespace thunder::log {
namespace {

std::string PathOf(const std::string& dir, uint64_t segment) {
  return dir + "/" + SegmentFileName(segment);
}

Status Corrupt(std::string message) {
  return Status(ErrorKind::kCorruption, "wal_corrupt",
                std::move(message) +
                    ". The log was damaged after it was written: restore the data directory "
                    "from a backup, or move the log aside to start without its orders.");
}

}  // namespace

Result<RecoveryInfo> RecoverWal(
    Env& env, const std::string& dir, uint32_t partitions,
    const std::function<Status(uint64_t, std::string_view)>& on_record) {
  RecoveryInfo info;
  RETURN_IF_ERROR(env.CreateDirs(dir));
  ASSIGN_OR_RETURN(auto names, env.ListDir(dir));
  std::vector<uint64_t> numbers;
  for (const auto& n : names) {
    if (const uint64_t s = ParseSegmentFileName(n); s > 0) numbers.push_back(s);
  }
  std::sort(numbers.begin(), numbers.end());
  for (size_t i = 0; i < numbers.size(); ++i) {
    const uint64_t segment = numbers[i];
    const bool last = i + 1 == numbers.size();
    const std::string path = PathOf(dir, segment);
    if (i > 0 && segment != numbers[i - 1] + 1) {
      return Corrupt(fmt::format("{}: segment {} is missing", dir, numbers[i - 1] + 1));
    }
    ASSIGN_OR_RETURN(const std::string bytes, env.ReadFile(path));
    auto header = DecodeHeader(std::string_view(bytes).substr(0, kBlockSize));
    if (!header.ok()) {
      if (last && bytes.size() <= kBlockSize) {
        // A segment whose creation was cut short: it holds nothing; remove it. The one
        // before it is the last again, and it ends where its last batch ends.
        RETURN_IF_ERROR(env.RemoveFile(path));
        RETURN_IF_ERROR(env.SyncDir(dir));
        info.removed_empty_segment = segment;
        break;
      }
      return Corrupt(fmt::format("{}: {}", path, header.status().message()));
    }
    if (header->partitions != partitions) {
      return Status(ErrorKind::kInvalidArgument, "partitions_changed",
                    fmt::format("the log in {} was written with {} partitions, and this start asks "
                                "for {}; start with --partitions {}",
                                dir, header->partitions, partitions, header->partitions));
    }
    if (header->segment != segment) {
      return Corrupt(fmt::format("{}: header names segment {}", path, header->segment));
    }
    if (i > 0 && header->first_seq != info.next_seq) {
      // Records are numbered without gaps across segments; a gap means records were lost.
      return Corrupt(fmt::format(
          "{}: starts at record {}, but the previous segment ends before record {}{}", path,
          header->first_seq, info.next_seq,
          header->first_seq > info.next_seq
              ? fmt::format(": records {} to {} are missing", info.next_seq, header->first_seq - 1)
              : ""));
    }
    info.next_seq = header->first_seq;
    info.segments.emplace_back(segment, header->first_seq);
    ASSIGN_OR_RETURN(
        const SegmentScan scan,
        ScanSegment(bytes, header->first_seq, [&](uint64_t seq, std::string_view body) -> Status {
          ++info.records;
          return on_record(seq, body);
        }));
    info.next_seq = scan.next_seq;
    if (scan.damaged && (!last || scan.certain)) {
      return Corrupt(fmt::format("{}: damaged at offset {} ({}){}", path, scan.damage_at,
                                 scan.damage_reason, last ? "" : ", and later segments follow"));
    }
    if (!last && scan.valid_end != bytes.size()) {
      return Corrupt(fmt::format("{}: the data ends at offset {} of {}, and later segments follow",
                                 path, scan.valid_end, bytes.size()));
    }
    info.last_segment = segment;
    info.last_salt = header->salt;
    info.segment_size = scan.valid_end;
    info.dropped_tail_bytes = 0;
    if (last && bytes.size() > scan.valid_end) {
      // Bytes past the last good batch were never acknowledged: a torn or unfinished batch.
      info.dropped_tail_bytes = bytes.size() - scan.valid_end;
      info.dropped_tail_segment = segment;
      RETURN_IF_ERROR(env.Truncate(path, scan.valid_end));
    }
  }
  return info;
}

std::optional<uint32_t> PartitionsOfExistingLog(Env& env, const std::string& dir) {
  auto names = env.ListDir(dir);
  if (!names.ok()) return std::nullopt;
  uint64_t first = 0;
  for (const auto& n : *names) {
    const uint64_t s = ParseSegmentFileName(n);
    if (s > 0 && (first == 0 || s < first)) first = s;
  }
  if (first == 0) return std::nullopt;
  auto bytes = env.ReadFile(PathOf(dir, first));
  if (!bytes.ok()) return std::nullopt;
  auto header = DecodeHeader(std::string_view(*bytes).substr(0, kBlockSize));
  if (!header.ok()) return std::nullopt;
  return header->partitions;
}

Result<std::unique_ptr<Wal>> Wal::Open(Env& env, WalOptions options,
                                       const RecoveryInfo& recovered) {
  std::unique_ptr<Wal> wal(new Wal(env, std::move(options)));
  {
    MutexLock lock(wal->mu_);
    wal->next_seq_ = recovered.next_seq;
    wal->segments_ = recovered.segments;
  }
  if (recovered.last_segment == 0) {
    RETURN_IF_ERROR(wal->StartSegment(1, recovered.next_seq));
  } else {
    const std::string path = PathOf(wal->options_.dir, recovered.last_segment);
    ASSIGN_OR_RETURN(wal->file_, env.NewAppendableFile(path));
    wal->segment_ = recovered.last_segment;
    wal->salt_ = recovered.last_salt;
    // The file's real size: appends land there, and the next batch is padded from it to
    // its block boundary.
    ASSIGN_OR_RETURN(wal->file_size_, env.FileSize(path));
  }
  wal->thread_ = std::thread([w = wal.get()] {
    pthread_setname_np(pthread_self(), "thunder-wal");
    w->Run();
  });
  return wal;
}

Wal::~Wal() {
  {
    MutexLock lock(mu_);
    closing_ = true;
  }
  wake_.NotifyOne();
  if (thread_.joinable()) thread_.join();
  if (file_) (void)file_->Close();
}

Status Wal::StartSegment(uint64_t segment, uint64_t first_seq) {
  const uint64_t salt = NewSalt();
  if (file_) RETURN_IF_ERROR(file_->Close());
  const std::string path = PathOf(options_.dir, segment);
  ASSIGN_OR_RETURN(file_, env_.NewWritableFile(path));
  RETURN_IF_ERROR(
      file_->Append(EncodeHeader({kFormatVersion, options_.partitions, segment, first_seq, salt})));
  RETURN_IF_ERROR(file_->Sync());
  RETURN_IF_ERROR(env_.SyncDir(options_.dir));
  segment_ = segment;
  salt_ = salt;
  file_size_ = kBlockSize;
  MutexLock lock(mu_);
  if (segments_.empty() || segments_.back().first != segment)
    segments_.emplace_back(segment, first_seq);
  return Status::Ok();
}

uint64_t Wal::Append(std::span<const std::string> bodies, Completion done) {
  MutexLock lock(mu_);
  if (!failed_.ok() || closing_) {
    const Status s =
        failed_.ok() ? Status(ErrorKind::kUnavailable, "log_closed", "the log is closed") : failed_;
    lock.Unlock();
    done(s, 0);
    return 0;
  }
  if (pending_count_ == 0) pending_first_seq_ = next_seq_;
  for (const std::string& body : bodies) AppendRecord(pending_, body);
  pending_count_ += static_cast<uint32_t>(bodies.size());
  next_seq_ += bodies.size();
  const uint64_t last = next_seq_ - 1;
  pending_done_.emplace_back(last, std::move(done));
  stats_.records += bodies.size();
  const bool idle = writer_waiting_;
  lock.Unlock();
  // While the log thread writes and syncs a batch, records pile up for the next one; it
  // needs waking only when it sleeps.
  if (idle) wake_.NotifyOne();
  return last;
}

void Wal::Run() {
  std::string batch;
  std::string write;
  std::vector<std::pair<uint64_t, Completion>> done;
  for (;;) {
    uint64_t first_seq = 0;
    uint32_t count = 0;
    {
      MutexLock lock(mu_);
      writer_waiting_ = true;
      while (pending_count_ == 0 && !closing_) wake_.Wait(lock);
      writer_waiting_ = false;
      if (pending_count_ == 0) return;  // closing, nothing left
      batch.swap(pending_);
      done.swap(pending_done_);
      first_seq = pending_first_seq_;
      count = pending_count_;
      pending_count_ = 0;
    }
    Status s;
    bool outcome_unknown = false;  // the batch may be on disk although it failed
    if (file_size_ >= options_.segment_bytes) s = StartSegment(segment_ + 1, first_seq);
    if (s.ok()) {
      // The batch starts on a fresh block, so tearing it cannot reach acknowledged data,
      // and carries its own checksum, so recovery can tell a torn last batch from damage.
      write.clear();
      write.append(static_cast<size_t>((kBlockSize - file_size_ % kBlockSize) % kBlockSize), '\0');
      AppendBatch(write, salt_, first_seq, count, batch);
      s = file_->Append(write);
      if (s.ok()) s = file_->Sync();
      if (s.ok()) {
        file_size_ += write.size();
      } else {
        // What reached the disk is unknown: cut the file back to its acknowledged end so
        // that a refused batch cannot come back after a restart. If even that fails, the
        // batch may or may not be there after a restart, and its callers are told so.
        if (Status cut = env_.Truncate(PathOf(options_.dir, segment_), file_size_); !cut.ok()) {
          s = Status(s.kind(), s.code(),
                     s.message() + "; cutting it back failed too: " + cut.message());
          outcome_unknown = true;
        }
      }
    }
    {
      MutexLock lock(mu_);
      if (!s.ok()) {
        failed_ = Status(ErrorKind::kUnavailable, "log_failed",
                         "the write-ahead log failed (" + s.message() +
                             "); no more orders are taken until a restart recovers it");
        // Records queued behind the failed batch are refused as well.
        pending_.clear();
        pending_count_ = 0;
        for (auto& d : pending_done_) done.push_back(std::move(d));
        pending_done_.clear();
      } else {
        ++stats_.batches;
        stats_.bytes += write.size();
      }
    }
    const Status result = s.ok() ? Status::Ok() : health();
    const Status unknown(ErrorKind::kUnavailable, "log_outcome_unknown",
                         "the write-ahead log failed while writing this change and could not "
                         "undo it: it may or may not be there after a restart; retry with the "
                         "same idempotency key once the node is back to learn which");
    for (auto& [seq, d] : done) {
      // Only the batch being written can have reached the disk; those queued behind it
      // were never written.
      d(outcome_unknown && seq < first_seq + count ? unknown : result, seq);
    }
    done.clear();
    batch.clear();
  }
}

Status Wal::DropSegmentsThrough(uint64_t seq) {
  // Oldest first, and a segment leaves the list only once its file is gone: a failure
  // leaves the log without a hole, and the next call starts again where this one stopped.
  // One clean-up at a time (partitions finish snapshots concurrently).
  MutexLock cleaning(drop_mu_);
  Status result;
  bool removed = false;
  for (;;) {
    uint64_t segment = 0;
    {
      MutexLock lock(mu_);
      // Segment i holds seqs [first_i, first_{i+1}); it can go when first_{i+1} - 1 <= seq.
      if (segments_.size() < 2 || segments_[1].second - 1 > seq) break;
      segment = segments_.front().first;
    }
    result = env_.RemoveFile(PathOf(options_.dir, segment));
    if (!result.ok()) break;
    removed = true;
    MutexLock lock(mu_);
    segments_.erase(segments_.begin());
  }
  if (removed) {
    if (Status s = env_.SyncDir(options_.dir); result.ok()) result = s;
  }
  return result;
}

uint64_t Wal::next_seq() const {
  MutexLock lock(mu_);
  return next_seq_;
}

WalStats Wal::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

Status Wal::health() const {
  MutexLock lock(mu_);
  return failed_;
}

}  // namespace thunder::log
