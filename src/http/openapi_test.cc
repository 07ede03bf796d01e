// The OpenAPI document keeps the conventions openapi.cc promises. Whether the tools
// accept a whole served document is scripts/check-openapi.sh's job (ctest openapi_check).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "http/router.h"

namespace thunder::http {
namespace {

using nlohmann::json;

Result<Principal> AnyoneIsAdmin(std::string_view) { return Principal{1, Role::kAdmin, ""}; }

Response Ok(const RouteContext&) { return Response::Json(200, "{}"); }

constexpr const char* kThing =
    R"({"title":"Thing","type":"object","required":["id"],"properties":{"id":{"type":"string"}}})";

Router MakeRouter() {
  Router router(AnyoneIsAdmin);
  router.Add({"POST",
              "/v1/things",
              true,
              {"Create a thing",
               "things",
               201,
               R"({"title":"NewThing","type":"object","properties":{)"
               R"("idempotency_key":{"type":"string","minLength":1,"maxLength":128}}})",
               kThing,
               {}},
              Ok});
  router.Add({"GET",
              "/v1/things",
              true,
              {"List things",
               "things",
               200,
               "",
               std::string(R"({"title":"ThingPage","type":"object","properties":{"items":)"
                           R"({"type":"array","items":)") +
                   kThing + "}}}",
               {"limit", "cursor", "colour"}},
              Ok});
  router.Add({"GET", "/v1/things/{id}", true, {"Read a thing", "things", 200, "", kThing, {}}, Ok});
  router.Add({"POST",
              "/v1/things/{id}/polish",
              true,
              {"Polish a thing", "things", 200, "", kThing, {}},
              Ok});
  router.Add({"GET", "/healthz", false, {"Alive", "system", 200, "", "", {}}, Ok});
  router.Add({"GET", "/", false, {"Index", "system", 200, "", "", {}}, Ok});
  return router;
}

TEST(OpenApiTest, EveryOperationHasAUniqueOperationIdAndSecurity) {
  const json doc = json::parse(MakeRouter().OpenApiJson("T", "1"));
  EXPECT_EQ(doc["openapi"], "3.0.3");
  ASSERT_FALSE(doc["servers"].empty());
  EXPECT_EQ(doc["servers"][0]["url"], "/");
  std::set<std::string> ids;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      ASSERT_TRUE(op.contains("operationId")) << method << " " << path;
      EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second);
      ASSERT_TRUE(op.contains("security")) << method << " " << path;
    }
  }
  EXPECT_EQ(doc["paths"]["/v1/things/{id}/polish"]["post"]["operationId"], "postThingsByIdPolish");
  EXPECT_EQ(doc["paths"]["/"]["get"]["operationId"], "getIndex");
  // Open routes say so with an empty list; leaving security out would mean "as the root".
  EXPECT_EQ(doc["paths"]["/healthz"]["get"]["security"], json::array());
  EXPECT_EQ(doc["paths"]["/v1/things"]["get"]["security"][0], json({{"bearer", json::array()}}));
}

TEST(OpenApiTest, TitledSchemasBecomeComponentsUsedByRef) {
  const json doc = json::parse(MakeRouter().OpenApiJson("T", "1"));
  const json& schemas = doc["components"]["schemas"];
  for (const char* name : {"Error", "Thing", "NewThing", "ThingPage"}) {
    EXPECT_TRUE(schemas.contains(name)) << name;
  }
  EXPECT_EQ(schemas["ThingPage"]["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/Thing");
  const json& read = doc["paths"]["/v1/things/{id}"]["get"];
  EXPECT_EQ(read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Thing");
  EXPECT_EQ(read["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error");
}

TEST(OpenApiTest, TwoDifferentSchemasWithOneTitleAreABug) {
  Router router(AnyoneIsAdmin);
  router.Add({"GET", "/a", false, {"A", "", 200, "", R"({"title":"X","type":"object"})", {}}, Ok});
  router.Add({"GET", "/b", false, {"B", "", 200, "", R"({"title":"X","type":"string"})", {}}, Ok});
  EXPECT_THROW(router.OpenApiJson("T", "1"), std::logic_error);
}

TEST(OpenApiTest, PagingParametersAreTyped) {
  const json doc = json::parse(MakeRouter().OpenApiJson("T", "1"));
  std::map<std::string, json> params;
  for (const json& p : doc["paths"]["/v1/things"]["get"]["parameters"]) params[p["name"]] = p;
  EXPECT_EQ(params["limit"]["schema"]["type"], "integer");
  EXPECT_EQ(params["limit"]["schema"]["minimum"], 1);
  EXPECT_EQ(params["limit"]["schema"]["maximum"], kMaxPageLimit);
  EXPECT_EQ(params["cursor"]["schema"]["type"], "string");
  EXPECT_EQ(params["colour"]["in"], "query");
}

TEST(OpenApiTest, RetryableCreatesTakeTheHeaderAndDocumentTheRepeat) {
  const json doc = json::parse(MakeRouter().OpenApiJson("T", "1"));
  const json& create = doc["paths"]["/v1/things"]["post"];
  EXPECT_TRUE(create["responses"].contains("201"));
  ASSERT_TRUE(create["responses"].contains("200")) << create.dump();
  EXPECT_EQ(create["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Thing");
  bool header = false;
  for (const json& p : create["parameters"]) {
    if (p["name"] == "Idempotency-Key") {
      header = true;
      EXPECT_EQ(p["in"], "header");
      EXPECT_EQ(p["schema"]["maxLength"], 128);
    }
  }
  EXPECT_TRUE(header) << create.dump();
  // An action without an idempotency key documents neither.
  const json& polish = doc["paths"]["/v1/things/{id}/polish"]["post"];
  EXPECT_FALSE(polish.contains("parameters") && polish["parameters"].size() > 1);
  EXPECT_TRUE(polish["responses"].contains("200"));
  EXPECT_FALSE(polish["responses"].contains("201"));
}

}  // namespace
}  // namespace thunder::http
