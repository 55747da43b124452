#pragma once
// Finds prompt prefixes that several requests share (few-shot templates, judge instructions),
// so that their KV is computed once.

#include <cstdint>
#include <span>
#include <vector>

namespace qdgen::inference {

// For each prompt: the length of the longest prefix it shares with some other prompt, capped
// at its own length - 1 (its last token must still run to give logits); 0 when that is
// shorter than min_length.
std::vector<std::size_t> shared_prefix_lengths(std::span<const std::vector<std::int32_t>> prompts,
                                               std::size_t min_length);

}  // namespace qdgen::inference
