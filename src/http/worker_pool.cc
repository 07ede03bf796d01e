#include "http/worker_pool.h"

#include <pthread.h>

#include <algorithm>

namespace thunder::http {

WorkerPool::WorkerPool(int threads, size_t max_queued, std::string thread_name)
    : max_queued_(max_queued) {
  // Linux limits thread names to 15 bytes.
  thread_name.resize(std::min<size_t>(thread_name.size(), 15));
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this, thread_name] {
      pthread_setname_np(pthread_self(), thread_name.c_str());
      Run();
    });
  }
}

WorkerPool::~WorkerPool() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  for (auto& t : threads_) t.join();
}

bool WorkerPool::TrySubmit(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(task));
  }
  wake_.NotifyOne();
  return true;
}

size_t WorkerPool::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) wake_.Wait(lock);
      // Queued work still runs at shutdown: each task owes someone an answer.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace thunder::http
