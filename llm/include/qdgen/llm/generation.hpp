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
// no adapter of a given name refuses the request rather than ignoring the weight; an adapter
// the mixture leaves out weighs 0.
struct LoraMixture {
  LoraMixture() = default;
  // A weight per adapter, the same in every layer, at every position. Implicit, so that the
  // brace forms written before layer weights and from_position existed keep their meaning,
  // e.g. request.lora = {{{"poems", 0.7}}}.
  LoraMixture(
      std::vector<std::pair<std::string, double>> weights)  // NOLINT(google-explicit-constructor)
      : adapters(std::move(weights)) {}

  std::vector<std::pair<std::string, double>> adapters;  // adapter name, weight in every layer
  // Adapter name, a weight per layer (layer 0 first, as many as the model has layers). An
  // adapter is named here or in `adapters`, not in both.
  std::vector<std::pair<std::string, std::vector<double>>> layer_weights;
  // "Activated" adapters: the mixture applies to the tokens at positions >= from_position;
  // those before are read by the base model alone, so a prompt prefix shared by requests of
  // different mixtures is computed (and kept) once. 0, the default, applies the mixture to
  // every position, prompt included, as PEFT does. kLastPromptToken: from a generation's or
  // score's last prompt token on, so that every token written or scored is steered.
  std::int64_t from_position = 0;
  static constexpr std::int64_t kLastPromptToken = -1;

  bool empty() const { return adapters.empty() && layer_weights.empty(); }
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
