#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <random>
#include <set>

#include "core/test_dir.h"
#include "store/fault_vfs.h"
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

TEST_F(StoreTest, OpenExistingStoreDoesNotCreateOne) {
  auto missing = OpenExistingStore("sqlite:" + DbPath());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.status().message().find(DbPath()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(DbPath()));
  ASSERT_TRUE(OpenStore(DbPath()).ok());
  EXPECT_TRUE(OpenExistingStore(DbPath()).ok());
}

// Power cuts through FaultVfs: what the store answered OK is there after each cut.
class StorePowerCutTest : public StoreTest {
 protected:
  Result<std::unique_ptr<Store>> OpenThroughVfs() {
    ASSIGN_OR_RETURN(auto store, OpenSqliteStore(DbPath(), SqliteOptions{true, vfs_.name()}));
    RETURN_IF_ERROR(ApplyMigrations(*store));
    return store;
  }
  static Status InsertBelt(Store& store, const std::string& name) {
    return store.Exec(
        "INSERT INTO belts (name, province, city, specialty, created_at, updated_at) "
        "VALUES (?, 'Zhejiang', 'Yiwu', 'x', 't', 't')",
        {name});
  }
  // Cuts the power under an open store: nothing it does from now on reaches the disk.
  void CutPower(std::unique_ptr<Store>& store) {
    vfs_.Freeze();
    store.reset();
    ASSERT_TRUE(vfs_.PowerCut().ok());
  }
  std::set<std::string> StoredBelts() {
    auto store = OpenThroughVfs();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return {};
    auto r = (*store)->Query("SELECT name FROM belts");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::set<std::string> names;
    if (r.ok()) {
      for (const auto& row : r->rows) names.insert(AsText(row[0]));
    }
    return names;
  }

  FaultVfs vfs_{"thunder_fault_store_test"};
};

TEST_F(StorePowerCutTest, TheFaultVfsLosesWhatWasNeverSynced) {
  {
    auto store = OpenThroughVfs();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(InsertBelt(**store, "durable").ok());
  }  // a clean close checkpoints and syncs
  auto store = OpenThroughVfs();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Query("PRAGMA synchronous=OFF").ok());
  ASSERT_TRUE(InsertBelt(**store, "never synced").ok());
  CutPower(*store);
  EXPECT_EQ(StoredBelts(), std::set<std::string>{"durable"});
}

TEST_F(StorePowerCutTest, EveryAnsweredWriteSurvivesAPowerCut) {
  std::mt19937 rng(20200601);
  std::set<std::string> acknowledged;
  for (int round = 0; round < 12; ++round) {
    auto store = OpenThroughVfs();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // Checkpoint often, so that cuts also land after WAL restarts and database writes.
    ASSERT_TRUE((*store)->Query("PRAGMA wal_autocheckpoint=4").ok());
    const int writes = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < writes; ++i) {
      const std::string name = "belt " + std::to_string(round) + "." + std::to_string(i);
      if (InsertBelt(**store, name).ok()) acknowledged.insert(name);
    }
    CutPower(*store);
    const std::set<std::string> stored = StoredBelts();
    std::vector<std::string> lost;
    std::set_difference(acknowledged.begin(), acknowledged.end(), stored.begin(), stored.end(),
                        std::back_inserter(lost));
    ASSERT_TRUE(lost.empty()) << "round " << round << ": " << lost.size() << " of "
                              << acknowledged.size() << " answered writes lost, e.g. "
                              << lost.front();
    ASSERT_EQ(stored, acknowledged) << "round " << round;
  }
  EXPECT_GT(vfs_.syncs(), 0);
}

}  // namespace
}  // namespace thunder
