#pragma once
// Hugging Face model folders: config.json plus model.safetensors, or shards listed by
// model.safetensors.index.json. qdgen reads the ones users download and writes its own.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "qdgen/inference/llama2c.hpp"  // OwnedTensor
#include "qdgen/inference/model_config.hpp"
#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference {

struct HfModelFolder {
  LlamaConfig config;
  std::unique_ptr<SafetensorsModel> weights;
};

// Reads config.json and opens the weights, checking that every tensor the config implies
// (llama_tensor_specs) is present with its shape and a float dtype (F32, F16 or BF16).
// A tied model may still carry lm_head.weight; it is then ignored.
HfModelFolder open_hf_folder(const std::filesystem::path& folder);

// Writes config.json and the weights in `dtype` (F32, F16 or BF16; config.json's torch_dtype
// follows it). `tensors` must be exactly llama_tensor_specs(config). With max_shard_bytes > 0
// the weights are split into model-0000i-of-0000n.safetensors files of at most that size
// (a larger tensor gets a shard of its own) plus the index. Each file is written atomically.
void write_hf_folder(const std::filesystem::path& folder, const LlamaConfig& config,
                     const std::vector<OwnedTensor>& tensors, DType dtype = DType::kF32,
                     std::uint64_t max_shard_bytes = 0);

}  // namespace qdgen::inference
