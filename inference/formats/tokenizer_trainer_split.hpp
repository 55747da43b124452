#pragma once
// The pre-tokenizer of trained tokenizers: a split in Llama 3's style, then GPT-2's byte-level
// map. The trainer counts words with the very code load_tokenizer builds from this JSON, so
// training and encoding cut text alike.
//
// Llama 3's pattern, alternative by alternative: contractions; a word with at most one
// leading non-letter (" the", "\"The"); numbers of up to three digits; punctuation runs with
// the line breaks after them; line breaks; other whitespace. Two changes, for text laid out
// with indentation and double spaces (fortunes, poems, mail), which spent 4.5 % of its tokens
// on bare whitespace with Llama 3's pattern:
//   - a number takes one leading space, as GPT-2's pattern has it (" 1971", not " " "197" "1");
//   - a punctuation run takes the horizontal whitespace before it ("\t\t--") and the
//     whitespace after it, up to the line break or up to the space that the next word takes
//     (".  The" splits as ". " and " The").
// Only constructs that ICU, Oniguruma and tokenizers.js read alike: \s is Unicode White_Space
// in all three (qdgen and tokenizers.js rewrite it so), and (?i:...) folds the same letters
// (neither takes "'ſ" or "'\u212A" for a contraction; the reference test checks).

#include <nlohmann/json.hpp>

namespace qdgen::inference {

inline constexpr const char* kTrainedSplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d))"
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+)"
    R"(| ?\p{N}{1,3})"
    R"(|[^\S\r\n]*[^\s\p{L}\p{N}]+(?:[^\S\r\n]*[\r\n]+|[^\S\r\n]+(?=[^\S\r\n]))?)"
    R"(|\s*[\r\n]+)"
    R"(|\s+(?!\S))"
    R"(|\s+)";

inline nlohmann::ordered_json trained_split_pre_tokenizer() {
  return {{"type", "Split"},
          {"pattern", {{"Regex", kTrainedSplitPattern}}},
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
