// FaultInjectionEnv: an Env for tests that remembers, for every file it opened for
// writing, how much of it was made durable by Sync(), and can then lose the rest as a
// power cut would (DropUnsyncedData), fail every fsync, or fail every write.
// Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <mutex>

#include "core/env.h"

namespace thunder {

class FaultInjectionEnv : public EnvWrapper {
 public:
  explicit FaultInjectionEnv(Env& target) : EnvWrapper(target) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;

  // Cuts every tracked file back to what its last successful Sync() made durable.
  Status DropUnsyncedData();
  void SetFailSync(bool fail) { fail_sync_ = fail; }
  void SetFailWrites(bool fail) { fail_writes_ = fail; }
  int sync_count() const { return sync_count_; }

 private:
  class File;
  void Record(const std::string& path, uint64_t written, bool synced);

  std::mutex mu_;
  std::map<std::string, uint64_t> synced_size_;  // guarded by mu_
  std::atomic<bool> fail_sync_{false};
  std::atomic<bool> fail_writes_{false};
  std::atomic<int> sync_count_{0};
};

}  // namespace thunder
