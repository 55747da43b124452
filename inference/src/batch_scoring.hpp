#pragma once
// Scoring many (prompt, continuations) requests in one call: a judge's whole iteration.
//
// Prompts run in groups, each group's remainders in one padded pass; prefixes that several
// prompts share (a judge's instruction) are computed once, and a kept prefix serves any
// prompt that starts with it. Then the continuations of all the group's prompts run together:
// each row starts from a copy of its prompt's KV and feeds every continuation token but the
// last. On the CPU kernels every row's arithmetic is independent of the others', so a request
// scores bitwise as it does alone.

#include <span>
#include <vector>

#include "llama_runtime.hpp"
#include "prefix_cache.hpp"
#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

// Requests must have been validated (validate_score_request). result[i][j]: the sum of log P
// of continuation j's tokens after request i's prompt. Prompts are looked up in, and added to,
// `kept`.
std::vector<std::vector<double>> score_requests(const LlamaRuntime& runtime,
                                                std::span<const TokenScoreRequest> requests,
                                                PrefixCache& kept);

}  // namespace qdgen::inference
