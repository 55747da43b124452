#pragma once
// Large CPU buffers on transparent huge pages, and a pool that keeps them across calls. The KV
// cache of a 32-row batch is tens of megabytes read every decode step; on 4 KiB pages that is
// thousands of TLB misses a step (Debian's default THP mode is "madvise", so plain
// allocations never get huge pages). And a fresh mapping per call costs a page fault and a
// cleared page for every page it touches: a tenth of a score() call of the 110M shape.

#include <ATen/ATen.h>

#include <cstddef>
#include <mutex>
#include <vector>

namespace qdgen::inference {

// A zero-filled float32 CPU tensor of the given sizes: from 2 MiB on, its own 2 MiB-aligned
// anonymous mapping advised onto huge pages (zero pages from the kernel, no memset; unmapped
// when the tensor is freed); plain at::zeros below that.
at::Tensor zeros_on_huge_pages(at::IntArrayRef sizes);

// Flat float32 buffers handed out again once their users let go of them. A buffer's contents
// are unspecified (zeros, or what an earlier user left), so it suits only memory that every
// reader writes before it reads: the CPU KV cache. Whenever a buffer is taken, idle ones
// beyond max_idle_bytes are freed, largest first (so the last call's buffers stay until the
// next take). Thread-safe.
class ReusableBuffers {
 public:
  explicit ReusableBuffers(std::size_t max_idle_bytes) : max_idle_bytes_(max_idle_bytes) {}
  at::Tensor take(std::int64_t numel);  // [numel]

 private:
  std::mutex mutex_;
  std::vector<at::Tensor> buffers_;  // idle while this holds the only reference to the storage
  std::size_t max_idle_bytes_;
};

}  // namespace qdgen::inference
