// Env: every file access of the platform goes through this interface, so that tests can
// inject faults (fail an fsync, drop unsynced bytes, tear a tail) by overriding one call
// in an EnvWrapper. Env::Default() is safe for concurrent use from many threads; a
// WritableFile is owned by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace thunder {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// Held while it lives: an exclusive lock on a file, released on destruction or when the
// process dies.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Creates or truncates `path`.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it when missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // Cuts `path` to `size` bytes, durably.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries in `dir`.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Makes creations, renames and removals in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created when missing); kUnavailable when another
  // process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // Creates the directory and its parents; succeeds when it already exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;

  // The process-wide POSIX Env; lives for the whole program.
  static Env& Default();
};

// Forwards every call to a target Env; override one call to inject a fault.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env& target) : target_(target) {}
  Result<std::string> ReadFile(const std::string& path) override { return target_.ReadFile(path); }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return target_.NewWritableFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return target_.NewAppendableFile(path);
  }
  Status Truncate(const std::string& path, uint64_t size) override {
    return target_.Truncate(path, size);
  }
  Result<uint64_t> FileSize(const std::string& path) override { return target_.FileSize(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return target_.ListDir(dir);
  }
  Status SyncDir(const std::string& dir) override { return target_.SyncDir(dir); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return target_.LockFile(path);
  }
  bool FileExists(const std::string& path) override { return target_.FileExists(path); }
  Status CreateDirs(const std::string& path) override { return target_.CreateDirs(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_.RenameFile(from, to);
  }
  Status RemoveFile(const std::string& path) override { return target_.RemoveFile(path); }

 protected:
  Env& target() { return target_; }

 private:
  Env& target_;
};

// Writes `data` to `path` durably: a temporary file, fsync, rename, directory fsync.
Status WriteFileAtomically(Env& env, const std::string& path, std::string_view data);

}  // namespace thunder
