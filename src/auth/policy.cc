#include "auth/policy.h"

#include <string>

#include "core/ids.h"

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

bool SameBelt(std::optional<int64_t> a, std::optional<int64_t> b) {
  return a.has_value() && b.has_value() && *a == *b;
}

bool Allowed(const Principal& who, Action action, ResourceKind kind, const Ownership& owner,
             const CallerScope& caller) {
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
      // Live hosts run drops of what their own belt makes.
      return action == Action::kCreate && who.role == Role::kHost &&
             SameBelt(owner.belt_id, caller.belt_id);
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

std::string DeniedMessage(const Principal& who, Action action, ResourceKind kind) {
  std::string msg = "a " + std::string(RoleName(who.role)) + " token";
  if (!who.scope.empty()) msg += " scoped to " + who.scope;
  return msg + " may not " + ActionVerb(action) + " " + KindName(kind);
}

}  // namespace

Status Authorize(const Principal& who, Action action, ResourceKind kind, const Ownership& owner,
                 const CallerScope& caller) {
  if (Allowed(who, action, kind, owner, caller)) return Status::Ok();
  std::string msg = DeniedMessage(who, action, kind);
  if (owner.factory_id) msg += " of factory " + std::to_string(*owner.factory_id);
  if (owner.base_id) msg += " of base " + std::to_string(*owner.base_id);
  if (owner.buyer) msg += " of buyer " + *owner.buyer;
  if (owner.belt_id) {
    msg += " of belt " + std::to_string(*owner.belt_id);
    if (who.role == Role::kHost) {
      msg += caller.belt_id ? ": its base is in belt " + std::to_string(*caller.belt_id)
                            : ": its base does not exist";
    }
  }
  return Status::PermissionDenied(msg);
}

Result<CallerScope> ReadCallerScope(Store& store, const Principal& who) {
  CallerScope scope;
  if (who.role != Role::kHost) return scope;
  const auto base = ParseIdText(who.scope);
  if (!base) return scope;
  ASSIGN_OR_RETURN(auto found, store.Query("SELECT belt_id FROM bases WHERE id = ?", {*base}));
  if (!found.rows.empty()) scope.belt_id = AsInt(found.rows[0][0]);
  return scope;
}

Status AuthorizeRole(const Principal& who, Action action, ResourceKind kind) {
  // Ask with the owner most favourable to the caller: its own tenant, in its own belt.
  Ownership own;
  if (const auto scope_id = ParseIdText(who.scope)) {
    own.factory_id = *scope_id;
    own.base_id = *scope_id;
  }
  own.buyer = who.scope;
  own.belt_id = 0;
  if (Allowed(who, action, kind, own, CallerScope{own.belt_id})) return Status::Ok();
  return Status::PermissionDenied(DeniedMessage(who, action, kind));
}

}  // namespace thunder
