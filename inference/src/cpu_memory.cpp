#include "cpu_memory.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace qdgen::inference {

at::Tensor zeros_on_huge_pages(at::IntArrayRef sizes) {
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  std::size_t bytes = sizeof(float);
  for (const std::int64_t size : sizes) bytes *= static_cast<std::size_t>(size);
  if (bytes < kHugePage) return at::zeros(sizes, at::kFloat);
  const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* memory = std::aligned_alloc(kHugePage, rounded);
  if (memory == nullptr) throw std::bad_alloc();
  // Advice only: where the kernel has THP off, this fails and 4 KiB pages do the job.
  madvise(memory, rounded, MADV_HUGEPAGE);
  std::memset(memory, 0, rounded);
  return at::from_blob(
      memory, sizes, [](void* p) { std::free(p); }, at::TensorOptions().dtype(at::kFloat));
}

}  // namespace qdgen::inference
