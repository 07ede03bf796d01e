#include "catalog/csv_import.h"

#include <nlohmann/json.hpp>

#include "catalog/test_fixture.h"

namespace thunder::catalog {
namespace {

TEST(CsvTest, ParsesQuotesCommasAndNewlines) {
  std::vector<int64_t> lines;
  auto rows = ParseCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n1,,3", &lines);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1], (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ((*rows)[2], (std::vector<std::string>{"1", "", "3"}));
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 2, 4}));
}

TEST(CsvTest, RejectsUnclosedQuotes) {
  EXPECT_EQ(ParseCsv("a\n\"open", nullptr).status().code(), "invalid_csv");
  EXPECT_EQ(ParseCsv("a\nx\"y", nullptr).status().code(), "invalid_csv");
}

class CsvImportTest : public CatalogFixture {
 protected:
  void SetUp() override {
    CatalogFixture::SetUp();
    MustCreate(
        "belts",
        R"({"name":"Zhuji Datang socks","province":"Zhejiang","city":"Zhuji","specialty":"socks"})");
  }
};

TEST_F(CsvImportTest, GoodLinesLandAndBadLinesAreReported) {
  const std::string csv =
      "name,belt,city,contact,daily_capacity\n"
      "Hongyun Hosiery,Zhuji Datang socks,Zhuji,Ms Zhou,socks:20000;tights:5000\n"
      "No Belt Mill,Atlantis,Zhuji,,\n"
      "Bad Capacity,Zhuji Datang socks,Zhuji,,socks:lots\n"
      ",Zhuji Datang socks,Zhuji,,\n"
      "Too,Many,Fields,Here,x,y\n"
      "\"Silkroad, Knitting\",Zhuji Datang socks,Zhuji,,socks:9000\n";
  std::vector<size_t> progress;
  auto report =
      ImportFactories(*service_, kAdmin, csv,
                      [&](size_t done, size_t, const ImportReport&) { progress.push_back(done); });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 6);
  EXPECT_EQ(report->created, 2);
  ASSERT_EQ(report->errors.size(), 4u);
  EXPECT_EQ(report->errors[0].line, 3);
  EXPECT_EQ(report->errors[0].status.code(), "unknown_reference");
  EXPECT_EQ(report->errors[1].line, 4);
  EXPECT_EQ(report->errors[1].status.field(), "daily_capacity");
  EXPECT_EQ(report->errors[2].status.code(), "too_short");
  EXPECT_EQ(report->errors[3].status.code(), "wrong_column_count");
  EXPECT_EQ(progress.size(), 6u);

  auto rows = store_->Query("SELECT name, daily_capacity FROM factories ORDER BY id");
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(AsText(rows->rows[0][1]), R"({"socks":20000,"tights":5000})");
  EXPECT_EQ(AsText(rows->rows[1][0]), "Silkroad, Knitting");

  // Importing the same file again creates nothing new.
  auto again = ImportFactories(*service_, kAdmin, csv, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->created, 0);
  EXPECT_EQ(again->unchanged, 2);
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM factories")->rows[0][0]), 2);
}

TEST_F(CsvImportTest, HeaderProblemsFailTheWholeFile) {
  EXPECT_EQ(ImportFactories(*service_, kAdmin, "name,city\nA,B\n", nullptr).status().code(),
            "missing_column");
  EXPECT_EQ(ImportFactories(*service_, kAdmin, "name,belt,city,colour\n", nullptr).status().code(),
            "unknown_column");
  EXPECT_EQ(ImportFactories(*service_, kAdmin, "", nullptr).status().code(), "empty_file");
  EXPECT_EQ(
      ImportFactories(*service_, kAdmin, "name,belt,city\n\xff,x,y\n", nullptr).status().code(),
      "invalid_utf8");
}

TEST_F(CsvImportTest, ProductsShareAProductAcrossSkuLines) {
  ASSERT_TRUE(ImportFactories(*service_, kAdmin,
                              "name,belt,city\nHongyun Hosiery,Zhuji Datang socks,Zhuji\n", nullptr)
                  .ok());
  const std::string csv =
      "factory,product,category,sku_code,list_price_fen,colour,size\n"
      "Hongyun Hosiery,Crew socks,socks,CS-W-M,990,white,M\n"
      "Hongyun Hosiery,Crew socks,socks,CS-W-L,990,white,L\n"
      "Hongyun Hosiery,Crew socks,socks,CS-B-M,-5,black,M\n"
      "Hongyun Hosiery,Crew socks,socks,CS-B-L,9.90,black,L\n"
      "Nobody,Crew socks,socks,CS-X,990,black,L\n";
  auto report = ImportProducts(*service_, kAdmin, csv, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->created, 2);
  ASSERT_EQ(report->errors.size(), 3u);
  EXPECT_EQ(report->errors[0].status.code(), "out_of_range");
  EXPECT_EQ(report->errors[1].status.code(), "wrong_type");
  EXPECT_EQ(report->errors[2].status.code(), "unknown_reference");
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM products")->rows[0][0]), 1);
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM skus")->rows[0][0]), 2);
  auto attrs = store_->Query("SELECT attributes FROM skus WHERE code = 'CS-W-L'");
  EXPECT_EQ(AsText(attrs->rows[0][0]), R"({"colour":"white","size":"L"})");
}

TEST_F(CsvImportTest, ImportRespectsThePolicy) {
  ASSERT_TRUE(
      ImportFactories(
          *service_, kAdmin,
          "name,belt,city\nA Mill,Zhuji Datang socks,Zhuji\nB Mill,Zhuji Datang socks,Zhuji\n",
          nullptr)
          .ok());
  const Principal factory_a{9, Role::kFactory, "1"};
  auto report = ImportProducts(*service_, factory_a,
                               "factory_id,product,category,sku_code,list_price_fen\n"
                               "1,Mine,socks,M-1,100\n"
                               "2,Theirs,socks,T-1,100\n",
                               nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->created, 1);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_EQ(report->errors[0].status.http_status(), 403);
}

TEST_F(CsvImportTest, AProductLineWithABadSkuLeavesNoProduct) {
  ASSERT_TRUE(ImportFactories(*service_, kAdmin,
                              "name,belt,city\nHongyun Hosiery,Zhuji Datang socks,Zhuji\n", nullptr)
                  .ok());
  const std::string csv =
      "factory,product,category,sku_code,list_price_fen\n"
      "Hongyun Hosiery,Crew socks,socks,CS-1,990\n"
      "Hongyun Hosiery,Ankle socks,socks,AS-1,-5\n"  // bad price: no Ankle socks
      "Hongyun Hosiery,Boot socks,socks,CS-1,990\n"  // code of another product
      "Hongyun Hosiery,Knee socks,socks,,990\n";     // no code
  auto report = ImportProducts(*service_, kAdmin, csv, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 4);
  EXPECT_EQ(report->created, 1);
  ASSERT_EQ(report->errors.size(), 3u);
  EXPECT_EQ(report->errors[0].line, 3);
  EXPECT_EQ(report->errors[1].line, 4);
  EXPECT_EQ(report->errors[2].line, 5);
  auto products = store_->Query("SELECT name FROM products");
  ASSERT_EQ(products->rows.size(), 1u);
  EXPECT_EQ(AsText(products->rows[0][0]), "Crew socks");
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM skus")->rows[0][0]), 1);

  // Fixed, the same lines import now, and the summary still matches the store.
  auto fixed = ImportProducts(*service_, kAdmin,
                              "factory,product,category,sku_code,list_price_fen\n"
                              "Hongyun Hosiery,Crew socks,socks,CS-1,990\n"
                              "Hongyun Hosiery,Ankle socks,socks,AS-1,500\n",
                              nullptr);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->created, 1);
  EXPECT_EQ(fixed->unchanged, 1);
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM products")->rows[0][0]), 2);
}

TEST_F(CsvImportTest, AByteOrderMarkIsSkipped) {
  auto report = ImportFactories(
      *service_, kAdmin, "\xEF\xBB\xBFname,belt,city\nHongyun Hosiery,Zhuji Datang socks,Zhuji\n",
      nullptr);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->created, 1);
  EXPECT_TRUE(report->errors.empty());
}

TEST_F(CsvImportTest, InvalidUtf8IsReportedWithItsLine) {
  auto report = ImportFactories(*service_, kAdmin,
                                "name,belt,city\n"
                                "Hongyun Hosiery,Zhuji Datang socks,Zhuji\n"
                                "\"Two\nlines\",Zhuji Datang socks,Zhuji\n"
                                "Mill \xD6\xEC,Zhuji Datang socks,Zhuji\n",  // GBK bytes
                                nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), "invalid_utf8");
  EXPECT_NE(report.status().message().find("line 5 "), std::string::npos)
      << report.status().message();
  EXPECT_EQ(AsInt(store_->Query("SELECT COUNT(*) FROM factories")->rows[0][0]), 0);
}

}  // namespace
}  // namespace thunder::catalog
