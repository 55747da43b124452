#pragma once
// Random Llama weights in Hugging Face names and layout, scaled so that activations stay
// O(1) and logits are far from ties (greedy comparisons then test arithmetic, not luck).

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qdgen/inference/llama2c.hpp"
#include "qdgen/inference/model_config.hpp"

namespace qdgen::testing {

inline inference::LlamaConfig small_llama_config() {
  inference::LlamaConfig c;
  c.vocab_size = 96;
  c.hidden_size = 64;
  c.intermediate_size = 160;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.max_position_embeddings = 64;
  c.tie_word_embeddings = false;
  return c;
}

inline std::vector<inference::OwnedTensor> random_llama_weights(const inference::LlamaConfig& c,
                                                                std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<inference::OwnedTensor> tensors;
  const auto add = [&](const std::string& name, std::vector<std::int64_t> shape, float scale,
                       float offset) {
    std::int64_t count = 1;
    for (auto size : shape) count *= size;
    inference::OwnedTensor tensor{name, shape, std::vector<float>(static_cast<std::size_t>(count))};
    for (float& value : tensor.data) value = offset + scale * normal(random);
    tensors.push_back(std::move(tensor));
  };
  const std::int64_t d = c.hidden_size, f = c.intermediate_size, hd = c.head_dim;
  const std::int64_t q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd;
  const auto linear = [&](const std::string& name, std::int64_t rows, std::int64_t columns) {
    add(name, {rows, columns}, 1.0f / std::sqrt(static_cast<float>(columns)), 0.0f);
  };
  // A tied classifier scores each token's own embedding highest; smaller embeddings keep
  // that from drowning everything else.
  add("model.embed_tokens.weight", {c.vocab_size, d}, c.tie_word_embeddings ? 0.3f : 1.0f, 0.0f);
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {d}, 0.1f, 1.0f);
    linear(p + "self_attn.q_proj.weight", q, d);
    linear(p + "self_attn.k_proj.weight", kv, d);
    linear(p + "self_attn.v_proj.weight", kv, d);
    linear(p + "self_attn.o_proj.weight", d, q);
    if (c.qkv_bias) {
      add(p + "self_attn.q_proj.bias", {q}, 0.1f, 0.0f);
      add(p + "self_attn.k_proj.bias", {kv}, 0.1f, 0.0f);
      add(p + "self_attn.v_proj.bias", {kv}, 0.1f, 0.0f);
    }
    if (c.attention_bias) add(p + "self_attn.o_proj.bias", {d}, 0.1f, 0.0f);
    add(p + "post_attention_layernorm.weight", {d}, 0.1f, 1.0f);
    linear(p + "mlp.gate_proj.weight", f, d);
    linear(p + "mlp.up_proj.weight", f, d);
    linear(p + "mlp.down_proj.weight", d, f);
    if (c.mlp_bias) {
      add(p + "mlp.gate_proj.bias", {f}, 0.1f, 0.0f);
      add(p + "mlp.up_proj.bias", {f}, 0.1f, 0.0f);
      add(p + "mlp.down_proj.bias", {d}, 0.1f, 0.0f);
    }
  }
  add("model.norm.weight", {d}, 0.1f, 1.0f);
  if (!c.tie_word_embeddings) add("lm_head.weight", {c.vocab_size, d}, 1.0f, 0.0f);
  return tensors;
}

}  // namespace qdgen::testing
