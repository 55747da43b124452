#pragma once
// The geometry of a run's elite map, read from its stored config: the archive the elite table
// follows (the config's "result_archive" object when it has one, else "archive"), its cells
// (grid edges, CVT centroids and, in 2-D, their Voronoi polygons) and a name per measure.

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qdgen::viz {

enum class ArchiveType { kGrid, kCvt, kNovelty };
std::string to_string(ArchiveType type);

struct MeasureAxis {
  std::string name;           // "songs-poems ↔ computers", "measure 1", ...
  std::vector<double> edges;  // grid: the bin edges (uniform ones too), ascending
  double lo = 0.0;            // grid: edges.front(); CVT: the config's range or the
  double hi = 1.0;            // centroids' span; novelty: unknown (0, 1) until elites give it
};

struct ArchiveLayout {
  ArchiveType type = ArchiveType::kGrid;
  std::vector<MeasureAxis> axes;  // one per measure
  Eigen::MatrixXd centroids;      // CVT: cells x measures; empty otherwise
  // 2-D CVT: each cell's Voronoi region clipped to the axes' box, counter-clockwise.
  std::vector<std::vector<std::array<double, 2>>> voronoi;
  std::int64_t cells = 0;  // grid and CVT: the number of cells; novelty: 0 (unbounded)

  int measure_dim() const { return static_cast<int>(axes.size()); }
  // A cell's coordinates: per-dimension bins of a grid (row-major, last measure fastest);
  // {cell} for CVT and novelty.
  std::vector<std::int64_t> cell_index(std::int64_t cell) const;
};

// Throws std::runtime_error "FILE: config.archive...: expected ..." when the stored config has
// no valid archive section (a run store always has one; a hand-edited file may not). A CVT
// with k-means centroids recomputes them from the stored seed, as the run did.
ArchiveLayout archive_layout(const nlohmann::json& config, const std::string& file);

// Names of a config's measures: an archive dimension's "name" is not a config key, so they
// come from the domain: text judges ("experts" [a, b] -> "a ↔ b", labels likewise), the
// benchmark domains' own measures, else "measure 1", "measure 2", ...
std::vector<std::string> measure_names(const nlohmann::json& config, int measure_dim);

// Voronoi regions of 2-D centroids within [lo0, hi0] x [lo1, hi1] (half-plane clipping).
std::vector<std::vector<std::array<double, 2>>> voronoi_regions(const Eigen::MatrixXd& centroids,
                                                                double lo0, double hi0, double lo1,
                                                                double hi1);

}  // namespace qdgen::viz
