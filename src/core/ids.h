// Strong id types. Ids travel as decimal strings in the API ("42") and as positive
// int64 in the store; a StrongId of one kind never converts to another by accident.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace thunder {

template <typename Tag>
struct StrongId {
  int64_t value = 0;
  friend constexpr auto operator<=>(StrongId, StrongId) = default;
  std::string ToString() const { return std::to_string(value); }
};

using BeltId = StrongId<struct BeltTag>;
using BaseId = StrongId<struct BaseTag>;
using FactoryId = StrongId<struct FactoryTag>;
using HostId = StrongId<struct HostTag>;
using ProductId = StrongId<struct ProductTag>;
using SkuId = StrongId<struct SkuTag>;
using TokenId = StrongId<struct TokenTag>;

// "42" -> 42. Only plain decimal digits, no sign, no leading zeros, 1..2^63-1.
std::optional<int64_t> ParseIdText(std::string_view text);

}  // namespace thunder
