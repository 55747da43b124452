#pragma once
// Commits iterations to the run store on a thread of its own, so that writing iteration i
// overlaps computing iteration i + 1. Writing a stored sphere-100D run is serial SQLite and
// file-system work that took longer than the search itself; the pool's threads sat idle.

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "qdgen/store/run_store.hpp"

namespace qdgen::engine {

class BackgroundCommit {
 public:
  // done(record) is called on the caller's thread with each record once it is committed
  // (the scheduler takes its buffers back).
  BackgroundCommit(store::RunStore& store, std::function<void(store::IterationRecord&&)> done);
  ~BackgroundCommit();  // waits for the record in flight (errors are dropped: call finish())

  // Waits for the previous record's commit (rethrowing its error), then starts this one's.
  void submit(store::IterationRecord&& record);
  // Waits for the record in flight and rethrows its error, if any.
  void finish();

 private:
  void work_loop();

  store::RunStore& store_;
  std::function<void(store::IterationRecord&&)> done_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<store::IterationRecord> pending_;    // submitted, not yet committed
  std::optional<store::IterationRecord> committed_;  // committed, not yet handed back
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace qdgen::engine
