#include "kd_tree.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace qdgen::archive {

MedianSplit split_widest_at_median(const std::vector<double>& coordinates, int dim,
                                   std::vector<std::int64_t>& order, std::int64_t begin,
                                   std::int64_t end) {
  const auto at = [&](std::int64_t row, int d) {
    return coordinates[static_cast<std::size_t>(row * dim + d)];
  };
  int split_dim = 0;
  double widest = -1.0;
  for (int d = 0; d < dim; ++d) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::int64_t i = begin; i < end; ++i) {
      const double v = at(order[static_cast<std::size_t>(i)], d);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (hi - lo > widest) {
      widest = hi - lo;
      split_dim = d;
    }
  }
  const std::int64_t middle = begin + (end - begin) / 2;
  std::nth_element(
      order.begin() + begin, order.begin() + middle, order.begin() + end,
      [&](std::int64_t a, std::int64_t b) { return at(a, split_dim) < at(b, split_dim); });
  return {split_dim, at(order[static_cast<std::size_t>(middle)], split_dim), middle};
}

std::int32_t build_kd_nodes(std::vector<KdNode>& nodes, const std::vector<double>& coordinates,
                            int dim, std::vector<std::int64_t>& order, std::int64_t begin,
                            std::int64_t end) {
  const auto id = static_cast<std::int32_t>(nodes.size());
  nodes.push_back({begin, end, -1, -1, 0, 0.0});
  if (end - begin <= kKdLeafSize) return id;
  const auto [split_dim, split_value, middle] =
      split_widest_at_median(coordinates, dim, order, begin, end);
  const std::int32_t left = build_kd_nodes(nodes, coordinates, dim, order, begin, middle);
  const std::int32_t right = build_kd_nodes(nodes, coordinates, dim, order, middle, end);
  KdNode& node = nodes[static_cast<std::size_t>(id)];
  node.left = left;
  node.right = right;
  node.split_dim = split_dim;
  node.split_value = split_value;
  return id;
}

KdTree::KdTree(const Eigen::MatrixXd& points) : dim_(static_cast<int>(points.cols())) {
  const std::int64_t n = points.rows();
  coordinates_.resize(static_cast<std::size_t>(n * dim_));
  for (std::int64_t i = 0; i < n; ++i)
    for (int d = 0; d < dim_; ++d)
      coordinates_[static_cast<std::size_t>(i * dim_ + d)] = points(i, d);
  order_.resize(static_cast<std::size_t>(n));
  std::iota(order_.begin(), order_.end(), 0);
  if (n > 0) build_kd_nodes(nodes_, coordinates_, dim_, order_, 0, n);
}

double KdTree::squared_distance(const double* query, std::int64_t index) const {
  // The same operations in the same order as the brute-force reference.
  const double* point = &coordinates_[static_cast<std::size_t>(index * dim_)];
  double sum = 0.0;
  for (int d = 0; d < dim_; ++d) {
    const double diff = query[d] - point[d];
    sum += diff * diff;
  }
  return sum;
}

void KdTree::search(std::int32_t id, const double* query, std::int64_t exclude,
                    double& best_distance, std::int64_t& best_index) const {
  const KdNode& node = nodes_[static_cast<std::size_t>(id)];
  if (node.left < 0) {
    for (std::int64_t i = node.begin; i < node.end; ++i) {
      const std::int64_t index = order_[static_cast<std::size_t>(i)];
      if (index == exclude) continue;
      const double distance = squared_distance(query, index);
      if (distance < best_distance || (distance == best_distance && index < best_index)) {
        best_distance = distance;
        best_index = index;
      }
    }
    return;
  }
  // Left holds coordinates <= split, right >= split: the far side is at least diff away.
  const double diff = query[node.split_dim] - node.split_value;
  const std::int32_t near = diff < 0 ? node.left : node.right;
  const std::int32_t far = diff < 0 ? node.right : node.left;
  search(near, query, exclude, best_distance, best_index);
  // Not pruned on equality, so an equally near point with a lower index is still found.
  if (diff * diff <= best_distance) search(far, query, exclude, best_distance, best_index);
}

std::int64_t KdTree::nearest(const double* query, std::int64_t exclude) const {
  double best_distance = std::numeric_limits<double>::infinity();
  std::int64_t best_index = std::numeric_limits<std::int64_t>::max();
  if (!nodes_.empty()) search(0, query, exclude, best_distance, best_index);
  return best_index == std::numeric_limits<std::int64_t>::max() ? -1 : best_index;
}

}  // namespace qdgen::archive
