// CatalogService: create, read, update and list the catalog's resources for a caller.
// Asks the policy before every access (and before reading a write's body, so a caller
// without access hears 403, not what is wrong with its body), validates bodies against
// the resource's spec, and keeps creates idempotent per caller and key. Thread-safe as far as the
// Store is; holds no state of its own besides references, which must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/principal.h"
#include "catalog/schema.h"
#include "core/clock.h"
#include "http/router.h"
#include "store/store.h"

namespace thunder::catalog {

struct Entity {
  int64_t id = 0;
  std::string json;       // the rendered row
  bool replayed = false;  // a create answered from its idempotency key
};

struct ListQuery {
  int64_t limit = http::kDefaultPageLimit;
  int64_t after_id = 0;  // the cursor: return rows with larger ids
  // (field, value) equality filters on filterable fields, validated by ParseListQuery.
  std::vector<std::pair<const FieldSpec*, SqlValue>> filters;
};

// Reads limit, cursor and field filters from query parameters; unknown names are errors.
Result<ListQuery> ParseListQuery(const ResourceSpec& spec,
                                 const std::vector<std::pair<std::string, std::string>>& params);

class CatalogService {
 public:
  CatalogService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // `idempotency_header` is the Idempotency-Key header, if sent (see ParseBody).
  Result<Entity> Create(const Principal& who, const ResourceSpec& spec, std::string_view body,
                        std::optional<std::string_view> idempotency_header = std::nullopt);
  Result<Entity> Get(const Principal& who, const ResourceSpec& spec, std::string_view id_text);
  Result<Entity> Update(const Principal& who, const ResourceSpec& spec, std::string_view id_text,
                        std::string_view body);
  // {"items": [...], "next_cursor": "42" | null}
  Result<std::string> List(const Principal& who, const ResourceSpec& spec, const ListQuery& query);

  Store& store() { return store_; }

  // Creates from an already-validated record: the path CSV import shares with the API.
  Result<Entity> CreateRecord(const Principal& who, const ResourceSpec& spec, const Record& record);

 private:
  Result<Ownership> OwnerOfRecord(const ResourceSpec& spec, const Record& record);
  Result<Ownership> OwnerOfRow(const ResourceSpec& spec, int64_t id);
  Status CheckReferences(const Record& record);
  // NotFound when row `id` does not exist, PermissionDenied when `who` may not change it.
  Status AuthorizeUpdate(const Principal& who, const ResourceSpec& spec, int64_t id);
  Result<Entity> Load(const ResourceSpec& spec, int64_t id);

  Store& store_;
  const Clock& clock_;
};

}  // namespace thunder::catalog
