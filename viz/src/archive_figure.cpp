// The archive map (figures.hpp): one canvas that both archive.svg and archive.png render.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "axes.hpp"
#include "qdgen/viz/figures.hpp"

namespace qdgen::viz {

namespace {

using nlohmann::json;

constexpr double kLeft = 96, kTop = 48;
constexpr double kSquare = 480;                         // a 2-D map's side
constexpr double kStripWidth = 560, kStripHeight = 56;  // a 1-D map
constexpr double kPanel = 170, kPanelGap = 46;          // pairs of measures
constexpr int kMostPanelMeasures = 6;

struct ColourScale {
  double lo = 0, hi = 1;
  bool known = false;  // no elite, no range: the bar's ends say so
  std::string end(double value) const { return known ? short_number(value) : "-"; }
  Rgb colour(const json& objective) const {
    return viridis(objective.is_number() ? colour_position(objective.get<double>(), lo, hi) : 0.0);
  }
};

struct Range {
  double lo = 0, hi = 1;
  double along(double value, double length) const { return length * (value - lo) / (hi - lo); }
};

std::string cell_label(const json& elite) {
  std::string out;
  for (const json& i : elite["index"])
    out += (out.empty() ? "" : ",") + std::to_string(i.get<std::int64_t>());
  return out;
}

std::string elite_title(const json& elite) {
  std::string out = "cell " + cell_label(elite) + ": objective ";
  out += elite["objective"].is_number() ? short_number(elite["objective"].get<double>()) : "NaN";
  return out + " (candidate " + std::to_string(elite["id"].get<std::int64_t>()) + ")";
}

Rect frame_outline(const MapFrame& f) {
  Rect r = make_rect(f.left, f.top, f.left + f.width, f.top + f.height, kInkColour, "frame");
  r.outline = true;
  return r;
}

// Tick marks and labels: at every edge of a grid axis with few edges (labels that would
// touch the previous one are left out), else at round values.
std::vector<double> axis_ticks(const MeasureAxis& axis, Range range) {
  if (!axis.edges.empty() && axis.edges.size() <= 21) return axis.edges;
  return nice_ticks(range.lo, range.hi, 5);
}

void x_axis(Canvas& c, const MapFrame& f, Range range, const std::vector<double>& ticks,
            const std::string& name, double size = 11) {
  double last = -1e9;
  for (const double t : ticks) {
    if (t < range.lo - 1e-12 || t > range.hi + 1e-12) continue;
    const double x = f.left + range.along(t, f.width);
    c.items.push_back(
        make_rect(x - 0.5, f.top + f.height, x + 0.5, f.top + f.height + 5, kInkColour, "tick"));
    const std::string text = short_number(t);
    const double half = 0.33 * size * static_cast<double>(text.size());
    if (x - half < last + 4) continue;
    c.items.push_back(
        make_text({x, f.top + f.height + 7 + size}, text, size, Anchor::kMiddle, "tick-label"));
    last = x + half;
  }
  c.items.push_back(make_text({f.left + f.width / 2, f.top + f.height + 16 + 2 * size}, name,
                              size + 2, Anchor::kMiddle, "axis-label"));
}

void y_axis(Canvas& c, const MapFrame& f, Range range, const std::vector<double>& ticks,
            const std::string& name, double size = 11) {
  double last = 1e9;
  double widest = 0;
  for (const double t : ticks) {
    if (t < range.lo - 1e-12 || t > range.hi + 1e-12) continue;
    const double y = f.top + f.height - range.along(t, f.height);
    c.items.push_back(make_rect(f.left - 5, y - 0.5, f.left, y + 0.5, kInkColour, "tick"));
    if (y > last - size - 2) continue;
    const std::string text = short_number(t);
    widest = std::max(widest, 0.62 * size * static_cast<double>(text.size()));
    c.items.push_back(
        make_text({f.left - 8, y + size / 2 - 1}, text, size, Anchor::kEnd, "tick-label"));
    last = y;
  }
  c.items.push_back(make_text({f.left - 14 - std::max(widest, 2 * size), f.top + f.height / 2},
                              name, size + 2, Anchor::kMiddle, "axis-label", true));
}

void colour_bar(Canvas& c, double x, double top, double height, const ColourScale& scale) {
  constexpr int kStripes = 64;
  constexpr double kWidth = 16;
  for (int i = 0; i < kStripes; ++i) {
    const double y0 = top + height * i / kStripes, y1 = top + height * (i + 1) / kStripes;
    c.items.push_back(
        make_rect(x, y0, x + kWidth, y1, viridis(1.0 - (i + 0.5) / kStripes), "colour-bar"));
  }
  Rect outline = make_rect(x, top, x + kWidth, top + height, kInkColour, "colour-bar-frame");
  outline.outline = true;
  c.items.push_back(outline);
  c.items.push_back(
      make_text({x + kWidth + 5, top + 10}, scale.end(scale.hi), 11, Anchor::kStart, "colour-max"));
  c.items.push_back(make_text({x + kWidth + 5, top + height}, scale.end(scale.lo), 11,
                              Anchor::kStart, "colour-min"));
  c.items.push_back(make_text({x + kWidth + 16, top + height / 2}, "objective", 12, Anchor::kMiddle,
                              "colour-label", true));
  // What empty looks like, below the bar.
  c.items.push_back(
      make_rect(x, top + height + 14, x + kWidth, top + height + 30, kEmptyColour, "empty-swatch"));
  c.items.push_back(
      make_text({x + kWidth + 5, top + height + 27}, "empty", 11, Anchor::kStart, "empty-label"));
}

Range axis_range(const ArchiveLayout& layout, const json& elites, std::size_t d) {
  if (layout.type != ArchiveType::kNovelty) return {layout.axes[d].lo, layout.axes[d].hi};
  const json& ranges = elites["measure_range"];
  if (!ranges.is_array() || d >= ranges.size() || !ranges[d].is_array()) return {0, 1};
  double lo = ranges[d][0], hi = ranges[d][1];
  const double pad = hi > lo ? (hi - lo) * 0.05 : 0.5;
  return {lo - pad, hi + pad};
}

double measure(const json& elite, std::size_t d) {
  const json& m = elite["measures"];
  return d < m.size() && m[d].is_number() ? m[d].get<double>()
                                          : std::numeric_limits<double>::quiet_NaN();
}

void scatter(Canvas& c, const MapFrame& f, const json& elites, std::size_t dx, std::size_t dy,
             Range rx, Range ry, const ColourScale& scale, bool tag) {
  const double radius = elites["elites"].size() > 2000 ? 2.0 : 3.5;
  for (const json& e : elites["elites"]) {
    const double mx = measure(e, dx);
    const double my = dy == dx ? (rx.lo + rx.hi) / 2 : measure(e, dy);
    if (!std::isfinite(mx) || !std::isfinite(my)) continue;
    Disc d;
    d.centre = {f.left + rx.along(std::clamp(mx, rx.lo, rx.hi), f.width),
                f.top + f.height - ry.along(std::clamp(my, ry.lo, ry.hi), f.height)};
    if (dy == dx) d.centre[1] = f.top + f.height / 2;
    d.radius = radius;
    d.fill = scale.colour(e["objective"]);
    d.role = "member";
    if (tag) {
      d.cell = cell_label(e);
      d.title = elite_title(e);
    }
    c.items.push_back(std::move(d));
  }
}

// Grid cells over measures dx, dy (dx == dy: a 1-D strip); with more measures, the best
// objective over the others.
void grid_cells(Canvas& c, const MapFrame& f, const ArchiveLayout& layout, const json& elites,
                std::size_t dx, std::size_t dy, const ColourScale& scale, bool tag) {
  const auto& ex = layout.axes[dx].edges;
  const auto& ey = layout.axes[dy].edges;
  const Range rx{ex.front(), ex.back()}, ry{ey.front(), ey.back()};
  std::map<std::pair<std::int64_t, std::int64_t>, const json*> best;
  for (const json& e : elites["elites"]) {
    const std::int64_t i = e["index"][dx], j = dy == dx ? 0 : e["index"][dy].get<std::int64_t>();
    const json*& slot = best[{i, j}];
    const double objective = e["objective"].is_number() ? e["objective"].get<double>() : -INFINITY;
    if (slot == nullptr || ((*slot)["objective"].is_number() ? (*slot)["objective"].get<double>()
                                                             : -INFINITY) < objective)
      slot = &e;
  }
  for (const auto& [ij, e] : best) {
    const auto [i, j] = ij;
    Rect r =
        make_rect(f.left + rx.along(ex[i], f.width), f.top, f.left + rx.along(ex[i + 1], f.width),
                  f.top + f.height, scale.colour((*e)["objective"]), "cell");
    if (dy != dx) {
      r.y0 = f.top + f.height - ry.along(ey[j + 1], f.height);
      r.y1 = f.top + f.height - ry.along(ey[j], f.height);
    }
    if (tag) {
      r.cell = cell_label(*e);
      r.title = elite_title(*e);
    } else {
      r.role = "projection";
    }
    c.items.push_back(std::move(r));
  }
}

void cvt_cells(Canvas& c, const MapFrame& f, const ArchiveLayout& layout, const json& elites,
               const ColourScale& scale) {
  const Range rx{layout.axes[0].lo, layout.axes[0].hi}, ry{layout.axes[1].lo, layout.axes[1].hi};
  std::vector<const json*> by_cell(layout.voronoi.size(), nullptr);
  for (const json& e : elites["elites"]) {
    const std::int64_t cell = e["cell"];
    if (cell >= 0 && static_cast<std::size_t>(cell) < by_cell.size()) by_cell[cell] = &e;
  }
  for (std::size_t i = 0; i < layout.voronoi.size(); ++i) {
    Polygon p;
    for (const auto& v : layout.voronoi[i])
      p.points.push_back(
          {f.left + rx.along(v[0], f.width), f.top + f.height - ry.along(v[1], f.height)});
    p.cell = std::to_string(i);
    if (by_cell[i] != nullptr) {
      p.fill = scale.colour((*by_cell[i])["objective"]);
      p.role = "cell";
      p.title = elite_title(*by_cell[i]);
    } else {
      p.fill = kEmptyColour;
      p.role = "empty";
    }
    c.items.push_back(std::move(p));
  }
}

// A 1-D CVT's cells are intervals between neighbouring centroids' midpoints.
void cvt_strip(Canvas& c, const MapFrame& f, const ArchiveLayout& layout, const json& elites,
               const ColourScale& scale) {
  const Range rx{layout.axes[0].lo, layout.axes[0].hi};
  std::vector<std::pair<double, std::int64_t>> order;
  for (Eigen::Index i = 0; i < layout.centroids.rows(); ++i)
    order.emplace_back(layout.centroids(i, 0), i);
  std::sort(order.begin(), order.end());
  std::map<std::int64_t, const json*> by_cell;
  for (const json& e : elites["elites"]) by_cell[e["cell"].get<std::int64_t>()] = &e;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const double lo = k == 0 ? rx.lo : (order[k - 1].first + order[k].first) / 2;
    const double hi = k + 1 == order.size() ? rx.hi : (order[k].first + order[k + 1].first) / 2;
    const auto found = by_cell.find(order[k].second);
    const bool filled = found != by_cell.end();
    Rect r = make_rect(f.left + rx.along(lo, f.width), f.top, f.left + rx.along(hi, f.width),
                       f.top + f.height,
                       filled ? scale.colour((*found->second)["objective"]) : kEmptyColour,
                       filled ? "cell" : "empty");
    r.cell = std::to_string(order[k].second);
    if (filled) r.title = elite_title(*found->second);
    c.items.push_back(std::move(r));
  }
}

std::string describe(const ArchiveLayout& layout, const json& run, const json& elites) {
  std::string out = run.value("name", std::string("run")) + ": " + to_string(layout.type);
  if (layout.type == ArchiveType::kGrid) {
    std::string shape;
    for (const auto& axis : layout.axes)
      shape += (shape.empty() ? " " : " x ") + std::to_string(axis.edges.size() - 1);
    out += shape;
  }
  const std::int64_t count = elites.value("count", std::int64_t{0});
  out += ", " + std::to_string(count) +
         (layout.cells > 0 ? " of " + std::to_string(layout.cells) + " cells filled" : " members");
  if (elites["iteration"].is_number())
    out += ", iteration " + std::to_string(elites["iteration"].get<std::int64_t>());
  return out;
}

}  // namespace

MapFrame map_frame(const ArchiveLayout& layout) {
  if (layout.measure_dim() == 1) return {kLeft, kTop, kStripWidth, kStripHeight};
  return {kLeft, kTop, kSquare, kSquare};
}

Canvas archive_canvas(const ArchiveLayout& layout, const json& run, const json& elites) {
  Canvas c;
  c.title = describe(layout, run, elites);
  ColourScale scale;
  if (elites["objective_range"].is_array()) {
    scale.lo = elites["objective_range"][0];
    scale.hi = elites["objective_range"][1];
    scale.known = true;
  }
  c.items.push_back(make_text({kLeft, 24}, c.title, 14, Anchor::kStart, "title"));
  const int dims = layout.measure_dim();
  const bool grid = layout.type == ArchiveType::kGrid;

  if (dims <= 2) {
    const MapFrame f = map_frame(layout);
    const std::size_t dy = dims == 2 ? 1 : 0;
    const Range rx = axis_range(layout, elites, 0), ry = axis_range(layout, elites, dy);
    const bool cells = grid || layout.type == ArchiveType::kCvt;
    if (cells)
      c.items.push_back(
          make_rect(f.left, f.top, f.left + f.width, f.top + f.height, kEmptyColour, "empty"));
    if (grid)
      grid_cells(c, f, layout, elites, 0, dy, scale, true);
    else if (layout.type == ArchiveType::kCvt && dims == 2)
      cvt_cells(c, f, layout, elites, scale);
    else if (layout.type == ArchiveType::kCvt)
      cvt_strip(c, f, layout, elites, scale);
    else
      scatter(c, f, elites, 0, dy, rx, ry, scale, true);
    c.items.push_back(frame_outline(f));
    x_axis(c, f, rx, axis_ticks(layout.axes[0], rx), layout.axes[0].name);
    if (dims == 2) y_axis(c, f, ry, axis_ticks(layout.axes[1], ry), layout.axes[1].name);
    const double bar_height = std::max(f.height, 120.0);
    colour_bar(c, f.left + f.width + 28, f.top, bar_height, scale);
    c.width = static_cast<int>(f.left + f.width + 28 + 16 + 70);
    c.height = static_cast<int>(std::max(f.top + f.height + 60, f.top + bar_height + 44));
    return c;
  }

  // Three or more measures: one panel per pair (a, b), a < b, in a lower triangle.
  const int shown = std::min(dims, kMostPanelMeasures);
  if (shown < dims)
    c.items.push_back(make_text(
        {kLeft, 40},
        "the first " + std::to_string(shown) + " of " + std::to_string(dims) + " measures", 11,
        Anchor::kStart, "note"));
  for (int b = 1; b < shown; ++b)
    for (int a = 0; a < b; ++a) {
      const MapFrame f{kLeft + a * (kPanel + kPanelGap), kTop + 8 + (b - 1) * (kPanel + kPanelGap),
                       kPanel, kPanel};
      const Range rx = axis_range(layout, elites, a), ry = axis_range(layout, elites, b);
      if (grid) {
        c.items.push_back(
            make_rect(f.left, f.top, f.left + f.width, f.top + f.height, kEmptyColour, "empty"));
        grid_cells(c, f, layout, elites, a, b, scale, false);
      } else {
        scatter(c, f, elites, a, b, rx, ry, scale, false);
      }
      c.items.push_back(frame_outline(f));
      x_axis(c, f, rx, {rx.lo, rx.hi}, b == shown - 1 ? layout.axes[a].name : "", 9);
      y_axis(c, f, ry, {ry.lo, ry.hi}, a == 0 ? layout.axes[b].name : "", 9);
    }
  const double span = (shown - 1) * (kPanel + kPanelGap) - kPanelGap;
  colour_bar(c, kLeft + span + 28, kTop + 8, std::max(span / 2, 120.0), scale);
  c.width = static_cast<int>(kLeft + span + 28 + 16 + 70);
  c.height = static_cast<int>(kTop + 8 + span + 60);
  return c;
}

}  // namespace qdgen::viz
