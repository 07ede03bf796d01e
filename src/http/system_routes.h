// The routes every server has: /healthz, /metrics, /openapi.json and a small index page.
#pragma once

#include <string>

#include "http/metrics.h"
#include "http/router.h"

namespace thunder::http {

// `router` and `metrics` must outlive the routes; /openapi.json describes `router` as it is
// when asked, so routes added later are included.
void AddSystemRoutes(Router& router, const Metrics& metrics, std::string version);

}  // namespace thunder::http
