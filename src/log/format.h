// The write-ahead log's on-disk format; docs/wal-format.md is its specification.
// Pure functions over bytes: encoding a record, encoding and checking a segment header,
// and scanning a segment's bytes for records. Safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace thunder::log {

inline constexpr size_t kBlockSize = 4096;
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kRecordHeaderSize = 8;           // length + masked CRC32C
inline constexpr uint32_t kMaxRecordPayload = 1u << 20;  // 1 MiB
inline constexpr std::string_view kMagic = "THUNDWAL";

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint32_t partitions = 0;
  uint64_t segment = 0;    // the number in the file name
  uint64_t first_seq = 0;  // the sequence number the segment's first record has (or would have)
};

// A full header block: kBlockSize bytes.
std::string EncodeHeader(const SegmentHeader& h);
Result<SegmentHeader> DecodeHeader(std::string_view block);

// Appends one record (length, masked CRC32C, payload) to `out`, which must begin at a
// block boundary of the file: a record never starts in the last 7 bytes of a block.
void AppendRecord(std::string& out, uint64_t seq, std::string_view body);
// Appends zeros to `out` until `file_offset + out.size()` is a multiple of kBlockSize.
void PadToBlock(std::string& out, uint64_t file_offset);

// What scanning one segment found.
struct SegmentScan {
  uint64_t valid_end = 0;  // offset just past the last good record
  uint64_t last_seq = 0;   // sequence number of the last good record (0 when none)
  uint64_t records = 0;
  bool torn = false;     // bytes after valid_end that are neither padding nor records
  uint64_t torn_at = 0;  // where the bad bytes start, when torn
  std::string torn_reason;
  // When torn: a good record was found after the damage, so the damage is not a tail.
  bool valid_after_damage = false;
  uint64_t valid_after_offset = 0;
};

// Calls `on_record(seq, body)` for every good record of a segment whose bytes (header
// block included) are `bytes`. Stops at the end of the data or at the first damaged
// record; a non-OK status from on_record stops the scan and is returned.
Result<SegmentScan> ScanSegment(std::string_view bytes,
                                const std::function<Status(uint64_t, std::string_view)>& on_record);

// "wal-000000000042.log"
std::string SegmentFileName(uint64_t segment);
// 42 for "wal-000000000042.log"; 0 for names that are not segments.
uint64_t ParseSegmentFileName(std::string_view name);

}  // namespace thunder::log
