#pragma once
// The lock that lets one pass at a time use a model (its threads, its kept prefixes): threads
// get it in the order they asked, so a batch driver that takes it again between its rounds
// does not starve a score() call waiting on another thread; and a thread that already holds it
// (a token callback calling back into the model) is refused rather than deadlocked.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace qdgen::inference {

class TurnLock {
 public:
  void lock() {
    std::unique_lock guard(mutex_);
    if (holder_ == std::this_thread::get_id()) {
      throw std::logic_error(
          "the model was called from one of its own token callbacks (they run inside the "
          "batch's step)");
    }
    const std::uint64_t ticket = next_ticket_++;
    turn_.wait(guard, [&] { return serving_ == ticket; });
    holder_ = std::this_thread::get_id();
  }
  void unlock() {
    {
      std::lock_guard guard(mutex_);
      holder_ = {};
      ++serving_;
    }
    turn_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable turn_;
  std::uint64_t next_ticket_ = 0, serving_ = 0;
  std::thread::id holder_;
};

}  // namespace qdgen::inference
