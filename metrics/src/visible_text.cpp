#include "visible_text.hpp"

#include <cstdint>
#include <cstdio>

namespace qdgen::metrics::detail {
namespace {

// Length of the UTF-8 sequence at text[at] and its code point, or 0 when it is not valid.
std::size_t utf8_sequence(std::string_view text, std::size_t at, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[at + k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(k) & 0x3F);
  }
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  return code_point < minimum || code_point > 0x10FFFF || surrogate ? 0 : length;
}

bool invisible(std::uint32_t c) {
  return c == 0xA0 || c == 0xAD || (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 ||
         c == 0x2060 || c == 0xFEFF;
}

}  // namespace

std::string visible(std::string_view text, std::size_t max_bytes) {
  std::string out;
  char escape[16];
  for (std::size_t at = 0; at < text.size();) {
    if (at >= max_bytes) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(text[at]);
    if (byte >= 0x20 && byte < 0x7F) {
      out += text[at++];
      continue;
    }
    std::uint32_t code_point = 0;
    const std::size_t length = byte < 0x80 ? 0 : utf8_sequence(text, at, code_point);
    if (length == 0) {
      std::snprintf(escape, sizeof escape, "\\x%02X", byte);
      out += escape;
      ++at;
    } else if (invisible(code_point)) {
      std::snprintf(escape, sizeof escape, "\\u{%04X}", static_cast<unsigned>(code_point));
      out += escape;
      at += length;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

}  // namespace qdgen::metrics::detail
