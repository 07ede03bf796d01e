#include "auth/policy.h"

#include <string>

namespace thunder {
namespace {

bool ScopeIs(const Principal& who, std::optional<int64_t> id) {
  return id.has_value() && who.scope == std::to_string(*id);
}

const char* KindName(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kBelt:
      return "belts";
    case ResourceKind::kBase:
      return "bases";
    case ResourceKind::kFactory:
      return "factories";
    case ResourceKind::kHost:
      return "hosts";
    case ResourceKind::kProduct:
      return "products";
    case ResourceKind::kSku:
      return "skus";
    case ResourceKind::kDrop:
      return "drops";
    case ResourceKind::kOrder:
      return "orders";
    case ResourceKind::kPlatform:
      return "the platform";
  }
  return "this resource";
}

bool Allowed(const Principal& who, Action action, ResourceKind kind, const Ownership& owner) {
  if (who.role == Role::kAdmin) return true;
  if (kind == ResourceKind::kPlatform) return false;
  // Orders belong to their buyer alone: reading, placing, paying, cancelling, refunding.
  if (kind == ResourceKind::kOrder) {
    return who.role == Role::kConsumer && owner.buyer.has_value() && who.scope == *owner.buyer;
  }
  // The catalog and the drops are reference data every signed-in role may read.
  if (action == Action::kRead) return true;
  switch (kind) {
    case ResourceKind::kBase:
      return action == Action::kUpdate && who.role == Role::kHost && ScopeIs(who, owner.base_id);
    case ResourceKind::kHost:
      return who.role == Role::kHost && ScopeIs(who, owner.base_id);
    case ResourceKind::kFactory:
      return action == Action::kUpdate && who.role == Role::kFactory &&
             ScopeIs(who, owner.factory_id);
    case ResourceKind::kProduct:
    case ResourceKind::kSku:
      return who.role == Role::kFactory && ScopeIs(who, owner.factory_id);
    case ResourceKind::kDrop:
      // Live hosts run drops.
      return who.role == Role::kHost;
    case ResourceKind::kBelt:
    case ResourceKind::kOrder:
    case ResourceKind::kPlatform:
      return false;
  }
  return false;
}

const char* ActionVerb(Action action) {
  switch (action) {
    case Action::kRead:
      return "read";
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "change";
    case Action::kAdminister:
      return "administer";
  }
  return "use";
}

}  // namespace

Status Authorize(const Principal& who, Action action, ResourceKind kind, const Ownership& owner) {
  if (Allowed(who, action, kind, owner)) return Status::Ok();
  std::string msg = "a " + std::string(RoleName(who.role)) + " token";
  if (!who.scope.empty()) msg += " scoped to " + who.scope;
  msg += std::string(" may not ") + ActionVerb(action) + " " + KindName(kind);
  if (owner.factory_id) msg += " of factory " + std::to_string(*owner.factory_id);
  if (owner.base_id) msg += " of base " + std::to_string(*owner.base_id);
  if (owner.buyer) msg += " of buyer " + *owner.buyer;
  return Status::PermissionDenied(msg);
}

}  // namespace thunder
