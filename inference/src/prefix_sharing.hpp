#pragma once
// Prompt prefixes that several requests of one call share (few-shot templates, judge
// instructions): found once per call, their KV computed once, and served to every request
// that starts with them, from the model's kept cache or, where that has no room, from a
// store that lives for the call.

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "llama_runtime.hpp"
#include "prefix_cache.hpp"
#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

// For each prompt: the length of the longest prefix it shares with some other prompt, read
// alike (KV read under different mixtures differs, except at the positions that neither
// applies to: first_differing_position), capped at its own length - 1 (its last token must
// still run to give logits); 0 when that is shorter than min_length. mixtures[i] belongs to
// prompts[i], resolved (resolved_mixture).
std::vector<std::size_t> shared_prefix_lengths(std::span<const std::vector<std::int32_t>> prompts,
                                               std::span<const LoraMixture> mixtures,
                                               std::size_t min_length);

// Where a call's prompts find KV computed before: the model's kept cache, then the call's own.
class PrefixSources {
 public:
  PrefixSources(const LlamaRuntime& runtime, PrefixCache& kept, PrefixCache& call);

  // The longer of the two caches' hits for `tokens`, at most max_length, and its cache.
  std::pair<PrefixCache*, PrefixCache::Hit> best_hit(std::span<const std::int32_t> tokens,
                                                     const LoraMixture& mixture,
                                                     std::int64_t max_length);

  struct Work {
    std::int64_t computed = 0;  // positions run through the model
    std::int64_t reused = 0;    // positions copied from an entry
  };
  // Makes sure an entry holds the KV of `prefix` read under `mixture`: computes what no entry
  // covers and keeps it in the kept cache, or in the call's when the kept one has no room.
  Work ensure(std::span<const std::int32_t> prefix, const LoraMixture& mixture);

 private:
  const LlamaRuntime& runtime_;
  PrefixCache& kept_;
  PrefixCache& call_;
};

}  // namespace qdgen::inference
