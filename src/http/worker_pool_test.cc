#include "http/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace thunder::http {
namespace {

using namespace std::chrono_literals;

TEST(WorkerPoolTest, RunsTasksOnItsOwnThreads) {
  WorkerPool pool(2, 8);
  std::promise<std::thread::id> ran_on;
  ASSERT_TRUE(pool.TrySubmit([&] { ran_on.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
}

TEST(WorkerPoolTest, RefusesWorkWhenTheQueueIsFullAndRunsTheQueueAtShutdown) {
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  std::promise<void> started;
  {
    WorkerPool pool(1, 2);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.set_value();
      while (!release) std::this_thread::sleep_for(1ms);
      ++done;
    }));
    started.get_future().wait();  // the one thread is busy
    EXPECT_TRUE(pool.TrySubmit([&] { ++done; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++done; }));
    EXPECT_EQ(pool.queued(), 2u);
    EXPECT_FALSE(pool.TrySubmit([&] { ++done; }));
    release = true;
  }
  EXPECT_EQ(done, 3);
}

}  // namespace
}  // namespace thunder::http
