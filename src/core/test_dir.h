// TestDir: a fresh, empty directory for one test, named after the running test (and the
// process, so parallel test binaries never share one) and removed when it goes out of
// scope. For tests only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace thunder {

class TestDir {
 public:
  explicit TestDir(std::string_view prefix)
      : path_((std::filesystem::temp_directory_path() /
               ("thunder_" + std::string(prefix) + "_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                  .string()) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() { std::filesystem::remove_all(path_); }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace thunder
