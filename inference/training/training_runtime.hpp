#pragma once
// The process settings a training run works under, for as long as the run lasts: thread
// counts for ATen's pool and for the BLAS behind its matrix products, and a CPU allocator
// that keeps large freed blocks for the next step.

#include <memory>

namespace qdgen::inference::training {

class TrainingRuntime {
 public:
  // `threads` (0: all cores) for the BLAS behind ATen's matrix products: OpenBLAS's own
  // pool (ATen's loops then run on the calling thread), else ATen's intra-op pool.
  explicit TrainingRuntime(int threads);
  ~TrainingRuntime();  // puts the previous CPU allocator back
  TrainingRuntime(const TrainingRuntime&) = delete;
  TrainingRuntime& operator=(const TrainingRuntime&) = delete;
  int threads() const { return threads_; }

 private:
  int threads_;
  void* previous_allocator_;
};

}  // namespace qdgen::inference::training
