// The one place that decides every access. Handlers describe what is being done to what
// (and who owns it); Authorize() answers. Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

#include "auth/principal.h"
#include "core/status.h"

namespace thunder {

enum class Action { kRead, kCreate, kUpdate, kAdminister };

enum class ResourceKind { kBelt, kBase, kFactory, kHost, kProduct, kSku, kPlatform };

// The tenants a resource belongs to, as far as they are known.
struct Ownership {
  std::optional<int64_t> factory_id;
  std::optional<int64_t> base_id;

  static Ownership Factory(int64_t id) { return {id, std::nullopt}; }
  static Ownership Base(int64_t id) { return {std::nullopt, id}; }
};

// OK, or PermissionDenied with a message that says what the role may not do.
Status Authorize(const Principal& who, Action action, ResourceKind kind, const Ownership& owner);

}  // namespace thunder
