#pragma once
// A 3x5 pixel font for the text of PNG figures (drawn at twice the size): digits, letters
// (lowercase drawn as capitals) and the signs numbers and measure names use.

#include <array>
#include <cstdint>

namespace qdgen::viz::font {

inline constexpr int kColumns = 3, kRows = 5;

// Rows top to bottom, 3 bits each (4: left column, 2: middle, 1: right); nullptr: no glyph.
inline const std::array<std::uint8_t, kRows>* glyph(char c) {
  struct Entry {
    char c;
    std::array<std::uint8_t, kRows> rows;
  };
  static constexpr Entry kGlyphs[] = {
      {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}},  {'2', {7, 1, 7, 4, 7}},
      {'3', {7, 1, 3, 1, 7}}, {'4', {5, 5, 7, 1, 1}},  {'5', {7, 4, 7, 1, 7}},
      {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 2, 2}},  {'8', {7, 5, 7, 5, 7}},
      {'9', {7, 5, 7, 1, 7}}, {'A', {2, 5, 7, 5, 5}},  {'B', {6, 5, 6, 5, 6}},
      {'C', {3, 4, 4, 4, 3}}, {'D', {6, 5, 5, 5, 6}},  {'E', {7, 4, 6, 4, 7}},
      {'F', {7, 4, 6, 4, 4}}, {'G', {3, 4, 5, 5, 3}},  {'H', {5, 5, 7, 5, 5}},
      {'I', {7, 2, 2, 2, 7}}, {'J', {1, 1, 1, 5, 2}},  {'K', {5, 5, 6, 5, 5}},
      {'L', {4, 4, 4, 4, 7}}, {'M', {5, 7, 7, 5, 5}},  {'N', {6, 5, 5, 5, 5}},
      {'O', {2, 5, 5, 5, 2}}, {'P', {6, 5, 6, 4, 4}},  {'Q', {2, 5, 5, 6, 3}},
      {'R', {6, 5, 6, 5, 5}}, {'S', {3, 4, 2, 1, 6}},  {'T', {7, 2, 2, 2, 2}},
      {'U', {5, 5, 5, 5, 7}}, {'V', {5, 5, 5, 5, 2}},  {'W', {5, 5, 7, 7, 5}},
      {'X', {5, 5, 2, 5, 5}}, {'Y', {5, 5, 2, 2, 2}},  {'Z', {7, 1, 2, 4, 7}},
      {'.', {0, 0, 0, 0, 2}}, {',', {0, 0, 0, 2, 4}},  {'-', {0, 0, 7, 0, 0}},
      {'+', {0, 2, 7, 2, 0}}, {':', {0, 2, 0, 2, 0}},  {'(', {1, 2, 2, 2, 1}},
      {')', {4, 2, 2, 2, 4}}, {'/', {1, 1, 2, 4, 4}},  {'%', {5, 1, 2, 4, 5}},
      {'_', {0, 0, 0, 0, 7}}, {'=', {0, 7, 0, 7, 0}},  {'<', {1, 2, 4, 2, 1}},
      {'>', {4, 2, 1, 2, 4}}, {'\'', {2, 2, 0, 0, 0}}, {'?', {7, 1, 2, 0, 2}},
      {'[', {3, 2, 2, 2, 3}}, {']', {6, 2, 2, 2, 6}},  {'#', {5, 7, 5, 7, 5}},
      {'*', {5, 2, 7, 2, 5}}, {'&', {2, 5, 2, 5, 3}},  {' ', {0, 0, 0, 0, 0}},
  };
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Entry& entry : kGlyphs)
    if (entry.c == c) return &entry.rows;
  return nullptr;
}

}  // namespace qdgen::viz::font
