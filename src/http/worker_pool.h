// WorkerPool: a few threads that run work which may block (SQLite, disk) so that the I/O
// threads, which carry purchases, never wait on it. The queue is bounded: TrySubmit()
// refuses work when it is full, and the caller answers 503 instead of queueing without
// end. Thread-safe. The destructor stops taking work, runs what is queued and joins.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"

namespace thunder::http {

class WorkerPool {
 public:
  // Starts `threads` (at least one) threads; at most `max_queued` tasks wait for one.
  WorkerPool(int threads, size_t max_queued, std::string thread_name = "thunder-work");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` to run on one of the pool's threads. False, with `task` dropped, when
  // the queue already holds `max_queued` tasks or the pool is shutting down.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);

  // Tasks waiting for a thread (not those running).
  size_t queued() const;

 private:
  void Run();

  const size_t max_queued_;
  mutable Mutex mu_;
  CondVar wake_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace thunder::http
