#pragma once
// A pool of CPU buffers kept across calls. A fresh allocation per call costs a page fault and a
// cleared page for every page it touches: for score() of 64 continuations on the 110M shape
// that is a 335 MB KV cache, a tenth of the call. (Transparent huge pages were tried too: with
// Debian's "madvise" THP mode the first touch of a fresh mapping then compacts memory
// synchronously, which doubled a first call; reuse made their small gain moot.)

#include <ATen/ATen.h>

#include <cstddef>
#include <mutex>
#include <vector>

namespace qdgen::inference {

// Flat float32 buffers handed out again once their users let go of them. A buffer's contents
// are unspecified (whatever an earlier user left, or never written), so it suits only memory
// that every reader writes before it reads: the CPU KV cache. Whenever a buffer is taken, idle
// ones beyond max_idle_bytes are freed, largest first (so the last call's buffers stay until
// the next take). Thread-safe.
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
