#pragma once
// A Llama-family decoder as trainable libtorch tensors (fp32, CPU): the same maths as
// qdgen's inference forward (RMSNorm, rotate-half RoPE, grouped-query attention, SiLU-gated
// MLP, tied or untied head), laid out for training speed (fused q|k|v and gate|up
// matrices), with an optional LoRA adapter on its projections.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "qdgen/inference/llama2c.hpp"  // OwnedTensor
#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model_config.hpp"
#include "training_ops.hpp"
#include "training_pch.hpp"

namespace qdgen::inference::training {

struct TrainableParameter {
  std::string name;
  at::Tensor tensor;
  bool decay = false;  // weight decay applies (matrices of linear layers)
};

struct LoraSettings {
  std::int64_t r = 8;
  double alpha = 16;
  bool rslora = false;
  std::vector<LoraTarget> targets;
  double scale() const;  // alpha / r, or alpha / sqrt(r) with rsLoRA
};

// One adapter: per layer and target A [r, in] (PEFT's init: Kaiming-uniform with
// a = sqrt(5), i.e. uniform in +-1/sqrt(in)) and B [out, r] (zeros), both trainable.
class LoraWeights {
 public:
  LoraWeights(const LlamaConfig& config, const LoraSettings& settings, std::uint64_t seed);
  // A saved adapter (read_peft_adapter), for evaluation: its tensors, not trainable, each
  // module with its own rank and scale.
  LoraWeights(const LlamaConfig& config, const LoraAdapter& adapter);
  const LoraSettings& settings() const { return settings_; }
  bool targets(LoraTarget target) const;
  // delta = scale * (x A^T) B^T for a layer's target; x: [N, in].
  at::Tensor delta(std::int64_t layer, LoraTarget target, const at::Tensor& x) const;
  std::vector<TrainableParameter> parameters() const;  // names as PEFT's, without the prefix
  LoraAdapter to_adapter(const std::string& base_model_name) const;
  std::int64_t parameter_count() const;

 private:
  struct Module {
    at::Tensor a, b;
    double scale = 0;
  };
  LoraSettings settings_;
  std::int64_t layers_ = 0;
  std::map<std::pair<std::int64_t, LoraTarget>, Module> modules_;
};

class LlamaTrainable {
 public:
  explicit LlamaTrainable(const LlamaConfig& config);  // every tensor zero

  // Embeddings and linear weights normal(0, std), norms one, biases zero; from `seed` alone.
  void initialise(double std, std::uint64_t seed);
  // From / to Hugging Face names and layout (llama_tensor_specs(config)).
  void load_hf(const std::vector<OwnedTensor>& tensors);
  std::vector<OwnedTensor> to_hf() const;

  const LlamaConfig& config() const { return config_; }
  std::vector<TrainableParameter> parameters() const;
  void set_requires_grad(bool requires_grad);
  std::int64_t parameter_count() const;

  // tokens: [B, T] int64. Logits [B, T, vocab]; the loss is the mean (or, with `sum`, the
  // sum) of the cross-entropy against targets [B, T].
  at::Tensor logits(const at::Tensor& tokens, const LoraWeights* lora = nullptr) const;
  at::Tensor loss(const at::Tensor& tokens, const at::Tensor& targets,
                  const LoraWeights* lora = nullptr, bool sum = false) const;

 private:
  struct Layer {
    at::Tensor attn_norm, qkv, qkv_bias, o, o_bias, mlp_norm, gate_up, gate_up_bias, down,
        down_bias;
  };
  at::Tensor hidden(const at::Tensor& tokens, const LoraWeights* lora) const;
  const std::pair<at::Tensor, at::Tensor>& rope(std::int64_t time) const;
  const CausalAttention& attention(std::int64_t time) const;
  const at::Tensor& head() const { return config_.tie_word_embeddings ? embed_ : lm_head_; }

  LlamaConfig config_;
  at::Tensor embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  mutable std::map<std::int64_t, std::pair<at::Tensor, at::Tensor>> rope_;  // by length
  mutable std::map<std::int64_t, CausalAttention> attention_;               // by length
};

// Rotary inverse frequencies with Llama 3's long-context rescaling (transformers'
// _compute_llama3_parameters), as qdgen's inference computes them.
std::vector<double> rope_inverse_frequencies(const LlamaConfig& config);

}  // namespace qdgen::inference::training
