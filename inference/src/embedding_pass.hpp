#pragma once
// Embeddings: mean-pooled final hidden states of token sequences, L2-normalised, in batches;
// text i read under mixtures[i] (no mixtures: the base model for every text).

#include <span>
#include <vector>

#include "llama_runtime.hpp"

namespace qdgen::inference {

std::vector<std::vector<float>> embed_sequences(const LlamaRuntime& runtime,
                                                std::span<const std::vector<std::int32_t>> texts,
                                                bool skip_first_token,
                                                std::span<const LoraMixture> mixtures = {});

}  // namespace qdgen::inference
