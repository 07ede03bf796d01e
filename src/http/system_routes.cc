#include "http/system_routes.h"

#include <memory>
#include <mutex>

#include "core/json_writer.h"

namespace thunder::http {
namespace {

constexpr const char* kIndexPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spring Thunder</title>
<style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5}
code,pre{background:#f4f4f4;padding:.1rem .3rem}</style></head>
<body><h1>Spring Thunder</h1>
<p>The platform is running. Its API lives under <code>/v1/</code>; every call needs the
token the server printed at start-up:</p>
<pre>curl -H "Authorization: Bearer $TOKEN" http://HOST/v1/belts
curl -H "Authorization: Bearer $TOKEN" "http://HOST/v1/factories?belt_id=2&amp;limit=5"
curl -H "Authorization: Bearer $TOKEN" "http://HOST/v1/products?category=socks"</pre>
<ul>
<li><a href="/openapi.json">/openapi.json</a>: every route, its inputs and outputs</li>
<li><a href="/healthz">/healthz</a>: liveness</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
</ul></body></html>
)html";

}  // namespace

void AddSystemRoutes(Router& router, const Metrics& metrics, std::string version,
                     HealthCheck health) {
  router.Add({"GET",
              "/",
              false,
              {"This page: where to start", "system", 200, "", "", {}},
              [](const RouteContext&) {
                return Response{200, "text/html; charset=utf-8", kIndexPage, {}};
              }});
  router.Add({"GET",
              "/healthz",
              false,
              {"Health: 200 while the node can do its work; 503 with the failure (the log "
               "refused a write, the projections stopped) when it needs a restart",
               "system",
               200,
               "",
               R"({"type":"object","properties":{"status":{"type":"string"}}})",
               {}},
              [health = std::move(health)](const RouteContext&) {
                const Status s = health();
                if (s.ok()) return Response::Json(200, R"({"status":"ok"})");
                JsonWriter w;
                w.BeginObject().Key("status").String("failing").Key("error").BeginObject();
                w.Key("code").String(s.code()).Key("message").String(s.message());
                w.EndObject().EndObject();
                return Response::Json(503, w.Take());
              }});
  router.Add({"GET",
              "/metrics",
              false,
              {"Prometheus metrics: requests and latency per route", "system", 200, "", "", {}},
              [&metrics](const RouteContext&) {
                return Response{200, "text/plain; version=0.0.4", metrics.Render(), {}};
              }});
  // Written once, at the first request: the route table is complete and read-only by
  // then, and writing the document is too much work to repeat on an I/O thread.
  struct Document {
    std::once_flag once;
    std::string json;
  };
  auto document = std::make_shared<Document>();
  const Router* self = &router;
  router.Add({"GET",
              "/openapi.json",
              false,
              {"This API description (OpenAPI 3.0)", "system", 200, "", "", {}},
              [self, version, document](const RouteContext&) {
                std::call_once(document->once, [&] {
                  document->json = self->OpenApiJson("Spring Thunder", version);
                });
                return Response::Json(200, document->json);
              }});
}

}  // namespace thunder::http
