#pragma once
// The process settings training runs under: thread counts for ATen's pool and for the BLAS
// library behind its matrix products, and an allocator that keeps freed blocks for the next
// step.

namespace qdgen::inference::training {

// `threads` (0: all cores) for ATen's intra-op pool and, when the BLAS is OpenBLAS, for its
// own pool too (at::set_num_threads leaves it at every core). Keeps freed tensor memory in
// the heap (mallopt): each step allocates the same sizes again, and memory given back to the
// kernel costs a page fault per 4 KiB when it returns. Returns the thread count.
int configure_training_runtime(int threads);

}  // namespace qdgen::inference::training
