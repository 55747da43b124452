#pragma once
// The pre-tokenizer of trained tokenizers: Llama 3's split (contractions, words with one
// leading non-letter, numbers of up to three digits, punctuation runs with their line
// breaks, whitespace), then GPT-2's byte-level map. The trainer counts words with the very
// code load_tokenizer builds from this JSON, so training and encoding cut text alike.

#include <nlohmann/json.hpp>

namespace qdgen::inference {

inline nlohmann::ordered_json trained_split_pre_tokenizer() {
  return {
      {"type", "Split"},
      {"pattern",
       {{"Regex",
         R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"},
      {"invert", false}};
}

inline nlohmann::ordered_json trained_pre_tokenizer() {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {trained_split_pre_tokenizer(),
            {{"type", "ByteLevel"},
             {"add_prefix_space", false},
             {"trim_offsets", true},
             {"use_regex", false}}}}};
}

}  // namespace qdgen::inference
