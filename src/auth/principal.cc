#include "auth/principal.h"

#include <array>
#include <utility>

namespace thunder {
namespace {
constexpr std::array<std::pair<Role, std::string_view>, 5> kRoles = {{
    {Role::kAdmin, "admin"},
    {Role::kFactory, "factory"},
    {Role::kHost, "host"},
    {Role::kConsumer, "consumer"},
    {Role::kTrainer, "trainer"},
}};
}  // namespace

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kRoles) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::string Principal::Name() const {
  std::string out(RoleName(role));
  out += ':';
  out += scope.empty() ? std::to_string(token_id) : scope;
  return out;
}

}  // namespace thunder
