#include "llama_runtime.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "forward_backend.hpp"

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

LlamaRuntime::LlamaRuntime(LlamaWeights weights, const RuntimeOptions& options)
    : pool_(std::make_unique<CpuThreadPool>(std::max(1, options.threads))),
      kernels_(options.kernels),
      aten_forward_(options.aten_forward),
      weights_(std::move(weights)) {
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
  CpuThreadPool& pool = *pool_;
  for (LlamaLayerWeights& w : weights_.layers) {
    layers_.push_back({Projection(w.qkv, w.qkv_bias, packed, kernels_, pool),
                       Projection(w.output, w.output_bias, packed, kernels_, pool),
                       Projection(w.gate_up, w.gate_up_bias, packed, kernels_, pool),
                       Projection(w.down, w.down_bias, packed, kernels_, pool)});
    w.qkv = w.qkv_bias = w.output = w.output_bias = at::Tensor();
    w.gate_up = w.gate_up_bias = w.down = w.down_bias = at::Tensor();
  }
  lm_head_ = Projection(weights_.lm_head, {}, packed, kernels_, pool);
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

at::Tensor LlamaRuntime::forward(KvCache& cache, const at::Tensor& tokens, std::int64_t first_slot,
                                 std::span<const std::int64_t> starts,
                                 const RowAdapters& adapters) const {
  const LlamaConfig& c = config();
  const std::int64_t rows = tokens.size(0), steps = tokens.size(1), n = rows * steps;
  if (static_cast<std::int64_t>(starts.size()) != rows || first_slot + rows > cache.slots) {
    throw std::logic_error("LlamaRuntime::forward: rows do not match the cache slots");
  }
  const std::int64_t end = *std::max_element(starts.begin(), starts.end()) + steps;
  if (end > cache.capacity || end > c.max_position_embeddings) {
    throw std::logic_error("LlamaRuntime::forward: positions beyond the cache or the context");
  }
  if (static_cast<std::int64_t>(adapters.weights.size()) != rows * adapters.count) {
    throw std::logic_error("LlamaRuntime::forward: adapter weights do not match the rows");
  }
  const RowAdapters row_adapters{adapters.count, adapters.weights, steps};
  const ForwardModel model{c, cos_, sin_, kernels_, *pool_};
  const ForwardBatch batch{cache, rows, steps, first_slot, starts, end};
  const std::unique_ptr<ForwardBackend> backend =
      runs_own_kernels() ? make_kernel_backend(model, batch) : make_aten_backend(model, batch);

  const std::int64_t layers = c.num_hidden_layers;
  // Each layer's closing residual add runs with the norm that follows it (the next layer's,
  // or the final one), in one pass over the rows; norm_after(-1) is the first layer's.
  const auto norm_after = [&](std::int64_t l) -> const at::Tensor& {
    return l + 1 < layers ? weights_.layers[l + 1].attention_norm : weights_.final_norm;
  };
  at::Tensor x = weights_.embedding.index_select(0, tokens.reshape({n}).to(device()));
  at::Tensor normed = backend->rms_norm(x, norm_after(-1));
  for (std::int64_t l = 0; l < layers; ++l) {
    const LayerProjections& p = layers_[l];
    const at::Tensor queries = backend->rotate_and_cache(p.qkv(normed, row_adapters), l);
    const at::Tensor attended = backend->attend(queries, l);
    normed =
        backend->add_and_norm(x, p.output(attended, row_adapters), weights_.layers[l].mlp_norm);
    const at::Tensor activation = backend->silu_gate(p.gate_up(normed, row_adapters));
    normed = backend->add_and_norm(x, p.down(activation, row_adapters), norm_after(l));
  }
  return normed.view({rows, steps, c.hidden_size});
}

at::Tensor LlamaRuntime::logits(const at::Tensor& hidden) const {
  auto shape = hidden.sizes().vec();
  shape.back() = config().vocab_size;
  const at::Tensor rows = hidden.reshape({-1, hidden.size(-1)});
  return lm_head_(rows, RowAdapters{}).view(shape).to(at::kFloat).cpu();
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
