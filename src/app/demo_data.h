// The demo data set: Zhejiang's industrial belts with live-streaming bases, factories,
// hosts, products and SKUs, created through the catalog service so that it passes the
// same validation as any client's data.
#pragma once

#include <cstdint>

#include "catalog/catalog_service.h"

namespace thunder::app {

struct DemoCounts {
  int64_t belts = 0, bases = 0, factories = 0, hosts = 0, products = 0, skus = 0;
};

// Seeds the data set into an empty catalog; a catalog that already has belts is left as
// it is (and the counts are zero).
Result<DemoCounts> SeedDemoData(catalog::CatalogService& catalog);

}  // namespace thunder::app
