// The catalog's resources. Changing a field here changes validation, SQL, rendering and
// the OpenAPI document together; the table itself changes through a migration.
#include <array>

#include "catalog/schema.h"

namespace thunder::catalog {
namespace {

constexpr int64_t kMaxCount = 1'000'000'000;
// 100 million yuan in fen: far above any single SKU's price.
constexpr int64_t kMaxPriceFen = 10'000'000'000;

constexpr FieldSpec Text(std::string_view name, bool required, int64_t max_len,
                         std::string_view description, bool filterable = false) {
  return {name, FieldType::kString, required, true, filterable, 1, max_len, "", description};
}

// Free text: may span lines.
constexpr FieldSpec Prose(std::string_view name, int64_t max_len, std::string_view description) {
  return {name, FieldType::kString, false, true, false, 1, max_len, "", description, true};
}

constexpr FieldSpec Ref(std::string_view name, std::string_view table,
                        std::string_view description) {
  return {name, FieldType::kReference, true, false, true, 1, INT64_MAX, table, description};
}

constexpr std::array kBeltFields = {
    Text("name", true, 100, "Name of the industrial belt, unique", true),
    Text("province", true, 50, "Province, e.g. Zhejiang", true),
    Text("city", true, 50, "City or county at its centre", true),
    Text("specialty", true, 100, "What the belt makes, e.g. socks", true),
    Prose("description", 2000, "Free text"),
};

constexpr std::array kBaseFields = {
    Text("name", true, 100, "Name of the live-streaming base, unique", true),
    Ref("belt_id", "belts", "The industrial belt it serves"),
    Text("city", true, 50, "City", true),
    Text("address", false, 200, "Street address"),
    FieldSpec{"studios", FieldType::kInteger, false, true, false, 0, 10'000, "",
              "Number of live-streaming studios"},
};

constexpr std::array kFactoryFields = {
    Text("name", true, 100, "Registered name of the factory, unique", true),
    Ref("belt_id", "belts", "The industrial belt it belongs to"),
    Text("city", true, 50, "City", true),
    Text("contact", false, 100, "Contact person or phone"),
    FieldSpec{"daily_capacity", FieldType::kCountMap, false, true, false, 0, kMaxCount, "",
              "Units it can make per day, by product category"},
};

constexpr std::array kHostFields = {
    Text("name", true, 100, "Name of the live host"),
    Ref("base_id", "bases", "The live-streaming base the host works from"),
    Text("handle", true, 50, "Public handle, unique", true),
    FieldSpec{"followers", FieldType::kInteger, false, true, false, 0, 10'000'000'000, "",
              "Follower count"},
};

constexpr std::array kProductFields = {
    Text("name", true, 100, "Product name, unique within its factory", true),
    Ref("factory_id", "factories", "The factory that makes it"),
    Text("category", true, 50, "Product category, e.g. socks", true),
    Prose("description", 2000, "Free text"),
};

constexpr std::array kSkuFields = {
    Ref("product_id", "products", "The product this SKU is a variant of"),
    Text("code", true, 64, "Stock-keeping code, unique", true),
    FieldSpec{"attributes", FieldType::kStringMap, false, true, false, 1, 64, "",
              "Variant attributes such as colour, size, material"},
    FieldSpec{"list_price", FieldType::kMoney, true, true, false, 0, kMaxPriceFen, "",
              "List price, {\"amount_fen\": n}"},
};

const std::array kResources = {
    ResourceSpec{"belts", "belt", "Industrial belts", ResourceKind::kBelt, OwnerRule::kNone,
                 kBeltFields},
    ResourceSpec{"bases", "base", "Live-streaming bases", ResourceKind::kBase, OwnerRule::kSelfBase,
                 kBaseFields},
    ResourceSpec{"factories", "factory", "Factories", ResourceKind::kFactory,
                 OwnerRule::kSelfFactory, kFactoryFields},
    ResourceSpec{"hosts", "host", "Live hosts", ResourceKind::kHost, OwnerRule::kBaseField,
                 kHostFields},
    ResourceSpec{"products", "product", "Products", ResourceKind::kProduct,
                 OwnerRule::kFactoryField, kProductFields},
    ResourceSpec{"skus", "sku", "SKUs: sellable variants of a product", ResourceKind::kSku,
                 OwnerRule::kViaProduct, kSkuFields},
};

}  // namespace

std::span<const ResourceSpec> AllResources() { return kResources; }

const ResourceSpec* FindResource(std::string_view name) {
  for (const ResourceSpec& r : kResources) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const FieldSpec* ResourceSpec::Find(std::string_view field) const {
  for (const FieldSpec& f : fields) {
    if (f.name == field) return &f;
  }
  return nullptr;
}

const SqlValue* Record::Get(std::string_view field) const {
  for (const auto& [spec, value] : values) {
    if (spec->name == field) return &value;
  }
  return nullptr;
}

}  // namespace thunder::catalog
