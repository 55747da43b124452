#pragma once
// One generate() call as the batch engine holds it: its requests and options, what its prompts
// share, its results and counters. The thread that drives the batch writes it; the thread that
// submitted it reads it once the engine has published it as ended.

#include <chrono>
#include <cstdint>
#include <exception>
#include <span>
#include <vector>

#include "llama_runtime.hpp"
#include "prefix_cache.hpp"
#include "qdgen/inference/model.hpp"

namespace qdgen::inference {

struct GenerationCall {
  // Requests must have been validated.
  GenerationCall(const LlamaRuntime& runtime, std::span<const TokenRequest> requests,
                 const GenerationOptions& options);

  // Positions of the model's KV cache the request can fill: its prompt and every generated
  // token but the last (which is never fed back), within the context.
  std::int64_t positions_needed(std::size_t request) const;
  bool is_eos(std::int32_t token) const;

  const LlamaConfig& config;
  std::vector<TokenRequest> requests;  // their mixtures resolved (resolved_mixture)
  GenerationOptions options;
  std::int64_t min_prefix;  // the shortest kept or shared prefix worth reusing
  // Per request: the prompt prefix it shares with other prompts of the call (0: none), whose
  // KV is computed once for all of them.
  std::vector<std::size_t> shared_prefix;
  // Shared prefixes the model's kept cache had no room for; emptied once every request joined.
  PrefixCache own_prefixes;

  std::vector<TokenResult> results;
  std::vector<bool> ended;
  std::size_t unended = 0;  // requests waiting or in the batch
  std::size_t waiting = 0;  // requests not yet in the batch
  GenerationStats stats;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::exception_ptr error;     // the first thing its callbacks or the model threw
  std::uint64_t last_step = 0;  // the decode step it last counted
  bool published = false;       // ended, and handed to its waiter (under the engine's mutex)
};

}  // namespace qdgen::inference
