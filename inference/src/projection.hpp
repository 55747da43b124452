#pragma once
// Every matrix product of the model goes through Projection, the one place where a batch's
// per-row adapter input meets the weights (lora_projection.hpp), whichever backend runs the
// forward pass.

#include <ATen/ATen.h>

#include <cstdint>
#include <span>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"
#include "lora_projection.hpp"
#include "packed_linear.hpp"

namespace qdgen::inference {

// A linear layer y = x W^T + b, plus the row's mixture of its LoRA experts: on the CPU in fp32
// through PackedLinear, elsewhere (CUDA, or the CPU when the ATen forward is asked for) through
// ATen's matrix products on the plain matrix.
class Projection {
 public:
  Projection() = default;
  // packed: through PackedLinear with `kernels` on `pool` (CPU, fp32; the pool must outlive
  // this); else ATen's matrix product.
  Projection(const at::Tensor& weight, const at::Tensor& bias, bool packed, CpuKernels kernels,
             CpuThreadPool& pool, LoraProjection lora = {});

  // x: [rows, K]; `adapters` holds a weight for every adapter loaded on the model, or none
  // (count 0: the base alone).
  at::Tensor operator()(const at::Tensor& x, const LayerAdapters& adapters) const;

 private:
  at::Tensor weight_, bias_;
  PackedLinear packed_;
  LoraProjection lora_;
};

}  // namespace qdgen::inference
