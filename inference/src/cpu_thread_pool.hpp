#pragma once
// The threads that split a model's CPU work (matrix products, attention, per-row loops,
// sampling): each model owns one, so models of one process neither share nor resize each
// other's threads.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace qdgen::inference {

// Work is split into chunks that threads claim from a counter; the caller works too and returns
// once every chunk is done, without waiting for a worker the OS has not scheduled. On a shared
// machine that matters: at::parallel_for (OpenMP, a static split and an end barrier) spent 59 %
// of a batch-32 decode spinning for a descheduled worker.
class CpuThreadPool {
 public:
  explicit CpuThreadPool(int threads);  // threads, the caller's included; at least 1
  ~CpuThreadPool();
  CpuThreadPool(const CpuThreadPool&) = delete;
  CpuThreadPool& operator=(const CpuThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs work(0) .. work(chunks - 1) and returns when all are done. When a chunk throws, on
  // whichever thread, the chunks not yet begun are skipped and run() rethrows the first
  // exception once the others have finished; the pool stays usable. While one call runs, a
  // call from another thread, or from inside a chunk, runs its chunks on its own thread.
  void run(std::int64_t chunks, const std::function<void(std::int64_t)>& work);

 private:
  struct Task;
  static void help(Task& task);
  void work_loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<Task> task_;  // guarded by mutex_
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> busy_{false};  // a run() has the workers
  bool stop_ = false;              // guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace qdgen::inference
