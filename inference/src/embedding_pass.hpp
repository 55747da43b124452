#pragma once
// Embeddings: mean-pooled final hidden states of token sequences, L2-normalised, in batches.

#include <span>
#include <vector>

#include "llama_runtime.hpp"

namespace qdgen::inference {

std::vector<std::vector<float>> embed_sequences(const LlamaRuntime& runtime,
                                                std::span<const std::vector<std::int32_t>> texts,
                                                bool skip_first_token);

}  // namespace qdgen::inference
