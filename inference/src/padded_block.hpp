#pragma once
// Rows of different lengths (prompts joining the batch, prompts or continuations to score) run
// as one block, each padded at its end to the longest: causality keeps the padding unseen, and
// one pass reads every weight once instead of once per row.

#include <cstdint>

namespace qdgen::inference {

// The padding rule: a row may join a block while the padded block (rows x steps positions)
// stays within twice the real tokens it carries plus 64, i.e. the padding costs no more than
// the tokens themselves, with some slack for small blocks.
inline bool padding_is_affordable(std::int64_t rows, std::int64_t steps, std::int64_t real_tokens) {
  return rows * steps <= 2 * real_tokens + 64;
}

}  // namespace qdgen::inference
