#pragma once
// The core of BPE training: given distinct words (as token ids) with their counts, learn
// merges one at a time. Incremental, as in the Hugging Face trainer: a count per adjacent
// pair, the words each pair occurs in, and a max-heap of pairs with lazily refreshed counts;
// a merge rewrites only the words holding its pair and adjusts only the pairs around it.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference {

struct BpeWords {
  std::vector<TokenId> symbols;       // every word's tokens, one word after another
  std::vector<std::size_t> begin;     // word w starts at symbols[begin[w]]
  std::vector<std::uint32_t> length;  // and has length[w] tokens
  std::vector<std::uint64_t> count;   // how often it occurs

  void add(std::span<const TokenId> word, std::uint64_t occurrences);
};

// Where the merges go: which token a merge makes, and when to stop.
struct BpeMergeTarget {
  // The id of the token that joining (left, right) makes: a new one, or an existing one when
  // the joined text is already a token (as the Hugging Face trainer does); nullopt refuses
  // the pair for good.
  std::function<std::optional<TokenId>(TokenId left, TokenId right)> token_for;
  std::function<bool()> full;  // asked before each merge
};

// Merges in order: the pair with the highest count, ties to the smaller (left, right) ids;
// stops when target.full(), or when no pair occurs min_frequency times.
std::vector<std::pair<TokenId, TokenId>> learn_bpe_merges(BpeWords words,
                                                          std::uint64_t min_frequency,
                                                          const BpeMergeTarget& target);

}  // namespace qdgen::inference
