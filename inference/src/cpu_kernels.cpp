#include "cpu_kernels.hpp"

#include <stdexcept>
#include <string>

namespace qdgen::inference {

const char* cpu_kernels_name(CpuKernels kernels) {
  switch (kernels) {
    case CpuKernels::kAvx512:
      return "avx512";
    case CpuKernels::kAvx2:
      return "avx2";
    case CpuKernels::kPortable:
      return "portable";
  }
  return "unknown";
}

CpuKernels widest_cpu_kernels() {
  static const CpuKernels widest = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return CpuKernels::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuKernels::kAvx2;
    return CpuKernels::kPortable;
  }();
  return widest;
}

CpuKernels choose_cpu_kernels(std::string_view name, CpuKernels widest) {
  if (name == "auto") return widest;
  for (const CpuKernels k : {CpuKernels::kAvx512, CpuKernels::kAvx2, CpuKernels::kPortable}) {
    if (name != cpu_kernels_name(k)) continue;
    // The enum runs from the widest set to the narrowest.
    if (k < widest) {
      throw std::invalid_argument("cpu_kernels '" + std::string(name) +
                                  "': this CPU lacks its instructions (the widest it runs is " +
                                  cpu_kernels_name(widest) + ")");
    }
    return k;
  }
  throw std::invalid_argument("cpu_kernels '" + std::string(name) +
                              "': expected auto, avx512, avx2 or portable");
}

}  // namespace qdgen::inference
