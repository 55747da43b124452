#include "qdgen/engine/background_commit.hpp"

namespace qdgen::engine {

BackgroundCommit::BackgroundCommit(store::RunStore& store,
                                   std::function<void(store::IterationRecord&&)> done)
    : store_(store), done_(std::move(done)), worker_([this] { work_loop(); }) {}

BackgroundCommit::~BackgroundCommit() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !pending_; });
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void BackgroundCommit::work_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || pending_; });
    if (!pending_) return;
    lock.unlock();
    std::exception_ptr error;
    try {
      store_.commit(*pending_);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    committed_ = std::move(pending_);
    pending_.reset();
    changed_.notify_all();
  }
}

void BackgroundCommit::finish() {
  std::optional<store::IterationRecord> committed;
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !pending_; });
    committed.swap(committed_);
    error = error_;
    error_ = nullptr;
  }
  if (committed) done_(std::move(*committed));
  if (error) std::rethrow_exception(error);
}

void BackgroundCommit::submit(store::IterationRecord&& record) {
  finish();
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(record);
  }
  changed_.notify_all();
}

}  // namespace qdgen::engine
