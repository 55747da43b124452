#pragma once
// The colours of every map qdgen draws: viridis for objective values (perceptually uniform,
// readable in grey and by colour-blind readers) and one grey, outside viridis, for empty cells.

#include <cstdint>
#include <string>

namespace qdgen::viz {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// Empty cells: a light grey (no viridis colour is grey), so "no elite" never reads as "low".
inline constexpr Rgb kEmptyColour{216, 216, 216};
inline constexpr Rgb kBackgroundColour{255, 255, 255};
inline constexpr Rgb kInkColour{34, 34, 34};

// t in [0, 1] (clamped; NaN is 0): matplotlib's viridis (CC0, van der Walt, Smith and Firing),
// here as 33 stops in 8-bit sRGB, interpolated linearly.
Rgb viridis(double t);
// Where `value` lies in [lo, hi] (0.5 when the range is a point).
double colour_position(double value, double lo, double hi);
std::string hex(Rgb colour);  // "#rrggbb"

}  // namespace qdgen::viz
