#pragma once
// The instruction set of qdgen's CPU kernels (PackedLinear, attention, SiLU, exp, argmax). A
// model picks one when it is made (ModelOptions::cpu_kernels) and passes it to every kernel, so
// models of one process may use different sets, and tests cover the narrower paths on a machine
// that has the widest.

#include <string_view>

namespace qdgen::inference {

enum class CpuKernels { kAvx512, kAvx2, kPortable };  // widest first

const char* cpu_kernels_name(CpuKernels kernels);

// The widest set this CPU runs.
CpuKernels widest_cpu_kernels();

// "auto" gives `widest`; "avx512", "avx2" or "portable" give that set when it is no wider than
// `widest`. Throws std::invalid_argument naming the value: an unknown name, or a set wider than
// `widest` (the CPU lacks its instructions).
CpuKernels choose_cpu_kernels(std::string_view name, CpuKernels widest = widest_cpu_kernels());

}  // namespace qdgen::inference
