// The forward pass's operations on ATen ops: what CUDA runs (in bfloat16), and what the CPU
// runs when the ATen forward is asked for, so that tests check this path against qdgen's
// kernels on a machine without a GPU.

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "forward_backend.hpp"

namespace qdgen::inference {
namespace {

class AtenBackend final : public ForwardBackend {
 public:
  AtenBackend(const ForwardModel& model, const ForwardBatch& batch)
      : model_(model),
        batch_(batch),
        same_start_(std::all_of(batch.starts.begin(), batch.starts.end(),
                                [&](std::int64_t s) { return s == batch.starts[0]; })) {
    const std::int64_t rows = batch.rows, steps = batch.steps, end = batch.end;
    const std::int64_t half = model.config.head_dim / 2;
    std::vector<std::int64_t> position_list(rows * steps);
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t t = 0; t < steps; ++t) position_list[r * steps + t] = batch.starts[r] + t;
    }
    const at::Device device = model.cos.device();
    const at::Tensor positions = at::tensor(position_list, at::kLong).to(device);
    cos_ = model.cos.index_select(0, positions).view({rows, steps, 1, half});
    sin_ = model.sin.index_select(0, positions).view({rows, steps, 1, half});

    // ATen's batched products need an additive causal mask [rows, 1, 1, T, end], except when
    // every row sees all of `end`.
    if (!(steps == 1 && same_start_)) {
      const at::Tensor keys = at::arange(end, positions.options()).view({1, 1, end});
      mask_ = at::zeros({rows, steps, end}, model.cos.options())
                  .masked_fill_(keys > positions.view({rows, steps, 1}),
                                -std::numeric_limits<float>::infinity())
                  .view({rows, 1, 1, steps, end});
    }
    if (!same_start_ && steps == 1) {
      slot_index_ = at::arange(batch.first_slot, batch.first_slot + rows, positions.options());
      position_index_ = positions;
    }
  }

  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) override {
    const at::Tensor xf = x.to(at::kFloat);
    const at::Tensor scale = at::rsqrt(xf.square().mean(-1, true).add_(model_.config.rms_norm_eps));
    return (xf * scale).to(x.scalar_type()).mul_(weight);
  }

  at::Tensor add_and_norm(at::Tensor& x, const at::Tensor& delta,
                          const at::Tensor& weight) override {
    x.add_(delta);
    return rms_norm(x, weight);
  }

  at::Tensor rotate_and_cache(const at::Tensor& qkv, std::int64_t layer) override {
    const LlamaConfig& c = model_.config;
    const std::int64_t rows = batch_.rows, steps = batch_.steps, first_slot = batch_.first_slot;
    const std::int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads;
    const std::int64_t hd = c.head_dim;
    const at::Tensor q = rotate(qkv.narrow(1, 0, heads * hd).view({rows, steps, heads, hd}));
    const at::Tensor k =
        rotate(qkv.narrow(1, heads * hd, kv_heads * hd).view({rows, steps, kv_heads, hd}));
    const at::Tensor v =
        qkv.narrow(1, (heads + kv_heads) * hd, kv_heads * hd).view({rows, steps, kv_heads, hd});

    at::Tensor& key_cache = batch_.cache.keys[layer];
    at::Tensor& value_cache = batch_.cache.values[layer];
    const std::span<const std::int64_t> starts = batch_.starts;
    if (same_start_) {
      key_cache.narrow(0, first_slot, rows)
          .narrow(3, starts[0], steps)
          .copy_(k.permute({0, 2, 3, 1}));
      value_cache.narrow(0, first_slot, rows)
          .narrow(2, starts[0], steps)
          .copy_(v.permute({0, 2, 1, 3}));
    } else if (steps == 1) {
      using at::indexing::Slice;
      key_cache.index_put_({slot_index_, Slice(), Slice(), position_index_}, k.select(1, 0));
      value_cache.index_put_({slot_index_, Slice(), position_index_}, v.select(1, 0));
    } else {
      for (std::int64_t r = 0; r < rows; ++r) {
        key_cache.select(0, first_slot + r)
            .narrow(2, starts[r], steps)
            .copy_(k[r].permute({1, 2, 0}));
        value_cache.select(0, first_slot + r)
            .narrow(1, starts[r], steps)
            .copy_(v[r].transpose(0, 1));
      }
    }
    return q;  // [rows, steps, heads, hd]
  }

  at::Tensor attend(const at::Tensor& q, std::int64_t layer) override {
    const LlamaConfig& c = model_.config;
    const std::int64_t rows = batch_.rows, steps = batch_.steps, end = batch_.end;
    const std::int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads;
    const std::int64_t group = heads / kv_heads, hd = c.head_dim;
    const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
    // Grouped-query attention: query head h reads kv head h / group.
    const at::Tensor keys = batch_.cache.keys[layer]
                                .narrow(0, batch_.first_slot, rows)
                                .narrow(3, 0, end)
                                .reshape({rows * kv_heads, hd, end});
    const at::Tensor values = batch_.cache.values[layer]
                                  .narrow(0, batch_.first_slot, rows)
                                  .narrow(2, 0, end)
                                  .reshape({rows * kv_heads, end, hd});
    const at::Tensor grouped_q = q.view({rows, steps, kv_heads, group, hd})
                                     .permute({0, 2, 3, 1, 4})
                                     .reshape({rows * kv_heads, group * steps, hd});
    at::Tensor scores = at::bmm(grouped_q, keys).mul_(scale);
    if (mask_.defined()) scores.view({rows, kv_heads, group, steps, end}).add_(mask_);
    const at::Tensor probabilities = at::softmax(scores, -1);
    return at::bmm(probabilities, values)
        .view({rows, kv_heads, group, steps, hd})
        .permute({0, 3, 1, 2, 4})
        .reshape({rows * steps, heads * hd});
  }

  at::Tensor silu_gate(const at::Tensor& gate_up) override {
    const std::int64_t f = model_.config.intermediate_size;
    return at::silu(gate_up.narrow(1, 0, f)).mul_(gate_up.narrow(1, f, f));
  }

 private:
  // Rotary embedding on halves (Hugging Face's rotate_half). x: [rows, T, heads, hd].
  at::Tensor rotate(const at::Tensor& x) const {
    const std::int64_t half = model_.config.head_dim / 2;
    const at::Tensor first = x.narrow(-1, 0, half), second = x.narrow(-1, half, half);
    return at::cat({first * cos_ - second * sin_, second * cos_ + first * sin_}, -1);
  }

  const ForwardModel& model_;
  const ForwardBatch& batch_;
  bool same_start_;
  at::Tensor cos_, sin_;                    // of each token row's position: [rows, T, 1, hd / 2]
  at::Tensor mask_;                         // additive causal mask, or undefined
  at::Tensor slot_index_, position_index_;  // for rows at different positions, one step each
};

}  // namespace

std::unique_ptr<ForwardBackend> make_aten_backend(const ForwardModel& model,
                                                  const ForwardBatch& batch) {
  return std::make_unique<AtenBackend>(model, batch);
}

}  // namespace qdgen::inference
