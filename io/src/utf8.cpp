#include "qdgen/io/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace qdgen::io {
namespace {

unsigned char byte_at(std::string_view text, std::size_t pos) {
  return static_cast<unsigned char>(text[pos]);
}

bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// Allowed range of the second byte for a lead byte (Unicode Table 3-7).
bool second_byte_ok(unsigned char lead, unsigned char b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return is_continuation(b);
}

std::size_t expected_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// How many bytes starting at pos form a valid prefix of a sequence (the lead included).
std::size_t valid_prefix(std::string_view text, std::size_t pos, std::size_t need) {
  const unsigned char lead = byte_at(text, pos);
  std::size_t got = 1;
  while (got < need && pos + got < text.size()) {
    const unsigned char b = byte_at(text, pos + got);
    if (!(got == 1 ? second_byte_ok(lead, b) : is_continuation(b))) break;
    ++got;
  }
  return got;
}

// Texts are mostly ASCII: skip it eight bytes at a time.
std::size_t ascii_prefix(std::string_view text) {
  std::size_t pos = 0;
  for (; pos + 8 <= text.size(); pos += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + pos, 8);
    if (word & 0x8080808080808080ull) break;
  }
  while (pos < text.size() && byte_at(text, pos) < 0x80) ++pos;
  return pos;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

std::size_t valid_sequence_length(std::string_view text, std::size_t pos) {
  const std::size_t need = expected_length(byte_at(text, pos));
  if (need == 0) return 0;
  return valid_prefix(text, pos, need) == need ? need : 0;
}

std::size_t invalid_subpart_length(std::string_view text, std::size_t pos) {
  const std::size_t need = expected_length(byte_at(text, pos));
  if (need == 0) return 1;
  return valid_prefix(text, pos, need);
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = ascii_prefix(text); pos < text.size();) {
    const std::size_t n = valid_sequence_length(text, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string valid_utf8(std::string_view text) {
  std::size_t pos = ascii_prefix(text);
  if (pos == text.size() || is_valid_utf8(text.substr(pos))) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  out.append(text.substr(0, pos));
  while (pos < text.size()) {
    const std::size_t n = valid_sequence_length(text, pos);
    if (n > 0) {
      out.append(text.substr(pos, n));
      pos += n;
    } else {
      out.append(kReplacement);
      pos += invalid_subpart_length(text, pos);
    }
  }
  return out;
}

}  // namespace qdgen::io
