#include "qdgen/metrics/qd_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "spectrum.hpp"

namespace qdgen::metrics {

QdMetrics qd_metrics(std::span<const double> elite_objectives, std::int64_t num_cells,
                     double qd_offset) {
  const auto num_elites = static_cast<std::int64_t>(elite_objectives.size());
  if (num_cells < 0) {
    throw std::runtime_error("num_cells is " + std::to_string(num_cells) +
                             "; expected >= 0 (0 for an unbounded archive)");
  }
  if (num_cells > 0 && num_elites > num_cells) {
    throw std::runtime_error(std::to_string(num_elites) + " elites in " +
                             std::to_string(num_cells) + " cells; expected at most one per cell");
  }
  if (!std::isfinite(qd_offset)) {
    throw std::runtime_error("qd_offset is " + detail::format_number(qd_offset) +
                             "; expected a finite number");
  }
  QdMetrics metrics{.num_elites = num_elites,
                    .num_cells = num_cells,
                    .coverage = 0,
                    .qd_score = 0,
                    .norm_qd_score = 0,
                    .obj_max = 0,
                    .obj_mean = 0};
  double sum = 0;
  for (std::size_t i = 0; i < elite_objectives.size(); ++i) {
    const double objective = elite_objectives[i];
    if (!std::isfinite(objective)) {
      throw std::runtime_error("elite objective " + std::to_string(i + 1) + " is " +
                               detail::format_number(objective) + "; expected a finite number");
    }
    sum += objective;
    metrics.obj_max = i == 0 ? objective : std::max(metrics.obj_max, objective);
  }
  if (num_elites > 0) {
    metrics.obj_mean = sum / static_cast<double>(num_elites);
    metrics.qd_score = sum - static_cast<double>(num_elites) * qd_offset;
  }
  if (num_cells > 0) {
    metrics.coverage = static_cast<double>(num_elites) / static_cast<double>(num_cells);
    metrics.norm_qd_score = metrics.qd_score / static_cast<double>(num_cells);
  }
  return metrics;
}

}  // namespace qdgen::metrics
