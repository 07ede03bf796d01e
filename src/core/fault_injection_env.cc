#include "core/fault_injection_env.h"

#include <algorithm>
#include <random>

namespace thunder {
namespace {

constexpr uint64_t kPage = 4096;

// Writes `data` to `path` on `env` and syncs it: the state a power cut left behind.
Status Rewrite(Env& env, const std::string& path, std::string_view data) {
  ASSIGN_OR_RETURN(auto file, env.NewWritableFile(path));
  RETURN_IF_ERROR(file->Append(data));
  RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::string path, std::unique_ptr<WritableFile> inner, uint64_t size)
      : env_(env), path_(std::move(path)), inner_(std::move(inner)), size_(size) {}

  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(env_.Check("write", path_));
    if (env_.fail_writes_) return Status::IoError("injected write failure on " + path_);
    RETURN_IF_ERROR(inner_->Append(data));
    size_ += data.size();
    return Status::Ok();
  }
  Status Sync() override {
    RETURN_IF_ERROR(env_.Check("fsync", path_));
    if (env_.fail_sync_) return Status::IoError("injected fsync failure on " + path_);
    env_.WaitWhileHeld(path_);
    if (env_.real_syncs_) RETURN_IF_ERROR(inner_->Sync());
    ++env_.sync_count_;
    env_.Record(path_, size_);
    return Status::Ok();
  }
  Status Close() override { return inner_->Close(); }

 private:
  FaultInjectionEnv& env_;
  std::string path_;
  std::unique_ptr<WritableFile> inner_;
  uint64_t size_;
};

std::string FaultInjectionEnv::DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

Status FaultInjectionEnv::Check(const std::string& what, const std::string& path) {
  const uint64_t call = ++calls_;
  MutexLock lock(mu_);
  if (!crashed_ && (fail_at_ == 0 || call < fail_at_)) return Status::Ok();
  Fault fault = fault_;
  if (!crashed_) {
    fail_at_ = 0;
    if (fault_crashes_) crashed_ = true;
  } else {
    fault = Fault::kIoError;
  }
  return Status::IoError(what + " " + path + ": " +
                         (fault == Fault::kNoSpace ? "No space left on device (injected)"
                                                   : "Input/output error (injected)"));
}

void FaultInjectionEnv::FailOperation(uint64_t n, Fault fault, bool crash) {
  MutexLock lock(mu_);
  fail_at_ = calls_ + n;
  fault_ = fault;
  fault_crashes_ = crash;
}

void FaultInjectionEnv::ClearFaults() {
  MutexLock lock(mu_);
  fail_at_ = 0;
  crashed_ = false;
  fail_sync_ = false;
  fail_writes_ = false;
}

void FaultInjectionEnv::HoldSyncs(bool hold, std::string path_part) {
  {
    MutexLock lock(mu_);
    hold_syncs_ = hold;
    hold_path_part_ = std::move(path_part);
  }
  released_.NotifyAll();
}

void FaultInjectionEnv::WaitWhileHeld(const std::string& path) {
  MutexLock lock(mu_);
  while (hold_syncs_ && path.find(hold_path_part_) != std::string::npos) released_.Wait(lock);
}

void FaultInjectionEnv::Record(const std::string& path, uint64_t synced_size) {
  MutexLock lock(mu_);
  synced_size_[path] = synced_size;
}

void FaultInjectionEnv::Forget(const std::string& path) { synced_size_.erase(path); }

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  RETURN_IF_ERROR(Check("create", path));
  const bool existed = target().FileExists(path);
  ASSIGN_OR_RETURN(auto inner, target().NewWritableFile(path));
  {
    MutexLock lock(mu_);
    synced_size_[path] = 0;
    if (!existed) dir_changes_.push_back({DirChange::kCreate, path, {}, std::nullopt});
  }
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, path, std::move(inner), 0));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  const bool existed = target().FileExists(path);
  if (!existed) RETURN_IF_ERROR(Check("create", path));
  ASSIGN_OR_RETURN(auto inner, target().NewAppendableFile(path));
  ASSIGN_OR_RETURN(const uint64_t size, target().FileSize(path));
  {
    MutexLock lock(mu_);
    // What was there before counts as durable, unless this session wrote it unsynced.
    if (!synced_size_.count(path)) synced_size_[path] = size;
    if (!existed) dir_changes_.push_back({DirChange::kCreate, path, {}, std::nullopt});
  }
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, path, std::move(inner), size));
}

Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) {
  RETURN_IF_ERROR(Check("truncate", path));
  RETURN_IF_ERROR(target().Truncate(path, size));  // durable, as Env promises
  MutexLock lock(mu_);
  if (auto it = synced_size_.find(path); it != synced_size_.end()) {
    it->second = std::min(it->second, size);
  }
  return Status::Ok();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  RETURN_IF_ERROR(Check("fsync", dir));
  if (real_syncs_) RETURN_IF_ERROR(target().SyncDir(dir));
  MutexLock lock(mu_);
  std::erase_if(dir_changes_, [&](const DirChange& c) { return DirOf(c.path) == dir; });
  return Status::Ok();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(Check("rename", from));
  std::optional<std::string> before;
  if (target().FileExists(to)) {
    ASSIGN_OR_RETURN(before, target().ReadFile(to));
  }
  RETURN_IF_ERROR(target().RenameFile(from, to));
  MutexLock lock(mu_);
  dir_changes_.push_back({DirChange::kRename, to, from, std::move(before)});
  if (auto it = synced_size_.find(from); it != synced_size_.end()) {
    synced_size_[to] = it->second;
    synced_size_.erase(it);
  } else {
    Forget(to);
  }
  return Status::Ok();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  RETURN_IF_ERROR(Check("remove", path));
  ASSIGN_OR_RETURN(std::string before, target().ReadFile(path));
  RETURN_IF_ERROR(target().RemoveFile(path));
  MutexLock lock(mu_);
  dir_changes_.push_back({DirChange::kRemove, path, {}, std::move(before)});
  Forget(path);
  return Status::Ok();
}

Status FaultInjectionEnv::DropUnsyncedData() {
  MutexLock lock(mu_);
  for (const auto& [path, size] : synced_size_) {
    if (!target().FileExists(path)) continue;
    RETURN_IF_ERROR(target().Truncate(path, size));
  }
  return Status::Ok();
}

Status FaultInjectionEnv::SimulatePowerCut(uint64_t seed) {
  std::mt19937_64 rng(seed);
  MutexLock lock(mu_);
  // File contents: of the bytes past the last sync, a prefix reaches the disk, page by
  // page, and any page of it may hold zeros instead (written out of order, then cut).
  for (const auto& [path, synced] : synced_size_) {
    if (!target().FileExists(path)) continue;
    ASSIGN_OR_RETURN(std::string bytes, target().ReadFile(path));
    if (bytes.size() <= synced) continue;
    const uint64_t first_page = synced / kPage;
    const uint64_t pages = (bytes.size() + kPage - 1) / kPage - first_page;
    const uint64_t kept = std::min<uint64_t>(
        bytes.size(),
        (first_page + std::uniform_int_distribution<uint64_t>(0, pages)(rng)) * kPage);
    bytes.resize(std::max<uint64_t>(kept, synced));
    for (uint64_t page = first_page; page * kPage < bytes.size(); ++page) {
      if (rng() % 3 != 0) continue;
      const uint64_t from = std::max<uint64_t>(page * kPage, synced);
      const uint64_t to = std::min<uint64_t>((page + 1) * kPage, bytes.size());
      std::fill(bytes.begin() + static_cast<ptrdiff_t>(from),
                bytes.begin() + static_cast<ptrdiff_t>(to), '\0');
    }
    RETURN_IF_ERROR(Rewrite(target(), path, bytes));
  }
  // Directory changes no SyncDir covered: the file system journals them in order, so some
  // prefix of them reached the disk (none, some or all); the rest is undone, newest first.
  const size_t kept = std::uniform_int_distribution<size_t>(0, dir_changes_.size())(rng);
  for (auto it = dir_changes_.rbegin(); it != dir_changes_.rend() - static_cast<ptrdiff_t>(kept);
       ++it) {
    switch (it->kind) {
      case DirChange::kCreate:
        if (target().FileExists(it->path)) RETURN_IF_ERROR(target().RemoveFile(it->path));
        break;
      case DirChange::kRename:
        if (target().FileExists(it->path)) RETURN_IF_ERROR(target().RenameFile(it->path, it->from));
        if (it->before) RETURN_IF_ERROR(Rewrite(target(), it->path, *it->before));
        break;
      case DirChange::kRemove:
        if (it->before) RETURN_IF_ERROR(Rewrite(target(), it->path, *it->before));
        break;
    }
  }
  dir_changes_.clear();
  synced_size_.clear();
  fail_at_ = 0;
  crashed_ = false;
  fail_sync_ = false;
  fail_writes_ = false;
  return Status::Ok();
}

}  // namespace thunder
