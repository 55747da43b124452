#include "state_codec.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace qdgen::engine {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static_assert(std::endian::native == std::endian::little, "state encoding assumes little-endian");

int sextet(char c) {
  const char* at = std::strchr(kAlphabet, c);
  if (c == '\0' || at == nullptr) throw std::runtime_error("engine state: corrupt base64");
  return static_cast<int>(at - kAlphabet);
}
}  // namespace

std::string encode_doubles(const double* values, std::size_t count) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(values);
  const std::size_t n = count * sizeof(double);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t b0 = bytes[i];
    const std::uint32_t b1 = i + 1 < n ? bytes[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < n ? bytes[i + 2] : 0;
    const std::uint32_t word = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(word >> 18) & 63];
    out += kAlphabet[(word >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(word >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[word & 63] : '=';
  }
  return out;
}

void decode_doubles(const std::string& text, double* values, std::size_t count) {
  const std::size_t n = count * sizeof(double);
  if (text.size() != (n + 2) / 3 * 4)
    throw std::runtime_error("engine state: expected " + std::to_string(count) +
                             " encoded numbers, got " + std::to_string(text.size()) +
                             " characters");
  auto* bytes = reinterpret_cast<unsigned char*>(values);
  std::size_t written = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t word = 0;
    for (std::size_t k = 0; k < 4; ++k)
      word =
          (word << 6) | (text[i + k] == '=' ? 0u : static_cast<std::uint32_t>(sextet(text[i + k])));
    for (int shift = 16; shift >= 0 && written < n; shift -= 8)
      bytes[written++] = static_cast<unsigned char>((word >> shift) & 0xFF);
  }
}

}  // namespace qdgen::engine
