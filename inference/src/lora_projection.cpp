#include "lora_projection.hpp"

#include <algorithm>
#include <map>

namespace qdgen::inference {

LoraProjection::LoraProjection(const std::vector<LoraPart>& parts, std::int64_t in_features,
                               bool packed, CpuKernels kernels, CpuThreadPool& pool,
                               at::Device device, at::ScalarType dtype) {
  if (parts.empty()) return;
  // Columns grouped by output part (module), adapters in load order within each.
  std::map<std::int64_t, std::vector<const LoraPart*>> by_offset;
  for (const LoraPart& part : parts) by_offset[part.out_offset].push_back(&part);
  std::vector<at::Tensor> a_blocks;
  std::vector<std::int64_t> column_adapter;
  std::vector<float> column_scale;
  for (auto& [offset, members] : by_offset) {
    std::stable_sort(members.begin(), members.end(),
                     [](const LoraPart* a, const LoraPart* b) { return a->adapter < b->adapter; });
    const std::int64_t out = static_cast<std::int64_t>(members.front()->module->b.size()) /
                             members.front()->module->rank;
    const std::int64_t first_column = columns_;
    std::vector<at::Tensor> b_blocks;
    for (const LoraPart* part : members) {
      const LoraModule& m = *part->module;
      const auto a =
          at::from_blob(const_cast<float*>(m.a.data()), {m.rank, in_features}, at::kFloat);
      const auto b = at::from_blob(const_cast<float*>(m.b.data()), {out, m.rank}, at::kFloat);
      a_blocks.push_back(a.clone());
      b_blocks.push_back(b.clone());
      segments_.push_back({part->adapter, columns_, m.rank, static_cast<float>(m.scale)});
      for (std::int64_t j = 0; j < m.rank; ++j) {
        column_adapter.push_back(part->adapter);
        column_scale.push_back(static_cast<float>(m.scale));
      }
      columns_ += m.rank;
    }
    const at::Tensor b = at::cat(b_blocks, 1);  // [out, this part's columns]
    Output output{offset, out, first_column, columns_ - first_column, {}, {}};
    if (packed) {
      output.packed_b = PackedLinear(b, {}, kernels, pool);
    } else {
      output.b = b.to(device, dtype).contiguous();
    }
    outputs_.push_back(std::move(output));
  }
  const at::Tensor a = at::cat(a_blocks, 0);  // [columns, in]
  if (packed) {
    packed_a_ = PackedLinear(a, {}, kernels, pool);
  } else {
    a_ = a.to(device, dtype).contiguous();
    column_adapter_ = at::tensor(column_adapter, at::kLong).to(device);
    column_scale_ = at::tensor(column_scale, at::kFloat).to(device, dtype);
  }
}

// Whether some row gives some adapter of this projection a non-zero weight at a step that the
// mixture reaches: a batch of base requests (or of mixtures of other adapters, or of prompt
// prefixes that activated mixtures leave to the base) skips the adapter products.
bool LoraProjection::any_weight(const LayerAdapters& adapters) const {
  for (std::int64_t r = 0; r < adapters.rows; ++r) {
    if (!adapters.base_steps.empty() && adapters.base_steps[r] >= adapters.steps) continue;
    const float* w = adapters.weights.data() + r * adapters.row_stride;
    for (const Segment& segment : segments_) {
      if (w[segment.adapter] != 0) return true;
    }
  }
  return false;
}

void LoraProjection::add_to(const at::Tensor& x, const LayerAdapters& adapters,
                            at::Tensor& y) const {
  if (empty() || adapters.count == 0 || !any_weight(adapters)) return;
  if (packed_a_.defined()) {
    add_packed(x, adapters, y);
  } else {
    add_aten(x, adapters, y);
  }
}

// Every output is the base's plus its delta computed from that row alone, so a row's result
// does not depend on the other rows (as PackedLinear's). A base step's delta is zero, and adding
// it leaves the base's output as it was.
void LoraProjection::add_packed(const at::Tensor& x, const LayerAdapters& adapters,
                                at::Tensor& y) const {
  at::Tensor middle = packed_a_(x);  // [n, columns]
  const std::int64_t n = middle.size(0);
  float* m = middle.data_ptr<float>();
  for (std::int64_t t = 0; t < n; ++t) {
    const std::int64_t r = t / adapters.steps;
    float* row = m + t * columns_;
    if (!adapters.base_steps.empty() && t % adapters.steps < adapters.base_steps[r]) {
      std::fill(row, row + columns_, 0.0f);
      continue;
    }
    const float* w = adapters.weights.data() + r * adapters.row_stride;
    for (const Segment& s : segments_) {
      const float factor = w[s.adapter] * s.scale;
      for (std::int64_t j = 0; j < s.rank; ++j) row[s.column + j] *= factor;
    }
  }
  float* out = y.data_ptr<float>();
  const std::int64_t ldy = y.stride(0);
  for (const Output& o : outputs_) {
    const at::Tensor delta = o.packed_b(middle.narrow(1, o.column, o.columns));
    const float* d = delta.data_ptr<float>();
    for (std::int64_t t = 0; t < n; ++t) {
      float* target = out + t * ldy + o.offset;
      const float* source = d + t * o.length;
      for (std::int64_t j = 0; j < o.length; ++j) target[j] += source[j];
    }
  }
}

void LoraProjection::add_aten(const at::Tensor& x, const LayerAdapters& adapters,
                              at::Tensor& y) const {
  const std::int64_t n = x.size(0), rows = adapters.rows;
  const at::Tensor weights =
      adapters.on_device.defined()
          ? adapters.on_device
          : at::from_blob(const_cast<float*>(adapters.weights.data()), {rows, adapters.count},
                          {adapters.row_stride, 1}, at::kFloat)
                .to(a_.device(), a_.scalar_type());
  // Each row's factor w_i s_i for every middle column: [rows, 1, columns].
  const at::Tensor factors =
      weights.index_select(1, column_adapter_).mul_(column_scale_).unsqueeze(1);
  at::Tensor middle = at::mm(x, a_.t()).view({rows, adapters.steps, columns_}).mul_(factors);
  if (adapters.active.defined()) middle.mul_(adapters.active);
  middle = middle.view({n, columns_});
  for (const Output& o : outputs_) {
    y.narrow(1, o.offset, o.length).add_(at::mm(middle.narrow(1, o.column, o.columns), o.b.t()));
  }
}

}  // namespace qdgen::inference
