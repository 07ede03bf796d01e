// Binds the catalog's resources to HTTP routes: for each resource R,
// POST /v1/R, GET /v1/R, GET /v1/R/{id} and PATCH /v1/R/{id}.
#pragma once

#include "catalog/catalog_service.h"
#include "http/router.h"

namespace thunder::catalog {

// `service` must outlive the router.
void AddCatalogRoutes(http::Router& router, CatalogService& service);

}  // namespace thunder::catalog
