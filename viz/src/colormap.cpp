#include "qdgen/viz/colormap.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace qdgen::viz {

namespace {

struct Stop {
  int at;  // of 255
  int r, g, b;
};

constexpr std::array<Stop, 33> kViridis = {{
    {0, 68, 1, 84},      {8, 71, 13, 96},     {16, 72, 24, 106},   {24, 72, 35, 116},
    {32, 71, 45, 123},   {40, 69, 55, 129},   {48, 66, 64, 134},   {56, 62, 73, 137},
    {64, 59, 82, 139},   {72, 55, 91, 141},   {80, 51, 99, 141},   {88, 47, 107, 142},
    {96, 44, 114, 142},  {104, 41, 122, 142}, {112, 38, 130, 142}, {120, 35, 137, 142},
    {128, 33, 145, 140}, {136, 31, 152, 139}, {144, 31, 160, 136}, {152, 34, 167, 133},
    {160, 40, 174, 128}, {168, 50, 182, 122}, {176, 63, 188, 115}, {184, 78, 195, 107},
    {192, 94, 201, 98},  {200, 112, 207, 87}, {208, 132, 212, 75}, {216, 152, 216, 62},
    {224, 173, 220, 48}, {232, 194, 223, 35}, {240, 216, 226, 25}, {248, 236, 229, 27},
    {255, 253, 231, 37},
}};

std::uint8_t mix(int a, int b, double f) {
  return static_cast<std::uint8_t>(std::lround(a + (b - a) * f));
}

}  // namespace

Rgb viridis(double t) {
  if (!(t > 0)) t = 0;
  if (t > 1) t = 1;
  const double x = t * 255.0;
  std::size_t i = 0;
  while (i + 2 < kViridis.size() && kViridis[i + 1].at <= x) ++i;
  const Stop& a = kViridis[i];
  const Stop& b = kViridis[i + 1];
  const double f = (x - a.at) / double(b.at - a.at);
  return {mix(a.r, b.r, f), mix(a.g, b.g, f), mix(a.b, b.b, f)};
}

double colour_position(double value, double lo, double hi) {
  if (!(hi > lo)) return 0.5;
  return (value - lo) / (hi - lo);
}

std::string hex(Rgb colour) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", colour.r, colour.g, colour.b);
  return text;
}

}  // namespace qdgen::viz
