#pragma once
// Every matrix product of the model goes through Projection, the one place where a batch's
// per-row adapter input meets the weights, whichever backend runs the forward pass.

#include <ATen/ATen.h>

#include <cstdint>
#include <span>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"
#include "packed_linear.hpp"

namespace qdgen::inference {

// The adapter input of a batch's projections: for every batch row, a weight per adapter loaded
// on the model, for y = x W^T + b + sum_i w_i s_i B_i (A_i x) with the row's own w (LoRA
// mixtures, issue 13). Token row t of a projection's input is a token of batch row t / steps.
// No adapter can be loaded yet, so the one valid description is the empty one.
struct RowAdapters {
  std::int64_t count = 0;          // weights per batch row
  std::span<const float> weights;  // [batch rows, count], row-major
  std::int64_t steps = 1;          // token rows per batch row
};

// A linear layer y = x W^T + b: on the CPU in fp32 through PackedLinear, elsewhere (CUDA, or
// the CPU when the ATen forward is asked for) through ATen's matrix products on the plain
// matrix.
class Projection {
 public:
  Projection() = default;
  // packed: through PackedLinear with `kernels` on `pool` (CPU, fp32; the pool must outlive
  // this); else ATen's matrix product.
  Projection(const at::Tensor& weight, const at::Tensor& bias, bool packed, CpuKernels kernels,
             CpuThreadPool& pool);

  // x: [rows, K]. Throws std::invalid_argument when `adapters` names adapters that are not
  // loaded.
  at::Tensor operator()(const at::Tensor& x, const RowAdapters& adapters) const;

 private:
  at::Tensor weight_, bias_;
  PackedLinear packed_;
};

}  // namespace qdgen::inference
