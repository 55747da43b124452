#include "qdgen/archive/grid_archive.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace qdgen::archive {

namespace {
std::int64_t product_of_cells(const std::vector<GridDimension>& dims) {
  if (dims.empty()) throw std::invalid_argument("grid archive: needs at least one dimension");
  std::int64_t total = 1;
  for (const GridDimension& dim : dims) {
    if (dim.cells() < 1) throw std::invalid_argument("grid archive: a dimension has no cells");
    if (total > (std::int64_t{1} << 40) / dim.cells())
      throw std::invalid_argument("grid archive: more than 2^40 cells");
    total *= dim.cells();
  }
  return total;
}

// pyribs' guard against round-off pushing a value on a cell boundary into the cell below.
constexpr double kIndexEpsilon = 1e-6;
}  // namespace

GridDimension GridDimension::uniform(double lo, double hi, int cells) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw std::invalid_argument("grid archive: a range needs finite lo < hi");
  if (cells < 1) throw std::invalid_argument("grid archive: cells must be positive");
  GridDimension dim;
  dim.is_uniform = true;
  const double step = (hi - lo) / cells;
  for (int i = 0; i < cells; ++i) dim.edges.push_back(lo + i * step);
  dim.edges.push_back(hi);
  return dim;
}

GridDimension GridDimension::from_edges(std::vector<double> edges) {
  if (edges.size() < 2) throw std::invalid_argument("grid archive: edges need at least 2 values");
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i])) throw std::invalid_argument("grid archive: edges must be finite");
    if (i > 0 && !(edges[i - 1] < edges[i]))
      throw std::invalid_argument("grid archive: edges must be strictly ascending");
  }
  GridDimension dim;
  dim.edges = std::move(edges);
  return dim;
}

GridArchive::GridArchive(std::vector<GridDimension> dims, const ThresholdOptions& options)
    : CellArchive(product_of_cells(dims), static_cast<int>(dims.size()), options),
      dims_(std::move(dims)) {}

int GridArchive::bin_of(int d, double value) const {
  const GridDimension& dim = dims_[static_cast<std::size_t>(d)];
  const int cells = dim.cells();
  if (dim.is_uniform) {
    const double lo = dim.edges.front();
    const double scaled = (cells * (value - lo) + kIndexEpsilon) / (dim.edges.back() - lo);
    if (!(scaled >= 1.0)) return 0;  // clips below the range (and catches NaN)
    if (scaled >= cells) return cells - 1;
    return static_cast<int>(scaled);
  }
  const auto above = std::upper_bound(dim.edges.begin(), dim.edges.end(), value);
  const auto bin = static_cast<int>(above - dim.edges.begin()) - 1;
  return std::clamp(bin, 0, cells - 1);
}

std::int64_t GridArchive::cell_of_checked(const Eigen::VectorXd& measures) const {
  std::int64_t cell = 0;
  for (int d = 0; d < measure_dim(); ++d)
    cell = cell * dims_[static_cast<std::size_t>(d)].cells() + bin_of(d, measures[d]);
  return cell;
}

std::vector<int> GridArchive::grid_coordinates(std::int64_t cell) const {
  std::vector<int> coordinates(dims_.size());
  for (std::size_t d = dims_.size(); d-- > 0;) {
    coordinates[d] = static_cast<int>(cell % dims_[d].cells());
    cell /= dims_[d].cells();
  }
  return coordinates;
}

double GridArchive::elite_distance(const Elite& a, const Elite& b) const {
  const std::vector<int> ca = grid_coordinates(a.cell);
  const std::vector<int> cb = grid_coordinates(b.cell);
  double squared = 0.0;
  for (std::size_t d = 0; d < ca.size(); ++d) squared += double(ca[d] - cb[d]) * (ca[d] - cb[d]);
  return std::sqrt(squared);
}

nlohmann::json GridArchive::describe() const {
  nlohmann::json dims = nlohmann::json::array();
  for (const GridDimension& dim : dims_) {
    if (dim.is_uniform)
      dims.push_back({{"range", {dim.edges.front(), dim.edges.back()}}, {"cells", dim.cells()}});
    else
      dims.push_back({{"edges", dim.edges}});
  }
  nlohmann::json out = {{"type", "grid"}, {"dims", dims}};
  out.update(describe_thresholds());
  return out;
}

}  // namespace qdgen::archive
