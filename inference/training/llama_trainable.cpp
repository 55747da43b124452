#include "llama_trainable.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>

#include "random_words.hpp"
#include "training_ops.hpp"

namespace qdgen::inference::training {
namespace {

constexpr std::int64_t kAttentionBlock = 64;

constexpr std::array<LoraTarget, kLoraTargets> kAllTargets = {
    LoraTarget::kQ,    LoraTarget::kK,  LoraTarget::kV,   LoraTarget::kO,
    LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown};

at::Tensor zeros(std::vector<std::int64_t> shape) {
  return at::zeros(shape, at::kFloat);
}

at::Tensor project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
}

void fill_normal(at::Tensor& tensor, double std, std::mt19937_64& rng) {
  float* data = tensor.data_ptr<float>();
  const std::int64_t count = tensor.numel();
  for (std::int64_t i = 0; i < count; i += 2) {
    double first = 0, second = 0;
    normal_pair(rng, first, second);
    data[i] = static_cast<float>(std * first);
    if (i + 1 < count) data[i + 1] = static_cast<float>(std * second);
  }
}

std::string layer_prefix(std::int64_t layer) {
  return "model.layers." + std::to_string(layer) + ".";
}

// Copies rows [first, first + rows) of a [R, C] tensor into an OwnedTensor.
OwnedTensor rows_of(const at::Tensor& tensor, std::int64_t first, std::int64_t rows,
                    std::string name) {
  const at::Tensor part = tensor.narrow(0, first, rows).contiguous();
  std::vector<std::int64_t> shape = part.sizes().vec();
  const float* data = part.data_ptr<float>();
  return {std::move(name), std::move(shape), std::vector<float>(data, data + part.numel())};
}

OwnedTensor whole(const at::Tensor& tensor, std::string name) {
  return rows_of(tensor, 0, tensor.size(0), std::move(name));
}

}  // namespace

std::vector<double> rope_inverse_frequencies(const LlamaConfig& config) {
  const std::int64_t half = config.head_dim / 2;
  std::vector<double> inverse(static_cast<std::size_t>(half));
  for (std::int64_t i = 0; i < half; ++i) {
    inverse[static_cast<std::size_t>(i)] =
        1.0 / std::pow(config.rope_theta,
                       static_cast<double>(2 * i) / static_cast<double>(config.head_dim));
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

// ---------------------------------------------------------------------------------------
// LoRA

double LoraSettings::scale() const {
  return rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
}

LoraWeights::LoraWeights(const LlamaConfig& config, const LoraSettings& settings,
                         std::uint64_t seed)
    : settings_(settings), layers_(config.num_hidden_layers) {
  std::mt19937_64 rng(seed);
  for (std::int64_t layer = 0; layer < layers_; ++layer) {
    for (LoraTarget target : kAllTargets) {
      if (!targets(target)) continue;
      const std::int64_t in = lora_target_in_features(config, target);
      const std::int64_t out = lora_target_out_features(config, target);
      Module module{zeros({settings.r, in}), zeros({out, settings.r}), settings.scale()};
      // kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in).
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      float* a = module.a.data_ptr<float>();
      for (std::int64_t i = 0; i < module.a.numel(); ++i) {
        a[i] = static_cast<float>(bound * (2.0 * uniform_open01(rng) - 1.0));
      }
      module.a.set_requires_grad(true);
      module.b.set_requires_grad(true);
      modules_.emplace(std::make_pair(layer, target), std::move(module));
    }
  }
}

LoraWeights::LoraWeights(const LlamaConfig& config, const LoraAdapter& adapter)
    : settings_{adapter.r, adapter.lora_alpha, adapter.use_rslora, {}},
      layers_(config.num_hidden_layers) {
  for (const LoraModule& m : adapter.modules) {
    const std::int64_t in = lora_target_in_features(config, m.target);
    const std::int64_t out = lora_target_out_features(config, m.target);
    Module module{at::from_blob(const_cast<float*>(m.a.data()), {m.rank, in}, at::kFloat).clone(),
                  at::from_blob(const_cast<float*>(m.b.data()), {out, m.rank}, at::kFloat).clone(),
                  m.scale};
    modules_.emplace(std::make_pair(m.layer, m.target), std::move(module));
    if (!targets(m.target)) settings_.targets.push_back(m.target);
  }
}

bool LoraWeights::targets(LoraTarget target) const {
  for (LoraTarget t : settings_.targets) {
    if (t == target) return true;
  }
  return false;
}

at::Tensor LoraWeights::delta(std::int64_t layer, LoraTarget target, const at::Tensor& x) const {
  const Module& m = modules_.at({layer, target});
  return at::mm(at::mm(x, m.a.t()).mul(m.scale), m.b.t());
}

std::vector<TrainableParameter> LoraWeights::parameters() const {
  std::vector<TrainableParameter> parameters;
  for (const auto& [key, module] : modules_) {
    const std::string name = layer_prefix(key.first) + lora_target_path(key.second);
    parameters.push_back({name + ".lora_A.weight", module.a, true});
    parameters.push_back({name + ".lora_B.weight", module.b, true});
  }
  return parameters;
}

std::int64_t LoraWeights::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& [key, module] : modules_) count += module.a.numel() + module.b.numel();
  return count;
}

LoraAdapter LoraWeights::to_adapter(const std::string& base_model_name) const {
  LoraAdapter adapter;
  adapter.r = settings_.r;
  adapter.lora_alpha = settings_.alpha;
  adapter.use_rslora = settings_.rslora;
  adapter.base_model_name_or_path = base_model_name;
  for (const auto& [key, module] : modules_) {  // ordered by (layer, target)
    LoraModule m;
    m.layer = key.first;
    m.target = key.second;
    m.rank = settings_.r;
    m.alpha = settings_.alpha;
    m.scale = settings_.scale();
    const at::Tensor a = module.a.detach().contiguous(), b = module.b.detach().contiguous();
    m.a.assign(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
    m.b.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    adapter.modules.push_back(std::move(m));
  }
  return adapter;
}

// ---------------------------------------------------------------------------------------
// The base model

LlamaTrainable::LlamaTrainable(const LlamaConfig& config) : config_(config) {
  const LlamaConfig& c = config_;
  const std::int64_t d = c.hidden_size, f = c.intermediate_size;
  const std::int64_t q = c.num_attention_heads * c.head_dim,
                     kv = c.num_key_value_heads * c.head_dim;
  embed_ = zeros({c.vocab_size, d});
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    Layer layer;
    layer.attn_norm = zeros({d});
    layer.qkv = zeros({q + 2 * kv, d});
    if (c.qkv_bias) layer.qkv_bias = zeros({q + 2 * kv});
    layer.o = zeros({d, q});
    if (c.attention_bias) layer.o_bias = zeros({d});
    layer.mlp_norm = zeros({d});
    layer.gate_up = zeros({2 * f, d});
    if (c.mlp_bias) layer.gate_up_bias = zeros({2 * f});
    layer.down = zeros({d, f});
    if (c.mlp_bias) layer.down_bias = zeros({d});
    layers_.push_back(std::move(layer));
  }
  final_norm_ = zeros({d});
  if (!c.tie_word_embeddings) lm_head_ = zeros({c.vocab_size, d});
}

std::vector<TrainableParameter> LlamaTrainable::parameters() const {
  std::vector<TrainableParameter> p;
  p.push_back({"model.embed_tokens.weight", embed_, false});
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const std::string prefix = layer_prefix(static_cast<std::int64_t>(l));
    p.push_back({prefix + "input_layernorm.weight", layer.attn_norm, false});
    p.push_back({prefix + "self_attn.qkv_proj.weight", layer.qkv, true});
    if (layer.qkv_bias.defined())
      p.push_back({prefix + "self_attn.qkv_proj.bias", layer.qkv_bias, false});
    p.push_back({prefix + "self_attn.o_proj.weight", layer.o, true});
    if (layer.o_bias.defined())
      p.push_back({prefix + "self_attn.o_proj.bias", layer.o_bias, false});
    p.push_back({prefix + "post_attention_layernorm.weight", layer.mlp_norm, false});
    p.push_back({prefix + "mlp.gate_up_proj.weight", layer.gate_up, true});
    if (layer.gate_up_bias.defined()) {
      p.push_back({prefix + "mlp.gate_up_proj.bias", layer.gate_up_bias, false});
    }
    p.push_back({prefix + "mlp.down_proj.weight", layer.down, true});
    if (layer.down_bias.defined())
      p.push_back({prefix + "mlp.down_proj.bias", layer.down_bias, false});
  }
  p.push_back({"model.norm.weight", final_norm_, false});
  if (lm_head_.defined()) p.push_back({"lm_head.weight", lm_head_, true});
  return p;
}

void LlamaTrainable::set_requires_grad(bool requires_grad) {
  for (const TrainableParameter& p : parameters()) {
    at::Tensor tensor = p.tensor;
    tensor.set_requires_grad(requires_grad);
  }
}

std::int64_t LlamaTrainable::parameter_count() const {
  std::int64_t count = 0;
  for (const TrainableParameter& p : parameters()) count += p.tensor.numel();
  return count;
}

void LlamaTrainable::initialise(double std, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  at::NoGradGuard no_grad;
  for (const TrainableParameter& p : parameters()) {
    at::Tensor tensor = p.tensor;
    const bool norm = p.name.find("norm") != std::string::npos;
    const bool bias = p.name.ends_with(".bias");
    if (norm) {
      tensor.fill_(1.0);
    } else if (bias) {
      tensor.zero_();
    } else {
      fill_normal(tensor, std, rng);
    }
  }
}

void LlamaTrainable::load_hf(const std::vector<OwnedTensor>& tensors) {
  std::map<std::string, const OwnedTensor*> by_name;
  for (const OwnedTensor& t : tensors) by_name[t.name] = &t;
  at::NoGradGuard no_grad;
  // Copies the named HF tensor into rows [first, first + rows) of `target`.
  const auto take = [&](const std::string& name, at::Tensor& target, std::int64_t first) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) throw std::runtime_error("tensor '" + name + "' is missing");
    const OwnedTensor& t = *it->second;
    at::Tensor slice = target.narrow(0, first, t.shape.empty() ? 1 : t.shape[0]);
    if (slice.sizes().vec() != t.shape) {
      throw std::runtime_error("tensor '" + name + "' does not have the shape the config implies");
    }
    slice.copy_(at::from_blob(const_cast<float*>(t.data.data()), t.shape, at::kFloat));
  };
  const LlamaConfig& c = config_;
  const std::int64_t q = c.num_attention_heads * c.head_dim,
                     kv = c.num_key_value_heads * c.head_dim;
  const std::int64_t f = c.intermediate_size;
  take("model.embed_tokens.weight", embed_, 0);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    Layer& layer = layers_[l];
    const std::string p = layer_prefix(static_cast<std::int64_t>(l));
    take(p + "input_layernorm.weight", layer.attn_norm, 0);
    take(p + "self_attn.q_proj.weight", layer.qkv, 0);
    take(p + "self_attn.k_proj.weight", layer.qkv, q);
    take(p + "self_attn.v_proj.weight", layer.qkv, q + kv);
    if (layer.qkv_bias.defined()) {
      take(p + "self_attn.q_proj.bias", layer.qkv_bias, 0);
      take(p + "self_attn.k_proj.bias", layer.qkv_bias, q);
      take(p + "self_attn.v_proj.bias", layer.qkv_bias, q + kv);
    }
    take(p + "self_attn.o_proj.weight", layer.o, 0);
    if (layer.o_bias.defined()) take(p + "self_attn.o_proj.bias", layer.o_bias, 0);
    take(p + "post_attention_layernorm.weight", layer.mlp_norm, 0);
    take(p + "mlp.gate_proj.weight", layer.gate_up, 0);
    take(p + "mlp.up_proj.weight", layer.gate_up, f);
    if (layer.gate_up_bias.defined()) {
      take(p + "mlp.gate_proj.bias", layer.gate_up_bias, 0);
      take(p + "mlp.up_proj.bias", layer.gate_up_bias, f);
    }
    take(p + "mlp.down_proj.weight", layer.down, 0);
    if (layer.down_bias.defined()) take(p + "mlp.down_proj.bias", layer.down_bias, 0);
  }
  take("model.norm.weight", final_norm_, 0);
  if (lm_head_.defined()) take("lm_head.weight", lm_head_, 0);
}

std::vector<OwnedTensor> LlamaTrainable::to_hf() const {
  const LlamaConfig& c = config_;
  const std::int64_t q = c.num_attention_heads * c.head_dim,
                     kv = c.num_key_value_heads * c.head_dim;
  const std::int64_t f = c.intermediate_size;
  at::NoGradGuard no_grad;
  std::vector<OwnedTensor> out;
  out.push_back(whole(embed_, "model.embed_tokens.weight"));
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const std::string p = layer_prefix(static_cast<std::int64_t>(l));
    out.push_back(whole(layer.attn_norm, p + "input_layernorm.weight"));
    out.push_back(rows_of(layer.qkv, 0, q, p + "self_attn.q_proj.weight"));
    out.push_back(rows_of(layer.qkv, q, kv, p + "self_attn.k_proj.weight"));
    out.push_back(rows_of(layer.qkv, q + kv, kv, p + "self_attn.v_proj.weight"));
    if (layer.qkv_bias.defined()) {
      out.push_back(rows_of(layer.qkv_bias, 0, q, p + "self_attn.q_proj.bias"));
      out.push_back(rows_of(layer.qkv_bias, q, kv, p + "self_attn.k_proj.bias"));
      out.push_back(rows_of(layer.qkv_bias, q + kv, kv, p + "self_attn.v_proj.bias"));
    }
    out.push_back(whole(layer.o, p + "self_attn.o_proj.weight"));
    if (layer.o_bias.defined()) out.push_back(whole(layer.o_bias, p + "self_attn.o_proj.bias"));
    out.push_back(whole(layer.mlp_norm, p + "post_attention_layernorm.weight"));
    out.push_back(rows_of(layer.gate_up, 0, f, p + "mlp.gate_proj.weight"));
    out.push_back(rows_of(layer.gate_up, f, f, p + "mlp.up_proj.weight"));
    if (layer.gate_up_bias.defined()) {
      out.push_back(rows_of(layer.gate_up_bias, 0, f, p + "mlp.gate_proj.bias"));
      out.push_back(rows_of(layer.gate_up_bias, f, f, p + "mlp.up_proj.bias"));
    }
    out.push_back(whole(layer.down, p + "mlp.down_proj.weight"));
    if (layer.down_bias.defined()) out.push_back(whole(layer.down_bias, p + "mlp.down_proj.bias"));
  }
  out.push_back(whole(final_norm_, "model.norm.weight"));
  if (lm_head_.defined()) out.push_back(whole(lm_head_, "lm_head.weight"));
  return out;
}

const std::pair<at::Tensor, at::Tensor>& LlamaTrainable::rope(std::int64_t time) const {
  auto it = rope_.find(time);
  if (it != rope_.end()) return it->second;
  const auto inverse = rope_inverse_frequencies(config_);
  const auto half = static_cast<std::int64_t>(inverse.size());
  at::Tensor cos = at::empty({time, half}, at::kFloat), sin = at::empty({time, half}, at::kFloat);
  float* cs = cos.data_ptr<float>();
  float* sn = sin.data_ptr<float>();
  for (std::int64_t p = 0; p < time; ++p) {
    for (std::int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(p) * inverse[static_cast<std::size_t>(i)];
      cs[p * half + i] = static_cast<float>(std::cos(angle));
      sn[p * half + i] = static_cast<float>(std::sin(angle));
    }
  }
  return rope_.emplace(time, std::make_pair(cos, sin)).first->second;
}

// Query blocks of 64 positions: small enough to skip most of the products above the
// diagonal, large enough for efficient matrix products.
const CausalAttention& LlamaTrainable::attention(std::int64_t time) const {
  auto it = attention_.find(time);
  if (it != attention_.end()) return it->second;
  const std::int64_t group = config_.num_attention_heads / config_.num_key_value_heads;
  return attention_.emplace(time, CausalAttention(time, group, kAttentionBlock)).first->second;
}

at::Tensor LlamaTrainable::hidden(const at::Tensor& tokens, const LoraWeights* lora) const {
  const LlamaConfig& c = config_;
  const std::int64_t batch = tokens.size(0), time = tokens.size(1), rows = batch * time;
  const std::int64_t d = c.hidden_size, hd = c.head_dim, heads = c.num_attention_heads;
  const std::int64_t kv_heads = c.num_key_value_heads, group = heads / kv_heads;
  const std::int64_t q = heads * hd, kv = kv_heads * hd, f = c.intermediate_size;
  if (time > c.max_position_embeddings) {
    throw std::runtime_error("a sequence of " + std::to_string(time) +
                             " tokens is longer than max_position_embeddings (" +
                             std::to_string(c.max_position_embeddings) + ")");
  }
  const auto& [cos, sin] = rope(time);
  const CausalAttention& attend = attention(time);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const auto has = [&](LoraTarget target) { return lora != nullptr && lora->targets(target); };

  at::Tensor x = at::embedding(embed_, tokens).view({rows, d});
  for (std::size_t index = 0; index < layers_.size(); ++index) {
    const Layer& layer = layers_[index];
    const auto l = static_cast<std::int64_t>(index);
    at::Tensor h = rms_norm(x, layer.attn_norm, c.rms_norm_eps);
    at::Tensor qkv = project(h, layer.qkv, layer.qkv_bias);
    if (has(LoraTarget::kQ) || has(LoraTarget::kK) || has(LoraTarget::kV)) {
      const auto part = [&](LoraTarget target, std::int64_t width) {
        return has(target) ? lora->delta(l, target, h) : zeros({rows, width});
      };
      qkv =
          qkv +
          at::cat({part(LoraTarget::kQ, q), part(LoraTarget::kK, kv), part(LoraTarget::kV, kv)}, 1);
    }
    const auto split =
        split_heads_rotary(qkv.view({batch, time, q + 2 * kv}), cos, sin, heads, kv_heads, hd);
    // Queries of the `group` heads that share a key head are stacked along the rows, so one
    // batched product serves them without repeating the keys.
    const at::Tensor queries = split[0].view({batch * kv_heads, time * group, hd});
    const at::Tensor keys = split[1].view({batch * kv_heads, time, hd});
    const at::Tensor values = split[2].view({batch * kv_heads, time, hd});
    const at::Tensor attended = attend(queries, keys, values, scale)
                                    .view({batch, kv_heads, time, group, hd})
                                    .permute({0, 2, 1, 3, 4})
                                    .reshape({rows, q});
    at::Tensor o = project(attended, layer.o, layer.o_bias);
    if (has(LoraTarget::kO)) o = o + lora->delta(l, LoraTarget::kO, attended);
    x = x + o;

    h = rms_norm(x, layer.mlp_norm, c.rms_norm_eps);
    at::Tensor gate_up = project(h, layer.gate_up, layer.gate_up_bias);
    if (has(LoraTarget::kGate) || has(LoraTarget::kUp)) {
      const auto part = [&](LoraTarget target) {
        return has(target) ? lora->delta(l, target, h) : zeros({rows, f});
      };
      gate_up = gate_up + at::cat({part(LoraTarget::kGate), part(LoraTarget::kUp)}, 1);
    }
    const at::Tensor gated = silu_gate(gate_up);
    at::Tensor down = project(gated, layer.down, layer.down_bias);
    if (has(LoraTarget::kDown)) down = down + lora->delta(l, LoraTarget::kDown, gated);
    x = x + down;
  }
  return rms_norm(x, final_norm_, c.rms_norm_eps);
}

at::Tensor LlamaTrainable::logits(const at::Tensor& tokens, const LoraWeights* lora) const {
  return at::mm(hidden(tokens, lora), head().t())
      .view({tokens.size(0), tokens.size(1), config_.vocab_size});
}

at::Tensor LlamaTrainable::loss(const at::Tensor& tokens, const at::Tensor& targets,
                                const LoraWeights* lora, bool sum) const {
  const at::Tensor logits = at::mm(hidden(tokens, lora), head().t());
  return at::cross_entropy_loss(logits, targets.reshape({-1}), {},
                                sum ? at::Reduction::Sum : at::Reduction::Mean);
}

}  // namespace qdgen::inference::training
