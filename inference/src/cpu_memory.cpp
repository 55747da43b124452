#include "cpu_memory.hpp"

namespace qdgen::inference {

namespace {
bool idle(const at::Tensor& buffer) {
  return buffer.storage().use_count() == 1;
}
std::size_t bytes_of(const at::Tensor& buffer) {
  return static_cast<std::size_t>(buffer.numel()) * sizeof(float);
}
}  // namespace

at::Tensor ReusableBuffers::take(std::int64_t numel) {
  std::lock_guard lock(mutex_);
  at::Tensor* best = nullptr;
  for (at::Tensor& buffer : buffers_) {
    if (idle(buffer) && buffer.numel() >= numel && (!best || buffer.numel() < best->numel()))
      best = &buffer;
  }
  if (best == nullptr) {
    buffers_.push_back(at::empty({numel}, at::kFloat));
    best = &buffers_.back();
  }
  at::Tensor taken = best->narrow(0, 0, numel);  // shares the storage: no longer idle
  // Keep the idle ones within the bound, dropping the largest first.
  for (;;) {
    std::size_t idle_bytes = 0;
    auto largest = buffers_.end();
    for (auto it = buffers_.begin(); it != buffers_.end(); ++it) {
      if (!idle(*it)) continue;
      idle_bytes += bytes_of(*it);
      if (largest == buffers_.end() || it->numel() > largest->numel()) largest = it;
    }
    if (idle_bytes <= max_idle_bytes_) break;
    buffers_.erase(largest);
  }
  return taken;
}

}  // namespace qdgen::inference
