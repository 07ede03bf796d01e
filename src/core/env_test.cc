#include "core/env.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/fault_injection_env.h"

namespace thunder {
namespace {

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("thunder_env_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(EnvTest, WritesAndReadsBack) {
  Env& env = Env::Default();
  ASSERT_TRUE(env.CreateDirs(dir_.string()).ok());
  const std::string path = (dir_ / "a.txt").string();
  ASSERT_TRUE(WriteFileAtomically(env, path, "hello").ok());
  auto read = env.ReadFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "hello");
  EXPECT_FALSE(env.FileExists(path + ".tmp"));
}

TEST_F(EnvTest, MissingFileIsNotFound) {
  auto read = Env::Default().ReadFile((dir_ / "missing").string());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().kind(), ErrorKind::kNotFound);
}

// A wrapper that fails every fsync, as a test of a disk that reports an error.
class FailingSyncEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    ASSIGN_OR_RETURN(auto inner, target().NewWritableFile(path));
    return std::unique_ptr<WritableFile>(std::make_unique<FailingSyncFile>(std::move(inner)));
  }

 private:
  class FailingSyncFile : public WritableFile {
   public:
    explicit FailingSyncFile(std::unique_ptr<WritableFile> inner) : inner_(std::move(inner)) {}
    Status Append(std::string_view data) override { return inner_->Append(data); }
    Status Sync() override { return Status::IoError("injected fsync failure"); }
    Status Close() override { return inner_->Close(); }

   private:
    std::unique_ptr<WritableFile> inner_;
  };
};

TEST_F(EnvTest, AtomicWriteLeavesOldContentWhenSyncFails) {
  Env& real = Env::Default();
  ASSERT_TRUE(real.CreateDirs(dir_.string()).ok());
  const std::string path = (dir_ / "config").string();
  ASSERT_TRUE(WriteFileAtomically(real, path, "old").ok());

  FailingSyncEnv failing(real);
  Status s = WriteFileAtomically(failing, path, "new");
  EXPECT_EQ(s.kind(), ErrorKind::kIoError);
  EXPECT_EQ(*real.ReadFile(path), "old");
}

}  // namespace
}  // namespace thunder

namespace thunder {
namespace {

TEST(FaultInjectionEnvTest, DropsWhatWasNotSynced) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("thunder_fault_env_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "log").string();
  FaultInjectionEnv env(Env::Default());
  {
    auto f = env.NewWritableFile(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("durable|").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Append("lost").ok());
    env.SetFailSync(true);
    EXPECT_EQ((*f)->Sync().kind(), ErrorKind::kIoError);
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(*env.ReadFile(path), "durable|");
  env.SetFailSync(false);
  {
    auto f = env.NewAppendableFile(path);
    ASSERT_TRUE((*f)->Append("more").ok());
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(*env.ReadFile(path), "durable|");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace thunder
