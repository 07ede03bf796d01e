// The one place that decides every access. Handlers describe what is being done to what
// (and who owns it); Authorize() answers. Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/principal.h"
#include "core/status.h"

namespace thunder {

enum class Action { kRead, kCreate, kUpdate, kAdminister };

enum class ResourceKind { kBelt, kBase, kFactory, kHost, kProduct, kSku, kDrop, kOrder, kPlatform };

// The tenants a resource belongs to, as far as they are known.
struct Ownership {
  std::optional<int64_t> factory_id;
  std::optional<int64_t> base_id;
  std::optional<std::string> buyer;

  static Ownership Factory(int64_t id) { return {id, std::nullopt, std::nullopt}; }
  static Ownership Base(int64_t id) { return {std::nullopt, id, std::nullopt}; }
  static Ownership Buyer(std::string id) { return {std::nullopt, std::nullopt, std::move(id)}; }
};

// OK, or PermissionDenied with a message that says what the role may not do.
Status Authorize(const Principal& who, Action action, ResourceKind kind, const Ownership& owner);

}  // namespace thunder
