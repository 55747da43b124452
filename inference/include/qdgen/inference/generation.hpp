#pragma once
// Token-level generation requests and results of the embedded model. Sampling depends only
// on the request (its seed, its own logits row), never on which other requests share the
// batch. The settings, mixtures and finish reasons are the LLM seam's (qdgen/llm).

#include <cstdint>
#include <string>
#include <vector>

#include "qdgen/llm/generation.hpp"

namespace qdgen::inference {

using llm::finish_reason_name;
using llm::FinishReason;
using llm::GenerationStats;
using llm::LoraMixture;
using llm::SamplingSettings;

struct TokenRequest {
  std::vector<std::int32_t> prompt;  // must be non-empty
  std::int64_t max_tokens = 128;
  SamplingSettings sampling;
  bool stop_at_eos = true;        // stop on any of the model's eos token ids
  std::vector<std::string> stop;  // stop strings; need a decoder (see GenerationOptions)
  LoraMixture lora;
};

struct TokenResult {
  std::vector<std::int32_t> tokens;  // generated ids (a matched stop string's tokens included)
  FinishReason finish = FinishReason::kLength;
};

}  // namespace qdgen::inference
