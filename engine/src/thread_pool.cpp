#include "qdgen/engine/thread_pool.hpp"

#include <algorithm>
#include <chrono>

namespace qdgen::engine {
namespace {

// A search iteration runs a few parallel loops of a fraction of a millisecond each, with short
// serial steps between them. Sleeping on a condition variable costs tens of microseconds a
// wake-up on both sides, comparable to the loops themselves, so workers and the caller first
// poll for up to this long (yielding the core to anyone else who wants it) before they sleep.
constexpr auto kSpinBeforeSleeping = std::chrono::microseconds(200);

template <class Ready>
bool spin_until(const Ready& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinBeforeSleeping;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_chunks() {
  for (;;) {
    std::size_t begin = 0;
    std::size_t end = 0;
    {
      std::lock_guard lock(mutex_);
      if (next_ >= size_ || error_) return;
      begin = next_;
      end = std::min(size_, begin + chunk_);
      next_ = end;
    }
    try {
      for (std::size_t i = begin; i < end; ++i) (*body_)(i);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::work_loop() {
  std::uint64_t seen = 0;
  for (;;) {
    const auto started = [&] { return stopping_ || generation_ != seen; };
    spin_until(started);
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, started);
      if (stopping_) return;
      seen = generation_;
      ++busy_;
    }
    run_chunks();
    {
      std::lock_guard lock(mutex_);
      --busy_;
    }
    done_.notify_all();
  }
}

void ThreadPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& body) {
  if (n == 0) return;
  if (workers_.empty()) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    body_ = &body;
    size_ = n;
    next_ = 0;
    // Several chunks per thread balance uneven work without a lock per index.
    chunk_ = std::max<std::size_t>(1, n / (8 * static_cast<std::size_t>(threads())));
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  run_chunks();
  std::exception_ptr error;
  const auto finished = [&] { return busy_ == 0; };
  spin_until(finished);
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, finished);
    body_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace qdgen::engine
