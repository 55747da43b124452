#include "cpu_memory.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace qdgen::inference {

at::Tensor zeros_on_huge_pages(at::IntArrayRef sizes) {
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  std::size_t bytes = sizeof(float);
  for (const std::int64_t size : sizes) bytes *= static_cast<std::size_t>(size);
  if (bytes < kHugePage) return at::zeros(sizes, at::kFloat);
  // A fresh anonymous mapping reads as zeros, so nothing is written here: the kernel clears
  // each page when it is first touched (a memset on top would clear every page twice). The
  // mapping is over-allocated by one huge page and trimmed to a 2 MiB-aligned range.
  const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* mapped = mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(mapped, aligned - start);
  const std::uintptr_t end = start + rounded + kHugePage;
  if (end > aligned + rounded)
    munmap(reinterpret_cast<void*>(aligned + rounded), end - aligned - rounded);
  void* memory = reinterpret_cast<void*>(aligned);
  // Advice only: where the kernel has THP off, this fails and 4 KiB pages do the job.
  madvise(memory, rounded, MADV_HUGEPAGE);
  return at::from_blob(
      memory, sizes, [rounded](void* p) { munmap(p, rounded); },
      at::TensorOptions().dtype(at::kFloat));
}

}  // namespace qdgen::inference

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
    buffers_.push_back(zeros_on_huge_pages({numel}));
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
