#include "log/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "log/crc32c.h"

namespace thunder::log {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// magic, version, partitions, segment, first_seq, salt; then the header's CRC
constexpr size_t kHeaderFieldsSize = 40;
constexpr size_t kSaltOffset = 32;

uint64_t RoundUpToBlock(uint64_t n) { return (n + kBlockSize - 1) / kBlockSize * kBlockSize; }

struct BatchHeader {
  uint32_t count = 0;
  uint64_t first_seq = 0;
  uint32_t payload_size = 0;
  uint32_t payload_crc = 0;
};

enum class BatchCheck { kGood, kEnd, kBad };

// The batch header's checksum: of its first 28 bytes, seeded with the segment's salt.
uint32_t BatchHeaderCrc(uint64_t salt, std::string_view first28) {
  std::string seed;
  PutU64(seed, salt);
  return Crc32c(first28, Crc32c(seed));
}

// Checks the batch at `offset`: its header's own checksum, then that its payload is all
// there and matches its checksum. kEnd is an all-zero header: nothing was written here.
BatchCheck CheckBatch(std::string_view bytes, uint64_t salt, uint64_t offset, BatchHeader& h,
                      std::string& why) {
  if (offset + kBatchHeaderSize > bytes.size()) {
    why = "a batch header runs past the end of the file";
    return std::all_of(bytes.begin() + static_cast<ptrdiff_t>(offset), bytes.end(),
                       [](char c) { return c == '\0'; })
               ? BatchCheck::kEnd
               : BatchCheck::kBad;
  }
  const std::string_view header = bytes.substr(offset, kBatchHeaderSize);
  if (std::all_of(header.begin(), header.end(), [](char c) { return c == '\0'; })) {
    return BatchCheck::kEnd;
  }
  const char* p = header.data();
  if (header.substr(0, 4) != kBatchMagic ||
      UnmaskCrc(GetU32(p + 28)) != BatchHeaderCrc(salt, header.substr(0, 28))) {
    why = "batch header checksum mismatch";
    return BatchCheck::kBad;
  }
  h.count = GetU32(p + 4);
  h.first_seq = GetU64(p + 8);
  h.payload_size = GetU32(p + 16);
  h.payload_crc = UnmaskCrc(GetU32(p + 20));
  if (h.payload_size > bytes.size() - offset - kBatchHeaderSize) {
    why = "a batch runs past the end of the file";
    return BatchCheck::kBad;
  }
  if (Crc32c(bytes.substr(offset + kBatchHeaderSize, h.payload_size)) != h.payload_crc) {
    why = "batch checksum mismatch";
    return BatchCheck::kBad;
  }
  return BatchCheck::kGood;
}

}  // namespace

std::string EncodeHeader(const SegmentHeader& h) {
  std::string out(kMagic);
  PutU32(out, h.version);
  PutU32(out, h.partitions);
  PutU64(out, h.segment);
  PutU64(out, h.first_seq);
  PutU64(out, h.salt);
  PutU32(out, MaskCrc(Crc32c(out)));
  out.resize(kBlockSize, '\0');
  return out;
}

Result<SegmentHeader> DecodeHeader(std::string_view block) {
  if (block.size() < kHeaderFieldsSize + 4 || block.substr(0, kMagic.size()) != kMagic) {
    return Status(ErrorKind::kCorruption, "wal_bad_header", "not a write-ahead log segment");
  }
  if (UnmaskCrc(GetU32(block.data() + kHeaderFieldsSize)) !=
      Crc32c(block.substr(0, kHeaderFieldsSize))) {
    return Status(ErrorKind::kCorruption, "wal_bad_header", "segment header checksum mismatch");
  }
  SegmentHeader h;
  h.version = GetU32(block.data() + 8);
  h.partitions = GetU32(block.data() + 12);
  h.segment = GetU64(block.data() + 16);
  h.first_seq = GetU64(block.data() + 24);
  h.salt = GetU64(block.data() + kSaltOffset);
  if (h.version != kFormatVersion) {
    return Status(ErrorKind::kCorruption, "wal_bad_version",
                  fmt::format("log format version {} is not {}", h.version, kFormatVersion));
  }
  return h;
}

void AppendRecord(std::string& payload, std::string_view body) {
  PutU32(payload, static_cast<uint32_t>(body.size()));
  payload.append(body);
}

uint64_t BatchBytes(uint64_t payload_size) {
  return RoundUpToBlock(kBatchHeaderSize + payload_size);
}

uint64_t NewSalt() {
  std::random_device random;
  const uint64_t salt = (static_cast<uint64_t>(random()) << 32) ^ random();
  return salt == 0 ? 1 : salt;
}

void AppendBatch(std::string& out, uint64_t salt, uint64_t first_seq, uint32_t count,
                 std::string_view payload) {
  const size_t start = out.size();
  out.append(kBatchMagic);
  PutU32(out, count);
  PutU64(out, first_seq);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, MaskCrc(Crc32c(payload)));
  PutU32(out, 0);
  PutU32(out, MaskCrc(BatchHeaderCrc(salt, std::string_view(out).substr(start, 28))));
  out.append(payload);
  out.append(static_cast<size_t>(BatchBytes(payload.size()) - kBatchHeaderSize - payload.size()),
             '\0');
}

Result<SegmentScan> ScanSegment(
    std::string_view bytes, uint64_t first_seq,
    const std::function<Status(uint64_t, std::string_view)>& on_record) {
  SegmentScan scan;
  scan.next_seq = first_seq;
  const uint64_t salt = bytes.size() >= kSaltOffset + 8 ? GetU64(bytes.data() + kSaltOffset) : 0;
  uint64_t offset = kBlockSize;  // batches start after the header block
  scan.valid_end = std::min<uint64_t>(kBlockSize, bytes.size());
  auto damage = [&](uint64_t at, std::string why, bool certain) {
    scan.damaged = true;
    scan.damage_at = at;
    scan.damage_reason = std::move(why);
    scan.certain = certain;
  };
  while (offset < bytes.size()) {
    BatchHeader h;
    std::string why;
    const BatchCheck check = CheckBatch(bytes, salt, offset, h, why);
    if (check != BatchCheck::kGood) {
      // Whatever follows an end or a bad batch was never acknowledged, unless a good batch
      // sits at a later block boundary: then this is damage, not a torn last write.
      for (uint64_t b = offset + kBlockSize; b < bytes.size(); b += kBlockSize) {
        BatchHeader later;
        std::string ignored;
        if (CheckBatch(bytes, salt, b, later, ignored) == BatchCheck::kGood) {
          damage(offset,
                 fmt::format("{}, and a good batch follows at offset {}",
                             check == BatchCheck::kEnd ? "an empty block" : why, b),
                 true);
          return scan;
        }
      }
      if (check == BatchCheck::kBad) {
        damage(offset, why, false);
      } else if (std::any_of(bytes.begin() + static_cast<ptrdiff_t>(offset), bytes.end(),
                             [](char c) { return c != '\0'; })) {
        damage(offset, "bytes after the end of the data", false);
      }
      return scan;
    }
    if (h.first_seq != scan.next_seq) {
      damage(offset,
             fmt::format("sequence gap: the batch starts at record {}, the log expects {}",
                         h.first_seq, scan.next_seq),
             true);
      return scan;
    }
    // The checksums hold: the records must fill the payload exactly.
    const std::string_view payload = bytes.substr(offset + kBatchHeaderSize, h.payload_size);
    size_t at = 0;
    uint32_t n = 0;
    for (; n < h.count && at + 4 <= payload.size(); ++n) {
      const uint32_t length = GetU32(payload.data() + at);
      if (length > kMaxRecordBody || length > payload.size() - at - 4) break;
      at += 4 + length;
    }
    if (n != h.count || at != payload.size()) {
      damage(offset, "a batch whose records do not fill it", true);
      return scan;
    }
    at = 0;
    for (uint32_t i = 0; i < h.count; ++i) {
      const uint32_t length = GetU32(payload.data() + at);
      RETURN_IF_ERROR(on_record(h.first_seq + i, payload.substr(at + 4, length)));
      at += 4 + length;
    }
    scan.records += h.count;
    ++scan.batches;
    scan.next_seq = h.first_seq + h.count;
    offset += BatchBytes(h.payload_size);
    scan.valid_end = std::min<uint64_t>(offset, bytes.size());
  }
  return scan;
}

std::string SegmentFileName(uint64_t segment) { return fmt::format("wal-{:012}.log", segment); }

uint64_t ParseSegmentFileName(std::string_view name) {
  if (name.size() != 20 || !name.starts_with("wal-") || !name.ends_with(".log")) return 0;
  uint64_t v = 0;
  for (const char c : name.substr(4, 12)) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace thunder::log
