// Who is calling: the role and scope carried by a bearer token. Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace thunder {

enum class Role { kAdmin, kFactory, kHost, kConsumer, kTrainer };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Principal {
  int64_t token_id = 0;
  Role role = Role::kConsumer;
  // The id the role is confined to: a factory id (factory), a base id (host), a buyer id
  // (consumer). Empty for admin and trainer.
  std::string scope;

  // A stable name for the caller, e.g. "factory:12", used to key idempotency records.
  std::string Name() const;
};

}  // namespace thunder
