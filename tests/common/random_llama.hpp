#pragma once
// Small random Llama-family models in the real file formats, for tests without downloads:
// the same weights as a Hugging Face folder and (where llama2.c can express the config) as a
// llama2.c checkpoint, so tests can check that both loaders compute the same logits.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/llama2c.hpp"
#include "qdgen/inference/model_config.hpp"

namespace qdgen::testing {

// A tiny Llama with grouped-query attention that llama2.c can also represent.
inline inference::LlamaConfig tiny_llama_config(bool tied = true) {
  inference::LlamaConfig config;
  config.vocab_size = 64;
  config.hidden_size = 32;
  config.intermediate_size = 48;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 4;
  config.num_key_value_heads = 2;
  config.head_dim = 8;
  config.max_position_embeddings = 64;
  config.rms_norm_eps = 1e-5;
  config.rope_theta = 10000.0;
  config.tie_word_embeddings = tied;
  config.bos_token_id = 1;
  config.eos_token_ids = {2};
  return config;
}

// Every tensor of llama_tensor_specs(config), deterministic in `seed`: linear weights and
// biases uniform in ±1/sqrt(fan_in) (activations keep their scale through the layers),
// embeddings uniform in ±1, norm weights uniform in [0.8, 1.2].
inline std::vector<inference::OwnedTensor> random_llama_tensors(
    const inference::LlamaConfig& config, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::vector<inference::OwnedTensor> tensors;
  for (const inference::TensorSpec& spec : inference::llama_tensor_specs(config)) {
    inference::OwnedTensor tensor{spec.name, spec.shape, {}};
    std::size_t count = 1;
    for (std::int64_t extent : spec.shape) count *= static_cast<std::size_t>(extent);
    const bool is_norm = spec.name.find("norm") != std::string::npos;
    const bool is_embedding = spec.name == "model.embed_tokens.weight";
    const std::int64_t fan_in = spec.shape.size() == 2 ? spec.shape[1] : config.hidden_size;
    const double scale = is_embedding ? 1.0 : 1.0 / std::sqrt(static_cast<double>(fan_in));
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    tensor.data.resize(count);
    for (float& value : tensor.data) {
      value =
          static_cast<float>(is_norm ? 1.0 + 0.2 * uniform(generator) : scale * uniform(generator));
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

// Whether write_llama2c accepts the config (no biases, plain RoPE with theta 10000, eps 1e-5).
inline bool llama2c_can_represent(const inference::LlamaConfig& config) {
  return !config.qkv_bias && !config.attention_bias && !config.mlp_bias && !config.rope_scaling &&
         config.rope_theta == 10000.0 && config.rms_norm_eps == 1e-5 &&
         config.head_dim * config.num_attention_heads == config.hidden_size;
}

struct RandomLlamaFiles {
  std::filesystem::path hf_folder;              // config.json + model.safetensors
  std::filesystem::path llama2c_file;           // empty when llama2.c cannot represent the config
  std::vector<inference::OwnedTensor> tensors;  // the HF-layout weights both files hold
};

// Writes `directory`/hf and `directory`/model.bin. F16/BF16 `dtype` rounds the HF copy, so
// only F32 gives the two files bit-identical weights.
inline RandomLlamaFiles write_random_llama(const std::filesystem::path& directory,
                                           const inference::LlamaConfig& config, std::uint64_t seed,
                                           inference::DType dtype = inference::DType::kF32) {
  RandomLlamaFiles files;
  files.tensors = random_llama_tensors(config, seed);
  files.hf_folder = directory / "hf";
  inference::write_hf_folder(files.hf_folder, config, files.tensors, dtype);
  if (llama2c_can_represent(config)) {
    files.llama2c_file = directory / "model.bin";
    inference::write_llama2c(files.llama2c_file, config, files.tensors);
  }
  return files;
}

}  // namespace qdgen::testing
