#pragma once
// Exact nearest-point lookup among fixed points (CVT centroids). Equal distances resolve to
// the lowest index, so the answer is the one brute force gives, bit for bit.

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace qdgen::archive {

// One k-d tree node's split, shared by KdTree and KnnIndex: the widest coordinate of the rows
// order[begin, end) of `coordinates` (row-major, `dim` per row), cut at its median. order is
// partitioned around `middle` (std::nth_element), rows before it lie at or below `value`.
struct MedianSplit {
  int dim;
  double value;
  std::int64_t middle;
};
MedianSplit split_widest_at_median(const std::vector<double>& coordinates, int dim,
                                   std::vector<std::int64_t>& order, std::int64_t begin,
                                   std::int64_t end);

// A node of those trees: leaves hold at most kKdLeafSize rows.
struct KdNode {
  std::int64_t begin, end;   // range in the tree's order
  std::int32_t left, right;  // child nodes, -1 for a leaf
  int split_dim;
  double split_value;
};
inline constexpr std::int64_t kKdLeafSize = 8;
// Appends the subtree over order[begin, end) to `nodes`, splitting recursively with
// split_widest_at_median; returns its root's index.
std::int32_t build_kd_nodes(std::vector<KdNode>& nodes, const std::vector<double>& coordinates,
                            int dim, std::vector<std::int64_t>& order, std::int64_t begin,
                            std::int64_t end);

class KdTree {
 public:
  explicit KdTree(const Eigen::MatrixXd& points);  // one point per row
  // Index of the nearest point; `exclude` (if >= 0) is skipped.
  std::int64_t nearest(const double* query, std::int64_t exclude = -1) const;

 private:
  void search(std::int32_t node, const double* query, std::int64_t exclude, double& best_distance,
              std::int64_t& best_index) const;
  double squared_distance(const double* query, std::int64_t index) const;

  int dim_;
  std::vector<double> coordinates_;  // row-major copy, one row per point
  std::vector<std::int64_t> order_;  // point indices arranged by the tree
  std::vector<KdNode> nodes_;
};

}  // namespace qdgen::archive
