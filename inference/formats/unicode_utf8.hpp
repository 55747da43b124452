#pragma once
// UTF-8 helpers the tokenizers share. Invalid input is repaired the way the WHATWG/JS
// TextDecoder does it (one U+FFFD per maximal invalid subpart), so that the reference
// tokenizer (Hugging Face tokenizers.js) and qdgen see the same text.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qdgen::inference::unicode {

inline constexpr char32_t kReplacement = 0xFFFD;

// Length of the valid UTF-8 sequence at text[pos], or 0 when it is not valid there.
std::size_t valid_sequence_length(std::string_view text, std::size_t pos);
// Length of the maximal invalid subpart at text[pos] (at least 1) when it is not valid.
std::size_t invalid_subpart_length(std::string_view text, std::size_t pos);

bool is_valid_utf8(std::string_view text);
std::string repair_utf8(std::string_view text);

// Code point starting at text[pos] (text must be valid UTF-8); advances pos.
char32_t next_code_point(std::string_view text, std::size_t& pos);
void append_utf8(std::string& out, char32_t cp);
std::vector<std::string_view> split_code_points(std::string_view text);

// JavaScript's \s set: what tokenizers.js's ByteLevel regex and trim() treat as space.
bool is_js_whitespace(char32_t cp);
std::string_view trim_js_whitespace_start(std::string_view text);
std::string_view trim_js_whitespace_end(std::string_view text);

// GPT-2's reversible byte <-> printable code point map used by byte-level BPE.
const std::array<char32_t, 256>& bytes_to_unicode();
// -1 when cp is not in the byte-level alphabet.
int unicode_to_byte(char32_t cp);

}  // namespace qdgen::inference::unicode
