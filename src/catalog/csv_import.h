// Bulk import of factories and products from CSV files (RFC 4180: a header row, commas,
// double quotes around fields that hold commas, quotes or newlines). Every line goes
// through the same validation and policy as the API; bad lines are reported with their
// line number and skipped, good lines land. A line is all or nothing: a product line whose
// SKU is refused leaves no product behind, so the report counts exactly what was stored.
// Running the same file twice creates nothing twice: rows that already exist are counted
// as unchanged. The text must be UTF-8 (a leading byte-order mark is skipped); a file with
// an invalid line is refused whole, naming that line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_service.h"

namespace thunder::catalog {

struct LineError {
  int64_t line = 0;  // 1-based line in the file where the record starts
  Status status;
};

struct ImportReport {
  int64_t records = 0;    // data rows seen
  int64_t created = 0;    // rows that created something
  int64_t unchanged = 0;  // rows whose data was already there
  std::vector<LineError> errors;
};

// Called after each record with the records done so far and the total.
using ImportProgress = std::function<void(size_t done, size_t total, const ImportReport&)>;

// Columns: name, belt (a belt's name) or belt_id, city, contact (optional),
// daily_capacity (optional, "socks:20000;tights:5000").
Result<ImportReport> ImportFactories(CatalogService& service, const Principal& who,
                                     std::string_view csv, const ImportProgress& progress);

// One SKU per row. Columns: factory (a factory's name) or factory_id, product, category,
// description (optional), sku_code, list_price_fen, and optional colour, size, material.
// Rows naming the same factory and product share one product.
Result<ImportReport> ImportProducts(CatalogService& service, const Principal& who,
                                    std::string_view csv, const ImportProgress& progress);

// Splits CSV text into records of fields; `lines` receives each record's first line.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                       std::vector<int64_t>* lines);

}  // namespace thunder::catalog
