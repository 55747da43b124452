#pragma once
// Internal: file text quoted in an error message so that every byte shows. A NUL would end
// the message early, a byte-order mark or a zero-width space would hide in it, and control
// or invalid UTF-8 bytes would garble a terminal.

#include <string>
#include <string_view>

namespace qdgen::metrics::detail {

// The text with control bytes, DEL and invalid UTF-8 as \xNN, invisible code points
// (U+00A0, U+00AD, U+200B-U+200F, U+2028, U+2029, U+2060, U+FEFF) as \u{hex code}, and anything
// past max_bytes cut to "...".
std::string visible(std::string_view text, std::size_t max_bytes = 60);

// The UTF-8 byte-order mark some editors write before the first line.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

}  // namespace qdgen::metrics::detail
