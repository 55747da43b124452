#pragma once
// The weights of a Llama-family decoder as torch tensors, validated and laid out for the
// forward pass: q/k/v fused into one matrix, gate/up fused into another.

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qdgen/inference/llama2c.hpp"
#include "qdgen/inference/model_config.hpp"

namespace qdgen::inference {

struct LlamaLayerWeights {
  at::Tensor attention_norm;  // [D]
  at::Tensor qkv;             // [(H + 2 KVH) hd, D]
  at::Tensor qkv_bias;        // [(H + 2 KVH) hd] or undefined
  at::Tensor output;          // [D, H hd]
  at::Tensor output_bias;     // [D] or undefined
  at::Tensor mlp_norm;        // [D]
  at::Tensor gate_up;         // [2 F, D]
  at::Tensor gate_up_bias;    // [2 F] or undefined
  at::Tensor down;            // [D, F]
  at::Tensor down_bias;       // [D] or undefined
};

struct LlamaWeights {
  LlamaConfig config;
  at::Tensor embedding;  // [V, D]
  std::vector<LlamaLayerWeights> layers;
  at::Tensor final_norm;  // [D]
  at::Tensor lm_head;     // [V, D]; the embedding itself when tied
};

// Returns the named tensor as float32 on the CPU, or nullopt when absent; throws (naming the
// tensor) when its dtype cannot be converted.
using TensorSource = std::function<std::optional<at::Tensor>(const std::string& name)>;

// Checks every tensor's presence and shape against the config; errors name `source` and the
// tensor. Moves the result to `device` in `dtype`.
LlamaWeights assemble_llama_weights(const LlamaConfig& config, const TensorSource& fetch,
                                    const std::string& source, at::Device device,
                                    at::ScalarType dtype);

LlamaWeights load_hf_folder(const std::filesystem::path& folder, at::Device device,
                            at::ScalarType dtype);
LlamaWeights load_llama2c_file(const std::filesystem::path& file, at::Device device,
                               at::ScalarType dtype);
LlamaWeights weights_from_owned(const LlamaConfig& config, const std::vector<OwnedTensor>& tensors,
                                const std::string& source, at::Device device, at::ScalarType dtype);

}  // namespace qdgen::inference
