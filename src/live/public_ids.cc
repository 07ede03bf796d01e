#include "live/public_ids.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace thunder::live {
namespace {

// Crockford's base32 in lower case: no i, l, o or u, so ids survive being read aloud.
constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr size_t kDigits = 13;  // 13 * 5 = 65 bits; the first digit carries only 4
constexpr size_t kPrefixChars = 4;
// Luby-Rackoff needs 4 rounds for a strong pseudo-random permutation; 8 buy margin over
// 32-bit halves for a cost of about 100 ns an id.
constexpr uint32_t kRounds = 8;
constexpr std::string_view kKeyFile = "public_id.key";

std::string_view PrefixOf(PublicKind kind) { return kind == PublicKind::kDrop ? "drp_" : "ord_"; }

// The top byte of the block before it is permuted: a decoded block whose tag is not the
// expected kind's was made for another kind, or not made by this key.
uint64_t TagOf(PublicKind kind) { return kind == PublicKind::kDrop ? 0xd7 : 0x0e; }

uint64_t Rotl(uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

int DigitValue(char c) {
  const size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

uint64_t LittleEndian(const uint8_t* bytes) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[i];
  return v;
}

std::string Hex(const PublicIds::Key& key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : key) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::optional<PublicIds::Key> ParseHexKey(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() != 2 * PublicIds::kKeyBytes) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  PublicIds::Key key{};
  for (size_t i = 0; i < key.size(); ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return key;
}

}  // namespace

uint64_t SipHash24(uint64_t k0, uint64_t k1, uint64_t message) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  uint64_t v3 = 0x7465646279746573ULL ^ k1;
  auto sip_round = [&] {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  };
  auto absorb = [&](uint64_t block) {
    v3 ^= block;
    sip_round();
    sip_round();
    v0 ^= block;
  };
  absorb(message);
  absorb(uint64_t{8} << 56);  // the final block: no tail bytes, total length 8
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) sip_round();
  return v0 ^ v1 ^ v2 ^ v3;
}

PublicIds::PublicIds(const Key& key)
    : k0_(LittleEndian(key.data())), k1_(LittleEndian(key.data() + 8)) {}

uint32_t PublicIds::RoundFunction(uint32_t round, uint32_t half) const {
  return static_cast<uint32_t>(SipHash24(k0_, k1_, (uint64_t{round} << 32) | half));
}

uint64_t PublicIds::Permute(uint64_t block) const {
  auto left = static_cast<uint32_t>(block >> 32);
  auto right = static_cast<uint32_t>(block);
  for (uint32_t round = 0; round < kRounds; ++round) {
    const uint32_t next = left ^ RoundFunction(round, right);
    left = right;
    right = next;
  }
  return (uint64_t{left} << 32) | right;
}

uint64_t PublicIds::Unpermute(uint64_t block) const {
  auto left = static_cast<uint32_t>(block >> 32);
  auto right = static_cast<uint32_t>(block);
  for (uint32_t round = kRounds; round-- > 0;) {
    const uint32_t previous = right ^ RoundFunction(round, left);
    right = left;
    left = previous;
  }
  return (uint64_t{left} << 32) | right;
}

std::string PublicIds::Encode(PublicKind kind, uint64_t internal_id) const {
  if (internal_id > kMaxInternalId) {
    throw std::out_of_range("internal id " + std::to_string(internal_id) +
                            " does not fit a public id");
  }
  uint64_t block = Permute(TagOf(kind) << 56 | internal_id);
  std::string out(PrefixOf(kind));
  out.resize(kPrefixChars + kDigits);
  for (size_t i = kDigits; i-- > 0;) {
    out[kPrefixChars + i] = kAlphabet[block & 31];
    block >>= 5;
  }
  return out;
}

std::optional<uint64_t> PublicIds::Decode(PublicKind kind, std::string_view public_id) const {
  if (public_id.size() != kPrefixChars + kDigits || !public_id.starts_with(PrefixOf(kind))) {
    return std::nullopt;
  }
  uint64_t block = 0;
  for (size_t i = 0; i < kDigits; ++i) {
    const int digit = DigitValue(public_id[kPrefixChars + i]);
    if (digit < 0) return std::nullopt;
    if (i == 0 && digit > 15) return std::nullopt;  // would need a 65th bit
    block = block << 5 | static_cast<uint64_t>(digit);
  }
  const uint64_t plain = Unpermute(block);
  if (plain >> 56 != TagOf(kind)) return std::nullopt;
  return plain & kMaxInternalId;
}

Result<PublicIds> LoadOrCreatePublicIds(Env& env, const std::string& data_dir) {
  const std::string path = data_dir + "/" + std::string(kKeyFile);
  if (env.FileExists(path)) {
    ASSIGN_OR_RETURN(const std::string text, env.ReadFile(path));
    const auto key = ParseHexKey(text);
    if (!key) {
      return Status(ErrorKind::kCorruption, "corruption",
                    path +
                        " is damaged (it must hold 32 hex digits); restore it from a backup: "
                        "every drop and order id clients hold was made with it");
    }
    return PublicIds(*key);
  }
  PublicIds::Key key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Status::Internal("the OS random source gave no bytes for " + path);
  }
  RETURN_IF_ERROR(WriteFileAtomically(env, path, Hex(key) + "\n"));
  return PublicIds(key);
}

}  // namespace thunder::live
