#pragma once
// Checks of requests before anything runs: each failure is a std::invalid_argument naming the
// request and the field at fault.

#include <span>
#include <string>

#include "qdgen/inference/generation.hpp"
#include "qdgen/inference/model_config.hpp"

namespace qdgen::inference {

// Throws when an id is outside [0, vocab_size); `what` names the input.
void check_token_ids(const LlamaConfig& config, std::span<const std::int32_t> ids,
                     const std::string& what);

// Generation requests, named "request i". Mixtures may name only the `adapters` loaded.
void validate_requests(const LlamaConfig& config, std::span<const std::string> adapters,
                       std::span<const TokenRequest> requests, bool can_decode);

// A prompt and its continuations to score; `name` prefixes every message ("score" for a lone
// prompt: "score: the prompt has no tokens", "score continuation 2: no tokens").
void validate_score_request(const LlamaConfig& config, std::span<const std::string> adapters,
                            const TokenScoreRequest& request, const std::string& name);

}  // namespace qdgen::inference
