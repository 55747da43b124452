#pragma once
// y = x W^T + b on the CPU in fp32, with W packed once into panels of 16 output features
// ([ceil(N / 16), K, 16]) so that a product streams the weights contiguously and no BLAS
// repacks them per call. OpenBLAS's sgemm packs (and transposes) the whole weight matrix on
// every call: at 32 rows that copy cost as much as the arithmetic (perf: sgemm_incopy 36 %,
// sgemm_kernel 36 % of a batch-32 decode of the 110M shape).
//
// Every output is one chain of fused multiply-adds over k in order, started from the bias, in
// whichever block of rows it falls: a row's result does not depend on the other rows, so
// batched and one-by-one decoding give bitwise the same logits.

#include <ATen/ATen.h>

#include <cstdint>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"

namespace qdgen::inference {

class PackedLinear {
 public:
  static constexpr std::int64_t kPanel = 16;

  PackedLinear() = default;
  // weight: [N, K] float32 on the CPU; bias: [N] or undefined. Products run with `kernels` on
  // `pool`, which must outlive this.
  PackedLinear(const at::Tensor& weight, const at::Tensor& bias, CpuKernels kernels,
               CpuThreadPool& pool);

  bool defined() const { return packed_.defined(); }
  std::int64_t out_features() const { return out_features_; }
  std::int64_t in_features() const { return in_features_; }

  // x: [M, K] float32 on the CPU (any row stride, unit column stride). Returns [M, N].
  at::Tensor operator()(const at::Tensor& x) const;

  // The weight back in [N, K] (for tests and for code that needs the plain matrix).
  at::Tensor unpacked() const;

 private:
  std::int64_t out_features_ = 0, in_features_ = 0;
  CpuKernels kernels_ = CpuKernels::kPortable;
  CpuThreadPool* pool_ = nullptr;
  at::Tensor packed_;  // [panels, K, 16], zero-padded past N
  at::Tensor bias_;    // [panels * 16], zero-padded, or undefined
};

}  // namespace qdgen::inference
