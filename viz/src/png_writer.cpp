#include "qdgen/viz/png_writer.hpp"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <stdexcept>

#include "bitmap_font.hpp"

namespace qdgen::viz {

namespace {

// Pixels whose centres x + 0.5 lie in [lo, hi): the first and one past the last.
std::pair<int, int> covered(double lo, double hi, int limit) {
  const int first = std::max(0, static_cast<int>(std::ceil(lo - 0.5)));
  const int last = std::min(limit, static_cast<int>(std::ceil(hi - 0.5)));
  return {first, last};
}

void fill_rect(Raster& r, double x0, double y0, double x1, double y1, Rgb colour) {
  const auto [cx0, cx1] = covered(x0, x1, r.width);
  const auto [cy0, cy1] = covered(y0, y1, r.height);
  for (int y = cy0; y < cy1; ++y)
    for (int x = cx0; x < cx1; ++x) r.set(x, y, colour);
}

// Even-odd fill by pixel centres: for each row, where the edges cross its centre line.
void fill_polygon(Raster& r, const std::vector<Point>& points, Rgb colour) {
  if (points.size() < 3) return;
  double top = points[0][1], bottom = points[0][1];
  for (const Point& p : points) {
    top = std::min(top, p[1]);
    bottom = std::max(bottom, p[1]);
  }
  const auto [ry0, ry1] = covered(top, bottom, r.height);
  std::vector<double> crossings;
  for (int y = ry0; y < ry1; ++y) {
    const double cy = y + 0.5;
    crossings.clear();
    for (std::size_t i = 0; i < points.size(); ++i) {
      const Point& a = points[i];
      const Point& b = points[(i + 1) % points.size()];
      if ((a[1] <= cy && b[1] > cy) || (b[1] <= cy && a[1] > cy))
        crossings.push_back(a[0] + (cy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
    }
    std::sort(crossings.begin(), crossings.end());
    for (std::size_t i = 0; i + 1 < crossings.size(); i += 2) {
      const auto [x0, x1] = covered(crossings[i], crossings[i + 1], r.width);
      for (int x = x0; x < x1; ++x) r.set(x, y, colour);
    }
  }
}

void fill_disc(Raster& r, const Disc& d) {
  const auto [x0, x1] = covered(d.centre[0] - d.radius, d.centre[0] + d.radius, r.width);
  const auto [y0, y1] = covered(d.centre[1] - d.radius, d.centre[1] + d.radius, r.height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const double dx = x + 0.5 - d.centre[0], dy = y + 0.5 - d.centre[1];
      if (dx * dx + dy * dy <= d.radius * d.radius) r.set(x, y, d.fill);
    }
}

// A line as a chain of squares `width` wide, one per half pixel of its length.
void stroke_line(Raster& r, Point a, Point b, double width, Rgb colour) {
  const double length = std::hypot(b[0] - a[0], b[1] - a[1]);
  const int steps = std::max(1, static_cast<int>(length * 2));
  const double half = std::max(width, 1.0) / 2;
  for (int i = 0; i <= steps; ++i) {
    const double t = double(i) / steps;
    const double x = a[0] + t * (b[0] - a[0]), y = a[1] + t * (b[1] - a[1]);
    fill_rect(r, x - half, y - half, x + half, y + half, colour);
  }
}

// Characters as the font draws them: UTF-8 sequences become one box each, "↔" becomes "<>".
std::string font_text(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      out += text[i++];
      continue;
    }
    std::size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    out += text.compare(i, length, "↔") == 0 ? "<>" : "\x01";
    i += length;
  }
  return out;
}

void draw_text(Raster& r, const Text& t) {
  const std::string text = font_text(t.text);
  const int scale = std::max(1, static_cast<int>(std::lround(t.size / 6)));
  const int advance = (font::kColumns + 1) * scale;
  const double width = static_cast<double>(text.size()) * advance - scale;
  const double shift = t.anchor == Anchor::kStart    ? 0
                       : t.anchor == Anchor::kMiddle ? width / 2
                                                     : width;
  for (std::size_t k = 0; k < text.size(); ++k) {
    const auto* rows = font::glyph(text[k]);
    for (int row = 0; row < font::kRows; ++row)
      for (int column = 0; column < font::kColumns; ++column) {
        const bool on = rows ? ((*rows)[row] >> (font::kColumns - 1 - column)) & 1
                             : row == 0 || row == font::kRows - 1 || column == 0 ||
                                   column == font::kColumns - 1;
        if (!on) continue;
        // The pixel square's corner along the text (u) and above the baseline (v).
        const double u = static_cast<double>(k) * advance + column * scale - shift;
        const double v = (font::kRows - row) * scale;
        if (t.vertical)  // rotated -90 degrees about `at`: reads upwards
          fill_rect(r, t.at[0] - v, t.at[1] - u - scale, t.at[0] - v + scale, t.at[1] - u,
                    kInkColour);
        else
          fill_rect(r, t.at[0] + u, t.at[1] - v, t.at[0] + u + scale, t.at[1] - v + scale,
                    kInkColour);
      }
  }
}

struct ItemPainter {
  Raster& raster;
  void operator()(const Rect& r) const {
    if (!r.outline) {
      fill_rect(raster, r.x0, r.y0, r.x1, r.y1, r.fill);
      return;
    }
    // A 1-pixel frame just outside the rectangle, so that it never covers what it frames.
    fill_rect(raster, r.x0 - 1, r.y0 - 1, r.x1 + 1, r.y0, kInkColour);
    fill_rect(raster, r.x0 - 1, r.y1, r.x1 + 1, r.y1 + 1, kInkColour);
    fill_rect(raster, r.x0 - 1, r.y0, r.x0, r.y1, kInkColour);
    fill_rect(raster, r.x1, r.y0, r.x1 + 1, r.y1, kInkColour);
  }
  void operator()(const Polygon& p) const { fill_polygon(raster, p.points, p.fill); }
  void operator()(const Disc& d) const { fill_disc(raster, d); }
  void operator()(const Polyline& l) const {
    for (std::size_t i = 0; i + 1 < l.points.size(); ++i)
      stroke_line(raster, l.points[i], l.points[i + 1], l.width, l.stroke);
  }
  void operator()(const Text& t) const { draw_text(raster, t); }
};

void append_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void flush_nothing(png_structp) {}

}  // namespace

Rgb Raster::at(int x, int y) const {
  const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
  return {rgb[i], rgb[i + 1], rgb[i + 2]};
}

void Raster::set(int x, int y, Rgb colour) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
  rgb[i] = colour.r;
  rgb[i + 1] = colour.g;
  rgb[i + 2] = colour.b;
}

Raster rasterize(const Canvas& canvas) {
  Raster raster;
  raster.width = canvas.width;
  raster.height = canvas.height;
  raster.rgb.resize(static_cast<std::size_t>(canvas.width) * canvas.height * 3);
  for (std::size_t i = 0; i < raster.rgb.size(); i += 3) {
    raster.rgb[i] = kBackgroundColour.r;
    raster.rgb[i + 1] = kBackgroundColour.g;
    raster.rgb[i + 2] = kBackgroundColour.b;
  }
  const ItemPainter painter{raster};
  for (const Item& item : canvas.items) std::visit(painter, item);
  return raster;
}

std::string encode_png(const Raster& raster) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) throw std::runtime_error("libpng: cannot create a PNG writer");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("libpng: cannot create a PNG writer");
  }
  std::string out;
  std::vector<png_const_bytep> rows(static_cast<std::size_t>(raster.height));
  // libpng reports errors by longjmp: nothing with a destructor may be created below.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng: encoding the PNG failed");
  }
  png_set_write_fn(png, &out, append_bytes, flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(raster.width),
               static_cast<png_uint_32>(raster.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  for (int y = 0; y < raster.height; ++y)
    rows[static_cast<std::size_t>(y)] =
        raster.rgb.data() + static_cast<std::size_t>(y) * raster.width * 3;
  png_set_rows(png, info, const_cast<png_bytepp>(rows.data()));
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace qdgen::viz
