#pragma once
// A fixed pool of worker threads running index-parallel loops. Each index writes its own
// result slot, so results never depend on the number of threads.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qdgen::engine {

class ThreadPool {
 public:
  // threads <= 1 runs everything on the calling thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls body(i) for every i in [0, n), spread over the pool and the calling thread;
  // returns when all are done. The first exception thrown by a body is rethrown here.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& body);

 private:
  void work_loop();
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(std::size_t)>* body_ = nullptr;
  std::size_t size_ = 0;
  std::size_t next_ = 0;
  std::size_t chunk_ = 1;
  // Written under mutex_ (so condition waits never miss a change) but atomic, so the short
  // spin before each wait can read them without the lock.
  std::atomic<int> busy_ = 0;
  std::atomic<std::uint64_t> generation_ = 0;
  std::atomic<bool> stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace qdgen::engine
