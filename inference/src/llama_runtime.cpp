#include "llama_runtime.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "forward_backend.hpp"
#include "lora_mixture.hpp"

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

// Checks an adapter's modules against the base before any is used.
void check_adapter(const LlamaConfig& config, const LoraAdapter& adapter) {
  for (const LoraModule& m : adapter.modules) {
    const std::string where = "adapter '" + adapter.name + "': layer " + std::to_string(m.layer) +
                              " " + lora_target_name(m.target);
    if (m.layer < 0 || m.layer >= config.num_hidden_layers) {
      throw std::invalid_argument(where + ": the base model has " +
                                  std::to_string(config.num_hidden_layers) + " layers");
    }
    const std::int64_t in = lora_target_in_features(config, m.target);
    const std::int64_t out = lora_target_out_features(config, m.target);
    if (m.rank <= 0 || static_cast<std::int64_t>(m.a.size()) != m.rank * in ||
        static_cast<std::int64_t>(m.b.size()) != out * m.rank) {
      throw std::invalid_argument(where + ": A holds " + std::to_string(m.a.size()) +
                                  " values and B " + std::to_string(m.b.size()) + " at rank " +
                                  std::to_string(m.rank) + ", expected [" + std::to_string(m.rank) +
                                  ", " + std::to_string(in) + "] and [" + std::to_string(out) +
                                  ", " + std::to_string(m.rank) + "]");
    }
  }
}

}  // namespace

LlamaRuntime::LlamaRuntime(LlamaWeights weights, const RuntimeOptions& options,
                           const std::vector<LoraAdapter>& adapters)
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
  for (const LoraAdapter& adapter : adapters) {
    if (std::find(adapter_names_.begin(), adapter_names_.end(), adapter.name) !=
        adapter_names_.end()) {
      throw std::invalid_argument("two LoRA adapters are named '" + adapter.name + "'");
    }
    check_adapter(c, adapter);
    adapter_names_.push_back(adapter.name);
  }
  const bool packed = runs_own_kernels();
  CpuThreadPool& pool = *pool_;
  // Where each target's outputs start in its (fused) projection.
  const std::int64_t q_rows = c.num_attention_heads * c.head_dim;
  const std::int64_t kv_rows = c.num_key_value_heads * c.head_dim;
  const auto offset = [&](LoraTarget target) -> std::int64_t {
    switch (target) {
      case LoraTarget::kK:
        return q_rows;
      case LoraTarget::kV:
        return q_rows + kv_rows;
      case LoraTarget::kUp:
        return c.intermediate_size;
      default:
        return 0;
    }
  };
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    LlamaLayerWeights& w = weights_.layers[l];
    // Parts of the four projections: qkv, output, gate_up, down.
    std::array<std::vector<LoraPart>, 4> parts;
    for (std::size_t i = 0; i < adapters.size(); ++i) {
      for (const LoraModule& m : adapters[i].modules) {
        if (m.layer != l) continue;
        const std::size_t projection = m.target <= LoraTarget::kV      ? 0
                                       : m.target == LoraTarget::kO    ? 1
                                       : m.target == LoraTarget::kDown ? 3
                                                                       : 2;
        parts[projection].push_back({static_cast<std::int64_t>(i), offset(m.target), &m});
      }
    }
    const auto lora = [&](std::size_t projection, std::int64_t in) {
      return LoraProjection(parts[projection], in, packed, kernels_, pool, device(), dtype());
    };
    layers_.push_back(
        {Projection(w.qkv, w.qkv_bias, packed, kernels_, pool, lora(0, c.hidden_size)),
         Projection(w.output, w.output_bias, packed, kernels_, pool, lora(1, q_rows)),
         Projection(w.gate_up, w.gate_up_bias, packed, kernels_, pool, lora(2, c.hidden_size)),
         Projection(w.down, w.down_bias, packed, kernels_, pool, lora(3, c.intermediate_size))});
    w.qkv = w.qkv_bias = w.output = w.output_bias = at::Tensor();
    w.gate_up = w.gate_up_bias = w.down = w.down_bias = at::Tensor();
  }
  lm_head_ = Projection(weights_.lm_head, {}, packed, kernels_, pool);
  weights_.lm_head = at::Tensor();
}

MixtureWeights LlamaRuntime::adapter_weights(const LoraMixture& mixture,
                                             const std::string& what) const {
  return mixture_weights(mixture, adapter_names_, config().num_hidden_layers, what);
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
  if (adapters.layers != 1 && adapters.layers != c.num_hidden_layers) {
    throw std::logic_error("LlamaRuntime::forward: adapter weights for " +
                           std::to_string(adapters.layers) + " layers");
  }
  if (static_cast<std::int64_t>(adapters.weights.size()) !=
          rows * adapters.layers * adapters.count ||
      (!adapters.from_positions.empty() &&
       static_cast<std::int64_t>(adapters.from_positions.size()) != rows)) {
    throw std::logic_error("LlamaRuntime::forward: adapter weights do not match the rows");
  }
  if (adapters.count != 0 && adapters.count != adapter_count()) {
    throw std::invalid_argument(
        "the batch carries weights for " + std::to_string(adapters.count) +
        " adapter(s) per row, but the model has " +
        (adapter_names_.empty() ? std::string("none") : std::to_string(adapter_count())) +
        " loaded");
  }
  // Each row's leading steps before its mixture's first position run the base alone.
  std::vector<std::int64_t> base_steps;
  if (adapters.count != 0 && !adapters.from_positions.empty()) {
    for (std::int64_t r = 0; r < rows; ++r) {
      base_steps.push_back(
          std::clamp<std::int64_t>(adapters.from_positions[r] - starts[r], 0, steps));
    }
    if (std::all_of(base_steps.begin(), base_steps.end(), [](std::int64_t b) { return b == 0; })) {
      base_steps.clear();
    }
  }
  const std::int64_t layer_stride = adapters.layers > 1 ? adapters.count : 0;
  LayerAdapters layer_adapters{adapters.count,
                               rows,
                               adapters.weights,
                               adapters.layers * adapters.count,
                               steps,
                               base_steps,
                               {},
                               {}};
  at::Tensor on_device;  // [rows, layers, count]
  if (adapters.count != 0 && !runs_own_kernels()) {
    // Uploaded once for every projection of the pass.
    on_device =
        at::tensor(std::vector<float>(adapters.weights.begin(), adapters.weights.end()), at::kFloat)
            .view({rows, adapters.layers, adapters.count})
            .to(device(), dtype());
    if (!base_steps.empty()) {
      at::Tensor active = at::ones({rows, steps, 1}, at::kFloat);
      for (std::int64_t r = 0; r < rows; ++r) active[r].narrow(0, 0, base_steps[r]).zero_();
      layer_adapters.active = active.to(device(), dtype());
    }
  }
  const auto layer_view = [&](std::int64_t l) {
    LayerAdapters view = layer_adapters;
    if (layer_stride != 0) {
      view.weights = adapters.weights.subspan(static_cast<std::size_t>(l * layer_stride));
    }
    if (on_device.defined()) view.on_device = on_device.select(1, layer_stride != 0 ? l : 0);
    return view;
  };
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
    const LayerAdapters row_adapters = layer_view(l);
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
  return lm_head_(rows, LayerAdapters{}).view(shape).to(at::kFloat).cpu();
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

void AdapterRows::add(const LoraMixture& mixture) {
  if (mixture.from_position < 0) {
    throw std::logic_error("AdapterRows::add: a mixture whose from_position is not resolved");
  }
  const std::int64_t row = rows_++;
  const auto count = static_cast<std::size_t>(runtime_.adapter_count());
  if (mixture.from_position > 0 && !activated_) {
    activated_ = true;
    from_.assign(static_cast<std::size_t>(row), 0);
  }
  if (activated_) from_.push_back(mixture.from_position);
  if (mixture.empty()) {
    if (mixed_) weights_.resize(weights_.size() + static_cast<std::size_t>(layers_) * count, 0.0f);
    return;
  }
  const MixtureWeights weights = runtime_.adapter_weights(mixture, "LoRA mixture");
  if (!mixed_) {
    mixed_ = true;
    weights_.assign(static_cast<std::size_t>(row) * count, 0.0f);
  }
  if (weights.layers != layers_ && layers_ == 1) {
    // The first row with layer weights: every row before it weighs each layer alike.
    std::vector<float> expanded;
    expanded.reserve(static_cast<std::size_t>(row * weights.layers) * count);
    for (std::int64_t r = 0; r < row; ++r) {
      const auto first =
          weights_.begin() + static_cast<std::ptrdiff_t>(r * static_cast<std::int64_t>(count));
      for (std::int64_t l = 0; l < weights.layers; ++l) {
        expanded.insert(expanded.end(), first, first + static_cast<std::ptrdiff_t>(count));
      }
    }
    weights_ = std::move(expanded);
    layers_ = weights.layers;
  }
  if (weights.layers == layers_) {
    weights_.insert(weights_.end(), weights.weights.begin(), weights.weights.end());
  } else {  // a plain row among rows with layer weights
    for (std::int64_t l = 0; l < layers_; ++l) {
      weights_.insert(weights_.end(), weights.weights.begin(), weights.weights.end());
    }
  }
}

}  // namespace qdgen::inference
