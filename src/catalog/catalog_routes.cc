#include "catalog/catalog_routes.h"

#include <string>

namespace thunder::catalog {
namespace {

http::Response EntityResponse(const Result<Entity>& r, int success_status) {
  if (!r.ok()) return http::ErrorResponse(r.status());
  return http::Response::Json(r->replayed ? 200 : success_status, r->json);
}

}  // namespace

void AddCatalogRoutes(http::Router& router, CatalogService& service) {
  // Every catalog route reads or writes the store, so it runs on the server's worker pool,
  // never on an I/O thread.
  auto add = [&router](http::Route route) {
    route.blocking = true;
    router.Add(std::move(route));
  };
  for (const ResourceSpec& spec : AllResources()) {
    const std::string collection = "/v1/" + std::string(spec.name);
    const std::string item = collection + "/{id}";
    const std::string tag(spec.name);
    const ResourceSpec* s = &spec;
    CatalogService* svc = &service;

    std::vector<std::string> list_params{"limit", "cursor"};
    for (const FieldSpec& f : spec.fields) {
      if (f.filterable) list_params.emplace_back(f.name);
    }

    add({"POST",
         collection,
         true,
         {"Create a " + std::string(spec.singular) +
              " (201; 200 when an idempotency_key repeats a create)",
          tag,
          201,
          BodyJsonSchema(spec, BodyMode::kCreate),
          EntityJsonSchema(spec),
          {}},
         [svc, s](const http::RouteContext& ctx) {
           return EntityResponse(
               svc->Create(*ctx.principal, *s, ctx.request.body, ctx.request.idempotency_key), 201);
         }});
    add({"GET",
         collection,
         true,
         {"List " + std::string(spec.summary) +
              ", oldest first; filter by field, page with limit and cursor",
          tag, 200, "", PageJsonSchema(spec), list_params},
         [svc, s](const http::RouteContext& ctx) {
           auto query = ParseListQuery(*s, ctx.request.query);
           if (!query.ok()) return http::ErrorResponse(query.status());
           auto page = svc->List(*ctx.principal, *s, *query);
           if (!page.ok()) return http::ErrorResponse(page.status());
           return http::Response::Json(200, std::move(*page));
         }});
    add({"GET",
         item,
         true,
         {"Read one " + std::string(spec.singular), tag, 200, "", EntityJsonSchema(spec), {}},
         [svc, s](const http::RouteContext& ctx) {
           return EntityResponse(svc->Get(*ctx.principal, *s, ctx.path_params.at(0)), 200);
         }});
    add({"PATCH",
         item,
         true,
         {"Change some fields of a " + std::string(spec.singular),
          tag,
          200,
          BodyJsonSchema(spec, BodyMode::kPatch),
          EntityJsonSchema(spec),
          {}},
         [svc, s](const http::RouteContext& ctx) {
           return EntityResponse(
               svc->Update(*ctx.principal, *s, ctx.path_params.at(0), ctx.request.body), 200);
         }});
  }
}

}  // namespace thunder::catalog
