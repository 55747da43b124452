#pragma once
// The seam between qdgen's search and whichever LLM serves it: generate, score and embed on
// text, many requests per call. Implementations: the embedded Llama model (loaded from a
// module on first use, embedded_loader.hpp); a remote OpenAI-compatible server later.
// Nothing here needs libtorch.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qdgen/llm/generation.hpp"

namespace qdgen::llm {

// One step of a streamed generation: the tokens just produced and the text they completed
// (valid UTF-8; a token that ends inside a character holds its bytes back until the
// character is whole). Returning false cancels the request: it ends with kCancelled and
// frees its place in the batch.
struct TokenEvent {
  std::span<const std::int32_t> tokens;
  std::string_view text;
};
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerationRequest {
  std::string prompt;
  std::vector<std::int32_t> prompt_ids;  // used instead of `prompt` when non-empty
  std::int64_t max_tokens = 128;
  SamplingSettings sampling;      // temperature 0 is greedy; `seed` makes it repeatable
  std::vector<std::string> stop;  // generation ends at the first; the text excludes it
  bool stop_at_eos = true;
  LoraMixture lora;
  // Called on the model's thread as tokens arrive; keep it short. Empty: no streaming.
  TokenCallback on_token;
};

struct Generation {
  std::string text;
  std::vector<std::int32_t> tokens;
  FinishReason finish = FinishReason::kLength;
  std::int64_t prompt_tokens = 0;
};

// Log-probabilities of continuations after one prompt. A judge sends a whole iteration's
// candidates in one call; prompts that share a prefix (a judge's instruction) compute it once.
struct ScoreRequest {
  std::string prompt;
  std::vector<std::string> continuations;
  LoraMixture lora;
};

struct ContinuationScore {
  double logprob = 0;       // natural log of P(continuation | prompt), summed over its tokens
  std::int64_t tokens = 0;  // how many tokens the continuation took
};

struct EmbedRequest {
  std::string text;
  LoraMixture lora;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // What serves the requests, for logs and JSON output, e.g. "cpu (float32, 2 threads,
  // avx512 kernels)".
  virtual std::string description() const = 0;
  // The LoRA adapters requests may name in their mixtures, in load order.
  virtual std::vector<std::string> adapter_names() const { return {}; }

  // Result i answers request i. The same request and seed give the same text whatever else
  // shares the batch. Safe to call from several threads: an embedded model runs every call's
  // requests in one continuous batch.
  virtual std::vector<Generation> generate(std::span<const GenerationRequest> requests,
                                           GenerationStats* stats = nullptr) = 0;
  // result[i][j]: continuation j of request i.
  virtual std::vector<std::vector<ContinuationScore>> score(
      std::span<const ScoreRequest> requests) = 0;
  // One L2-normalised vector per text (mean-pooled final hidden states).
  virtual std::vector<std::vector<float>> embed(std::span<const EmbedRequest> requests) = 0;

  // Conveniences over the calls above (one prompt; texts without mixtures).
  std::vector<double> score_continuations(const std::string& prompt,
                                          std::span<const std::string> continuations);
  std::vector<std::vector<float>> embed_texts(std::span<const std::string> texts);
};

}  // namespace qdgen::llm
