#include "core/fault_injection_env.h"

namespace thunder {

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::string path, std::unique_ptr<WritableFile> inner, uint64_t size)
      : env_(env), path_(std::move(path)), inner_(std::move(inner)), size_(size) {}

  Status Append(std::string_view data) override {
    if (env_.fail_writes_) return Status::IoError("injected write failure on " + path_);
    RETURN_IF_ERROR(inner_->Append(data));
    size_ += data.size();
    return Status::Ok();
  }
  Status Sync() override {
    if (env_.fail_sync_) return Status::IoError("injected fsync failure on " + path_);
    RETURN_IF_ERROR(inner_->Sync());
    ++env_.sync_count_;
    env_.Record(path_, size_, true);
    return Status::Ok();
  }
  Status Close() override { return inner_->Close(); }

 private:
  FaultInjectionEnv& env_;
  std::string path_;
  std::unique_ptr<WritableFile> inner_;
  uint64_t size_;
};

void FaultInjectionEnv::Record(const std::string& path, uint64_t written, bool synced) {
  std::lock_guard lock(mu_);
  if (synced || !synced_size_.count(path)) synced_size_[path] = written;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  ASSIGN_OR_RETURN(auto inner, target().NewWritableFile(path));
  {
    std::lock_guard lock(mu_);
    synced_size_[path] = 0;
  }
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, path, std::move(inner), 0));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(auto inner, target().NewAppendableFile(path));
  ASSIGN_OR_RETURN(const uint64_t size, target().FileSize(path));
  Record(path, size, false);  // what was there before counts as durable
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, path, std::move(inner), size));
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard lock(mu_);
  for (const auto& [path, size] : synced_size_) {
    if (!target().FileExists(path)) continue;
    RETURN_IF_ERROR(target().Truncate(path, size));
  }
  return Status::Ok();
}

}  // namespace thunder
