#pragma once
// Summary statistics of a quality-diversity archive.

#include <cstdint>
#include <span>

namespace qdgen::metrics {

struct QdMetrics {
  std::int64_t num_elites;
  std::int64_t num_cells;  // 0 for an unbounded archive
  double coverage;         // num_elites / num_cells (0 when unbounded)
  double qd_score;         // sum over elites of (objective - qd_offset)
  double norm_qd_score;    // qd_score / num_cells (0 when unbounded)
  double obj_max;          // 0 when there are no elites
  double obj_mean;         // 0 when there are no elites
};

// qd_offset is the objective counted as zero (pyribs' convention), so every elite adds a
// positive amount when the offset is below the worst objective. Throws on non-finite
// objectives or offset and on negative num_cells or num_cells smaller than the elite count.
QdMetrics qd_metrics(std::span<const double> elite_objectives, std::int64_t num_cells,
                     double qd_offset);

}  // namespace qdgen::metrics
