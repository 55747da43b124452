// The archive map as the PNG and SVG files hold it, on real stores: cells where their edges
// put them (non-uniform ones too), in the viridis colour of their objective, empty cells grey,
// the colour bar's ends; CVT cells around their centroids; novelty members at their measures;
// and the curves' lines, one per run.
#include "qdgen/viz/figures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "png_decode.hpp"
#include "qdgen/store/run_reader.hpp"
#include "qdgen/viz/png_writer.hpp"
#include "qdgen/viz/run_json.hpp"
#include "qdgen/viz/svg_writer.hpp"
#include "scratch_directory.hpp"
#include "svg_text.hpp"
#include "viz_stores.hpp"

namespace {

using nlohmann::json;
using qdgen::viz::Rgb;
namespace viz = qdgen::viz;

struct Drawn {
  viz::ArchiveLayout layout;
  json run, elites;
  viz::Canvas canvas;
  qdgen_test::DecodedPng png;
  std::string svg;
};

Drawn draw(const std::filesystem::path& store) {
  const qdgen::store::RunReader reader(store);
  Drawn d;
  d.layout = viz::archive_layout(reader.info().config, store.string());
  d.run = viz::run_json(reader, d.layout, "0", store.string());
  d.elites = viz::elites_json(reader, d.layout);
  d.canvas = viz::archive_canvas(d.layout, d.run, d.elites);
  d.png = qdgen_test::decode_png(viz::encode_png(viz::rasterize(d.canvas)));
  d.svg = viz::to_svg(d.canvas);
  return d;
}

Rgb colour_of(const Drawn& d, const json& elite) {
  const double lo = d.elites["objective_range"][0], hi = d.elites["objective_range"][1];
  return viz::viridis(viz::colour_position(elite["objective"].get<double>(), lo, hi));
}

// The first pixel column (row) whose centre lies at or beyond x.
int first_pixel(double x) {
  return static_cast<int>(std::ceil(x - 0.5));
}

using qdgen_test::attribute;
using qdgen_test::elements;

class Figures : public ::testing::Test {
 protected:
  qdgen_test::ScratchDirectory scratch_;
};

TEST_F(Figures, GridCellsSitBetweenTheirNonUniformEdgesInTheirObjectivesColour) {
  const auto store = scratch_.path() / "grid.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("grid", qdgen_test::grid_archive(), 12), store);
  const Drawn d = draw(store);
  ASSERT_EQ(d.png.width, d.canvas.width);
  const viz::MapFrame f = viz::map_frame(d.layout);
  const auto& ex = d.layout.axes[0].edges;
  const auto& ey = d.layout.axes[1].edges;
  const auto X = [&](double v) {
    return f.left + f.width * (v - ex.front()) / (ex.back() - ex.front());
  };
  const auto Y = [&](double v) {
    return f.top + f.height * (ey.back() - v) / (ey.back() - ey.front());
  };
  // The expected colour of every cell: its elite's, or empty.
  std::map<std::pair<int, int>, Rgb> expected;
  for (std::size_t i = 0; i + 1 < ex.size(); ++i)
    for (std::size_t j = 0; j + 1 < ey.size(); ++j) expected[{int(i), int(j)}] = viz::kEmptyColour;
  for (const json& e : d.elites["elites"])
    expected[{e["index"][0].get<int>(), e["index"][1].get<int>()}] = colour_of(d, e);
  ASSERT_GE(d.elites["count"].get<int>(), 3);
  ASSERT_LT(d.elites["count"].get<int>(), 24) << "no empty cell left to check";

  // Each cell's centre pixel.
  for (const auto& [ij, colour] : expected) {
    const double cx = (X(ex[ij.first]) + X(ex[ij.first + 1])) / 2,
                 cy = (Y(ey[ij.second]) + Y(ey[ij.second + 1])) / 2;
    EXPECT_EQ(d.png.at(int(cx), int(cy)), colour) << "cell " << ij.first << "," << ij.second;
  }
  // The non-uniform edges of measure 1: where two neighbours differ, the colour changes
  // exactly at the edge's pixel column.
  int edges_seen = 0;
  for (std::size_t k = 1; k + 1 < ex.size(); ++k)
    for (std::size_t j = 0; j + 1 < ey.size(); ++j) {
      const Rgb before = expected[{int(k - 1), int(j)}], after = expected[{int(k), int(j)}];
      if (before == after) continue;
      const int row = int((Y(ey[j]) + Y(ey[j + 1])) / 2);
      const int column = first_pixel(X(ex[k]));
      EXPECT_EQ(d.png.at(column - 1, row), before) << "edge " << ex[k] << " row " << j;
      EXPECT_EQ(d.png.at(column, row), after) << "edge " << ex[k] << " row " << j;
      ++edges_seen;
    }
  EXPECT_GE(edges_seen, 2);
  // Columns in pixels: the edges are drawn to scale (-10.24, -5, -1, 0, 1, 5, 10.24).
  EXPECT_EQ(first_pixel(X(0.0)), first_pixel(f.left + f.width / 2));
  EXPECT_NEAR(X(1.0) - X(0.0), f.width / 20.48, 1e-9);

  // The colour bar runs from the top's viridis(1) to the bottom's viridis(0).
  const auto bars = elements(d.svg, "rect");
  int bar_top = -1, bar_bottom = -1, bar_x = -1;
  for (const auto& r : bars)
    if (attribute(r, "class") == "colour-bar") {
      const double y = std::stod(attribute(r, "y")), h = std::stod(attribute(r, "height"));
      bar_x = int(std::stod(attribute(r, "x")) + 8);
      if (bar_top < 0) bar_top = int(y + h / 2);
      bar_bottom = int(y + h / 2);
    }
  ASSERT_GT(bar_x, 0);
  EXPECT_EQ(d.png.at(bar_x, bar_top), viz::viridis(1.0 - 0.5 / 64));
  EXPECT_EQ(d.png.at(bar_x, bar_bottom), viz::viridis(0.5 / 64));
  EXPECT_NE(d.svg.find(">empty</text>"), std::string::npos);
  EXPECT_NE(d.svg.find("sum of the first half of x"), std::string::npos);

  // SVG: one rect per elite, tagged with its cell, spanning its edges.
  std::set<std::string> cells;
  for (const auto& r : bars) {
    if (attribute(r, "class") != "cell") continue;
    const std::string cell = attribute(r, "data-cell");
    cells.insert(cell);
    const int i = std::stoi(cell.substr(0, cell.find(','))),
              j = std::stoi(cell.substr(cell.find(',') + 1));
    EXPECT_NEAR(std::stod(attribute(r, "x")), X(ex[i]), 0.006) << cell;
    EXPECT_NEAR(std::stod(attribute(r, "width")), X(ex[i + 1]) - X(ex[i]), 0.011) << cell;
    EXPECT_NEAR(std::stod(attribute(r, "y")), Y(ey[j + 1]), 0.006) << cell;
    EXPECT_EQ(attribute(r, "fill"), viz::hex(expected[{i, j}])) << cell;
  }
  EXPECT_EQ(cells.size(), d.elites["count"].get<std::size_t>());
}

TEST_F(Figures, CvtCellsAreVoronoiPolygonsAroundTheirCentroids) {
  const auto store = scratch_.path() / "cvt.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("cvt", qdgen_test::cvt_archive(), 8), store);
  const Drawn d = draw(store);
  const viz::MapFrame f = viz::map_frame(d.layout);
  std::map<std::int64_t, Rgb> expected;
  for (std::int64_t c = 0; c < 12; ++c) expected[c] = viz::kEmptyColour;
  for (const json& e : d.elites["elites"])
    expected[e["cell"].get<std::int64_t>()] = colour_of(d, e);
  ASSERT_GT(d.elites["count"].get<int>(), 0);
  // A centroid lies inside its own cell.
  for (const auto& [cell, colour] : expected) {
    const double x = f.left + f.width * (d.layout.centroids(cell, 0) + 10.24) / 20.48;
    const double y = f.top + f.height * (10.24 - d.layout.centroids(cell, 1)) / 20.48;
    EXPECT_EQ(d.png.at(int(x), int(y)), colour) << "cell " << cell;
  }
  const auto polygons = elements(d.svg, "polygon");
  ASSERT_EQ(polygons.size(), 12u);
  int empty = 0;
  for (const auto& p : polygons) {
    const std::int64_t cell = std::stoll(attribute(p, "data-cell"));
    EXPECT_EQ(attribute(p, "fill"), viz::hex(expected[cell]));
    empty += attribute(p, "class") == "empty";
  }
  EXPECT_EQ(empty, 12 - d.elites["count"].get<int>());
}

TEST_F(Figures, NoveltyMembersAreDotsAtTheirMeasures) {
  const auto store = scratch_.path() / "novelty.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("novelty", qdgen_test::novelty_archive()),
                         store);
  const Drawn d = draw(store);
  const auto circles = elements(d.svg, "circle");
  ASSERT_EQ(circles.size(), d.elites["count"].get<std::size_t>());
  // The last member drawn is on top: its centre pixel has its colour.
  const json& last = d.elites["elites"].back();
  const auto& circle = circles.back();
  EXPECT_EQ(attribute(circle, "fill"), viz::hex(colour_of(d, last)));
  const double cx = std::stod(attribute(circle, "cx")), cy = std::stod(attribute(circle, "cy"));
  EXPECT_EQ(d.png.at(int(cx), int(cy)), colour_of(d, last));
  // Its position follows its measures within the members' range (padded by 5%).
  const viz::MapFrame f = viz::map_frame(d.layout);
  const double lo = d.elites["measure_range"][0][0], hi = d.elites["measure_range"][0][1];
  const double pad = (hi - lo) * 0.05;
  EXPECT_NEAR(
      cx, f.left + f.width * (last["measures"][0].get<double>() - lo + pad) / (hi - lo + 2 * pad),
      0.006);
}

TEST_F(Figures, CurvesDrawEveryMetricForEveryRunWithALegend) {
  const auto a = scratch_.path() / "a.sqlite";
  const auto b = scratch_.path() / "b.sqlite";
  qdgen_test::make_store(qdgen_test::sphere_config("first", qdgen_test::grid_archive(), 6), a);
  qdgen_test::make_store(qdgen_test::sphere_config("second", qdgen_test::cvt_archive(), 4), b);
  std::vector<viz::CurveRun> runs;
  for (const auto& [path, id] : {std::pair{a, "0"}, std::pair{b, "1"}}) {
    const qdgen::store::RunReader reader(path);
    const auto layout = viz::archive_layout(reader.info().config, path.string());
    runs.push_back(
        {viz::run_json(reader, layout, id, path.string()), viz::iterations_json(reader)});
  }
  const auto metrics = viz::curve_metrics(runs);
  ASSERT_GE(metrics.size(), 5u);
  EXPECT_EQ(metrics[0], "qd_score");
  EXPECT_EQ(metrics[1], "coverage");
  EXPECT_EQ(metrics.back(), "evaluations_per_s");
  const std::string svg = viz::to_svg(viz::curves_canvas(runs));
  const auto lines = elements(svg, "polyline");
  EXPECT_EQ(lines.size(), 2 * metrics.size());
  for (const auto& line : lines) {
    const std::string series = attribute(line, "data-series");
    const std::string points_text = attribute(line, "points");
    const auto points =
        static_cast<std::size_t>(std::count(points_text.begin(), points_text.end(), ','));
    EXPECT_EQ(points, series == "0" ? 6u : 4u) << line;
    EXPECT_EQ(attribute(line, "stroke"), viz::hex(viz::series_colour(series == "0" ? 0 : 1)));
  }
  EXPECT_NE(svg.find("first (" + a.string() + ")"), std::string::npos);
  EXPECT_NE(svg.find("second (" + b.string() + ")"), std::string::npos);
}

TEST(Colormap, ViridisEndsAndEmptyIsNoViridisColour) {
  EXPECT_EQ(viz::viridis(0), (Rgb{68, 1, 84}));
  EXPECT_EQ(viz::viridis(1), (Rgb{253, 231, 37}));
  EXPECT_EQ(viz::viridis(NAN), viz::viridis(0));
  for (int i = 0; i <= 1000; ++i) EXPECT_NE(viz::viridis(i / 1000.0), viz::kEmptyColour);
}

TEST(SvgWriter, EscapesText) {
  viz::Canvas canvas;
  canvas.width = 10;
  canvas.height = 10;
  viz::Text t;
  t.text = "<a & \"b\">";
  canvas.items.push_back(t);
  const std::string svg = viz::to_svg(canvas);
  EXPECT_NE(svg.find("&lt;a &amp; &quot;b&quot;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<a "), std::string::npos);
}

}  // namespace
