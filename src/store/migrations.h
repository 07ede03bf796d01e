// Versioned schema migrations. Each migration runs once, in its own transaction, and is
// recorded in schema_migrations; a store that is newer than this binary is refused.
#pragma once

#include <span>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace thunder {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // one or more statements separated by ";\n"
};

// The migrations this binary knows, in version order.
std::span<const Migration> KnownMigrations();

// Brings `store` to the newest known version.
Status ApplyMigrations(Store& store, const Clock& clock = SystemClock::Instance());

// The highest applied version (0 for an empty store).
Result<int> SchemaVersion(Store& store);

}  // namespace thunder
