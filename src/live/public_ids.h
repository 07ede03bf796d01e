// PublicIds: the ids clients see for drops and orders. The engine numbers both with
// sequential ids (partition in the low bits) that a client could walk, and a drop and an
// order can share a number. Clients instead get "drp_" / "ord_" followed by 13 Crockford
// base32 characters of a keyed 64-bit permutation of (kind tag, internal id), so public ids
// are opaque, not guessable without the key, and never the same for a drop and an order.
// A PublicIds is an immutable value, safe to use from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace thunder::live {

enum class PublicKind { kDrop, kOrder };

class PublicIds {
 public:
  static constexpr size_t kKeyBytes = 16;
  using Key = std::array<uint8_t, kKeyBytes>;
  // Internal ids must be below 2^56: the top byte of the permuted block carries the kind.
  // The engine's ids reach that after 2^48 drops or orders in one partition.
  static constexpr uint64_t kMaxInternalId = (uint64_t{1} << 56) - 1;

  explicit PublicIds(const Key& key);

  // "ord_…" for an order. An internal id above kMaxInternalId is a bug (std::out_of_range).
  std::string Encode(PublicKind kind, uint64_t internal_id) const;
  // The internal id behind `public_id`, or nullopt when it is not one this key made for
  // `kind`: another prefix, another kind's id, a character outside the alphabet, the wrong
  // length, or a non-canonical spelling (each internal id has exactly one public id).
  std::optional<uint64_t> Decode(PublicKind kind, std::string_view public_id) const;

 private:
  uint64_t Permute(uint64_t block) const;
  uint64_t Unpermute(uint64_t block) const;
  uint32_t RoundFunction(uint32_t round, uint32_t half) const;

  uint64_t k0_;
  uint64_t k1_;
};

// SipHash-2-4 of one 8-byte little-endian message: the round function, exposed for its
// reference test vector.
uint64_t SipHash24(uint64_t k0, uint64_t k1, uint64_t message);

// The key of the data directory `data_dir` (file public_id.key, 32 hex digits), made from
// the OS's CSPRNG and written durably on the first start. It must never change while the
// engine's log lives: every drop and order id a client holds depends on it. A damaged key
// file refuses the start.
Result<PublicIds> LoadOrCreatePublicIds(Env& env, const std::string& data_dir);

}  // namespace thunder::live
