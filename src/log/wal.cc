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
  uint64_t previous_end = 0;
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
        // A segment whose creation was cut short: it holds nothing; remove it.
        RETURN_IF_ERROR(env.RemoveFile(path));
        if (i > 0) {
          info.last_segment = numbers[i - 1];
          info.segment_size = previous_end;
        }
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
    if (header->segment != segment || header->first_seq < info.next_seq) {
      return Corrupt(fmt::format("{}: header does not match its place in the log", path));
    }
    info.next_seq = header->first_seq;
    info.segments.emplace_back(segment, header->first_seq);
    ASSIGN_OR_RETURN(const SegmentScan scan,
                     ScanSegment(bytes, [&](uint64_t seq, std::string_view body) -> Status {
                       if (seq < info.next_seq) {
                         return Corrupt(fmt::format("{}: record {} is out of order", path, seq));
                       }
                       info.next_seq = seq + 1;
                       ++info.records;
                       return on_record(seq, body);
                     }));
    if (scan.torn && (!last || scan.valid_after_damage)) {
      return Corrupt(fmt::format(
          "{}: damaged record at offset {} ({}){}", path, scan.torn_at, scan.torn_reason,
          scan.valid_after_damage
              ? fmt::format(", followed by good records at offset {}", scan.valid_after_offset)
              : ", and later segments follow"));
    }
    previous_end = scan.valid_end;
    if (last) {
      info.last_segment = segment;
      info.segment_size = scan.valid_end;
      if (bytes.size() > scan.valid_end) {
        // Unacknowledged bytes past the last good record: a torn or unfinished batch.
        info.dropped_tail_bytes = bytes.size() - scan.valid_end;
        RETURN_IF_ERROR(env.Truncate(path, scan.valid_end));
      }
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
  wal->next_seq_ = recovered.next_seq;
  wal->segments_ = recovered.segments;
  if (recovered.last_segment == 0) {
    RETURN_IF_ERROR(wal->StartSegment(1, recovered.next_seq));
  } else {
    ASSIGN_OR_RETURN(wal->file_,
                     env.NewAppendableFile(PathOf(wal->options_.dir, recovered.last_segment)));
    wal->segment_ = recovered.last_segment;
    wal->file_size_ = recovered.segment_size;
  }
  wal->thread_ = std::thread([w = wal.get()] {
    pthread_setname_np(pthread_self(), "thunder-wal");
    w->Run();
  });
  return wal;
}

Wal::~Wal() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (file_) (void)file_->Close();
}

Status Wal::StartSegment(uint64_t segment, uint64_t first_seq) {
  if (file_) RETURN_IF_ERROR(file_->Close());
  const std::string path = PathOf(options_.dir, segment);
  ASSIGN_OR_RETURN(file_, env_.NewWritableFile(path));
  RETURN_IF_ERROR(
      file_->Append(EncodeHeader({kFormatVersion, options_.partitions, segment, first_seq})));
  RETURN_IF_ERROR(file_->Sync());
  RETURN_IF_ERROR(env_.SyncDir(options_.dir));
  segment_ = segment;
  file_size_ = kBlockSize;
  std::lock_guard lock(mu_);
  if (segments_.empty() || segments_.back().first != segment)
    segments_.emplace_back(segment, first_seq);
  return Status::Ok();
}

uint64_t Wal::Append(std::span<const std::string> bodies, Completion done) {
  std::unique_lock lock(mu_);
  if (!failed_.ok() || closing_) {
    const Status s =
        failed_.ok() ? Status(ErrorKind::kUnavailable, "log_closed", "the log is closed") : failed_;
    lock.unlock();
    done(s, 0);
    return 0;
  }
  if (pending_.empty()) pending_first_seq_ = next_seq_;
  for (const std::string& body : bodies) AppendRecord(pending_, next_seq_++, body);
  const uint64_t last = next_seq_ - 1;
  pending_done_.emplace_back(last, std::move(done));
  stats_.records += bodies.size();
  const bool idle = writer_waiting_;
  lock.unlock();
  // While the log thread writes and syncs a batch, records pile up for the next one; it
  // needs waking only when it sleeps.
  if (idle) wake_.notify_one();
  return last;
}

void Wal::Run() {
  std::string batch;
  std::vector<std::pair<uint64_t, Completion>> done;
  for (;;) {
    uint64_t first_seq = 0;
    {
      std::unique_lock lock(mu_);
      writer_waiting_ = true;
      wake_.wait(lock, [&] { return !pending_.empty() || closing_; });
      writer_waiting_ = false;
      if (pending_.empty()) return;  // closing, nothing left
      batch.swap(pending_);
      done.swap(pending_done_);
      first_seq = pending_first_seq_;
    }
    Status s;
    if (file_size_ >= options_.segment_bytes) s = StartSegment(segment_ + 1, first_seq);
    if (s.ok()) {
      // Start the batch on a fresh block so that tearing it cannot reach acknowledged data.
      std::string write;
      PadToBlock(write, file_size_);
      write.append(batch);
      PadToBlock(write, file_size_);
      s = file_->Append(write);
      if (s.ok()) s = file_->Sync();
      if (s.ok()) file_size_ += write.size();
    }
    {
      std::lock_guard lock(mu_);
      if (!s.ok()) {
        failed_ = Status(ErrorKind::kUnavailable, "log_failed",
                         "the write-ahead log failed (" + s.message() +
                             "); no more orders are taken until a restart recovers it");
        // Records queued behind the failed batch are refused as well.
        batch.append(pending_);
        pending_.clear();
        for (auto& d : pending_done_) done.push_back(std::move(d));
        pending_done_.clear();
      } else {
        ++stats_.batches;
        stats_.bytes += batch.size();
      }
    }
    const Status result = s.ok() ? Status::Ok() : health();
    for (auto& [seq, d] : done) d(result, seq);
    done.clear();
    batch.clear();
  }
}

Status Wal::DropSegmentsThrough(uint64_t seq) {
  std::vector<uint64_t> drop;
  {
    std::lock_guard lock(mu_);
    // Segment i holds seqs [first_i, first_{i+1}); it can go when first_{i+1} - 1 <= seq.
    while (segments_.size() > 1 && segments_[1].second - 1 <= seq) {
      drop.push_back(segments_.front().first);
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t s : drop) RETURN_IF_ERROR(env_.RemoveFile(PathOf(options_.dir, s)));
  if (!drop.empty()) RETURN_IF_ERROR(env_.SyncDir(options_.dir));
  return Status::Ok();
}

WalStats Wal::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status Wal::health() const {
  std::lock_guard lock(mu_);
  return failed_;
}

}  // namespace thunder::log
