#pragma once
// A Canvas as pixels and as a PNG file (libpng, 8-bit RGB). A pixel takes an item's colour
// when its centre lies inside the item, so a cell edge at x puts the next cell's first pixel
// at column ceil(x - 0.5); items paint in order, later ones on top. Text is drawn with a
// small built-in bitmap font (letters, digits and common signs; others show as a box).

#include <cstdint>
#include <string>
#include <vector>

#include "qdgen/viz/canvas.hpp"

namespace qdgen::viz {

struct Raster {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // row-major, 3 bytes a pixel
  Rgb at(int x, int y) const;
  void set(int x, int y, Rgb colour);
};

Raster rasterize(const Canvas& canvas);
// The PNG file's bytes; throws std::runtime_error when libpng fails.
std::string encode_png(const Raster& raster);

}  // namespace qdgen::viz
