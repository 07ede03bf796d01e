// FaultVfs: a SQLite VFS for tests that wraps the default one and can simulate a power
// cut. For every file it keeps what the disk would still hold if the power went now: the
// size at the file's last xSync and the old contents of every synced byte overwritten or
// truncated since. PowerCut() puts every file back to that state (a file created and never
// synced disappears); deletions are taken as durable. A power cut while a connection is
// open: Freeze() first (every later write, sync, truncation and deletion fails, as on a
// dead disk), close the connection, then PowerCut(), then reopen.
//
// The VFS is registered under its name for the object's lifetime (not as the default);
// open a store with SqliteOptions{.vfs = name}. Thread-safe. For tests only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"

struct sqlite3_vfs;

namespace thunder {

class FaultVfs {
 public:
  explicit FaultVfs(std::string name);
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  const std::string& name() const { return name_; }

  // From now on the files refuse every change, as a disk without power would.
  void Freeze();
  // Restores every file to its last-synced state and thaws. Call with no file open.
  Status PowerCut();
  // Syncs seen so far, over all files.
  int64_t syncs() const;

  // The plumbing SQLite calls into; not for tests.
  struct Hooks;

 private:
  struct UndoRange {
    int64_t offset;
    std::string old_bytes;
  };
  // What a power cut would leave of one file.
  struct FileState {
    bool exists_on_disk = true;  // false: created and never synced
    int64_t synced_size = 0;
    std::vector<UndoRange> undo;  // oldest first
    int open_handles = 0;
  };

  std::string name_;
  std::unique_ptr<sqlite3_vfs> vfs_;
  sqlite3_vfs* base_;  // the default VFS, owned by SQLite
  mutable Mutex mu_;
  bool frozen_ GUARDED_BY(mu_) = false;
  int64_t syncs_ GUARDED_BY(mu_) = 0;
  std::map<std::string, FileState> files_ GUARDED_BY(mu_);  // entries never erased
};

}  // namespace thunder
