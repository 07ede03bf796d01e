// libFuzzer target for the log reader: any bytes as a segment must be scanned without
// crashing, reading out of bounds or looping. Three shapes of input, chosen by the first
// byte, so the fuzzer also gets past the header and the checksums:
//   0: the bytes as they are;
//   1: a valid header block followed by the bytes;
//   2: a valid segment whose batches of records are built from the bytes, then truncated
//      or with one byte flipped where the input says; every record of every batch that
//      ends before the damage must be read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log/format.h"

namespace {

using thunder::log::kBlockSize;
constexpr uint64_t kSalt = 0x5eed5eed5eed5eedull;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 4, size - 4);
  const uint32_t knob = data[1] | (data[2] << 8) | (data[3] << 16);
  std::string segment;
  size_t records_before_damage = 0;
  bool built = false;
  switch (data[0] % 3) {
    case 0:
      segment.assign(input);
      break;
    case 1:
      segment = thunder::log::EncodeHeader({thunder::log::kFormatVersion, 2, 1, 1, kSalt});
      segment.append(input);
      break;
    default: {
      built = true;
      segment = thunder::log::EncodeHeader({thunder::log::kFormatVersion, 2, 1, 1, kSalt});
      uint64_t seq = 1;
      std::vector<std::pair<size_t, size_t>> batch_ends;  // (end offset, records through it)
      std::string payload;
      uint32_t count = 0;
      uint64_t first = seq;
      for (size_t i = 0; i < input.size();) {
        const size_t n = std::min<size_t>(static_cast<uint8_t>(input[i]), input.size() - i - 1);
        thunder::log::AppendRecord(payload, input.substr(i + 1, n));
        ++count;
        ++seq;
        const bool close = (input[i] & 1) || i + n + 1 >= input.size();
        i += n + 1;
        if (close) {
          thunder::log::AppendBatch(segment, kSalt, first, count, payload);
          batch_ends.emplace_back(segment.size(), seq - 1);
          payload.clear();
          count = 0;
          first = seq;
        }
      }
      const size_t at = kBlockSize + knob % (segment.size() - kBlockSize + 1);
      if (knob & 0x800000) {
        segment.resize(at);
      } else if (at < segment.size()) {
        segment[at] = static_cast<char>(segment[at] ^ 0x5a);
      }
      for (const auto& [end, records] : batch_ends) {
        if (end <= at) records_before_damage = records;
      }
      break;
    }
  }
  const std::string_view bytes(segment);
  (void)thunder::log::DecodeHeader(bytes.substr(0, kBlockSize));
  auto scan = thunder::log::ScanSegment(bytes, 1, [&](uint64_t, std::string_view body) {
    Check(body.data() >= bytes.data() && body.data() + body.size() <= bytes.data() + bytes.size());
    return thunder::Status::Ok();
  });
  Check(scan.ok());
  Check(scan->valid_end <= bytes.size() || bytes.size() < kBlockSize);
  if (built) Check(scan->records >= records_before_damage);
  return 0;
}
