// The one place that decides every access. Handlers describe what is being done to what
// (and who owns it); Authorize() answers. Pure functions, safe from any thread, except
// ReadCallerScope(), which reads the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/principal.h"
#include "core/status.h"
#include "store/store.h"

namespace thunder {

enum class Action { kRead, kCreate, kUpdate, kAdminister };

enum class ResourceKind { kBelt, kBase, kFactory, kHost, kProduct, kSku, kDrop, kOrder, kPlatform };

// The tenants a resource belongs to, as far as they are known.
struct Ownership {
  std::optional<int64_t> factory_id;
  std::optional<int64_t> base_id;
  std::optional<std::string> buyer;
  // The industrial belt: for a drop, the belt of its SKU's factory.
  std::optional<int64_t> belt_id;

  static Ownership Factory(int64_t id) {
    Ownership o;
    o.factory_id = id;
    return o;
  }
  static Ownership Base(int64_t id) {
    Ownership o;
    o.base_id = id;
    return o;
  }
  static Ownership Buyer(std::string id) {
    Ownership o;
    o.buyer = std::move(id);
    return o;
  }
  static Ownership Belt(int64_t id) {
    Ownership o;
    o.belt_id = id;
    return o;
  }
};

// What the route looked up about the caller's own scope, for rules that relate it to the
// resource: a host's base lies in one belt.
struct CallerScope {
  std::optional<int64_t> belt_id;
};

// OK, or PermissionDenied with a message that says what the role may not do.
//
// Drops: a host creates drops only of SKUs whose factory is in its base's belt, so the
// route passes Ownership::Belt(the SKU's belt) and CallerScope{the base's belt}; an unknown
// belt on either side is refused. Admin creates any drop.
Status Authorize(const Principal& who, Action action, ResourceKind kind, const Ownership& owner,
                 const CallerScope& caller = {});

// What Authorize() needs to know about the caller's own scope, read from `store` (a
// query: call it where blocking is allowed). Today: the belt of a host's base; empty for
// other roles and for a base that does not exist.
Result<CallerScope> ReadCallerScope(Store& store, const Principal& who);

// Whether the role may do `action` to some resource of `kind` at all: lets a route refuse
// a caller before it reads a body, when the full Authorize() needs owners named in that
// body. Never enough on its own: Authorize() with the owners still decides.
Status AuthorizeRole(const Principal& who, Action action, ResourceKind kind);

}  // namespace thunder
