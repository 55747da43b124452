#pragma once
// The one rule for text that leaves qdgen (JSON, SQLite, a terminal): valid UTF-8, with each
// maximal invalid subpart replaced by U+FFFD, as the WHATWG TextDecoder (and so the Hugging
// Face tokenizers.js reference) does. Byte-level tokens can end mid-character; their ids keep
// the exact bytes, their text goes through valid_utf8.

#include <cstddef>
#include <string>
#include <string_view>

namespace qdgen::io {

bool is_valid_utf8(std::string_view text);
// `text` itself when it is valid, else the repaired copy.
std::string valid_utf8(std::string_view text);

// Length of the valid UTF-8 sequence at text[pos], or 0 when it is not valid there.
std::size_t valid_sequence_length(std::string_view text, std::size_t pos);
// Length of the maximal invalid subpart at text[pos] (at least 1) when it is not valid.
std::size_t invalid_subpart_length(std::string_view text, std::size_t pos);

}  // namespace qdgen::io
