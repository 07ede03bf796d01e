#include "catalog/csv_import.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "core/json_writer.h"
#include "http/message.h"

namespace thunder::catalog {
namespace {

// The columns of one file, by name.
class Columns {
 public:
  static Result<Columns> From(const std::vector<std::string>& header,
                              const std::vector<std::string_view>& known) {
    Columns c;
    for (size_t i = 0; i < header.size(); ++i) {
      std::string name = header[i];
      while (!name.empty() && name.back() == ' ') name.pop_back();
      while (!name.empty() && name.front() == ' ') name.erase(0, 1);
      bool ok = false;
      for (auto k : known) ok = ok || k == name;
      if (!ok) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return Status::InvalidArgument(
            "unknown_column", "unknown column '" + name + "'; expected some of: " + list, name);
      }
      c.index_[name] = i;
    }
    return c;
  }
  bool Has(std::string_view name) const { return index_.count(std::string(name)) > 0; }
  // The trimmed cell, or "" when the column is absent.
  std::string Get(const std::vector<std::string>& row, std::string_view name) const {
    auto it = index_.find(std::string(name));
    if (it == index_.end() || it->second >= row.size()) return {};
    std::string v = row[it->second];
    const size_t b = v.find_first_not_of(' ');
    const size_t e = v.find_last_not_of(' ');
    return b == std::string::npos ? std::string{} : v.substr(b, e - b + 1);
  }

 private:
  std::map<std::string, size_t> index_;
};

Status RequireOneOf(const Columns& c, std::string_view a, std::string_view b) {
  if (c.Has(a) || c.Has(b)) return Status::Ok();
  return Status::InvalidArgument(
      "missing_column",
      "the header needs a '" + std::string(a) + "' or '" + std::string(b) + "' column",
      std::string(a));
}

Status RequireAll(const Columns& c, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (!c.Has(n)) {
      return Status::InvalidArgument(
          "missing_column", "the header needs a '" + std::string(n) + "' column", std::string(n));
    }
  }
  return Status::Ok();
}

Result<int64_t> WholeNumber(std::string_view text, std::string_view field) {
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return Status::InvalidArgument(
        "wrong_type", std::string(field) + ": '" + std::string(text) + "' is not a whole number",
        std::string(field));
  }
  return n;
}

// "socks:20000;tights:5000" -> {"socks":20000,"tights":5000}
Result<std::string> CapacityJson(std::string_view text) {
  JsonWriter w;
  w.BeginObject();
  while (!text.empty()) {
    const size_t semi = text.find(';');
    const std::string_view part = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (part.empty()) continue;
    const size_t colon = part.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(
          "wrong_type", "daily_capacity: expected category:units, got '" + std::string(part) + "'",
          "daily_capacity");
    }
    ASSIGN_OR_RETURN(const int64_t n, WholeNumber(part.substr(colon + 1), "daily_capacity"));
    w.Key(part.substr(0, colon)).Int(n);
  }
  w.EndObject();
  return w.Take();
}

// The id of the row of `table` whose name is `name`, from a *_id column or a name column.
Result<int64_t> ResolveId(Store& store, const Columns& c, const std::vector<std::string>& row,
                          std::string_view id_column, std::string_view name_column,
                          std::string_view table) {
  const std::string id_text = c.Get(row, id_column);
  if (!id_text.empty()) return WholeNumber(id_text, id_column);
  const std::string name = c.Get(row, name_column);
  if (name.empty()) {
    return Status::InvalidArgument(
        "missing_field",
        std::string(name_column) + " or " + std::string(id_column) + " is required",
        std::string(name_column));
  }
  ASSIGN_OR_RETURN(auto r,
                   store.Query("SELECT id FROM " + std::string(table) + " WHERE name = ?", {name}));
  if (r.rows.empty()) {
    return Status::InvalidArgument("unknown_reference",
                                   std::string(name_column) + " '" + name + "' does not exist",
                                   std::string(name_column));
  }
  return AsInt(r.rows[0][0]);
}

using RowFn = std::function<Result<bool>(const Columns&, const std::vector<std::string>&)>;

// Lines per store transaction: one commit (and one sync) per batch instead of per line.
constexpr size_t kLinesPerTransaction = 200;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The whole file is refused when any line is not UTF-8 (often a GBK export): importing
// the lines that happen to be ASCII would leave a half-imported file.
Status CheckUtf8ByLine(std::string_view csv) {
  int64_t line = 1;
  while (!csv.empty()) {
    const size_t end = csv.find('\n');
    if (!http::IsValidUtf8(csv.substr(0, end))) {
      return Status::InvalidArgument("invalid_utf8",
                                     "line " + std::to_string(line) +
                                         " is not valid UTF-8; save the file as UTF-8 (a GBK "
                                         "export must be converted first)");
    }
    if (end == std::string_view::npos) break;
    csv.remove_prefix(end + 1);
    ++line;
  }
  return Status::Ok();
}

Result<ImportReport> RunImport(Store& store, std::string_view csv,
                               const std::vector<std::string_view>& known,
                               const std::function<Status(const Columns&)>& check_header,
                               const RowFn& import_row, const ImportProgress& progress) {
  if (csv.starts_with(kUtf8Bom)) csv.remove_prefix(kUtf8Bom.size());
  RETURN_IF_ERROR(CheckUtf8ByLine(csv));
  std::vector<int64_t> lines;
  ASSIGN_OR_RETURN(auto rows, ParseCsv(csv, &lines));
  if (rows.empty()) return Status::InvalidArgument("empty_file", "the file has no header row");
  ASSIGN_OR_RETURN(const Columns columns, Columns::From(rows[0], known));
  RETURN_IF_ERROR(check_header(columns));
  ImportReport report;
  // Each line is all or nothing (a savepoint), so a product whose SKU is refused is not
  // left behind and the report counts exactly what was stored.
  auto import_line = [&](size_t i) -> Status {
    const auto& row = rows[i];
    if (row.size() != rows[0].size()) {
      report.errors.push_back(
          {lines[i], Status::InvalidArgument("wrong_column_count",
                                             "expected " + std::to_string(rows[0].size()) +
                                                 " fields, found " + std::to_string(row.size()))});
      return Status::Ok();
    }
    RETURN_IF_ERROR(store.Exec("SAVEPOINT import_line"));
    auto created = import_row(columns, row);
    if (!created.ok()) {
      RETURN_IF_ERROR(store.Exec("ROLLBACK TO import_line"));
      report.errors.push_back({lines[i], created.status()});
    } else if (*created) {
      ++report.created;
    } else {
      ++report.unchanged;
    }
    return store.Exec("RELEASE import_line");
  };
  for (size_t first = 1; first < rows.size(); first += kLinesPerTransaction) {
    const size_t end = std::min(rows.size(), first + kLinesPerTransaction);
    const int64_t created_before = report.created;
    Status s = store.InTransaction([&]() -> Status {
      for (size_t i = first; i < end; ++i) {
        if (rows[i].size() == 1 && rows[i][0].empty()) continue;  // a blank line
        ++report.records;
        RETURN_IF_ERROR(import_line(i));
        if (progress) progress(i, rows.size() - 1, report);
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      return Status(s.kind(), s.code(),
                    "lines " + std::to_string(lines[first]) + " and after were not stored (" +
                        std::to_string(created_before) +
                        " records created before them): " + s.message());
    }
  }
  return report;
}

// Creates with the API's validation; a unique-key conflict means "already there".
Result<bool> CreateOrKeep(CatalogService& service, const Principal& who, const ResourceSpec& spec,
                          const std::string& json) {
  ASSIGN_OR_RETURN(Record record, ParseBody(spec, json, BodyMode::kCreate));
  auto created = service.CreateRecord(who, spec, record);
  if (created.ok()) return true;
  if (created.status().code() == "already_exists") return false;
  return created.status();
}

}  // namespace

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                       std::vector<int64_t>* lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false;
  bool field_was_quoted = false;
  int64_t line = 1;
  int64_t record_line = 1;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_was_quoted = false;
  };
  auto end_record = [&] {
    end_field();
    rows.push_back(std::move(row));
    row.clear();
    if (lines) lines->push_back(record_line);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        if (!field.empty() || field_was_quoted) {
          return Status::InvalidArgument(
              "invalid_csv", "line " + std::to_string(line) + ": a quote inside an unquoted field");
        }
        in_quotes = true;
        field_was_quoted = true;
        break;
      case ',':
        end_field();
        break;
      case '\r':
        break;
      case '\n':
        end_record();
        ++line;
        record_line = line;
        break;
      default:
        field.push_back(c);
    }
  }
  if (in_quotes) {
    return Status::InvalidArgument(
        "invalid_csv", "line " + std::to_string(record_line) + ": a quoted field is never closed");
  }
  if (!field.empty() || !row.empty() || field_was_quoted) end_record();
  return rows;
}

Result<ImportReport> ImportFactories(CatalogService& service, const Principal& who,
                                     std::string_view csv, const ImportProgress& progress) {
  const ResourceSpec& spec = *FindResource("factories");
  auto check = [](const Columns& c) -> Status {
    RETURN_IF_ERROR(RequireAll(c, {"name", "city"}));
    return RequireOneOf(c, "belt_id", "belt");
  };
  auto row_fn = [&](const Columns& c, const std::vector<std::string>& row) -> Result<bool> {
    ASSIGN_OR_RETURN(const int64_t belt,
                     ResolveId(service.store(), c, row, "belt_id", "belt", "belts"));
    JsonWriter w;
    w.BeginObject();
    w.Key("name").String(c.Get(row, "name"));
    w.Key("belt_id").String(std::to_string(belt));
    w.Key("city").String(c.Get(row, "city"));
    if (const auto contact = c.Get(row, "contact"); !contact.empty())
      w.Key("contact").String(contact);
    if (const auto cap = c.Get(row, "daily_capacity"); !cap.empty()) {
      ASSIGN_OR_RETURN(std::string json, CapacityJson(cap));
      w.Key("daily_capacity").Raw(json);
    }
    w.EndObject();
    return CreateOrKeep(service, who, spec, w.str());
  };
  return RunImport(service.store(), csv,
                   {"name", "belt", "belt_id", "city", "contact", "daily_capacity"}, check, row_fn,
                   progress);
}

Result<ImportReport> ImportProducts(CatalogService& service, const Principal& who,
                                    std::string_view csv, const ImportProgress& progress) {
  const ResourceSpec& products = *FindResource("products");
  const ResourceSpec& skus = *FindResource("skus");
  auto check = [](const Columns& c) -> Status {
    RETURN_IF_ERROR(RequireAll(c, {"product", "category", "sku_code", "list_price_fen"}));
    return RequireOneOf(c, "factory_id", "factory");
  };
  auto row_fn = [&](const Columns& c, const std::vector<std::string>& row) -> Result<bool> {
    Store& store = service.store();
    ASSIGN_OR_RETURN(const int64_t factory,
                     ResolveId(store, c, row, "factory_id", "factory", "factories"));
    ASSIGN_OR_RETURN(const int64_t price,
                     WholeNumber(c.Get(row, "list_price_fen"), "list_price_fen"));
    JsonWriter pw;
    pw.BeginObject().Key("name").String(c.Get(row, "product"));
    pw.Key("factory_id").String(std::to_string(factory));
    pw.Key("category").String(c.Get(row, "category"));
    if (const auto d = c.Get(row, "description"); !d.empty()) pw.Key("description").String(d);
    pw.EndObject();
    ASSIGN_OR_RETURN(const bool product_created, CreateOrKeep(service, who, products, pw.str()));
    ASSIGN_OR_RETURN(auto found,
                     store.Query("SELECT id FROM products WHERE factory_id = ? AND name = ?",
                                 {factory, c.Get(row, "product")}));
    if (found.rows.empty()) return Status::Internal("product vanished during import");

    JsonWriter sw;
    sw.BeginObject().Key("product_id").String(std::to_string(AsInt(found.rows[0][0])));
    sw.Key("code").String(c.Get(row, "sku_code"));
    sw.Key("list_price").Money(price);
    sw.Key("attributes").BeginObject();
    for (const char* attr : {"colour", "size", "material"}) {
      if (const auto v = c.Get(row, attr); !v.empty()) sw.Key(attr).String(v);
    }
    sw.EndObject().EndObject();
    ASSIGN_OR_RETURN(const bool sku_created, CreateOrKeep(service, who, skus, sw.str()));
    if (!sku_created) {
      // The code exists: fine when it is this product's SKU (a re-run), an error otherwise.
      ASSIGN_OR_RETURN(auto owner, store.Query("SELECT product_id FROM skus WHERE code = ?",
                                               {c.Get(row, "sku_code")}));
      if (owner.rows.empty() || AsInt(owner.rows[0][0]) != AsInt(found.rows[0][0])) {
        return Status::Conflict(
            "already_exists", "sku_code " + c.Get(row, "sku_code") + " belongs to another product",
            "sku_code");
      }
    }
    return product_created || sku_created;
  };
  return RunImport(service.store(), csv,
                   {"factory", "factory_id", "product", "category", "description", "sku_code",
                    "list_price_fen", "colour", "size", "material"},
                   check, row_fn, progress);
}

}  // namespace thunder::catalog
