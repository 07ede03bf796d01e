// libFuzzer target for the log reader: any bytes as a segment must be scanned without
// crashing, reading out of bounds or looping, and a good record must never be reported
// past the end of the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "log/format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)thunder::log::DecodeHeader(bytes.substr(0, thunder::log::kBlockSize));
  auto scan = thunder::log::ScanSegment(bytes, [&](uint64_t, std::string_view body) {
    if (body.data() < bytes.data() || body.data() + body.size() > bytes.data() + bytes.size()) {
      __builtin_trap();
    }
    return thunder::Status::Ok();
  });
  if (scan.ok() && scan->valid_end > size && size >= thunder::log::kBlockSize) __builtin_trap();
  return 0;
}
