#pragma once
// A figure as a list of drawing items in pixel coordinates (origin top left, y down): the one
// geometry that both writers render, the SVG writer as elements and the PNG writer as pixels,
// so the two files of a map always agree. An item's `cell` (e.g. "3,7") tags it for the page
// and for tests (SVG: data-cell); `role` names what it is (SVG: class).

#include <array>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "qdgen/viz/colormap.hpp"

namespace qdgen::viz {

using Point = std::array<double, 2>;

struct Rect {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // x0 <= x1, y0 <= y1
  Rgb fill;
  std::string role, cell, title;
  bool outline = false;  // a 1-px frame in the ink colour instead of a fill
};
struct Polygon {
  std::vector<Point> points;
  Rgb fill;
  std::string role, cell, title;
};
struct Disc {
  Point centre;
  double radius = 3;
  Rgb fill;
  std::string role, cell, title;
};
struct Polyline {
  std::vector<Point> points;
  Rgb stroke;
  double width = 1.5;
  std::string role, series;  // series: the run it draws (SVG: data-series)
};
enum class Anchor { kStart, kMiddle, kEnd };
struct Text {
  Point at;  // the baseline's anchor point
  std::string text;
  double size = 12;
  Anchor anchor = Anchor::kStart;
  bool vertical = false;  // rotated -90 degrees about `at`
  std::string role;
};

using Item = std::variant<Rect, Polygon, Disc, Polyline, Text>;

// The two items every figure builds most: a text and a filled rectangle, with their role.
inline Text make_text(Point at, std::string text, double size, Anchor anchor, std::string role,
                      bool vertical = false) {
  Text t;
  t.at = at;
  t.text = std::move(text);
  t.size = size;
  t.anchor = anchor;
  t.vertical = vertical;
  t.role = std::move(role);
  return t;
}
inline Rect make_rect(double x0, double y0, double x1, double y1, Rgb fill, std::string role) {
  Rect r;
  r.x0 = x0;
  r.y0 = y0;
  r.x1 = x1;
  r.y1 = y1;
  r.fill = fill;
  r.role = std::move(role);
  return r;
}

struct Canvas {
  int width = 0, height = 0;
  std::string title;
  std::vector<Item> items;
};

}  // namespace qdgen::viz
