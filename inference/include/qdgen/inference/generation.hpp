#pragma once
// Token-level generation requests and results, shared by the model and the text-level
// LanguageModel. Sampling depends only on the request (its seed, its own logits row), never
// on which other requests share the batch.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qdgen::inference {

struct SamplingSettings {
  double temperature = 1.0;  // 0: greedy (argmax, lowest id on ties)
  std::int64_t top_k = 0;    // 0: no top-k cut
  double top_p = 1.0;        // nucleus mass kept; 1: no cut
  std::uint64_t seed = 0;
};

// A weighted mixture of LoRA adapters for one request: a seam for the next issue.
// Until adapters exist, a non-empty mixture is rejected rather than silently ignored.
struct LoraMixture {
  std::vector<std::pair<std::string, double>> adapters;  // adapter name, weight
};

struct TokenRequest {
  std::vector<std::int32_t> prompt;  // must be non-empty
  std::int64_t max_tokens = 128;
  SamplingSettings sampling;
  bool stop_at_eos = true;        // stop on any of the model's eos token ids
  std::vector<std::string> stop;  // stop strings; need a decoder (see GenerationOptions)
  LoraMixture lora;
};

enum class FinishReason { kLength, kEos, kStop, kContext };
const char* finish_reason_name(FinishReason reason);  // "length", "eos", "stop", "context"

struct TokenResult {
  std::vector<std::int32_t> tokens;  // generated ids (a matched stop string's tokens included)
  FinishReason finish = FinishReason::kLength;
};

struct GenerationStats {
  std::int64_t prompt_tokens = 0;  // prompt tokens computed (shared prefixes counted once)
  std::int64_t reused_tokens = 0;  // prompt tokens served from a shared prefix
  std::int64_t generated_tokens = 0;
  std::int64_t decode_steps = 0;  // batched forward passes of the decode loop
  double seconds = 0;
};

}  // namespace qdgen::inference
