#pragma once
// The one place the batch, the scorer and the samplers hand work to the model's CPU threads.

#include <cstdint>
#include <functional>

#include "llama_runtime.hpp"

namespace qdgen::inference {

// Runs work(0) .. work(n - 1) on the threads of `runtime`'s own pool, the caller's included;
// returns when all are done.
inline void parallel_rows(const LlamaRuntime& runtime, std::int64_t n,
                          const std::function<void(std::int64_t)>& work) {
  runtime.parallel_rows(n, work);
}

}  // namespace qdgen::inference
