// Router::OpenApiJson: the OpenAPI 3.0 document of every route, written from the route
// table itself. Routes describe themselves with plain JSON Schemas; these conventions
// turn them into a document that validators and linters accept:
// - a schema object with a "title" is a named type: it is written once under
//   components.schemas and every place that uses it gets a $ref;
// - a request body with an "idempotency_key" property is a create that clients may
//   retry: the operation also takes the Idempotency-Key header and answers a repeat 200;
// - the query parameters "limit" and "cursor" page a list, every other one filters it.
// The route schemas are written by this program, so one that does not parse, or two
// different schemas with one title, are bugs and throw.
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <stdexcept>
#include <string>

#include "http/router.h"

namespace thunder::http {
namespace {

namespace json = boost::json;

constexpr std::string_view kIdempotencyKeyField = "idempotency_key";

json::value ParseSchema(const std::string& text) { return json::parse(text); }

// Moves every titled object schema inside `v` into `schemas`, leaving a $ref behind.
void HoistNamedSchemas(json::value& v, json::object& schemas) {
  if (json::array* items = v.if_array()) {
    for (json::value& item : *items) HoistNamedSchemas(item, schemas);
    return;
  }
  json::object* obj = v.if_object();
  if (obj == nullptr) return;
  for (auto& entry : *obj) HoistNamedSchemas(entry.value(), schemas);
  const json::value* title = obj->if_contains("title");
  // A property that happens to be called "title" maps to an object, not a string.
  if (title == nullptr || !title->is_string()) return;
  const std::string name(title->as_string());
  if (const json::value* known = schemas.if_contains(name)) {
    if (*known != v) throw std::logic_error("two different schemas are titled " + name);
  } else {
    schemas[name] = *obj;
  }
  v = json::object{{"$ref", "#/components/schemas/" + name}};
}

// "POST /v1/drops/{id}/orders" -> "postDropsByIdOrders": unique because method and
// pattern are, and stable as long as the route is.
std::string OperationId(std::string_view method, std::string_view pattern) {
  std::string id;
  for (const char c : method) id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t verb_length = id.size();
  for (std::string_view seg : PatternSegments(pattern)) {
    if (seg == "v1" || seg.empty()) continue;
    if (IsPlaceholder(seg)) {
      id += "By";
      seg = seg.substr(1, seg.size() - 2);
    }
    bool upper = true;
    for (const char c : seg) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
        upper = true;
        continue;
      }
      id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  if (id.size() == verb_length) id += "Index";
  return id;
}

json::object QueryParameter(const std::string& name) {
  json::object p{{"name", name}, {"in", "query"}, {"required", false}};
  if (name == "limit") {
    p["description"] = "Most items in one page";
    p["schema"] = json::object{{"type", "integer"},
                               {"minimum", 1},
                               {"maximum", kMaxPageLimit},
                               {"default", kDefaultPageLimit}};
  } else if (name == "cursor") {
    p["description"] = "The next_cursor of the page before; leave out for the first page";
    p["schema"] = json::object{{"type", "string"}, {"minLength", 1}};
  } else {
    p["description"] = "Only items whose " + name + " equals this";
    p["schema"] = json::object{{"type", "string"}, {"minLength", 1}};
  }
  return p;
}

// The schema of the body's idempotency_key, or null when the body takes none.
const json::object* IdempotencyKeySchema(const json::value& request_schema) {
  const json::object* obj = request_schema.if_object();
  if (obj == nullptr) return nullptr;
  const json::value* props = obj->if_contains("properties");
  if (props == nullptr || !props->is_object()) return nullptr;
  const json::value* key = props->as_object().if_contains(kIdempotencyKeyField);
  return key != nullptr ? key->if_object() : nullptr;
}

json::object ErrorAnswer(std::string_view description) {
  return json::object{
      {"description", description},
      {"content",
       json::object{
           {"application/json",
            json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}}}};
}

json::object JsonContent(json::value schema) {
  return json::object{{"application/json", json::object{{"schema", std::move(schema)}}}};
}

json::value ErrorSchema() {
  return ParseSchema(
      R"({"type":"object","required":["error"],"properties":{"error":{"type":"object",)"
      R"("required":["code","message"],"properties":{)"
      R"("code":{"type":"string","description":"What went wrong, in snake_case, e.g. sold_out"},)"
      R"("message":{"type":"string","description":"The same for people"},)"
      R"("field":{"type":"string","description":"The input at fault, e.g. list_price.amount_fen"})"
      R"(}}}})");
}

json::object Operation(const Route& r, json::object& schemas) {
  json::object op;
  op["operationId"] = OperationId(r.method, r.pattern);
  op["summary"] = r.doc.summary;
  if (!r.doc.tag.empty()) op["tags"] = json::array{json::value(r.doc.tag)};
  // An empty list says "no token needed"; leaving security out would not.
  op["security"] =
      r.authenticated ? json::array{json::object{{"bearer", json::array{}}}} : json::array{};

  json::value request_schema;
  if (!r.doc.request_schema.empty()) request_schema = ParseSchema(r.doc.request_schema);
  const json::object* key_schema = IdempotencyKeySchema(request_schema);

  json::array params;
  bool has_path_params = false;
  for (const std::string_view seg : PatternSegments(r.pattern)) {
    if (!IsPlaceholder(seg)) continue;
    has_path_params = true;
    params.push_back(json::object{{"name", seg.substr(1, seg.size() - 2)},
                                  {"in", "path"},
                                  {"required", true},
                                  {"schema", json::object{{"type", "string"}, {"minLength", 1}}}});
  }
  for (const std::string& q : r.doc.query_params) params.push_back(QueryParameter(q));
  if (key_schema != nullptr) {
    json::object header_schema{{"type", "string"}};
    for (const char* limit : {"minLength", "maxLength"}) {
      if (const json::value* v = key_schema->if_contains(limit)) header_schema[limit] = *v;
    }
    params.push_back(json::object{
        {"name", "Idempotency-Key"},
        {"in", "header"},
        {"required", false},
        {"description",
         "The idempotency_key, sent as a header instead of (or as well as) in the body; when "
         "both are sent they must be equal, or the answer is 400 idempotency_key_mismatch"},
        {"schema", std::move(header_schema)}});
  }
  if (!params.empty()) op["parameters"] = std::move(params);

  if (!request_schema.is_null()) {
    HoistNamedSchemas(request_schema, schemas);
    op["requestBody"] =
        json::object{{"required", true}, {"content", JsonContent(std::move(request_schema))}};
  }

  json::object responses;
  json::object success{{"description", r.doc.success_status == 201 ? "Created" : "OK"}};
  json::value response_schema;
  if (!r.doc.response_schema.empty()) {
    response_schema = ParseSchema(r.doc.response_schema);
    HoistNamedSchemas(response_schema, schemas);
    success["content"] = JsonContent(response_schema);
  }
  if (key_schema != nullptr && r.doc.success_status != 200) {
    json::object repeat{{"description",
                         "A repeat of an earlier request with the same idempotency key and the "
                         "same body: the first answer again; nothing new is created"}};
    if (!response_schema.is_null()) repeat["content"] = JsonContent(response_schema);
    responses["200"] = std::move(repeat);
  }
  responses[std::to_string(r.doc.success_status)] = std::move(success);
  if (!request_schema.is_null() || !r.doc.query_params.empty() || key_schema != nullptr) {
    responses["400"] = ErrorAnswer("Bad input; the code says what is wrong, field says where");
  }
  if (r.authenticated) {
    responses["401"] = ErrorAnswer("No token, a malformed one, or one the server does not know");
    responses["403"] = ErrorAnswer("The token's role or scope does not allow this");
  }
  if (has_path_params) responses["404"] = ErrorAnswer("No such item");
  if (r.method == "POST" || r.method == "PATCH") {
    responses["409"] =
        ErrorAnswer("A conflict: taken unique name, reused idempotency key, sold out, wrong state");
  }
  responses["default"] = ErrorAnswer("Any other error, e.g. 503 when the server cannot go on");
  op["responses"] = std::move(responses);
  return op;
}

}  // namespace

std::string Router::OpenApiJson(std::string_view title, std::string_view version) const {
  json::object schemas;
  schemas["Error"] = ErrorSchema();

  // Paths in the order their first route was added, methods in the order of their routes.
  json::object paths;
  json::array tags;
  std::vector<std::string> tag_names;
  for (const Route& r : routes_) {
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    json::value& path_item = paths[r.pattern];
    if (path_item.is_null()) path_item = json::object{};
    path_item.as_object()[method] = Operation(r, schemas);
    if (!r.doc.tag.empty() &&
        std::find(tag_names.begin(), tag_names.end(), r.doc.tag) == tag_names.end()) {
      tag_names.push_back(r.doc.tag);
    }
  }
  for (const std::string& t : tag_names) tags.push_back(json::object{{"name", t}});

  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = json::object{
      {"title", title},
      {"version", version},
      {"description",
       "Spring Thunder: catalog, flash-sale drops and orders. Errors are "
       "{\"error\": {\"code\", \"message\", \"field\"}}; money is {\"amount_fen\": n}."}};
  // Relative: the API is served by the server that serves this document.
  doc["servers"] =
      json::array{json::object{{"url", "/"}, {"description", "The server that serves this"}}};
  if (!tags.empty()) doc["tags"] = std::move(tags);
  doc["paths"] = std::move(paths);
  doc["components"] =
      json::object{{"securitySchemes",
                    json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
                   {"schemas", std::move(schemas)}};
  return json::serialize(doc);
}

}  // namespace thunder::http
