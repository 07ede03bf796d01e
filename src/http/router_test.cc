#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace thunder::http {
namespace {

Result<Principal> OnlySecret(std::string_view header) {
  if (header == "Bearer secret") return Principal{1, Role::kAdmin, ""};
  return Status::Unauthenticated("bad token");
}

Router MakeRouter() {
  Router router(OnlySecret);
  router.Add({"GET",
              "/v1/things/{id}",
              true,
              {"Get a thing", "things", 200, "", "", {}},
              [](const RouteContext& ctx) { return Response::Json(200, ctx.path_params.at(0)); }});
  router.Add({"PATCH",
              "/v1/things/{id}",
              true,
              {"Change a thing", "things", 200, R"({"type":"object"})", "", {}},
              [](const RouteContext&) { return Response::Json(200, "{}"); }});
  router.Add(
      {"GET", "/open", false, {"Open", "", 200, "", "", {"limit"}}, [](const RouteContext& ctx) {
         return Response::Json(200, ctx.principal ? "who" : "anonymous");
       }});
  return router;
}

TEST(RouterTest, MatchesPatterns) {
  std::vector<std::string> p;
  EXPECT_TRUE(MatchPattern("/v1/belts/{id}", "/v1/belts/42", p));
  EXPECT_EQ(p, std::vector<std::string>{"42"});
  EXPECT_FALSE(MatchPattern("/v1/belts/{id}", "/v1/belts/", p));
  EXPECT_FALSE(MatchPattern("/v1/belts/{id}", "/v1/belts/4/x", p));
  EXPECT_FALSE(MatchPattern("/v1/belts", "/v1/belts/", p));
  EXPECT_TRUE(MatchPattern("/", "/", p));
}

TEST(RouterTest, DispatchesWithAuthAndReportsMisses) {
  Router router = MakeRouter();
  Request get{"GET", "/v1/things/7", {}, "Bearer secret", "", ""};
  auto ok = router.Dispatch(get);
  EXPECT_EQ(ok.response.status, 200);
  EXPECT_EQ(ok.response.body, "7");
  EXPECT_EQ(ok.route_label, "/v1/things/{id}");

  get.authorization = "Bearer wrong";
  EXPECT_EQ(router.Dispatch(get).response.status, 401);

  Request del{"DELETE", "/v1/things/7", {}, "Bearer secret", "", ""};
  auto d = router.Dispatch(del);
  EXPECT_EQ(d.response.status, 405);
  ASSERT_FALSE(d.response.headers.empty());
  EXPECT_EQ(d.response.headers[0].second, "GET, PATCH");

  Request missing{"GET", "/nowhere", {}, "", "", ""};
  auto m = router.Dispatch(missing);
  EXPECT_EQ(m.response.status, 404);
  EXPECT_NE(m.response.body.find("route_not_found"), std::string::npos);

  Request open{"GET", "/open", {}, "", "", ""};
  EXPECT_EQ(router.Dispatch(open).response.body, "anonymous");
}

TEST(RouterTest, OpenApiDescribesEveryRoute) {
  Router router = MakeRouter();
  auto doc = nlohmann::json::parse(router.OpenApiJson("T", "1"));
  EXPECT_EQ(doc["openapi"], "3.0.3");
  size_t operations = 0;
  for (auto& [path, ops] : doc["paths"].items()) operations += ops.size();
  EXPECT_EQ(operations, router.routes().size());
  auto& patch = doc["paths"]["/v1/things/{id}"]["patch"];
  EXPECT_EQ(patch["summary"], "Change a thing");
  EXPECT_EQ(patch["parameters"][0]["name"], "id");
  EXPECT_EQ(patch["requestBody"]["content"]["application/json"]["schema"]["type"], "object");
  EXPECT_FALSE(patch["security"].empty());
  EXPECT_EQ(doc["paths"]["/open"]["get"]["security"], nlohmann::json::array());
  EXPECT_EQ(doc["paths"]["/open"]["get"]["parameters"][0]["name"], "limit");
}

TEST(RouterTest, AsksTheStoreOnlyWhenTheCacheCannotTell) {
  int store_lookups = 0;
  Router router(
      [&store_lookups](std::string_view header) {
        ++store_lookups;
        return OnlySecret(header);
      },
      [](std::string_view header) -> std::optional<Result<Principal>> {
        if (header == "Bearer cached") return Result<Principal>(Principal{2, Role::kAdmin, ""});
        if (header.empty()) return Result<Principal>(Status::Unauthenticated("no token"));
        return std::nullopt;
      });
  router.Add(
      {"GET", "/v1/me", true, {"Who am I", "", 200, "", "", {}}, [](const RouteContext& ctx) {
         return Response::Json(200, std::to_string(ctx.principal->token_id));
       }});
  Request req{"GET", "/v1/me", {}, "Bearer cached", "", ""};
  EXPECT_EQ(router.Dispatch(req).response.body, "2");
  req.authorization = "";
  EXPECT_EQ(router.Dispatch(req).response.status, 401);
  EXPECT_EQ(store_lookups, 0);
  req.authorization = "Bearer secret";
  EXPECT_EQ(router.Dispatch(req).response.body, "1");
  req.authorization = "Bearer wrong";
  EXPECT_EQ(router.Dispatch(req).response.status, 401);
  EXPECT_EQ(store_lookups, 2);
}

TEST(RouterTest, HeadIsAnsweredByTheGetRoute) {
  Router router = MakeRouter();
  Request head{"HEAD", "/open", {}, "", "", ""};
  auto d = router.Dispatch(head);
  EXPECT_EQ(d.response.status, 200);
  EXPECT_EQ(d.route_label, "/open");
}

}  // namespace
}  // namespace thunder::http
