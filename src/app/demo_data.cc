#include "app/demo_data.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "core/json_writer.h"

namespace thunder::app {
namespace {

struct ProductTemplate {
  const char* name;
  const char* material;
  int64_t price_fen;
  std::array<const char*, 3> colours;
  std::array<const char*, 2> sizes;
};

struct BeltData {
  const char* name;
  const char* city;
  const char* specialty;
  const char* category;
  const char* description;
  const char* base_name;
  int64_t studios;
  std::array<const char*, 3> factories;
  int64_t daily_capacity;
  std::array<ProductTemplate, 2> products;
  std::array<std::pair<const char*, const char*>, 2> hosts;  // name, handle
};

// Factory, base and host names are invented; belts, cities and specialties are real.
const std::array<BeltData, 8> kBelts = {{
    {"Yiwu small commodities",
     "Yiwu",
     "small commodities",
     "household goods",
     "The world's largest small-commodity market and its export supply chain",
     "Yiwu Global Live-Streaming Base",
     120,
     {"Yiwu Jinhua Crafts Factory", "Yiwu Riverside Home Goods Co.", "Futian Festive Decor Works"},
     40000,
     {{{"Storage basket set", "cotton rope", 3990, {"beige", "grey", "white"}, {"S", "L"}},
       {"Festival lantern string", "PVC", 2590, {"red", "gold", "warm white"}, {"5m", "10m"}}}},
     {{{"Chen Xiaomei", "yiwu_meimei"}, {"Li Wei", "liwei_goods"}}}},
    {"Zhuji Datang socks",
     "Zhuji",
     "socks",
     "socks",
     "Datang town knits a large share of the world's socks",
     "Datang Sock Live Centre",
     60,
     {"Datang Hongyun Hosiery Co.", "Zhuji Silkroad Knitting Mill", "Datang Cloud Step Socks"},
     150000,
     {{{"Combed cotton crew socks", "combed cotton", 990, {"white", "black", "grey"}, {"M", "L"}},
       {"Merino hiking socks", "merino wool", 3900, {"charcoal", "olive", "navy"}, {"M", "L"}}}},
     {{{"Zhou Ting", "datang_ting"}, {"Wang Lei", "socks_wanglei"}}}},
    {"Haining leather",
     "Haining",
     "leather goods",
     "leather",
     "Leather jackets, bags and belts around the China Leather City market",
     "Haining Leather City Live Base",
     45,
     {"Haining Fine Hide Garment Co.", "Xucun Leather Works", "Haining Northgate Bags"},
     3000,
     {{{"Lambskin biker jacket", "lambskin", 129900, {"black", "brown", "burgundy"}, {"M", "L"}},
       {"Full-grain leather belt",
        "cowhide",
        8900,
        {"black", "tan", "dark brown"},
        {"105cm", "120cm"}}}},
     {{{"Sun Jia", "haining_jia"}, {"Qian Hao", "leather_qianhao"}}}},
    {"Yongkang hardware",
     "Yongkang",
     "hardware and tools",
     "hardware",
     "China's hardware capital: tools, cookware, doors and scooters",
     "Yongkang Hardware City Live Base",
     30,
     {"Yongkang Steelhand Tools Co.", "Gushan Cookware Factory", "Yongkang Brightline Hardware"},
     20000,
     {{{"Cordless drill kit", "steel and ABS", 29900, {"orange", "blue", "black"}, {"12V", "20V"}},
       {"Stainless steel wok",
        "304 stainless steel",
        15900,
        {"silver", "black", "bronze"},
        {"32cm", "34cm"}}}},
     {{{"Zhao Gang", "yk_toolman"}, {"Hu Lin", "kitchen_hulin"}}}},
    {"Shengzhou neckties",
     "Shengzhou",
     "neckties",
     "neckties",
     "Shengzhou makes most of the world's silk neckties",
     "Shengzhou Necktie Live Studio",
     20,
     {"Shengzhou Silkline Necktie Co.", "Shanhu Tie and Scarf Works",
      "Shengzhou Elegant Knot Ltd."},
     25000,
     {{{"Jacquard silk necktie",
        "mulberry silk",
        12900,
        {"navy", "burgundy", "silver"},
        {"7cm", "8cm"}},
       {"Silk pocket square",
        "mulberry silk",
        4900,
        {"navy", "burgundy", "ivory"},
        {"25cm", "30cm"}}}},
     {{{"Xu Fang", "sz_silktie"}, {"Ma Jun", "tie_majun"}}}},
    {"Anji office chairs",
     "Anji",
     "office chairs",
     "chairs",
     "Anji's furniture cluster supplies office chairs to the world",
     "Anji Chair Live Base",
     25,
     {"Anji Greenhill Seating Co.", "Dipu Ergonomic Furniture", "Anji Bamboo Valley Chairs"},
     8000,
     {{{"Ergonomic mesh office chair",
        "mesh and nylon",
        69900,
        {"black", "grey", "white"},
        {"standard", "headrest"}},
       {"Gaming chair", "PU leather", 99900, {"black", "red", "blue"}, {"standard", "footrest"}}}},
     {{{"Lin Qing", "anji_chairs"}, {"He Bo", "seat_hebo"}}}},
    {"Cixi home appliances",
     "Cixi",
     "small home appliances",
     "appliances",
     "Cixi builds heaters, fans, kettles and other small appliances",
     "Cixi Appliance Live Base",
     35,
     {"Cixi Bluewave Appliance Co.", "Guanhaiwei Electric Works", "Cixi Morning Sun Electrics"},
     12000,
     {{{"Electric kettle",
        "304 stainless steel",
        8900,
        {"white", "black", "green"},
        {"1.5L", "1.7L"}},
       {"Desk fan", "ABS", 12900, {"white", "pink", "blue"}, {"small", "large"}}}},
     {{{"Gao Yan", "cixi_home"}, {"Luo Kai", "appliance_luo"}}}},
    {"Wenzhou shoes",
     "Wenzhou",
     "shoes",
     "shoes",
     "Wenzhou's Lucheng district is a capital of China's shoemaking",
     "Wenzhou Shoe Capital Live Base",
     50,
     {"Lucheng Stride Footwear Co.", "Wenzhou Oujiang Shoes", "Wenzhou Cloudwalk Leather Shoes"},
     30000,
     {{{"Leather derby shoes", "calfskin", 39900, {"black", "brown", "tan"}, {"41", "42"}},
       {"Canvas sneakers", "canvas", 12900, {"white", "black", "navy"}, {"40", "42"}}}},
     {{{"Deng Hui", "wz_shoes"}, {"Feng Yu", "stride_fengyu"}}}},
}};

Result<int64_t> CreateJson(catalog::CatalogService& catalog, const Principal& admin,
                           std::string_view resource, const std::string& json) {
  ASSIGN_OR_RETURN(catalog::Entity e,
                   catalog.Create(admin, *catalog::FindResource(resource), json));
  return e.id;
}

}  // namespace

Result<DemoCounts> SeedDemoData(catalog::CatalogService& catalog) {
  DemoCounts counts;
  ASSIGN_OR_RETURN(auto existing, catalog.store().Query("SELECT COUNT(*) FROM belts"));
  if (AsInt(existing.rows.at(0).at(0)) > 0) return counts;

  const Principal admin{0, Role::kAdmin, ""};
  Status result = catalog.store().InTransaction([&]() -> Status {
    for (const BeltData& b : kBelts) {
      JsonWriter belt;
      belt.BeginObject().Key("name").String(b.name).Key("province").String("Zhejiang");
      belt.Key("city").String(b.city).Key("specialty").String(b.specialty);
      belt.Key("description").String(b.description).EndObject();
      ASSIGN_OR_RETURN(const int64_t belt_id, CreateJson(catalog, admin, "belts", belt.str()));
      ++counts.belts;

      JsonWriter base;
      base.BeginObject()
          .Key("name")
          .String(b.base_name)
          .Key("belt_id")
          .String(std::to_string(belt_id));
      base.Key("city").String(b.city).Key("studios").Int(b.studios).EndObject();
      ASSIGN_OR_RETURN(const int64_t base_id, CreateJson(catalog, admin, "bases", base.str()));
      ++counts.bases;

      for (const auto& [host_name, handle] : b.hosts) {
        JsonWriter host;
        host.BeginObject().Key("name").String(host_name).Key("base_id").String(
            std::to_string(base_id));
        host.Key("handle").String(handle).Key("followers").Int(50'000 + 7919 * counts.hosts);
        host.EndObject();
        RETURN_IF_ERROR(CreateJson(catalog, admin, "hosts", host.str()).status());
        ++counts.hosts;
      }

      int64_t factory_index = 0;
      for (const char* factory_name : b.factories) {
        JsonWriter factory;
        factory.BeginObject().Key("name").String(factory_name);
        factory.Key("belt_id").String(std::to_string(belt_id)).Key("city").String(b.city);
        factory.Key("daily_capacity").BeginObject().Key(b.category);
        factory.Int(b.daily_capacity * (factory_index + 2) / 3).EndObject().EndObject();
        ASSIGN_OR_RETURN(const int64_t factory_id,
                         CreateJson(catalog, admin, "factories", factory.str()));
        ++counts.factories;
        ++factory_index;

        int64_t product_index = 0;
        for (const ProductTemplate& t : b.products) {
          JsonWriter product;
          product.BeginObject().Key("name").String(t.name);
          product.Key("factory_id").String(std::to_string(factory_id));
          product.Key("category").String(b.category);
          product.Key("description").String(std::string(t.name) + ", " + t.material).EndObject();
          ASSIGN_OR_RETURN(const int64_t product_id,
                           CreateJson(catalog, admin, "products", product.str()));
          ++counts.products;
          ++product_index;

          for (const char* colour : t.colours) {
            for (const char* size : t.sizes) {
              JsonWriter sku;
              sku.BeginObject().Key("product_id").String(std::to_string(product_id));
              std::string code = "F" + std::to_string(factory_id) + "-P" +
                                 std::to_string(product_index) + "-" + colour + "-" + size;
              std::replace(code.begin(), code.end(), ' ', '-');
              sku.Key("code").String(code);
              // Factories in a belt compete on price: each lists a little lower.
              sku.Key("list_price").Money(t.price_fen - factory_index * (t.price_fen / 20));
              sku.Key("attributes").BeginObject().Key("colour").String(colour);
              sku.Key("size").String(size).Key("material").String(t.material).EndObject();
              sku.EndObject();
              RETURN_IF_ERROR(CreateJson(catalog, admin, "skus", sku.str()).status());
              ++counts.skus;
            }
          }
        }
      }
    }
    return Status::Ok();
  });
  RETURN_IF_ERROR(result);
  return counts;
}

}  // namespace thunder::app
