#include "catalog/catalog_service.h"

#include "auth/policy.h"
#include "auth/token_service.h"
#include "core/ids.h"
#include "core/json_writer.h"

namespace thunder::catalog {
namespace {

std::string SelectColumns(const ResourceSpec& spec) {
  std::string cols = "id";
  for (const FieldSpec& f : spec.fields) {
    cols += ", ";
    cols += f.type == FieldType::kMoney ? std::string(f.name) + "_fen" : std::string(f.name);
  }
  return cols + ", created_at, updated_at";
}

std::string ColumnOf(const FieldSpec& f) {
  return f.type == FieldType::kMoney ? std::string(f.name) + "_fen" : std::string(f.name);
}

void RenderRow(JsonWriter& w, const ResourceSpec& spec, const std::vector<SqlValue>& row) {
  w.BeginObject();
  w.Key("id").String(std::to_string(AsInt(row[0])));
  size_t i = 1;
  for (const FieldSpec& f : spec.fields) {
    const SqlValue& v = row[i++];
    // Optional text that was never set is stored as '' and left out: "" would break the
    // field's minLength of 1.
    if (f.type == FieldType::kString && AsText(v).empty()) continue;
    w.Key(f.name);
    switch (f.type) {
      case FieldType::kString:
        w.String(AsText(v));
        break;
      case FieldType::kInteger:
        w.Int(AsInt(v));
        break;
      case FieldType::kMoney:
        w.Money(AsInt(v));
        break;
      case FieldType::kReference:
        w.String(std::to_string(AsInt(v)));
        break;
      case FieldType::kStringMap:
      case FieldType::kCountMap:
        w.Raw(AsText(v));
        break;
      case FieldType::kTimestamp:
        w.String(FormatRfc3339(Timestamp{std::chrono::microseconds{AsInt(v)}}));
        break;
    }
  }
  w.Key("created_at").String(AsText(row[i]));
  w.Key("updated_at").String(AsText(row[i + 1]));
  w.EndObject();
}

// A digest of what a create asked for, so a reused idempotency key with a different
// body is told apart from a retry.
std::string RecordDigest(const Record& record) {
  std::string text;
  for (const auto& [f, v] : record.values) {
    text += f->name;
    text += '=';
    text += std::holds_alternative<int64_t>(v) ? "i" + std::to_string(std::get<int64_t>(v))
                                               : "s" + AsText(v);
    text += '\x1f';
  }
  return Sha256Hex(text);
}

std::optional<int64_t> RecordInt(const Record& r, std::string_view field) {
  const SqlValue* v = r.Get(field);
  if (v == nullptr || !std::holds_alternative<int64_t>(*v)) return std::nullopt;
  return std::get<int64_t>(*v);
}

Status NoSuch(const ResourceSpec& spec, std::string_view id) {
  return Status::NotFound(std::string(spec.singular) + " " + std::string(id) + " does not exist");
}

}  // namespace

Result<ListQuery> ParseListQuery(const ResourceSpec& spec,
                                 const std::vector<std::pair<std::string, std::string>>& params) {
  ListQuery q;
  for (const auto& [name, value] : params) {
    if (name == "limit") {
      ASSIGN_OR_RETURN(q.limit, http::ParsePageLimit(value));
    } else if (name == "cursor") {
      const auto id = ParseIdText(value);
      if (!id)
        return Status::InvalidArgument("invalid_cursor", "cursor is not one we gave", "cursor");
      q.after_id = *id;
    } else {
      const FieldSpec* f = spec.Find(name);
      if (f == nullptr || !f->filterable) {
        return Status::InvalidArgument(
            "unknown_filter", std::string(spec.name) + " cannot be filtered by " + name, name);
      }
      if (f->type == FieldType::kReference || f->type == FieldType::kInteger) {
        const auto id = ParseIdText(value);
        if (!id) return Status::InvalidArgument("wrong_type", name + " must be an id", name);
        q.filters.emplace_back(f, *id);
      } else {
        q.filters.emplace_back(f, value);
      }
    }
  }
  return q;
}

Result<Ownership> CatalogService::OwnerOfRecord(const ResourceSpec& spec, const Record& record) {
  switch (spec.owner_rule) {
    case OwnerRule::kNone:
    case OwnerRule::kSelfBase:
    case OwnerRule::kSelfFactory:
      return Ownership{};  // a new base or factory has no owner yet
    case OwnerRule::kBaseField:
      return Ownership{std::nullopt, RecordInt(record, "base_id")};
    case OwnerRule::kFactoryField:
      return Ownership{RecordInt(record, "factory_id"), std::nullopt};
    case OwnerRule::kViaProduct: {
      const auto product = RecordInt(record, "product_id");
      if (!product) return Ownership{};
      ASSIGN_OR_RETURN(auto r,
                       store_.Query("SELECT factory_id FROM products WHERE id = ?", {*product}));
      if (r.rows.empty()) {
        return Status::InvalidArgument("unknown_reference",
                                       "product " + std::to_string(*product) + " does not exist",
                                       "product_id");
      }
      return Ownership{AsInt(r.rows[0][0]), std::nullopt};
    }
  }
  return Ownership{};
}

Result<Ownership> CatalogService::OwnerOfRow(const ResourceSpec& spec, int64_t id) {
  switch (spec.owner_rule) {
    case OwnerRule::kNone:
      return Ownership{};
    case OwnerRule::kSelfBase:
      return Ownership::Base(id);
    case OwnerRule::kSelfFactory:
      return Ownership::Factory(id);
    case OwnerRule::kBaseField:
    case OwnerRule::kFactoryField:
    case OwnerRule::kViaProduct: {
      const char* sql =
          spec.owner_rule == OwnerRule::kBaseField ? "SELECT base_id FROM hosts WHERE id = ?"
          : spec.owner_rule == OwnerRule::kFactoryField
              ? "SELECT factory_id FROM products WHERE id = ?"
              : "SELECT p.factory_id FROM skus s JOIN products p ON p.id = s.product_id "
                "WHERE s.id = ?";
      ASSIGN_OR_RETURN(auto r, store_.Query(sql, {id}));
      if (r.rows.empty()) return NoSuch(spec, std::to_string(id));
      const int64_t owner = AsInt(r.rows[0][0]);
      return spec.owner_rule == OwnerRule::kBaseField ? Ownership::Base(owner)
                                                      : Ownership::Factory(owner);
    }
  }
  return Ownership{};
}

Status CatalogService::CheckReferences(const Record& record) {
  for (const auto& [f, v] : record.values) {
    if (f->type != FieldType::kReference) continue;
    const std::string sql = "SELECT 1 FROM " + std::string(f->references) + " WHERE id = ?";
    ASSIGN_OR_RETURN(auto r, store_.Query(sql, {v}));
    if (r.rows.empty()) {
      return Status::InvalidArgument(
          "unknown_reference",
          std::string(f->name) + " " + std::to_string(std::get<int64_t>(v)) + " does not exist",
          std::string(f->name));
    }
  }
  return Status::Ok();
}

Status CatalogService::AuthorizeUpdate(const Principal& who, const ResourceSpec& spec, int64_t id) {
  ASSIGN_OR_RETURN(auto exists,
                   store_.Query("SELECT 1 FROM " + std::string(spec.name) + " WHERE id = ?", {id}));
  if (exists.rows.empty()) return NoSuch(spec, std::to_string(id));
  ASSIGN_OR_RETURN(const Ownership owner, OwnerOfRow(spec, id));
  return Authorize(who, Action::kUpdate, spec.kind, owner);
}

Result<Entity> CatalogService::Load(const ResourceSpec& spec, int64_t id) {
  const std::string sql =
      "SELECT " + SelectColumns(spec) + " FROM " + std::string(spec.name) + " WHERE id = ?";
  ASSIGN_OR_RETURN(auto r, store_.Query(sql, {id}));
  if (r.rows.empty()) return NoSuch(spec, std::to_string(id));
  JsonWriter w;
  RenderRow(w, spec, r.rows[0]);
  return Entity{id, w.Take(), false};
}

Result<Entity> CatalogService::Create(const Principal& who, const ResourceSpec& spec,
                                      std::string_view body,
                                      std::optional<std::string_view> idempotency_header) {
  // A create names its owner in its body. Before the body is read, a role that may not
  // create this kind at all is refused, whatever the body holds; CreateRecord then asks
  // about the owner the body names.
  RETURN_IF_ERROR(AuthorizeRole(who, Action::kCreate, spec.kind));
  ASSIGN_OR_RETURN(Record record, ParseBody(spec, body, BodyMode::kCreate, idempotency_header));
  return CreateRecord(who, spec, record);
}

Result<Entity> CatalogService::CreateRecord(const Principal& who, const ResourceSpec& spec,
                                            const Record& record) {
  ASSIGN_OR_RETURN(const Ownership owner, OwnerOfRecord(spec, record));
  RETURN_IF_ERROR(Authorize(who, Action::kCreate, spec.kind, owner));

  const std::string digest = record.idempotency_key.empty() ? "" : RecordDigest(record);
  int64_t id = 0;
  bool replayed = false;
  RETURN_IF_ERROR(store_.InTransaction([&]() -> Status {
    if (!record.idempotency_key.empty()) {
      ASSIGN_OR_RETURN(auto prior,
                       store_.Query("SELECT entity_id, request_hash FROM idempotency_keys WHERE "
                                    "principal = ? AND resource = ? AND idempotency_key = ?",
                                    {who.Name(), std::string(spec.name), record.idempotency_key}));
      if (!prior.rows.empty()) {
        if (AsText(prior.rows[0][1]) != digest) {
          return Status::Conflict("idempotency_key_reused",
                                  "this idempotency_key was used for a different request",
                                  "idempotency_key");
        }
        id = AsInt(prior.rows[0][0]);
        replayed = true;
        return Status::Ok();
      }
    }
    RETURN_IF_ERROR(CheckReferences(record));
    const std::string now = FormatRfc3339(clock_.Now());
    std::string cols;
    std::string marks;
    std::vector<SqlValue> params;
    for (const auto& [f, v] : record.values) {
      cols += ColumnOf(*f) + ", ";
      marks += "?, ";
      params.push_back(v);
    }
    params.emplace_back(now);
    params.emplace_back(now);
    const std::string sql = "INSERT INTO " + std::string(spec.name) + " (" + cols +
                            "created_at, updated_at) VALUES (" + marks + "?, ?) RETURNING id";
    auto inserted = store_.Query(sql, params);
    if (!inserted.ok()) {
      if (inserted.status().code() == "already_exists") {
        return Status::Conflict("already_exists",
                                std::string("a ") + std::string(spec.singular) +
                                    " with the same unique name or code already exists");
      }
      return inserted.status();
    }
    id = AsInt(inserted->rows.at(0).at(0));
    if (!record.idempotency_key.empty()) {
      RETURN_IF_ERROR(store_.Exec(
          "INSERT INTO idempotency_keys (principal, resource, idempotency_key, entity_id, "
          "request_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          {who.Name(), std::string(spec.name), record.idempotency_key, id, digest, now}));
    }
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(Entity entity, Load(spec, id));
  entity.replayed = replayed;
  return entity;
}

Result<Entity> CatalogService::Get(const Principal& who, const ResourceSpec& spec,
                                   std::string_view id_text) {
  const auto id = ParseIdText(id_text);
  if (!id) return NoSuch(spec, id_text);
  RETURN_IF_ERROR(Authorize(who, Action::kRead, spec.kind, Ownership{}));
  return Load(spec, *id);
}

Result<Entity> CatalogService::Update(const Principal& who, const ResourceSpec& spec,
                                      std::string_view id_text, std::string_view body) {
  const auto id = ParseIdText(id_text);
  if (!id) return NoSuch(spec, id_text);
  // A row's owner never changes after creation (owner references are immutable), so the
  // answer holds for the transaction below.
  RETURN_IF_ERROR(AuthorizeUpdate(who, spec, *id));
  ASSIGN_OR_RETURN(Record record, ParseBody(spec, body, BodyMode::kPatch));
  RETURN_IF_ERROR(store_.InTransaction([&]() -> Status {
    std::string sets;
    std::vector<SqlValue> params;
    for (const auto& [f, v] : record.values) {
      sets += ColumnOf(*f) + " = ?, ";
      params.push_back(v);
    }
    params.emplace_back(FormatRfc3339(clock_.Now()));
    params.emplace_back(*id);
    const std::string sql =
        "UPDATE " + std::string(spec.name) + " SET " + sets + "updated_at = ? WHERE id = ?";
    auto updated = store_.Query(sql, params);
    if (!updated.ok() && updated.status().code() == "already_exists") {
      return Status::Conflict("already_exists", std::string("another ") +
                                                    std::string(spec.singular) +
                                                    " already has that unique name or code");
    }
    return updated.status();
  }));
  return Load(spec, *id);
}

Result<std::string> CatalogService::List(const Principal& who, const ResourceSpec& spec,
                                         const ListQuery& query) {
  RETURN_IF_ERROR(Authorize(who, Action::kRead, spec.kind, Ownership{}));
  std::string sql =
      "SELECT " + SelectColumns(spec) + " FROM " + std::string(spec.name) + " WHERE id > ?";
  std::vector<SqlValue> params{query.after_id};
  for (const auto& [f, v] : query.filters) {
    sql += " AND " + ColumnOf(*f) + " = ?";
    params.push_back(v);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(query.limit + 1);  // one more tells whether a next page exists
  ASSIGN_OR_RETURN(auto r, store_.Query(sql, params));
  const bool more = static_cast<int64_t>(r.rows.size()) > query.limit;
  if (more) r.rows.pop_back();
  JsonWriter w;
  w.BeginObject().Key("items").BeginArray();
  for (const auto& row : r.rows) RenderRow(w, spec, row);
  w.EndArray().Key("next_cursor");
  if (more) {
    w.String(std::to_string(AsInt(r.rows.back()[0])));
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace thunder::catalog
