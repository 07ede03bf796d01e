// Request validation and JSON Schemas for the catalog. The only file that parses JSON.
#include "catalog/schema.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "http/message.h"

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

// The code point that starts at s[i] (s is valid UTF-8: simdjson checked it); moves i on.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto lead = static_cast<unsigned char>(s[i++]);
  const int extra = lead < 0x80 ? 0 : lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
  char32_t cp = extra == 0 ? lead : lead & (0x3F >> extra);
  for (int k = 0; k < extra && i < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

// C0 and C1 controls and DEL: invisible, and trouble in logs, CSV and terminals.
bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Spaces, line breaks and the invisible characters that look like nothing.
bool IsBlank(char32_t cp) {
  constexpr std::array<char32_t, 16> kBlanks = {' ',    '\t',   '\n',   '\r',   '\v',   '\f',
                                                0x85,   0xA0,   0x1680, 0x180E, 0x2028, 0x2029,
                                                0x202F, 0x205F, 0x3000, 0xFEFF};
  return (cp >= 0x2000 && cp <= 0x200B) ||
         std::find(kBlanks.begin(), kBlanks.end(), cp) != kBlanks.end();
}

enum class LineBreaks { kRefused, kAllowed };

// Refuses control characters (tab and line feed are allowed in multi-line text) and
// text made only of blanks.
Status CheckText(std::string_view s, std::string_view field, LineBreaks line_breaks) {
  bool all_blank = true;
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = NextCodePoint(s, i);
    const bool allowed_break =
        line_breaks == LineBreaks::kAllowed && (cp == '\t' || cp == '\n' || cp == '\r');
    if (IsControl(cp) && !allowed_break) {
      return Status::InvalidArgument(
          "control_character",
          std::string(field) + " must not contain control characters such as NUL or line breaks",
          std::string(field));
    }
    all_blank = all_blank && IsBlank(cp);
  }
  if (all_blank && !s.empty()) {
    return Status::InvalidArgument("blank", std::string(field) + " must not be only blank space",
                                   std::string(field));
  }
  return Status::Ok();
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

// The rules every text input meets, from a body or a header: no control characters or
// blank-only text (CheckText), and a length in characters within [min_len, max_len].
// `s` must be valid UTF-8.
Result<std::string> TextValue(std::string_view s, std::string_view field, int64_t min_len,
                              int64_t max_len, LineBreaks line_breaks = LineBreaks::kRefused) {
  RETURN_IF_ERROR(CheckText(s, field, line_breaks));
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

Result<std::string> TextIn(element v, std::string_view field, int64_t min_len, int64_t max_len,
                           LineBreaks line_breaks = LineBreaks::kRefused) {
  if (v.type() != element_type::STRING) return WrongType(field, "a string");
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return WrongType(field, "a string");
  return TextValue(s, field, min_len, max_len, line_breaks);
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
    // The key is not named in the error: it may be the very control character refused.
    RETURN_IF_ERROR(CheckText(key, f.name, LineBreaks::kRefused));
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

// The Idempotency-Key header, under the rules of the body field.
Result<std::string> IdempotencyKeyIn(std::string_view key) {
  constexpr std::string_view kField = "idempotency_key";
  // The body's parser has checked its UTF-8 already; a header's has not been.
  if (!http::IsValidUtf8(key)) {
    return Status::InvalidArgument("invalid_utf8", "the Idempotency-Key header is not UTF-8",
                                   std::string(kField));
  }
  return TextValue(key, kField, 1, kMaxIdempotencyKeyChars);
}

Result<SqlValue> FieldIn(const FieldSpec& f, element v) {
  switch (f.type) {
    case FieldType::kString: {
      ASSIGN_OR_RETURN(std::string s,
                       TextIn(v, f.name, f.min, f.max,
                              f.multiline ? LineBreaks::kAllowed : LineBreaks::kRefused));
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

Result<Record> ParseBody(const ResourceSpec& spec, std::string_view body, BodyMode mode,
                         std::optional<std::string_view> idempotency_header) {
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
  if (mode == BodyMode::kCreate && idempotency_header) {
    ASSIGN_OR_RETURN(std::string header_key, IdempotencyKeyIn(*idempotency_header));
    if (!record.idempotency_key.empty() && record.idempotency_key != header_key) {
      return Status::InvalidArgument(
          "idempotency_key_mismatch",
          "the Idempotency-Key header and the body's idempotency_key differ; send one, or both "
          "equal",
          "idempotency_key");
    }
    record.idempotency_key = std::move(header_key);
  }
  return record;
}

std::string TypeName(const ResourceSpec& spec) {
  std::string name(spec.singular);
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

std::string BodyJsonSchema(const ResourceSpec& spec, BodyMode mode, KeyRule key_rule) {
  JsonWriter w;
  w.BeginObject();
  w.Key("title").String(mode == BodyMode::kCreate ? "New" + TypeName(spec)
                                                  : TypeName(spec) + "Patch");
  w.Key("type").String("object").Key("additionalProperties").Bool(false);
  if (mode == BodyMode::kCreate) {
    // An empty "required" is not valid JSON Schema draft 4, which OpenAPI 3.0 follows.
    bool any = key_rule == KeyRule::kRequired;
    for (const FieldSpec& f : spec.fields) any = any || f.required;
    if (any) {
      w.Key("required").BeginArray();
      for (const FieldSpec& f : spec.fields) {
        if (f.required) w.String(f.name);
      }
      if (key_rule == KeyRule::kRequired) w.String("idempotency_key");
      w.EndArray();
    }
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
    w.Key("description")
        .String(key_rule == KeyRule::kRequired
                    ? "Required, here or as the Idempotency-Key header: a retry with the same "
                      "key returns the first result"
                    : "Makes a retried create return the first result; may also be sent as "
                      "the Idempotency-Key header");
    w.Key("minLength").Int(1).Key("maxLength").Int(kMaxIdempotencyKeyChars).EndObject();
  }
  w.EndObject().EndObject();
  return w.Take();
}

std::string EntityJsonSchema(const ResourceSpec& spec) {
  JsonWriter w;
  w.BeginObject().Key("title").String(TypeName(spec)).Key("type").String("object");
  // Optional text that was never set is left out of the row, so it is not required.
  w.Key("required").BeginArray().String("id");
  for (const FieldSpec& f : spec.fields) {
    if (f.required || f.type != FieldType::kString) w.String(f.name);
  }
  w.String("created_at").String("updated_at").EndArray();
  w.Key("properties").BeginObject();
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

std::string PageJsonSchema(const ResourceSpec& spec) {
  return R"({"title":")" + TypeName(spec) +
         R"(Page","type":"object","required":["items","next_cursor"],"properties":{)"
         R"("items":{"type":"array","items":)" +
         EntityJsonSchema(spec) +
         R"(},"next_cursor":{"type":"string","nullable":true,)"
         R"("description":"Pass as ?cursor= for the next page; null on the last page"}}})";
}

}  // namespace thunder::catalog
