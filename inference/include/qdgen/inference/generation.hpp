#pragma once
// Token-level generation requests and results of the embedded model. Sampling depends only
// on the request (its seed, its own logits row), never on which other requests share the
// batch. The settings, mixtures and finish reasons are the LLM seam's (qdgen/llm).

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "qdgen/llm/generation.hpp"

namespace qdgen::inference {

using llm::finish_reason_name;
using llm::FinishReason;
using llm::GenerationStats;
using llm::LoraMixture;
using llm::SamplingSettings;

// What a request's callback sees as the batch runs: the tokens it just took (one per decode
// step), and, on the last call for the request, `finished` and why it ended. A request that
// ends without a new token (cancelled) gets a last call with none.
struct TokenStep {
  std::span<const std::int32_t> tokens;
  bool finished = false;
  FinishReason finish = FinishReason::kLength;  // when finished
};
// Called on the thread that drives the batch, between its steps: keep it short. It may submit
// or cancel requests, but not call the model. Returning false cancels the request: it ends
// with kCancelled and its row is freed before the next step (ignored on the last call).
using TokenStepCallback = std::function<bool(const TokenStep&)>;

struct TokenRequest {
  std::vector<std::int32_t> prompt;  // must be non-empty
  std::int64_t max_tokens = 128;
  SamplingSettings sampling;
  bool stop_at_eos = true;        // stop on any of the model's eos token ids
  std::vector<std::string> stop;  // stop strings; need a decoder (see GenerationOptions)
  LoraMixture lora;
  TokenStepCallback on_tokens;  // empty: no streaming
};

// Continuations to score after one prompt (LlamaModel::score).
struct TokenScoreRequest {
  std::vector<std::int32_t> prompt;                      // must be non-empty
  std::vector<std::vector<std::int32_t>> continuations;  // each non-empty
  LoraMixture lora;
};

struct TokenResult {
  std::vector<std::int32_t> tokens;  // generated ids (a matched stop string's tokens included)
  FinishReason finish = FinishReason::kLength;
};

}  // namespace qdgen::inference
