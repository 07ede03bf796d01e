// Request validation and JSON Schemas for the catalog. The only file that parses JSON.
#include "catalog/schema.h"

#include <simdjson.h>

#include <map>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_writer.h"

namespace thunder::catalog {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kMaxMapEntries = 32;
constexpr size_t kMaxMapKeyChars = 32;
constexpr size_t kMaxIdempotencyKeyChars = 128;

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Status WrongType(std::string_view field, std::string_view want) {
  return Status::InvalidArgument("wrong_type", std::string(field) + " must be " + std::string(want),
                                 std::string(field));
}

Status OutOfRange(std::string_view field, int64_t min, int64_t max) {
  return Status::InvalidArgument("out_of_range",
                                 std::string(field) + " must be between " + std::to_string(min) +
                                     " and " + std::to_string(max),
                                 std::string(field));
}

Result<int64_t> IntegerIn(element v, std::string_view field, int64_t min, int64_t max) {
  if (v.type() == element_type::UINT64) return OutOfRange(field, min, max);
  if (v.type() != element_type::INT64) return WrongType(field, "an integer");
  int64_t n = 0;
  if (v.get_int64().get(n) != simdjson::SUCCESS) return WrongType(field, "an integer");
  if (n < min || n > max) return OutOfRange(field, min, max);
  return n;
}

Result<std::string> TextIn(element v, std::string_view field, int64_t min_len, int64_t max_len) {
  if (v.type() != element_type::STRING) return WrongType(field, "a string");
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return WrongType(field, "a string");
  const auto len = static_cast<int64_t>(Utf8Length(s));
  if (len < min_len) {
    return Status::InvalidArgument("too_short", std::string(field) + " must not be empty",
                                   std::string(field));
  }
  if (len > max_len) {
    return Status::InvalidArgument(
        "too_long",
        std::string(field) + " must be at most " + std::to_string(max_len) + " characters",
        std::string(field));
  }
  return std::string(s);
}

// Maps are stored as canonical JSON: keys sorted, no duplicates.
Result<std::string> MapIn(element v, const FieldSpec& f) {
  if (v.type() != element_type::OBJECT) return WrongType(f.name, "an object");
  std::map<std::string, element> sorted;
  simdjson::dom::object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return WrongType(f.name, "an object");
  for (auto [key, value] : obj) {
    const std::string path = std::string(f.name) + "." + std::string(key);
    if (key.empty() || Utf8Length(key) > kMaxMapKeyChars) {
      return Status::InvalidArgument(
          "invalid_key", "keys of " + std::string(f.name) + " must be 1 to 32 characters", path);
    }
    if (!sorted.emplace(std::string(key), value).second) {
      return Status::InvalidArgument("duplicate_field", "duplicate key " + path, path);
    }
  }
  if (sorted.size() > kMaxMapEntries) {
    return Status::InvalidArgument("too_many_entries",
                                   std::string(f.name) + " may hold at most 32 entries",
                                   std::string(f.name));
  }
  JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : sorted) {
    const std::string path = std::string(f.name) + "." + key;
    w.Key(key);
    if (f.type == FieldType::kCountMap) {
      ASSIGN_OR_RETURN(const int64_t n, IntegerIn(value, path, f.min, f.max));
      w.Int(n);
    } else {
      ASSIGN_OR_RETURN(std::string s, TextIn(value, path, f.min, f.max));
      w.String(s);
    }
  }
  w.EndObject();
  return w.Take();
}

Result<SqlValue> FieldIn(const FieldSpec& f, element v) {
  switch (f.type) {
    case FieldType::kString: {
      ASSIGN_OR_RETURN(std::string s, TextIn(v, f.name, f.min, f.max));
      return SqlValue{std::move(s)};
    }
    case FieldType::kInteger: {
      ASSIGN_OR_RETURN(const int64_t n, IntegerIn(v, f.name, f.min, f.max));
      return SqlValue{n};
    }
    case FieldType::kMoney: {
      if (v.type() != element_type::OBJECT) return WrongType(f.name, "{\"amount_fen\": integer}");
      simdjson::dom::object obj;
      if (v.get_object().get(obj) != simdjson::SUCCESS || obj.size() != 1)
        return WrongType(f.name, "{\"amount_fen\": integer}");
      element amount;
      if (obj.at_key("amount_fen").get(amount) != simdjson::SUCCESS) {
        return WrongType(f.name, "{\"amount_fen\": integer}");
      }
      ASSIGN_OR_RETURN(const int64_t n,
                       IntegerIn(amount, std::string(f.name) + ".amount_fen", f.min, f.max));
      return SqlValue{n};
    }
    case FieldType::kReference: {
      if (v.type() != element_type::STRING) return WrongType(f.name, "an id string such as \"12\"");
      std::string_view text;
      const auto id =
          v.get_string().get(text) == simdjson::SUCCESS ? ParseIdText(text) : std::nullopt;
      if (!id) return WrongType(f.name, "an id string such as \"12\"");
      return SqlValue{*id};
    }
    case FieldType::kStringMap:
    case FieldType::kCountMap: {
      ASSIGN_OR_RETURN(std::string json, MapIn(v, f));
      return SqlValue{std::move(json)};
    }
    case FieldType::kTimestamp: {
      std::string_view text;
      if (v.get_string().get(text) != simdjson::SUCCESS) {
        return WrongType(f.name, "an RFC 3339 time such as \"2026-11-27T20:00:00+08:00\"");
      }
      const auto t = ParseRfc3339(text);
      if (!t) return WrongType(f.name, "an RFC 3339 time such as \"2026-11-27T20:00:00+08:00\"");
      return SqlValue{int64_t{t->time_since_epoch().count()}};
    }
  }
  return Status::Internal("unknown field type");
}

const char* JsonTypeOf(const FieldSpec& f) {
  switch (f.type) {
    case FieldType::kString:
    case FieldType::kReference:
    case FieldType::kTimestamp:
      return "string";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kMoney:
    case FieldType::kStringMap:
    case FieldType::kCountMap:
      return "object";
  }
  return "string";
}

void WriteFieldSchema(JsonWriter& w, const FieldSpec& f) {
  w.BeginObject().Key("type").String(JsonTypeOf(f)).Key("description").String(f.description);
  switch (f.type) {
    case FieldType::kString:
      w.Key("minLength").Int(f.min).Key("maxLength").Int(f.max);
      break;
    case FieldType::kInteger:
      w.Key("minimum").Int(f.min).Key("maximum").Int(f.max);
      break;
    case FieldType::kReference:
      w.Key("pattern").String("^[1-9][0-9]{0,18}$");
      break;
    case FieldType::kTimestamp:
      w.Key("format").String("date-time");
      break;
    case FieldType::kMoney:
      w.Key("required").BeginArray().String("amount_fen").EndArray();
      w.Key("additionalProperties").Bool(false);
      w.Key("properties").BeginObject().Key("amount_fen").BeginObject();
      w.Key("type").String("integer").Key("minimum").Int(f.min).Key("maximum").Int(f.max);
      w.EndObject().EndObject();
      break;
    case FieldType::kStringMap:
      w.Key("maxProperties").Int(kMaxMapEntries).Key("additionalProperties").BeginObject();
      w.Key("type").String("string").Key("minLength").Int(f.min).Key("maxLength").Int(f.max);
      w.EndObject();
      break;
    case FieldType::kCountMap:
      w.Key("maxProperties").Int(kMaxMapEntries).Key("additionalProperties").BeginObject();
      w.Key("type").String("integer").Key("minimum").Int(f.min).Key("maximum").Int(f.max);
      w.EndObject();
      break;
  }
  w.EndObject();
}

}  // namespace

Result<Record> ParseBody(const ResourceSpec& spec, std::string_view body, BodyMode mode) {
  // One parser per thread: it keeps its buffers between requests.
  thread_local simdjson::dom::parser parser;
  element doc;
  const auto err = parser.parse(body.data(), body.size()).get(doc);
  if (err == simdjson::UTF8_ERROR) {
    return Status::InvalidArgument("invalid_utf8", "request body is not valid UTF-8");
  }
  if (err == simdjson::NUMBER_ERROR) {
    return Status::InvalidArgument("out_of_range", "a number in the body cannot be represented");
  }
  if (err != simdjson::SUCCESS) {
    return Status::InvalidArgument("invalid_json", std::string("request body is not valid JSON: ") +
                                                       simdjson::error_message(err));
  }
  Record record;
  std::vector<std::pair<const FieldSpec*, SqlValue>> found;
  simdjson::dom::object top;
  if (doc.get_object().get(top) != simdjson::SUCCESS) {
    return Status::InvalidArgument("not_an_object", "request body must be a JSON object");
  }
  for (auto [key, value] : top) {
    if (key == "idempotency_key" && mode == BodyMode::kCreate) {
      if (!record.idempotency_key.empty()) {
        return Status::InvalidArgument("duplicate_field", "idempotency_key appears twice",
                                       "idempotency_key");
      }
      ASSIGN_OR_RETURN(record.idempotency_key, TextIn(value, key, 1, kMaxIdempotencyKeyChars));
      continue;
    }
    const FieldSpec* f = spec.Find(key);
    if (f == nullptr) {
      return Status::InvalidArgument(
          "unknown_field", std::string(spec.singular) + " has no field " + std::string(key),
          std::string(key));
    }
    for (const auto& [seen, unused] : found) {
      if (seen == f) {
        return Status::InvalidArgument("duplicate_field", std::string(key) + " appears twice",
                                       std::string(key));
      }
    }
    if (mode == BodyMode::kPatch && !f->mutable_after_create) {
      return Status::InvalidArgument("immutable_field",
                                     std::string(key) + " cannot be changed after creation",
                                     std::string(key));
    }
    ASSIGN_OR_RETURN(SqlValue v, FieldIn(*f, value));
    found.emplace_back(f, std::move(v));
  }
  // Keep the spec's order so the SQL and request hashes do not depend on key order.
  for (const FieldSpec& f : spec.fields) {
    bool present = false;
    for (auto& [seen, v] : found) {
      if (seen == &f) {
        record.values.emplace_back(seen, std::move(v));
        present = true;
      }
    }
    if (!present && f.required && mode == BodyMode::kCreate) {
      return Status::InvalidArgument("missing_field", std::string(f.name) + " is required",
                                     std::string(f.name));
    }
  }
  if (mode == BodyMode::kPatch && record.values.empty()) {
    return Status::InvalidArgument("empty_patch", "the body changes nothing");
  }
  return record;
}

std::string BodyJsonSchema(const ResourceSpec& spec, BodyMode mode) {
  JsonWriter w;
  w.BeginObject().Key("type").String("object").Key("additionalProperties").Bool(false);
  if (mode == BodyMode::kCreate) {
    w.Key("required").BeginArray();
    for (const FieldSpec& f : spec.fields) {
      if (f.required) w.String(f.name);
    }
    w.EndArray();
  } else {
    w.Key("minProperties").Int(1);
  }
  w.Key("properties").BeginObject();
  for (const FieldSpec& f : spec.fields) {
    if (mode == BodyMode::kPatch && !f.mutable_after_create) continue;
    w.Key(f.name);
    WriteFieldSchema(w, f);
  }
  if (mode == BodyMode::kCreate) {
    w.Key("idempotency_key").BeginObject().Key("type").String("string");
    w.Key("description").String("Makes a retried create return the first result");
    w.Key("maxLength").Int(kMaxIdempotencyKeyChars).EndObject();
  }
  w.EndObject().EndObject();
  return w.Take();
}

std::string EntityJsonSchema(const ResourceSpec& spec) {
  JsonWriter w;
  w.BeginObject().Key("type").String("object").Key("properties").BeginObject();
  w.Key("id").BeginObject().Key("type").String("string").EndObject();
  for (const FieldSpec& f : spec.fields) {
    w.Key(f.name);
    WriteFieldSchema(w, f);
  }
  for (const char* ts : {"created_at", "updated_at"}) {
    w.Key(ts)
        .BeginObject()
        .Key("type")
        .String("string")
        .Key("format")
        .String("date-time")
        .EndObject();
  }
  w.EndObject().EndObject();
  return w.Take();
}

}  // namespace thunder::catalog
