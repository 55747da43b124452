#pragma once
// llama2.c checkpoints (version 0 header: dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size (negative: unshared classifier), seq_len; fp32 weights in run.c's order).
// Reading converts to Hugging Face names and layout: q/k rows are permuted from llama2.c's
// interleaved RoPE pairs to HF's rotate-half halves (the inverse of export.py's permute).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "qdgen/inference/model_config.hpp"

namespace qdgen::inference {

struct OwnedTensor {
  std::string name;  // Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

struct Llama2cCheckpoint {
  LlamaConfig config;
  std::vector<OwnedTensor> tensors;
};

Llama2cCheckpoint read_llama2c(const std::filesystem::path& path);
// Writes HF-layout tensors as a llama2.c file (applies export.py's permutation).
void write_llama2c(const std::filesystem::path& path, const LlamaConfig& config,
                   const std::vector<OwnedTensor>& tensors);

}  // namespace qdgen::inference
