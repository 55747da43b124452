#pragma once
// Exact k nearest neighbours among a changing set of points (the novelty archive's
// members): a k-d tree over the points present at the last rebuild, plus a brute-force
// "tail" of the points added or moved since. Removed and moved points stay in the tree
// marked dead until the next rebuild. The rebuild is batched: it runs when scanning the tail
// for a whole batch of queries would cost more than rebuilding the tree.
//
// Answers equal brute force bit for bit: the k smallest squared distances, ties broken by
// the lower id, each computed by squared_distance() below (the brute-force reference uses
// the same function).

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kd_tree.hpp"

namespace qdgen::archive {

// Sum over d of (a[d] - b[d])^2, in ascending d.
inline double squared_distance(const double* a, const double* b, int dim) {
  double sum = 0.0;
  for (int d = 0; d < dim; ++d) {
    const double diff = a[d] - b[d];
    sum += diff * diff;
  }
  return sum;
}

struct Neighbor {
  double squared_distance;
  std::int64_t id;
  bool operator<(const Neighbor& o) const {
    return squared_distance < o.squared_distance ||
           (squared_distance == o.squared_distance && id < o.id);
  }
};

class KnnIndex {
 public:
  explicit KnnIndex(int dim) : dim_(dim) {}
  int dim() const { return dim_; }

  void clear();
  // Point `id` now lies at `coordinates` (dim values): a new point or a moved one.
  void set(std::int64_t id, const double* coordinates);
  // Points with id < `id` are gone (the oldest evicted).
  void remove_below(std::int64_t id);
  // Rebuilds the tree when `queries` tail scans would cost more than a rebuild.
  void prepare(std::size_t queries);

  // The k nearest live points, ascending (squared distance, id); fewer when fewer exist.
  void k_nearest(const double* query, int k, std::vector<Neighbor>& out) const;

  std::size_t live_size() const { return live_; }

 private:
  void rebuild();
  void search(std::int32_t node, const double* query, std::size_t k,
              std::vector<Neighbor>& heap) const;
  static void offer(std::vector<Neighbor>& heap, std::size_t k, const Neighbor& n);

  int dim_;
  std::int64_t min_live_id_ = 0;
  std::size_t live_ = 0;
  // The tree: rows in tree order.
  std::vector<double> tree_coordinates_;
  std::vector<std::int64_t> tree_ids_;
  std::vector<char> tree_dead_;  // moved since the rebuild (evicted ones: id < min_live_id_)
  std::vector<KdNode> nodes_;
  std::size_t tree_dead_count_ = 0;
  std::int64_t tree_base_id_ = 0;  // row_of_id_[id - tree_base_id_]: tree row or -1
  std::vector<std::int64_t> row_of_id_;
  std::vector<std::int64_t> order_;  // rebuild scratch
  // The tail: points set since the rebuild, in the order first set.
  std::vector<double> tail_coordinates_;
  std::vector<std::int64_t> tail_ids_;
  std::unordered_map<std::int64_t, std::size_t> tail_row_of_;
};

}  // namespace qdgen::archive
