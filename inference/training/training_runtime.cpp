#include "training_runtime.hpp"

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "training_pch.hpp"

namespace qdgen::inference::training {

int configure_training_runtime(int threads) {
  const int count =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(count);
  const char* exp_blas = std::getenv("QDGEN_EXP_NO_BLAS");
  if (!(exp_blas && std::string(exp_blas) == "1")) {
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
      set(count);
    }
  }
  const char* exp_malloc = std::getenv("QDGEN_EXP_NO_MALLOPT");
  if (!(exp_malloc && std::string(exp_malloc) == "1")) {
    // The largest threshold glibc accepts (32 MiB); larger blocks are still mapped.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  return count;
}

}  // namespace qdgen::inference::training
