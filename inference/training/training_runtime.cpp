#include "training_runtime.hpp"

#include <c10/core/CPUAllocator.h>
#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "training_pch.hpp"

namespace qdgen::inference::training {
namespace {

// Every training step allocates the same activations and gradients as the one before. The
// large ones (logits, attention scores) come from mmap in glibc and go back to the kernel when
// freed, so each step faults in and clears their pages again: about a tenth of a step's CPU
// time on the small default shape. This allocator keeps freed blocks of 256 KiB and more, by
// exact size, and hands them out again; smaller ones go to malloc as before.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  static CachingCpuAllocator& instance() {
    static auto* allocator = new CachingCpuAllocator();  // outlives every tensor
    return *allocator;
  }

  c10::DataPtr allocate(std::size_t bytes) const override {
    void* data = take(bytes);
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  void set_caching(bool caching) {
    std::lock_guard lock(mutex_);
    caching_ = caching;
    if (!caching_) {
      for (auto& [size, blocks] : free_) {
        for (void* block : blocks) std::free(block);
      }
      free_.clear();
      cached_bytes_ = 0;
    }
  }

 private:
  static constexpr std::size_t kAlignment = 64;        // what c10 asks of CPU tensors
  static constexpr std::size_t kSmallest = 256 << 10;  // below: malloc as usual
  static constexpr std::size_t kMostCached = std::size_t{4} << 30;

  void* take(std::size_t bytes) const {
    if (bytes == 0) return nullptr;
    const std::size_t size = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* block = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= size;
        live_[block] = size;
        return block;
      }
    }
    void* block = nullptr;
    if (posix_memalign(&block, kAlignment, size) != 0) throw std::bad_alloc();
    if (size >= kSmallest) {
      std::lock_guard lock(mutex_);
      live_[block] = size;
    }
    return block;
  }

  static void release(void* block) {
    if (block == nullptr) return;
    CachingCpuAllocator& self = instance();
    std::lock_guard lock(self.mutex_);
    const auto it = self.live_.find(block);
    if (it == self.live_.end()) {  // a small block
      std::free(block);
      return;
    }
    const std::size_t size = it->second;
    self.live_.erase(it);
    if (!self.caching_ || self.cached_bytes_ + size > kMostCached) {
      std::free(block);
      return;
    }
    self.free_[size].push_back(block);
    self.cached_bytes_ += size;
  }

  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, std::size_t> live_;  // large blocks in use, by address
  mutable std::map<std::size_t, std::vector<void*>> free_;
  mutable std::size_t cached_bytes_ = 0;
  bool caching_ = true;
};

}  // namespace

TrainingRuntime::TrainingRuntime(int threads)
    : threads_(threads > 0 ? threads
                           : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      previous_allocator_(c10::GetCPUAllocator()) {
  // Nearly all of a step is matrix products, which OpenBLAS runs on its own threads. ATen's
  // OpenMP workers, when they have any, spin at their barrier after every parallel loop and
  // take the cores from OpenBLAS's threads: on two cores that made a step 2.7x slower under
  // load. So OpenBLAS gets the threads and ATen's loops (norms, softmax, the optimiser) run
  // on the calling thread. Another BLAS (MKL follows at::set_num_threads) keeps ATen's pool.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(threads_);
    at::set_num_threads(1);
  } else {
    at::set_num_threads(threads_);
  }
  CachingCpuAllocator::instance().set_caching(true);
  c10::SetCPUAllocator(&CachingCpuAllocator::instance());
}

TrainingRuntime::~TrainingRuntime() {
  c10::SetCPUAllocator(static_cast<c10::Allocator*>(previous_allocator_));
  CachingCpuAllocator::instance().set_caching(false);
}

}  // namespace qdgen::inference::training
