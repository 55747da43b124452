#pragma once
// PNG files decoded back with libpng, so the tests check the pixels a viewer sees.

#include <png.h>

#include <cstdint>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "qdgen/viz/colormap.hpp"

namespace qdgen_test {

struct DecodedPng {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  qdgen::viz::Rgb at(int x, int y) const {
    const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

inline DecodedPng decode_png(const std::string& bytes) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    throw std::runtime_error(std::string("not a PNG: ") + image.message);
  image.format = PNG_FORMAT_RGB;
  DecodedPng out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr))
    throw std::runtime_error(std::string("cannot decode the PNG: ") + image.message);
  return out;
}

}  // namespace qdgen_test

namespace qdgen::viz {
// Test messages name colours as #rrggbb.
inline std::ostream& operator<<(std::ostream& out, const Rgb& c) {
  return out << hex(c);
}
}  // namespace qdgen::viz
