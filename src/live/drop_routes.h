// The flash-sale API: drops and their orders over HTTP, on top of the engine.
//   POST /v1/drops                      create a drop (admin, host)
//   GET  /v1/drops/{id}                 stock left, reserved, sold
//   POST /v1/drops/{id}/orders          reserve (a consumer for itself, or admin)
//   POST /v1/orders/{id}/pay|cancel|refund
//   GET  /v1/orders/{id}, GET /v1/buyers/{id}/orders
// Validation and the policy run on the I/O thread; the engine answers asynchronously,
// after the command's events are durable. Drop and order ids on the wire are PublicIds
// ("drp_…", "ord_…"); another buyer's order is answered 404, exactly as a missing one.
#pragma once

#include "engine/engine.h"
#include "http/router.h"
#include "live/public_ids.h"
#include "store/store.h"

namespace thunder::live {

// `engine` and `store` must outlive the router; `ids` is copied.
void AddDropRoutes(http::Router& router, engine::Engine& engine, Store& store,
                   const PublicIds& ids);

}  // namespace thunder::live
