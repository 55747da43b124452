#pragma once
// The seam between qdgen's search and whichever LLM serves it: generate, score, embed on
// text. Implementations: the embedded libtorch model (embedded_model.hpp); a remote
// OpenAI-compatible server later.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

struct GenerationRequest {
  std::string prompt;
  std::vector<std::int32_t> prompt_ids;  // used instead of `prompt` when non-empty
  std::int64_t max_tokens = 128;
  SamplingSettings sampling;      // temperature 0 is greedy; `seed` makes it repeatable
  std::vector<std::string> stop;  // generation ends at the first; the text excludes it
  bool stop_at_eos = true;
  LoraMixture lora;  // the next issue's seam; must be empty for now
};

struct Generation {
  std::string text;
  std::vector<std::int32_t> tokens;
  FinishReason finish = FinishReason::kLength;
  std::int64_t prompt_tokens = 0;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  // Many requests at once; result i answers request i. The same request and seed give the
  // same text whatever else is in the batch.
  virtual std::vector<Generation> generate(std::span<const GenerationRequest> requests,
                                           GenerationStats* stats = nullptr) = 0;
  // Total log-probability (natural log) of each continuation after the prompt.
  virtual std::vector<double> score(const std::string& prompt,
                                    std::span<const std::string> continuations) = 0;
  // One L2-normalised vector per text (mean-pooled final hidden states).
  virtual std::vector<std::vector<float>> embed(std::span<const std::string> texts) = 0;
};

}  // namespace qdgen::inference
