#include "log/format.h"

#include <fmt/format.h>

#include <cstring>

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

constexpr size_t kHeaderFieldsSize = 32;  // magic, version, partitions, segment, first_seq

// A good record at `offset`? Fills seq and body.
bool RecordAt(std::string_view bytes, uint64_t offset, uint64_t& seq, std::string_view& body,
              std::string& why) {
  if (offset + kRecordHeaderSize > bytes.size()) {
    why = "a record header runs past the end of the file";
    return false;
  }
  const uint32_t length = GetU32(bytes.data() + offset);
  const uint32_t crc = UnmaskCrc(GetU32(bytes.data() + offset + 4));
  if (length < 8 || length > kMaxRecordPayload) {
    why = fmt::format("impossible record length {}", length);
    return false;
  }
  if (offset + kRecordHeaderSize + length > bytes.size()) {
    why = "a record runs past the end of the file";
    return false;
  }
  const std::string_view payload = bytes.substr(offset + kRecordHeaderSize, length);
  if (Crc32c(payload) != crc) {
    why = "checksum mismatch";
    return false;
  }
  seq = GetU64(payload.data());
  body = payload.substr(8);
  return true;
}

}  // namespace

std::string EncodeHeader(const SegmentHeader& h) {
  std::string out(kMagic);
  PutU32(out, h.version);
  PutU32(out, h.partitions);
  PutU64(out, h.segment);
  PutU64(out, h.first_seq);
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
  if (h.version != kFormatVersion) {
    return Status(ErrorKind::kCorruption, "wal_bad_version",
                  fmt::format("log format version {} is not {}", h.version, kFormatVersion));
  }
  return h;
}

void AppendRecord(std::string& out, uint64_t seq, std::string_view body) {
  // A record header never straddles a block boundary: fewer than 8 bytes left in a block
  // are padding, so a reader can tell padding from a record without looking past it.
  if (const size_t left = kBlockSize - out.size() % kBlockSize; left < kRecordHeaderSize) {
    out.append(left, '\0');
  }
  const size_t start = out.size();
  PutU32(out, static_cast<uint32_t>(8 + body.size()));
  PutU32(out, 0);  // the CRC, filled below
  PutU64(out, seq);
  out.append(body);
  const uint32_t crc = MaskCrc(Crc32c(std::string_view(out).substr(start + kRecordHeaderSize)));
  for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

void PadToBlock(std::string& out, uint64_t file_offset) {
  const uint64_t end = file_offset + out.size();
  out.append(static_cast<size_t>((kBlockSize - end % kBlockSize) % kBlockSize), '\0');
}

Result<SegmentScan> ScanSegment(
    std::string_view bytes, const std::function<Status(uint64_t, std::string_view)>& on_record) {
  SegmentScan scan;
  uint64_t offset = kBlockSize;  // records start after the header block
  scan.valid_end = std::min<uint64_t>(kBlockSize, bytes.size());
  std::string why;
  while (offset + 4 <= bytes.size()) {
    if (const uint64_t left = kBlockSize - offset % kBlockSize; left < kRecordHeaderSize) {
      offset += left;  // too little room for a record header: padding
      continue;
    }
    if (GetU32(bytes.data() + offset) == 0) {
      // Zero length: padding to the end of this block, or the end of the data when the
      // whole next block starts with zero.
      if (offset % kBlockSize == 0) break;
      offset += kBlockSize - offset % kBlockSize;
      continue;
    }
    uint64_t seq = 0;
    std::string_view body;
    if (!RecordAt(bytes, offset, seq, body, why) || (scan.records > 0 && seq <= scan.last_seq)) {
      if (why.empty()) why = "sequence numbers go backwards";
      scan.torn = true;
      scan.torn_at = offset;
      scan.torn_reason = why;
      // Damage followed by good records is not a torn tail: look at later blocks.
      for (uint64_t b = (offset / kBlockSize + 1) * kBlockSize;
           b + kRecordHeaderSize <= bytes.size(); b += kBlockSize) {
        uint64_t later_seq = 0;
        std::string_view later_body;
        std::string ignored;
        if (RecordAt(bytes, b, later_seq, later_body, ignored) && later_seq > scan.last_seq) {
          scan.valid_after_damage = true;
          scan.valid_after_offset = b;
          break;
        }
      }
      return scan;
    }
    RETURN_IF_ERROR(on_record(seq, body));
    ++scan.records;
    scan.last_seq = seq;
    offset += kRecordHeaderSize + 8 + body.size();
    scan.valid_end = offset;
  }
  // Trailing bytes too short for a length that are not zero are a torn tail too.
  for (uint64_t i = offset; i < bytes.size() && i < offset + 4; ++i) {
    if (bytes[i] != '\0' && offset % kBlockSize != 0) {
      scan.torn = true;
      scan.torn_at = offset;
      scan.torn_reason = "a record header runs past the end of the file";
      break;
    }
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
