#pragma once
// The report's figures as Canvases (canvas.hpp), from the run JSON (run_json.hpp):
//   archive map: 1-D and 2-D grids as cells drawn to scale (non-uniform edges too), 2-D CVT as
//     Voronoi cells, novelty archives as a scatter of members; with more measures, a
//     triangle of 2-D panels, one per pair of measures (the first 6): grids show the best
//     objective over the other measures (a projection), others a scatter. Colour: viridis over
//     the elites' objective range (a colour bar gives it); empty cells grey (kEmptyColour,
//     named in a legend).
//   curves: one panel per metric over iterations (QD score, coverage, max and mean objective,
//     every stored vendi_* score, evaluations/s), one line per run, a legend naming each run.

#include <nlohmann/json.hpp>
#include <vector>

#include "qdgen/viz/archive_layout.hpp"
#include "qdgen/viz/canvas.hpp"

namespace qdgen::viz {

// Where a single-panel map (1-D or 2-D) draws its measure box, in pixels: measure value v of
// axis d sits at left + width * (v - lo) / (hi - lo) (d = 0), top + height * (hi - v) / (hi - lo)
// (d = 1, upwards).
struct MapFrame {
  double left = 0, top = 0, width = 0, height = 0;
};
MapFrame map_frame(const ArchiveLayout& layout);

// `run` and `elites` as run_json and elites_json give them.
Canvas archive_canvas(const ArchiveLayout& layout, const nlohmann::json& run,
                      const nlohmann::json& elites);

struct CurveRun {
  nlohmann::json run;         // run_json
  nlohmann::json iterations;  // iterations_json
};
// The metrics drawn, in order: those of `keys` the runs have (see above).
std::vector<std::string> curve_metrics(const std::vector<CurveRun>& runs);
Canvas curves_canvas(const std::vector<CurveRun>& runs);

// The colour of the i-th run in curves and legends (Okabe and Ito's colour-blind-safe set).
Rgb series_colour(std::size_t i);

}  // namespace qdgen::viz
