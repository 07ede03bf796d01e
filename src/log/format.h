// The write-ahead log's on-disk format; docs/wal-format.md is its specification.
// Pure functions over bytes: encoding records and batches, encoding and checking a segment
// header, and scanning a segment's bytes for batches. Safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace thunder::log {

inline constexpr size_t kBlockSize = 4096;
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kBatchHeaderSize = 32;
inline constexpr uint32_t kMaxRecordBody = 1u << 20;  // 1 MiB
inline constexpr std::string_view kMagic = "THUNDWAL";
inline constexpr std::string_view kBatchMagic = "BTCH";

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint32_t partitions = 0;
  uint64_t segment = 0;    // the number in the file name
  uint64_t first_seq = 0;  // the sequence number the segment's first record has (or would have)
  // Random per segment and folded into every batch header's checksum, so that bytes a
  // client chose (inside a record) can never pass for a batch header of this segment.
  uint64_t salt = 0;
};

// A full header block: kBlockSize bytes.
std::string EncodeHeader(const SegmentHeader& h);
Result<SegmentHeader> DecodeHeader(std::string_view block);

// Appends one record (its length, then its body) to a batch's payload.
void AppendRecord(std::string& payload, std::string_view body);
// Appends one batch to `out`, which must end at a block boundary of the file: the batch
// header (count, first sequence number, payload length and checksums), the payload of
// `count` records made by AppendRecord, and zeros up to the next block boundary.
// `salt` is the segment header's.
void AppendBatch(std::string& out, uint64_t salt, uint64_t first_seq, uint32_t count,
                 std::string_view payload);
// A salt for a new segment: random, never 0.
uint64_t NewSalt();
// The bytes AppendBatch adds for a payload of `payload_size` bytes.
uint64_t BatchBytes(uint64_t payload_size);

// What scanning one segment found.
struct SegmentScan {
  uint64_t valid_end = 0;  // the block boundary just past the last good batch
  uint64_t next_seq = 0;   // the sequence number the next record would have
  uint64_t records = 0;
  uint64_t batches = 0;
  // Bytes after valid_end that are not an empty (all-zero) end: a torn batch, or damage.
  bool damaged = false;
  uint64_t damage_at = 0;
  std::string damage_reason;
  // The damage cannot be a torn last write: a good batch follows it, or a batch whose
  // checksums hold says something impossible (a sequence gap, records that do not fit).
  bool certain = false;
};

// Calls `on_record(seq, body)` for every record of every good batch of a segment whose
// bytes (header block included, its salt read from there) are `bytes`, and whose first
// record is `first_seq`.
// Stops at the end of the data or at the first damaged batch; a non-OK status from
// on_record stops the scan and is returned.
Result<SegmentScan> ScanSegment(std::string_view bytes, uint64_t first_seq,
                                const std::function<Status(uint64_t, std::string_view)>& on_record);

// "wal-000000000042.log"
std::string SegmentFileName(uint64_t segment);
// 42 for "wal-000000000042.log"; 0 for names that are not segments.
uint64_t ParseSegmentFileName(std::string_view name);

}  // namespace thunder::log
