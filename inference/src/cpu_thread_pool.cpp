#include "cpu_thread_pool.hpp"

#include <immintrin.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

namespace qdgen::inference {

struct CpuThreadPool::Task {
  const std::function<void(std::int64_t)>* work = nullptr;
  std::int64_t chunks = 0;
  std::atomic<std::int64_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;  // the first chunk's exception; guarded by error_mutex
};

CpuThreadPool::CpuThreadPool(int threads) {
  try {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
  } catch (const std::system_error& error) {
    // The destructor does not run for a constructor that throws: the started workers are
    // stopped here, or their std::thread objects would end the process.
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    throw std::runtime_error("cannot start " + std::to_string(threads) + " CPU threads (" +
                             error.what() + " after " + std::to_string(workers_.size() + 1) +
                             "); ask for fewer threads");
  }
}

CpuThreadPool::~CpuThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void CpuThreadPool::run(std::int64_t chunks, const std::function<void(std::int64_t)>& work) {
  const bool alone = workers_.empty() || chunks <= 1 || busy_.exchange(true);
  if (alone) {
    for (std::int64_t i = 0; i < chunks; ++i) work(i);
    return;
  }
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy.store(false, std::memory_order_release); }
  } release{busy_};
  auto task = std::make_shared<Task>();
  task->work = &work;
  task->chunks = chunks;
  {
    std::lock_guard lock(mutex_);
    task_ = task;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  help(*task);
  for (int spins = 0; task->done.load(std::memory_order_acquire) < chunks; ++spins) {
    if (spins < 4096) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
  if (task->failed.load(std::memory_order_acquire)) {
    std::lock_guard lock(task->error_mutex);
    std::rethrow_exception(task->error);
  }
}

void CpuThreadPool::help(Task& task) {
  for (std::int64_t i = task.next.fetch_add(1); i < task.chunks; i = task.next.fetch_add(1)) {
    // A chunk claimed after a failure is only counted: the call is lost anyway.
    if (!task.failed.load(std::memory_order_relaxed)) {
      try {
        (*task.work)(i);
      } catch (...) {
        std::lock_guard lock(task.error_mutex);
        if (!task.error) task.error = std::current_exception();
        task.failed.store(true, std::memory_order_release);
      }
    }
    task.done.fetch_add(1, std::memory_order_release);
  }
}

void CpuThreadPool::work_loop() {
  // Generation 0 is the pool's before any task: a worker that starts late still joins the task
  // posted before it started.
  std::uint64_t seen = 0;
  while (true) {
    // Decode steps call back within microseconds: spin a little before sleeping, yielding now
    // and then so that on a busy machine the spin does not take the core from the thread that
    // will post the next task.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    for (int i = 0; generation_.load(std::memory_order_acquire) == seen; ++i) {
      _mm_pause();
      if (i % 64 == 63) {
        if (std::chrono::steady_clock::now() > until) break;
        std::this_thread::yield();
      }
    }
    std::shared_ptr<Task> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock,
                 [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      task = task_;
    }
    help(*task);
  }
}

}  // namespace qdgen::inference
