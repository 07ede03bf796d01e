// The catalog's resources described as data: each field's name, type, limits and whether
// it may be changed or filtered on. One description drives request validation, the SQL
// that is generated (column names come only from here; values are always bound
// parameters), JSON rendering and the OpenAPI schemas. Everything here is immutable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/policy.h"
#include "core/status.h"
#include "store/store.h"

namespace thunder::catalog {

enum class FieldType {
  kString,     // UTF-8 text; min/max bound its length in characters. Never blank, never
               // with control characters (tab and line feed only in `multiline` text)
  kInteger,    // int64; min/max bound its value
  kMoney,      // {"amount_fen": n}; min/max bound n
  kReference,  // the string id of a row in `references`
  kStringMap,  // {"colour": "red", ...}: attributes; max bounds each value's length
  kCountMap,   // {"socks": 20000, ...}: per-category quantities; max bounds each count
  kTimestamp,  // RFC 3339 text such as "2026-11-27T20:00:00+08:00"; stored as microseconds
};

struct FieldSpec {
  std::string_view name;  // in the API and as the column name
  FieldType type;
  bool required;              // on create
  bool mutable_after_create;  // may PATCH change it
  bool filterable;            // may a list filter on it (?name=value)
  int64_t min;
  int64_t max;
  std::string_view references;  // table a kReference points to
  std::string_view description;
  bool multiline = false;  // free text that may hold tabs and line breaks
};

// How to find the tenants that own a row, for the policy.
enum class OwnerRule {
  kNone,          // reference data of the programme office
  kSelfBase,      // the row is a base
  kSelfFactory,   // the row is a factory
  kBaseField,     // the row's base_id
  kFactoryField,  // the row's factory_id
  kViaProduct,    // the factory of the row's product_id
};

struct ResourceSpec {
  std::string_view name;      // plural: path segment and table name, e.g. "belts"
  std::string_view singular;  // "belt"
  std::string_view summary;   // one line for the docs
  ResourceKind kind;
  OwnerRule owner_rule;
  std::span<const FieldSpec> fields;

  const FieldSpec* Find(std::string_view field) const;
};

// The six catalog resources, in the order their routes are documented.
std::span<const ResourceSpec> AllResources();
const ResourceSpec* FindResource(std::string_view name);

// A validated request body: the fields present, in spec order, as store values
// (references as ids, maps as canonical JSON text).
struct Record {
  std::vector<std::pair<const FieldSpec*, SqlValue>> values;
  std::string idempotency_key;  // from the body or header, create only; empty when absent

  const SqlValue* Get(std::string_view field) const;
};

enum class BodyMode { kCreate, kPatch };

// Parses and validates a JSON body. Any problem is kInvalidArgument with a code
// (invalid_json, invalid_utf8, not_an_object, unknown_field, duplicate_field, wrong_type,
// out_of_range, too_short, too_long, control_character, blank, missing_field,
// immutable_field, empty_patch, idempotency_key_mismatch) and the field.
// `idempotency_header` is the Idempotency-Key header of a create, if sent: it is checked
// like the body's "idempotency_key", and when both are given they must be equal. A patch
// ignores it (a patch is idempotent by itself).
Result<Record> ParseBody(const ResourceSpec& spec, std::string_view body, BodyMode mode,
                         std::optional<std::string_view> idempotency_header = std::nullopt);

// Whether a create must carry an idempotency key (in the body or the header).
enum class KeyRule { kOptional, kRequired };

// JSON Schemas, each with a "title" that names it as an OpenAPI component (see
// http/openapi.cc): the create body ("NewBelt"; all required fields required), the
// patch body ("BeltPatch"), one rendered row ("Belt") and a page of rows ("BeltPage").
std::string BodyJsonSchema(const ResourceSpec& spec, BodyMode mode,
                           KeyRule key_rule = KeyRule::kOptional);
std::string EntityJsonSchema(const ResourceSpec& spec);
std::string PageJsonSchema(const ResourceSpec& spec);
// "belt" -> "Belt": the name of a resource's schemas.
std::string TypeName(const ResourceSpec& spec);

}  // namespace thunder::catalog
