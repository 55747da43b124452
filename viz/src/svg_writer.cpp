#include "qdgen/viz/svg_writer.hpp"

#include <cstdio>
#include <sstream>

namespace qdgen::viz {

namespace {

// Coordinates to 2 decimals: sharp enough for any screen, short enough for 10^4 cells.
std::string num(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  std::string out = text;
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  if (out == "-0") out = "0";
  return out;
}

std::string tags(const std::string& role, const std::string& cell) {
  std::string out;
  if (!role.empty()) out += " class=\"" + xml_escape(role) + "\"";
  if (!cell.empty()) out += " data-cell=\"" + xml_escape(cell) + "\"";
  return out;
}

std::string title_element(const std::string& title) {
  return title.empty() ? "" : "<title>" + xml_escape(title) + "</title>";
}

void write_points(std::ostream& out, const std::vector<Point>& points) {
  for (std::size_t i = 0; i < points.size(); ++i)
    out << (i ? " " : "") << num(points[i][0]) << "," << num(points[i][1]);
}

struct ItemWriter {
  std::ostream& out;
  void operator()(const Rect& r) const {
    out << "<rect" << tags(r.role, r.cell) << " x=\"" << num(r.x0) << "\" y=\"" << num(r.y0)
        << "\" width=\"" << num(r.x1 - r.x0) << "\" height=\"" << num(r.y1 - r.y0) << "\"";
    if (r.outline)
      out << " fill=\"none\" stroke=\"" << hex(kInkColour) << "\" stroke-width=\"1\"";
    else
      out << " fill=\"" << hex(r.fill) << "\"";
    if (r.title.empty())
      out << "/>\n";
    else
      out << ">" << title_element(r.title) << "</rect>\n";
  }
  void operator()(const Polygon& p) const {
    out << "<polygon" << tags(p.role, p.cell) << " points=\"";
    write_points(out, p.points);
    out << "\" fill=\"" << hex(p.fill) << "\" stroke=\"#ffffff\" stroke-width=\"0.5\">"
        << title_element(p.title) << "</polygon>\n";
  }
  void operator()(const Disc& d) const {
    out << "<circle" << tags(d.role, d.cell) << " cx=\"" << num(d.centre[0]) << "\" cy=\""
        << num(d.centre[1]) << "\" r=\"" << num(d.radius) << "\" fill=\"" << hex(d.fill) << "\">"
        << title_element(d.title) << "</circle>\n";
  }
  void operator()(const Polyline& l) const {
    out << "<polyline" << tags(l.role, "");
    if (!l.series.empty()) out << " data-series=\"" << xml_escape(l.series) << "\"";
    out << " points=\"";
    write_points(out, l.points);
    out << "\" fill=\"none\" stroke=\"" << hex(l.stroke) << "\" stroke-width=\"" << num(l.width)
        << "\" stroke-linejoin=\"round\"/>\n";
  }
  void operator()(const Text& t) const {
    const char* anchor = t.anchor == Anchor::kStart    ? "start"
                         : t.anchor == Anchor::kMiddle ? "middle"
                                                       : "end";
    out << "<text" << tags(t.role, "") << " x=\"" << num(t.at[0]) << "\" y=\"" << num(t.at[1])
        << "\" font-size=\"" << num(t.size) << "\" text-anchor=\"" << anchor << "\"";
    if (t.vertical)
      out << " transform=\"rotate(-90 " << num(t.at[0]) << " " << num(t.at[1]) << ")\"";
    out << ">" << xml_escape(t.text) << "</text>\n";
  }
};

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string to_svg(const Canvas& canvas) {
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << canvas.width << "\" height=\""
      << canvas.height << "\" viewBox=\"0 0 " << canvas.width << " " << canvas.height
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" fill=\"" << hex(kInkColour)
      << "\">\n";
  if (!canvas.title.empty()) out << "<title>" << xml_escape(canvas.title) << "</title>\n";
  out << "<rect x=\"0\" y=\"0\" width=\"" << canvas.width << "\" height=\"" << canvas.height
      << "\" fill=\"" << hex(kBackgroundColour) << "\"/>\n";
  const ItemWriter writer{out};
  for (const Item& item : canvas.items) std::visit(writer, item);
  out << "</svg>\n";
  return out.str();
}

}  // namespace qdgen::viz
