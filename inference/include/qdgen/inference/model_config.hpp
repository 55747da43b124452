#pragma once
// The configuration of a Llama-family decoder (Llama 2/3, TinyLlama, SmolLM, Qwen2, Mistral),
// read from a Hugging Face config.json or a llama2.c header.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace qdgen::inference {

// The most positions a config may give (max_position_embeddings and the llama3 scaling's
// original_max_position_embeddings); the other sizes' bounds are in README, "Model files".
inline constexpr std::int64_t kMaxPositions = std::int64_t{1} << 24;

struct RopeScalingLlama3 {  // rope_scaling {"rope_type": "llama3", ...}
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 8192;
  bool operator==(const RopeScalingLlama3&) const = default;
};

struct LlamaConfig {
  std::string architecture = "LlamaForCausalLM";  // or Qwen2ForCausalLM, MistralForCausalLM
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;
  std::int64_t head_dim = 0;  // hidden_size / num_attention_heads unless given
  std::int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  std::optional<RopeScalingLlama3> rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v/o biases; Qwen2 always has q/k/v biases
  bool qkv_bias = false;        // derived: attention_bias || architecture is Qwen2
  bool mlp_bias = false;
  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_ids;
  std::string torch_dtype = "float32";  // "float32", "float16" or "bfloat16"
  bool operator==(const LlamaConfig&) const = default;
};

// Validates every field (sizes in their bounds, heads divide evenly, known architecture and
// hidden_act "silu"); errors name `source` (the file) and the key: "x/config.json:
// hidden_size: expected an integer in [1, 1048576], got -5". Keys missing from the
// file take transformers' defaults; sliding_window is ignored (full attention).
LlamaConfig parse_llama_config(const nlohmann::json& json, const std::string& source);
LlamaConfig read_llama_config(const std::filesystem::path& config_json);
nlohmann::json to_json(const LlamaConfig& config);  // a config.json transformers would read
// The checks of parse_llama_config on a config built in code (writers call it).
void validate_llama_config(const LlamaConfig& config, const std::string& source);

// The tensors a model of this configuration has, with Hugging Face names and shapes
// ([out, in] for linear weights); lm_head.weight only when the embeddings are not tied.
struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
};
std::vector<TensorSpec> llama_tensor_specs(const LlamaConfig& config);

}  // namespace qdgen::inference
