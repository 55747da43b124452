#pragma once
// Random valid UTF-8 for property tests: mostly ASCII, whitespace (JavaScript's and Unicode's
// sets, which differ) and digits, then the rest of the BMP, emoji and the supplementary
// planes; never a surrogate.

#include <random>
#include <string>

namespace qdgen_test {

inline char32_t random_code_point(std::mt19937& random) {
  switch (random() % 8) {
    case 0:
      return U" \t\n\r\v\f\u00A0\u2028\u3000\uFEFF\u0085"[random() % 11];
    case 1:
      return U'0' + random() % 10;
    case 2:
    case 3:
      return 0x20 + random() % 0x5F;
    case 4:
      return 0x80 + random() % 0x780;  // two-byte UTF-8
    case 5: {
      const char32_t cp = 0x800 + random() % (0x10000 - 0x800);
      return cp >= 0xD800 && cp <= 0xDFFF ? cp - 0x800 : cp;  // three bytes
    }
    case 6:
      return 0x1F300 + random() % 0x300;  // emoji
    default:
      return 0x10000 + random() % 0x100000;  // four bytes, any plane
  }
}

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Up to max_length code points; with special_token non-empty, it appears now and then.
inline std::string random_utf8(std::mt19937& random, int max_length,
                               const std::string& special_token = "") {
  std::string text;
  const int length = static_cast<int>(random() % static_cast<unsigned>(max_length + 1));
  for (int c = 0; c < length; ++c) {
    if (!special_token.empty() && random() % 50 == 0) {
      text += special_token;
    } else {
      append_utf8(text, random_code_point(random));
    }
  }
  return text;
}

}  // namespace qdgen_test
