#pragma once
// What every language model backend shares: sampling settings, LoRA mixtures, why a
// generation ended, and counters. No libtorch, no tokenizer: engine/, a remote backend and
// the embedded model all use these.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qdgen::llm {

struct SamplingSettings {
  double temperature = 1.0;  // 0: greedy (argmax, lowest id on ties)
  std::int64_t top_k = 0;    // 0: no top-k cut
  double top_p = 1.0;        // nucleus mass kept; 1: no cut
  std::uint64_t seed = 0;
};

// A weighted mixture of LoRA adapters for one request, by adapter name. A backend that has
// no adapter of a given name refuses the request rather than ignoring the weight.
struct LoraMixture {
  std::vector<std::pair<std::string, double>> adapters;  // adapter name, weight
  bool empty() const { return adapters.empty(); }
  friend bool operator==(const LoraMixture&, const LoraMixture&) = default;
};

// kCancelled: the caller's token callback asked to stop.
enum class FinishReason { kLength, kEos, kStop, kContext, kCancelled };
// "length", "eos", "stop", "context", "cancelled"
const char* finish_reason_name(FinishReason reason);

struct GenerationStats {
  std::int64_t prompt_tokens = 0;  // prompt tokens computed (shared prefixes counted once)
  std::int64_t reused_tokens = 0;  // prompt tokens served from a shared prefix
  std::int64_t generated_tokens = 0;
  std::int64_t decode_steps = 0;  // batched forward passes of the decode loop
  double seconds = 0;
};

}  // namespace qdgen::llm
