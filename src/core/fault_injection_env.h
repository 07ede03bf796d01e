// FaultInjectionEnv: an Env for tests that models what a power cut keeps. It remembers,
// for every file it opened for writing, how much of it Sync() made durable, and, for every
// directory, the creations, renames and removals that no SyncDir() has covered yet.
// - DropUnsyncedData() cuts every file back to what its last Sync() made durable.
// - SimulatePowerCut(seed) does what a real power cut may do: of each file's unsynced
//   blocks it keeps some, zeroes some (so a later block can survive an earlier one) and
//   drops the tail; of the creations, renames and removals no directory sync covered, it
//   keeps a random prefix (the file system journals them in order) and undoes the rest.
// - FailOperation(n, ...) makes the n-th mutating call from now fail with EIO or ENOSPC,
//   either once or as a crash: from then on every mutating call fails and changes nothing,
//   as if the machine had stopped there.
// - SetFailSync/SetFailWrites fail every fsync or write; HoldSyncs() parks every Sync()
//   until released, to observe what happens while a group commit is in flight.
// With real_syncs = false, Sync() and SyncDir() only record durability and skip the disk,
// so crash tests run at memory speed. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/mutex.h"

namespace thunder {

class FaultInjectionEnv : public EnvWrapper {
 public:
  explicit FaultInjectionEnv(Env& target, bool real_syncs = true)
      : EnvWrapper(target), real_syncs_(real_syncs) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;

  // Cuts every tracked file back to what its last successful Sync() made durable.
  Status DropUnsyncedData();
  // A power cut, with choices drawn from `seed`; then forgets every pending change, and
  // clears the faults so the next start can run.
  Status SimulatePowerCut(uint64_t seed);

  enum class Fault { kIoError, kNoSpace };
  // The `n`-th mutating call from now (1 = the next one) fails with `fault`. With
  // `crash`, it and every mutating call after it fail without touching the disk.
  void FailOperation(uint64_t n, Fault fault, bool crash);
  void ClearFaults();
  bool crashed() const { return crashed_; }
  uint64_t mutating_calls() const { return calls_; }

  void SetFailSync(bool fail) { fail_sync_ = fail; }
  void SetFailWrites(bool fail) { fail_writes_ = fail; }
  // Parks every Sync() of a file whose path contains `path_part` until released.
  void HoldSyncs(bool hold, std::string path_part = "");
  int sync_count() const { return sync_count_; }

 private:
  class File;
  struct DirChange {
    enum Kind { kCreate, kRename, kRemove } kind;
    std::string path;                   // created, removed, or the rename's target
    std::string from;                   // a rename's source
    std::optional<std::string> before;  // the contents the path held before, if any
  };

  // Counts a mutating call and says whether it must fail.
  Status Check(const std::string& what, const std::string& path);
  void WaitWhileHeld(const std::string& path);
  void Record(const std::string& path, uint64_t synced_size);
  void Forget(const std::string& path) REQUIRES(mu_);
  static std::string DirOf(const std::string& path);

  const bool real_syncs_;
  Mutex mu_;
  CondVar released_;
  std::map<std::string, uint64_t> synced_size_ GUARDED_BY(mu_);
  std::vector<DirChange> dir_changes_ GUARDED_BY(mu_);  // not yet covered by SyncDir
  bool hold_syncs_ GUARDED_BY(mu_) = false;
  std::string hold_path_part_ GUARDED_BY(mu_);
  uint64_t fail_at_ GUARDED_BY(mu_) = 0;  // 0 = no planned fault
  Fault fault_ GUARDED_BY(mu_) = Fault::kIoError;
  bool fault_crashes_ GUARDED_BY(mu_) = false;
  std::atomic<bool> crashed_{false};
  std::atomic<uint64_t> calls_{0};
  std::atomic<bool> fail_sync_{false};
  std::atomic<bool> fail_writes_{false};
  std::atomic<int> sync_count_{0};
};

}  // namespace thunder
