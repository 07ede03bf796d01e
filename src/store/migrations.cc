#include "store/migrations.h"

#include <array>
#include <string>

namespace thunder {
namespace {

constexpr std::string_view kCatalogSchema = R"sql(
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  scope TEXT,
  label TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE TABLE belts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  province TEXT NOT NULL,
  city TEXT NOT NULL,
  specialty TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE bases (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  belt_id INTEGER NOT NULL REFERENCES belts(id),
  city TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  studios INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX bases_belt ON bases(belt_id);
CREATE TABLE factories (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  belt_id INTEGER NOT NULL REFERENCES belts(id),
  city TEXT NOT NULL,
  contact TEXT NOT NULL DEFAULT '',
  daily_capacity TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX factories_belt ON factories(belt_id);
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  base_id INTEGER NOT NULL REFERENCES bases(id),
  handle TEXT NOT NULL UNIQUE,
  followers INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX hosts_base ON hosts(base_id);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  factory_id INTEGER NOT NULL REFERENCES factories(id),
  category TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (factory_id, name)
);
CREATE INDEX products_category ON products(category);
CREATE TABLE skus (
  id INTEGER PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products(id),
  code TEXT NOT NULL UNIQUE,
  attributes TEXT NOT NULL DEFAULT '{}',
  list_price_fen INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX skus_product ON skus(product_id);
CREATE TABLE idempotency_keys (
  principal TEXT NOT NULL,
  resource TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  request_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (principal, resource, idempotency_key)
)
)sql";

// Projections of the engine's event log: rebuilt from the log when needed.
constexpr std::string_view kProjectionSchema = R"sql(
CREATE TABLE projection_state (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
CREATE TABLE drops (
  id INTEGER PRIMARY KEY,
  sku_id INTEGER NOT NULL,
  price_fen INTEGER NOT NULL,
  stock INTEGER NOT NULL,
  starts_at TEXT NOT NULL,
  ends_at TEXT NOT NULL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  drop_id INTEGER NOT NULL,
  sku_id INTEGER NOT NULL,
  buyer TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  pay_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX orders_buyer ON orders(buyer);
CREATE INDEX orders_drop ON orders(drop_id);
CREATE TABLE gmv_hourly (
  hour TEXT NOT NULL,
  sku_id INTEGER NOT NULL,
  factory_id INTEGER NOT NULL,
  belt_id INTEGER NOT NULL,
  gmv_fen INTEGER NOT NULL,
  paid_orders INTEGER NOT NULL,
  refunded_orders INTEGER NOT NULL,
  PRIMARY KEY (hour, sku_id)
);
CREATE INDEX gmv_hourly_factory ON gmv_hourly(factory_id, hour);
CREATE INDEX gmv_hourly_belt ON gmv_hourly(belt_id, hour)
)sql";

// Tokens may expire and be revoked; both are checked on every request. NULL: never.
constexpr std::string_view kTokenLifetimeSchema = R"sql(
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN revoked_at TEXT
)sql";

// Revocations are swept once in a while by what changed since the last sweep.
constexpr std::string_view kRevokedIndexSchema = R"sql(
CREATE INDEX tokens_revoked_at ON tokens(revoked_at) WHERE revoked_at IS NOT NULL
)sql";

constexpr std::array kMigrations = {
    Migration{1, "catalog, tokens and idempotency keys", kCatalogSchema},
    Migration{2, "projections: drops, orders, hourly GMV", kProjectionSchema},
    Migration{3, "tokens: expiry and revocation", kTokenLifetimeSchema},
    Migration{4, "tokens: index of revocations", kRevokedIndexSchema},
};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

}  // namespace

std::span<const Migration> KnownMigrations() { return kMigrations; }

Result<int> SchemaVersion(Store& store) {
  RETURN_IF_ERROR(store.Exec(kCreateMigrationsTable));
  ASSIGN_OR_RETURN(auto r, store.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(AsInt(r.rows.at(0).at(0)));
}

Status ApplyMigrations(Store& store, const Clock& clock) {
  ASSIGN_OR_RETURN(const int current, SchemaVersion(store));
  const int newest = KnownMigrations().back().version;
  if (current > newest) {
    return Status(ErrorKind::kConflict, "schema_too_new",
                  "the store is at schema version " + std::to_string(current) +
                      " but this binary knows only up to " + std::to_string(newest));
  }
  for (const Migration& m : KnownMigrations()) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(store.InTransaction([&]() -> Status {
      std::string_view rest = m.sql;
      while (!rest.empty()) {
        const size_t end = rest.find(";\n");
        const std::string_view stmt = rest.substr(0, end);
        if (stmt.find_first_not_of(" \n\t") != std::string_view::npos) {
          RETURN_IF_ERROR(store.Exec(stmt));
        }
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
      }
      return store.Exec(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          {int64_t{m.version}, std::string(m.name), FormatRfc3339(clock.Now())});
    }));
  }
  return Status::Ok();
}

}  // namespace thunder
