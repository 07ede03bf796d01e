// CRC32C (Castagnoli), as used by the write-ahead log. Uses the SSE4.2 instruction when the
// processor has it and a table otherwise; both give the same values. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace thunder::log {

uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// Stored CRCs are masked so that a CRC computed over data that itself holds CRCs does not
// come out trivially (the scheme LevelDB uses).
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace thunder::log
