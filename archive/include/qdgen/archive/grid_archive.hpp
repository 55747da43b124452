#pragma once
// MAP-Elites grid: each measure cut into uniform cells over a range, or into bins with
// explicit ascending edges (QDAIF's non-uniform ticks). Out-of-range values clip to the
// edge cell. Cells are numbered row-major (last measure fastest), as numpy's ravel.

#include <vector>

#include "qdgen/archive/cell_archive.hpp"

namespace qdgen::archive {

struct GridDimension {
  // Uniform cells on [lo, hi] ...
  static GridDimension uniform(double lo, double hi, int cells);
  // ... or explicit edges e0 < e1 < ... < en: cell i is [e_i, e_{i+1}).
  static GridDimension from_edges(std::vector<double> edges);
  std::vector<double> edges;
  bool is_uniform = false;
  int cells() const { return static_cast<int>(edges.size()) - 1; }
};

class GridArchive : public CellArchive {
 public:
  GridArchive(std::vector<GridDimension> dims, const ThresholdOptions& options = {});

  int measure_dim() const override { return static_cast<int>(dims_.size()); }
  nlohmann::json describe() const override;
  // Euclidean distance between the two cells' grid coordinates.
  double elite_distance(const Elite& a, const Elite& b) const override;

  const std::vector<GridDimension>& dims() const { return dims_; }
  std::vector<int> grid_coordinates(std::int64_t cell) const;

 protected:
  std::int64_t cell_of_checked(const Eigen::VectorXd& measures) const override;

 private:
  int bin_of(int dim, double value) const;
  std::vector<GridDimension> dims_;
};

}  // namespace qdgen::archive
