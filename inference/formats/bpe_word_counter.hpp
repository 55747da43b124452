#pragma once
// The first step of BPE training: the corpus cut into pre-tokenized words, each distinct word
// counted once, on several threads. The cut is the one encoding makes: special tokens out
// first, then the pre-tokenizer (the same code that load_tokenizer runs) on what is left.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer_hf_components.hpp"

namespace qdgen::inference {

struct WordCount {
  std::string bytes;  // the word's UTF-8 bytes
  std::uint64_t count;
};

// Distinct words in byte order (so the result does not depend on the threads).
// Invalid UTF-8 is repaired first, as encoding does.
std::vector<WordCount> count_words(std::span<const std::string_view> texts,
                                   const hf::PreTokenizer& pre_tokenizer,
                                   std::span<const std::string> special_tokens, unsigned threads);

}  // namespace qdgen::inference
