#include "store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/test_dir.h"
#include "store/migrations.h"

namespace thunder {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return tmp_.path() + "/thunder.db"; }
  TestDir tmp_{"store"};
};

TEST_F(StoreTest, MigratesOnceToNewestVersion) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*SchemaVersion(**store), KnownMigrations().back().version);
  // A second application is a no-op, not a "table exists" error.
  EXPECT_TRUE(ApplyMigrations(**store).ok());
  auto count = (*store)->Query("SELECT COUNT(*) FROM schema_migrations");
  EXPECT_EQ(AsInt(count->rows[0][0]), static_cast<int64_t>(KnownMigrations().size()));
}

TEST_F(StoreTest, UsesWalMode) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  auto mode = (*store)->Query("PRAGMA journal_mode");
  EXPECT_EQ(AsText(mode->rows[0][0]), "wal");
}

TEST_F(StoreTest, ParametersAreNeverInterpretedAsSql) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  const std::string hostile = "x', 'y', 'z'); DROP TABLE belts; --";
  ASSERT_TRUE(
      (*store)
          ->Exec("INSERT INTO belts (name, province, city, specialty, created_at, "
                 "updated_at) VALUES (?, 'Zhejiang', 'Yiwu', 'small commodities', 't', 't')",
                 {hostile})
          .ok());
  auto r = (*store)->Query("SELECT name FROM belts WHERE name = ?", {hostile});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(AsText(r->rows[0][0]), hostile);
}

TEST_F(StoreTest, UniqueViolationIsConflict) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  const char* sql =
      "INSERT INTO belts (name, province, city, specialty, created_at, updated_at) "
      "VALUES (?, 'Zhejiang', 'Yiwu', 'x', 't', 't')";
  ASSERT_TRUE((*store)->Exec(sql, {std::string("Yiwu")}).ok());
  Status dup = (*store)->Exec(sql, {std::string("Yiwu")});
  EXPECT_EQ(dup.kind(), ErrorKind::kConflict);
  EXPECT_EQ(dup.code(), "already_exists");
}

TEST_F(StoreTest, ForeignKeysAreEnforced) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  Status s = (*store)->Exec(
      "INSERT INTO bases (name, belt_id, city, created_at, updated_at) VALUES ('b', 999, 'c', 't', "
      "'t')");
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
}

TEST_F(StoreTest, FailedTransactionRollsBackEverything) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  Status result = s.InTransaction([&]() -> Status {
    RETURN_IF_ERROR(
        s.Exec("INSERT INTO belts (name, province, city, specialty, created_at, updated_at) "
               "VALUES ('A', 'Zhejiang', 'c', 's', 't', 't')"));
    return Status::InvalidArgument("later_step_failed", "second step failed");
  });
  EXPECT_EQ(result.code(), "later_step_failed");
  EXPECT_EQ(AsInt(s.Query("SELECT COUNT(*) FROM belts")->rows[0][0]), 0);
}

TEST_F(StoreTest, DataSurvivesReopen) {
  {
    auto store = OpenStore("sqlite:" + DbPath());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)
                    ->Exec("INSERT INTO belts (name, province, city, specialty, created_at, "
                           "updated_at) VALUES ('Haining leather', 'Zhejiang', 'Haining', "
                           "'leather', 't', 't')")
                    .ok());
  }
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  auto r = (*store)->Query("SELECT name FROM belts");
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(AsText(r->rows[0][0]), "Haining leather");
}

TEST_F(StoreTest, RefusesASchemaNewerThanTheBinary) {
  auto store = OpenStore(DbPath());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Exec("INSERT INTO schema_migrations VALUES (999, 'future', 't')").ok());
  Status s = ApplyMigrations(**store);
  EXPECT_EQ(s.code(), "schema_too_new");
}

TEST_F(StoreTest, PostgresSpecIsAClearError) {
  auto store = OpenStore("postgres://localhost/thunder");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), "store_unavailable");
}

}  // namespace
}  // namespace thunder
