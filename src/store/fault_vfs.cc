#include "store/fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace thunder {

// SQLite allocates szOsFile bytes per open file: this struct, then the default VFS's own
// file object, which every call is passed on to.
struct FaultFileHandle {
  sqlite3_file base;  // first, so SQLite's pointer is also ours
  FaultVfs* owner;
  // The tracked file, or null for files SQLite deletes on close (temporary files). Points
  // into FaultVfs::files_, whose entries are never erased.
  void* state;
  sqlite3_file* real;
};

struct FaultVfs::Hooks {
  static FaultVfs& Of(sqlite3_vfs* vfs) { return *static_cast<FaultVfs*>(vfs->pAppData); }
  static FaultFileHandle& Handle(sqlite3_file* file) {
    return *reinterpret_cast<FaultFileHandle*>(file);
  }
  static FileState* StateOf(FaultFileHandle& h) { return static_cast<FileState*>(h.state); }
  static bool Frozen(FaultFileHandle& h) {
    MutexLock lock(h.owner->mu_);
    return h.owner->frozen_;
  }

  // Keeps the synced bytes in [offset, offset + n) that are about to be overwritten.
  static void RememberOld(FaultFileHandle& h, int64_t offset, int64_t n) {
    FileState* state = StateOf(h);
    if (state == nullptr) return;
    MutexLock lock(h.owner->mu_);
    const int64_t end = std::min(offset + n, state->synced_size);
    if (offset >= end) return;
    std::string old(static_cast<size_t>(end - offset), '\0');
    // A short read fills the rest with zeros, which an earlier undo entry then corrects.
    (void)h.real->pMethods->xRead(h.real, old.data(), static_cast<int>(old.size()), offset);
    state->undo.push_back({offset, std::move(old)});
  }

  // --- sqlite3_io_methods ---
  static int Close(sqlite3_file* file) {
    FaultFileHandle& h = Handle(file);
    const int rc = h.real->pMethods ? h.real->pMethods->xClose(h.real) : SQLITE_OK;
    if (FileState* state = StateOf(h)) {
      MutexLock lock(h.owner->mu_);
      --state->open_handles;
    }
    return rc;
  }
  static int Read(sqlite3_file* file, void* buf, int n, sqlite3_int64 offset) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xRead(h.real, buf, n, offset);
  }
  static int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 offset) {
    FaultFileHandle& h = Handle(file);
    if (Frozen(h)) return SQLITE_IOERR_WRITE;
    RememberOld(h, offset, n);
    return h.real->pMethods->xWrite(h.real, buf, n, offset);
  }
  static int Truncate(sqlite3_file* file, sqlite3_int64 size) {
    FaultFileHandle& h = Handle(file);
    if (Frozen(h)) return SQLITE_IOERR_TRUNCATE;
    RememberOld(h, size, INT64_MAX - size);
    return h.real->pMethods->xTruncate(h.real, size);
  }
  static int Sync(sqlite3_file* file, int flags) {
    FaultFileHandle& h = Handle(file);
    if (Frozen(h)) return SQLITE_IOERR_FSYNC;
    const int rc = h.real->pMethods->xSync(h.real, flags);
    if (rc != SQLITE_OK) return rc;
    sqlite3_int64 size = 0;
    if (const int size_rc = h.real->pMethods->xFileSize(h.real, &size); size_rc != SQLITE_OK) {
      return size_rc;
    }
    MutexLock lock(h.owner->mu_);
    ++h.owner->syncs_;
    if (FileState* state = StateOf(h)) {
      state->exists_on_disk = true;
      state->synced_size = size;
      state->undo.clear();
    }
    return SQLITE_OK;
  }
  static int FileSize(sqlite3_file* file, sqlite3_int64* size) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xFileSize(h.real, size);
  }
  static int Lock(sqlite3_file* file, int level) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xLock(h.real, level);
  }
  static int Unlock(sqlite3_file* file, int level) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xUnlock(h.real, level);
  }
  static int CheckReservedLock(sqlite3_file* file, int* out) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xCheckReservedLock(h.real, out);
  }
  static int FileControl(sqlite3_file* file, int op, void* arg) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xFileControl(h.real, op, arg);
  }
  static int SectorSize(sqlite3_file* file) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xSectorSize(h.real);
  }
  static int DeviceCharacteristics(sqlite3_file* file) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xDeviceCharacteristics(h.real);
  }
  // The WAL index lives in shared memory, which a power cut wipes anyway; SQLite rebuilds
  // it from the WAL when the first connection opens.
  static int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xShmMap(h.real, region, size, extend, out);
  }
  static int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xShmLock(h.real, offset, n, flags);
  }
  static void ShmBarrier(sqlite3_file* file) {
    FaultFileHandle& h = Handle(file);
    h.real->pMethods->xShmBarrier(h.real);
  }
  static int ShmUnmap(sqlite3_file* file, int delete_flag) {
    FaultFileHandle& h = Handle(file);
    return h.real->pMethods->xShmUnmap(h.real, Frozen(h) ? 0 : delete_flag);
  }
  // No memory-mapped reads: every read goes through Read.
  static int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
    *out = nullptr;
    return SQLITE_OK;
  }
  static int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

  static constexpr sqlite3_io_methods kIoMethods = {
      3,
      Close,
      Read,
      Write,
      Truncate,
      Sync,
      FileSize,
      Lock,
      Unlock,
      CheckReservedLock,
      FileControl,
      SectorSize,
      DeviceCharacteristics,
      ShmMap,
      ShmLock,
      ShmBarrier,
      ShmUnmap,
      Fetch,
      Unfetch,
  };

  // --- sqlite3_vfs ---
  static int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                  int* out_flags) {
    FaultVfs& self = Of(vfs);
    sqlite3_vfs* base = self.base_;
    FaultFileHandle& h = Handle(file);
    h.owner = &self;
    h.state = nullptr;
    h.real =
        reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(FaultFileHandle));
    const bool tracked = name != nullptr && (flags & SQLITE_OPEN_DELETEONCLOSE) == 0;
    int existed = 0;
    if (tracked && base->xAccess(base, name, SQLITE_ACCESS_EXISTS, &existed) != SQLITE_OK) {
      existed = 0;
    }
    const int rc = base->xOpen(base, name, h.real, flags, out_flags);
    if (rc != SQLITE_OK) {
      file->pMethods = nullptr;
      return rc;
    }
    file->pMethods = &kIoMethods;
    if (!tracked) return SQLITE_OK;
    sqlite3_int64 size = 0;
    (void)h.real->pMethods->xFileSize(h.real, &size);
    MutexLock lock(self.mu_);
    auto [it, inserted] = self.files_.try_emplace(name);
    FileState& state = it->second;
    if (!existed) {
      state = FileState{.exists_on_disk = false, .synced_size = 0, .undo = {}, .open_handles = 0};
    } else if (inserted) {
      // Whatever was there before this VFS saw the file is taken as durable.
      state.synced_size = size;
    }
    ++state.open_handles;
    h.state = &state;
    return SQLITE_OK;
  }
  static int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    FaultVfs& self = Of(vfs);
    {
      MutexLock lock(self.mu_);
      if (self.frozen_) return SQLITE_IOERR_DELETE;
    }
    const int rc = self.base_->xDelete(self.base_, name, sync_dir);
    MutexLock lock(self.mu_);
    if (auto it = self.files_.find(name); it != self.files_.end()) {
      it->second.exists_on_disk = false;
      it->second.synced_size = 0;
      it->second.undo.clear();
    }
    return rc;
  }
  static int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    return Of(vfs).base_->xAccess(Of(vfs).base_, name, flags, out);
  }
  static int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
    return Of(vfs).base_->xFullPathname(Of(vfs).base_, name, n, out);
  }
  static void* DlOpen(sqlite3_vfs* vfs, const char* name) {
    return Of(vfs).base_->xDlOpen(Of(vfs).base_, name);
  }
  static void DlError(sqlite3_vfs* vfs, int n, char* out) {
    Of(vfs).base_->xDlError(Of(vfs).base_, n, out);
  }
  static void (*DlSym(sqlite3_vfs* vfs, void* lib, const char* symbol))(void) {
    return Of(vfs).base_->xDlSym(Of(vfs).base_, lib, symbol);
  }
  static void DlClose(sqlite3_vfs* vfs, void* lib) { Of(vfs).base_->xDlClose(Of(vfs).base_, lib); }
  static int Randomness(sqlite3_vfs* vfs, int n, char* out) {
    return Of(vfs).base_->xRandomness(Of(vfs).base_, n, out);
  }
  static int Sleep(sqlite3_vfs* vfs, int micros) {
    return Of(vfs).base_->xSleep(Of(vfs).base_, micros);
  }
  static int CurrentTime(sqlite3_vfs* vfs, double* out) {
    return Of(vfs).base_->xCurrentTime(Of(vfs).base_, out);
  }
  static int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
    return Of(vfs).base_->xGetLastError(Of(vfs).base_, n, out);
  }
  static int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    return Of(vfs).base_->xCurrentTimeInt64(Of(vfs).base_, out);
  }
};

namespace {

// Closes a POSIX file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

FaultVfs::FaultVfs(std::string name)
    : name_(std::move(name)),
      vfs_(std::make_unique<sqlite3_vfs>()),
      base_(sqlite3_vfs_find(nullptr)) {
  // A test that cannot build its fault injector cannot continue: a bug, not an outcome.
  if (base_ == nullptr || base_->iVersion < 2) throw std::logic_error("no usable default VFS");
  *vfs_ = sqlite3_vfs{};
  vfs_->iVersion = 2;
  vfs_->szOsFile = static_cast<int>(sizeof(FaultFileHandle)) + base_->szOsFile;
  vfs_->mxPathname = base_->mxPathname;
  vfs_->zName = name_.c_str();
  vfs_->pAppData = this;
  vfs_->xOpen = Hooks::Open;
  vfs_->xDelete = Hooks::Delete;
  vfs_->xAccess = Hooks::Access;
  vfs_->xFullPathname = Hooks::FullPathname;
  vfs_->xDlOpen = Hooks::DlOpen;
  vfs_->xDlError = Hooks::DlError;
  vfs_->xDlSym = Hooks::DlSym;
  vfs_->xDlClose = Hooks::DlClose;
  vfs_->xRandomness = Hooks::Randomness;
  vfs_->xSleep = Hooks::Sleep;
  vfs_->xCurrentTime = Hooks::CurrentTime;
  vfs_->xGetLastError = Hooks::GetLastError;
  vfs_->xCurrentTimeInt64 = Hooks::CurrentTimeInt64;
  if (sqlite3_vfs_register(vfs_.get(), /*makeDflt=*/0) != SQLITE_OK) {
    throw std::logic_error("cannot register VFS " + name_);
  }
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(vfs_.get()); }

void FaultVfs::Freeze() {
  MutexLock lock(mu_);
  frozen_ = true;
}

int64_t FaultVfs::syncs() const {
  MutexLock lock(mu_);
  return syncs_;
}

Status FaultVfs::PowerCut() {
  MutexLock lock(mu_);
  for (auto& [path, state] : files_) {
    if (state.open_handles > 0) {
      return Status::Internal("power cut with " + path + " still open; close the store first");
    }
  }
  for (auto& [path, state] : files_) {
    std::error_code ec;
    std::filesystem::remove(path + "-shm", ec);  // shared memory: gone with the power
    if (!state.exists_on_disk) {
      std::filesystem::remove(path, ec);
      state.undo.clear();
      continue;
    }
    Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) continue;  // removed behind the VFS's back
      return Status::IoError("power cut: cannot open " + path + ": " + std::strerror(errno));
    }
    // Newest first, so where ranges overlap the oldest (the synced) bytes win.
    for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it) {
      const auto n = static_cast<ssize_t>(it->old_bytes.size());
      if (::pwrite(fd.get(), it->old_bytes.data(), it->old_bytes.size(), it->offset) != n) {
        return Status::IoError("power cut: cannot restore " + path + ": " + std::strerror(errno));
      }
    }
    if (::ftruncate(fd.get(), state.synced_size) != 0) {
      return Status::IoError("power cut: cannot truncate " + path + ": " + std::strerror(errno));
    }
    state.undo.clear();
  }
  frozen_ = false;
  return Status::Ok();
}

}  // namespace thunder
