#pragma once
// The one place the batch, the scorer and the samplers hand work to the model's CPU threads.

#include <cstdint>
#include <functional>

#include "llama_runtime.hpp"
#include "packed_linear.hpp"

namespace qdgen::inference {

// Runs work(0) .. work(n - 1) on the threads that run `runtime`'s kernels, the caller's
// included; returns when all are done. (Today those are the process-wide PackedLinear threads.)
inline void parallel_rows(const LlamaRuntime& runtime, std::int64_t n,
                          const std::function<void(std::int64_t)>& work) {
  parallel_chunks(n, work);
}

}  // namespace qdgen::inference
