#pragma once
// The LoRA experts of one projection, applied unmerged with a mixture of its own for every
// batch row: y += sum_i w_row,i s_i B_i (A_i x) (issue 13).
//
// The A matrices of every adapter that targets the projection are concatenated into one
// [sum r, in] matrix, so the middle activation [rows, sum r] of all adapters is one product
// (packed like the base weights on the CPU kernels). Each row's segment of adapter i is scaled
// by that row's w_i s_i; then one B product per output part adds the deltas. A fused
// projection (q|k|v, gate|up) has a part per module: each adapter's B covers only its module's
// slice of the outputs, so the columns are grouped by module and each part's B is
// [part outputs, sum of its adapters' ranks], with no zero blocks to multiply.

#include <ATen/ATen.h>

#include <cstdint>
#include <span>
#include <vector>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"
#include "packed_linear.hpp"
#include "qdgen/inference/lora_adapter.hpp"

namespace qdgen::inference {

// The adapter input of a batch (LlamaRuntime::forward): for every batch row, a weight per
// adapter loaded on the model, the same in every layer or one set per layer, and the first
// position the row's mixture applies to. count 0: every row runs the base model.
struct RowAdapters {
  std::int64_t count = 0;          // adapters: weights per batch row and layer
  std::span<const float> weights;  // [batch rows, layers, count], row-major
  std::int64_t layers = 1;         // 1: every layer alike; else the model's layer count
  // Per batch row: the first position its mixture applies to; empty: 0 for every row.
  std::span<const std::int64_t> from_positions = {};
};

// What one projection of one layer takes of it. Token row t of the projection's input is step
// t % steps of batch row t / steps.
struct LayerAdapters {
  std::int64_t count = 0;          // 0: the base alone
  std::int64_t rows = 0;           // batch rows
  std::span<const float> weights;  // batch row r's weights start at r * row_stride
  std::int64_t row_stride = 0;
  std::int64_t steps = 1;  // token rows per batch row
  // Per batch row: how many of its first steps run the base alone; empty: none.
  std::span<const std::int64_t> base_steps = {};
  at::Tensor on_device = {};  // the weights as [batch rows, count] for the ATen path
  at::Tensor active = {};     // [batch rows, steps, 1]: 0 at base steps, else 1 (ATen path)
};

// One adapter's module on one part of a projection.
struct LoraPart {
  std::int64_t adapter = 0;     // its index among the model's adapters
  std::int64_t out_offset = 0;  // where the module's outputs start in the projection's
  const LoraModule* module = nullptr;
};

class LoraProjection {
 public:
  LoraProjection() = default;
  // packed: the CPU kernels (fp32) through PackedLinear on `pool`; else ATen's products on
  // `device` in `dtype`.
  LoraProjection(const std::vector<LoraPart>& parts, std::int64_t in_features, bool packed,
                 CpuKernels kernels, CpuThreadPool& pool, at::Device device, at::ScalarType dtype);

  bool empty() const { return columns_ == 0; }
  std::int64_t columns() const { return columns_; }  // the summed ranks

  // y ([rows, out], the base projection of x [rows, in]) += every row's mixture of deltas.
  void add_to(const at::Tensor& x, const LayerAdapters& adapters, at::Tensor& y) const;

 private:
  struct Segment {
    std::int64_t adapter, column, rank;
    float scale;
  };
  struct Output {
    std::int64_t offset, length, column, columns;
    PackedLinear packed_b;  // [length, columns] on the CPU kernels
    at::Tensor b;           // the same for ATen
  };

  bool any_weight(const LayerAdapters& adapters) const;
  void add_packed(const at::Tensor& x, const LayerAdapters& adapters, at::Tensor& y) const;
  void add_aten(const at::Tensor& x, const LayerAdapters& adapters, at::Tensor& y) const;

  std::int64_t columns_ = 0;
  std::vector<Segment> segments_;
  std::vector<Output> outputs_;
  PackedLinear packed_a_;      // [columns, in]
  at::Tensor a_;               // the same for ATen
  at::Tensor column_adapter_;  // [columns] int64: the adapter of each middle column (ATen)
  at::Tensor column_scale_;    // [columns]: its s_i (ATen)
};

}  // namespace qdgen::inference
