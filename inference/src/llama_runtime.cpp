#include "llama_runtime.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <stdexcept>
#include <string>

#include "cpu_memory.hpp"

namespace qdgen::inference {
namespace {

// Inverse frequencies of rotary embeddings, with Llama 3's long-context rescaling
// (transformers' _compute_llama3_parameters).
std::vector<double> rope_inverse_frequencies(const LlamaConfig& config) {
  const std::int64_t half = config.head_dim / 2;
  std::vector<double> inverse(half);
  for (std::int64_t i = 0; i < half; ++i) {
    inverse[i] = 1.0 / std::pow(config.rope_theta, static_cast<double>(2 * i) / config.head_dim);
  }
  if (config.rope_scaling) {
    const RopeScalingLlama3& s = *config.rope_scaling;
    const double old_context = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelength = old_context / s.low_freq_factor;
    const double high_wavelength = old_context / s.high_freq_factor;
    for (double& frequency : inverse) {
      const double wavelength = 2 * std::numbers::pi / frequency;
      if (wavelength > low_wavelength) {
        frequency /= s.factor;
      } else if (wavelength >= high_wavelength) {
        const double smooth = (old_context / wavelength - s.low_freq_factor) /
                              (s.high_freq_factor - s.low_freq_factor);
        frequency = (1 - smooth) * frequency / s.factor + smooth * frequency;
      }
    }
  }
  return inverse;
}

}  // namespace

LlamaRuntime::LlamaRuntime(LlamaWeights weights) : weights_(std::move(weights)) {
  const char* aten_forward = std::getenv("QDGEN_ATEN_FORWARD");
  aten_forward_ = aten_forward != nullptr && std::string(aten_forward) == "1";
  const LlamaConfig& c = config();
  const auto inverse = rope_inverse_frequencies(c);
  const std::int64_t half = c.head_dim / 2, positions = c.max_position_embeddings;
  at::Tensor cos = at::empty({positions, half}, at::kFloat);
  at::Tensor sin = at::empty({positions, half}, at::kFloat);
  float* cos_data = cos.data_ptr<float>();
  float* sin_data = sin.data_ptr<float>();
  for (std::int64_t p = 0; p < positions; ++p) {
    for (std::int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(p) * inverse[i];
      cos_data[p * half + i] = static_cast<float>(std::cos(angle));
      sin_data[p * half + i] = static_cast<float>(std::sin(angle));
    }
  }
  cos_ = cos.to(device(), dtype());
  sin_ = sin.to(device(), dtype());
  // The plain matrices are dropped once packed; a tied lm_head keeps the embedding, which
  // the token lookup still needs.
  const bool packed = runs_own_kernels();
  for (LlamaLayerWeights& w : weights_.layers) {
    layers_.push_back({Projection(w.qkv, w.qkv_bias, packed, kernels_),
                       Projection(w.output, w.output_bias, packed, kernels_),
                       Projection(w.gate_up, w.gate_up_bias, packed, kernels_),
                       Projection(w.down, w.down_bias, packed, kernels_)});
    w.qkv = w.qkv_bias = w.output = w.output_bias = at::Tensor();
    w.gate_up = w.gate_up_bias = w.down = w.down_bias = at::Tensor();
  }
  lm_head_ = Projection(weights_.lm_head, {}, packed, kernels_);
  weights_.lm_head = at::Tensor();
}

KvCache LlamaRuntime::make_cache(std::int64_t slots, std::int64_t capacity) const {
  const LlamaConfig& c = config();
  KvCache cache;
  cache.slots = slots;
  cache.capacity = capacity;
  const auto options = at::TensorOptions().device(device()).dtype(dtype());
  const std::array<std::int64_t, 4> key_shape{slots, c.num_key_value_heads, c.head_dim, capacity};
  const std::array<std::int64_t, 4> value_shape{slots, c.num_key_value_heads, capacity, c.head_dim};
  if (runs_own_kernels()) {
    // On the CPU in fp32 attention reads only positions already written (decode_attention),
    // so the cache need not be cleared: one reused flat buffer holds every layer's keys and
    // values.
    const std::int64_t per_tensor = slots * c.num_key_value_heads * c.head_dim * capacity;
    const at::Tensor flat = kv_buffers_.take(2 * c.num_hidden_layers * per_tensor);
    for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
      cache.keys.push_back(flat.narrow(0, 2 * l * per_tensor, per_tensor).view(key_shape));
      cache.values.push_back(
          flat.narrow(0, (2 * l + 1) * per_tensor, per_tensor).view(value_shape));
    }
    return cache;
  }
  // Zeros, not empty: masked positions still enter ATen's products (times zero weight), and
  // uninitialised memory may hold NaN, which survives multiplication by zero.
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    cache.keys.push_back(at::zeros(key_shape, options));
    cache.values.push_back(at::zeros(value_shape, options));
  }
  return cache;
}

at::Tensor LlamaRuntime::rms_norm(const at::Tensor& x, const at::Tensor& weight) const {
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor scale = at::rsqrt(xf.square().mean(-1, true).add_(config().rms_norm_eps));
  return (xf * scale).to(x.scalar_type()).mul_(weight);
}

// Rotary embedding on halves (Hugging Face's rotate_half). x: [rows, T, heads, hd].
at::Tensor LlamaRuntime::rotate(const at::Tensor& x, const at::Tensor& cos,
                                const at::Tensor& sin) const {
  const std::int64_t half = config().head_dim / 2;
  const at::Tensor first = x.narrow(-1, 0, half), second = x.narrow(-1, half, half);
  return at::cat({first * cos - second * sin, second * cos + first * sin}, -1);
}

Projection::Projection(const at::Tensor& weight, const at::Tensor& bias, bool packed,
                       CpuKernels kernels) {
  if (packed) {
    packed_ = PackedLinear(weight, bias, kernels);
  } else {
    weight_ = weight;
    bias_ = bias;
  }
}

at::Tensor Projection::operator()(const at::Tensor& x) const {
  if (packed_.defined()) return packed_(x);
  return bias_.defined() ? at::addmm(bias_, x, weight_.t()) : at::mm(x, weight_.t());
}

at::Tensor LlamaRuntime::forward(KvCache& cache, const at::Tensor& tokens, std::int64_t first_slot,
                                 std::span<const std::int64_t> starts) const {
  const LlamaConfig& c = config();
  const std::int64_t rows = tokens.size(0), steps = tokens.size(1), n = rows * steps;
  const std::int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads;
  const std::int64_t group = heads / kv_heads, hd = c.head_dim, half = hd / 2;
  if (static_cast<std::int64_t>(starts.size()) != rows || first_slot + rows > cache.slots) {
    throw std::logic_error("LlamaRuntime::forward: rows do not match the cache slots");
  }
  const std::int64_t end = *std::max_element(starts.begin(), starts.end()) + steps;
  if (end > cache.capacity || end > c.max_position_embeddings) {
    throw std::logic_error("LlamaRuntime::forward: positions beyond the cache or the context");
  }
  if (runs_own_kernels()) {
    return forward_cpu(cache, tokens, first_slot, starts);
  }
  const bool same_start =
      std::all_of(starts.begin(), starts.end(), [&](std::int64_t s) { return s == starts[0]; });

  std::vector<std::int64_t> position_list(n);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t t = 0; t < steps; ++t) position_list[r * steps + t] = starts[r] + t;
  }
  const at::Tensor positions = at::tensor(position_list, at::kLong).to(device());
  const at::Tensor cos = cos_.index_select(0, positions).view({rows, steps, 1, half});
  const at::Tensor sin = sin_.index_select(0, positions).view({rows, steps, 1, half});

  // ATen's batched products need an additive causal mask [rows, 1, 1, T, end], except when
  // every row sees all of `end`.
  at::Tensor mask;
  if (!(steps == 1 && same_start)) {
    const at::Tensor keys = at::arange(end, positions.options()).view({1, 1, end});
    mask = at::zeros({rows, steps, end}, at::TensorOptions().device(device()).dtype(dtype()))
               .masked_fill_(keys > positions.view({rows, steps, 1}),
                             -std::numeric_limits<float>::infinity())
               .view({rows, 1, 1, steps, end});
  }
  at::Tensor slot_index, position_index;
  if (!same_start && steps == 1) {
    slot_index = at::arange(first_slot, first_slot + rows, positions.options());
    position_index = positions;
  }

  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  at::Tensor x = weights_.embedding.index_select(0, tokens.reshape({n}).to(device()));
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const LlamaLayerWeights& w = weights_.layers[l];
    const LayerProjections& p = layers_[l];
    const at::Tensor qkv = p.qkv(rms_norm(x, w.attention_norm));
    const at::Tensor q =
        rotate(qkv.narrow(1, 0, heads * hd).view({rows, steps, heads, hd}), cos, sin);
    const at::Tensor k = rotate(
        qkv.narrow(1, heads * hd, kv_heads * hd).view({rows, steps, kv_heads, hd}), cos, sin);
    const at::Tensor v =
        qkv.narrow(1, (heads + kv_heads) * hd, kv_heads * hd).view({rows, steps, kv_heads, hd});

    at::Tensor& key_cache = cache.keys[l];
    at::Tensor& value_cache = cache.values[l];
    if (same_start) {
      key_cache.narrow(0, first_slot, rows)
          .narrow(3, starts[0], steps)
          .copy_(k.permute({0, 2, 3, 1}));
      value_cache.narrow(0, first_slot, rows)
          .narrow(2, starts[0], steps)
          .copy_(v.permute({0, 2, 1, 3}));
    } else if (steps == 1) {
      using at::indexing::Slice;
      key_cache.index_put_({slot_index, Slice(), Slice(), position_index}, k.select(1, 0));
      value_cache.index_put_({slot_index, Slice(), position_index}, v.select(1, 0));
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

    // Grouped-query attention: query head h reads kv head h / group.
    const at::Tensor keys =
        key_cache.narrow(0, first_slot, rows).narrow(3, 0, end).reshape({rows * kv_heads, hd, end});
    const at::Tensor values = value_cache.narrow(0, first_slot, rows)
                                  .narrow(2, 0, end)
                                  .reshape({rows * kv_heads, end, hd});
    const at::Tensor grouped_q = q.view({rows, steps, kv_heads, group, hd})
                                     .permute({0, 2, 3, 1, 4})
                                     .reshape({rows * kv_heads, group * steps, hd});
    at::Tensor scores = at::bmm(grouped_q, keys).mul_(scale);
    if (mask.defined()) scores.view({rows, kv_heads, group, steps, end}).add_(mask);
    const at::Tensor probabilities = at::softmax(scores, -1);
    const at::Tensor attended = at::bmm(probabilities, values)
                                    .view({rows, kv_heads, group, steps, hd})
                                    .permute({0, 3, 1, 2, 4})
                                    .reshape({n, heads * hd});
    x.add_(p.output(attended));
    const at::Tensor gate_up = p.gate_up(rms_norm(x, w.mlp_norm));
    const std::int64_t f = c.intermediate_size;
    const at::Tensor activation = at::silu(gate_up.narrow(1, 0, f)).mul_(gate_up.narrow(1, f, f));
    x.add_(p.down(activation));
  }
  return rms_norm(x, weights_.final_norm).view({rows, steps, c.hidden_size});
}

at::Tensor LlamaRuntime::logits(const at::Tensor& hidden) const {
  auto shape = hidden.sizes().vec();
  shape.back() = config().vocab_size;
  const at::Tensor rows = hidden.reshape({-1, hidden.size(-1)});
  return lm_head_(rows).view(shape).to(at::kFloat).cpu();
}

void LlamaRuntime::copy_slot(const KvCache& source, std::int64_t from, KvCache& target,
                             std::int64_t to, std::int64_t length) const {
  for (std::size_t l = 0; l < source.keys.size(); ++l) {
    target.keys[l]
        .select(0, to)
        .narrow(2, 0, length)
        .copy_(source.keys[l].select(0, from).narrow(2, 0, length));
    target.values[l]
        .select(0, to)
        .narrow(1, 0, length)
        .copy_(source.values[l].select(0, from).narrow(1, 0, length));
  }
}

}  // namespace qdgen::inference
