#pragma once
// Generation, scoring and embedding passes over a LlamaRuntime: continuous batching with
// shared-prefix reuse for generation; one prompt pass plus batched continuations for scoring.
// Prompts' KV is looked up in, and added to, the model's kept prefix cache.

#include <span>
#include <vector>

#include "llama_runtime.hpp"
#include "prefix_cache.hpp"
#include "qdgen/inference/generation.hpp"
#include "qdgen/inference/model.hpp"

namespace qdgen::inference {

// Throws std::invalid_argument naming the request and the field at fault.
void validate_requests(const LlamaConfig& config, std::span<const TokenRequest> requests,
                       bool can_decode);

std::vector<TokenResult> generate_batched(const LlamaRuntime& runtime,
                                          std::span<const TokenRequest> requests,
                                          const GenerationOptions& options, PrefixCache& kept,
                                          GenerationStats* stats);

std::vector<double> score_continuations(const LlamaRuntime& runtime,
                                        std::span<const std::int32_t> prompt,
                                        std::span<const std::vector<std::int32_t>> continuations,
                                        PrefixCache& kept);

std::vector<std::vector<float>> embed_sequences(const LlamaRuntime& runtime,
                                                std::span<const std::vector<std::int32_t>> texts,
                                                bool skip_first_token);

// Throws std::invalid_argument when an id is outside [0, vocab_size); `what` names the input.
void check_token_ids(const LlamaConfig& config, std::span<const std::int32_t> ids,
                     const std::string& what);

}  // namespace qdgen::inference
