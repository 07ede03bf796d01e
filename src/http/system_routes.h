// The routes every server has: /healthz, /metrics, /openapi.json and a small index page.
#pragma once

#include <functional>
#include <string>

#include "http/metrics.h"
#include "http/router.h"

namespace thunder::http {

// `router` and `metrics` must outlive the routes; /openapi.json describes `router` as it is
// at the first request, so routes added later at start-up are included.
// `health` says whether the node can do its work: OK, or the first failure, which makes
// /healthz answer 503 with it so an orchestrator restarts the node.
using HealthCheck = std::function<Status()>;
void AddSystemRoutes(
    Router& router, const Metrics& metrics, std::string version,
    HealthCheck health = [] { return Status::Ok(); });

}  // namespace thunder::http
