#include "knn_index.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace qdgen::archive {

void KnnIndex::clear() {
  min_live_id_ = 0;
  live_ = 0;
  tree_coordinates_.clear();
  tree_ids_.clear();
  tree_dead_.clear();
  nodes_.clear();
  tree_dead_count_ = 0;
  tree_base_id_ = 0;
  row_of_id_.clear();
  tail_coordinates_.clear();
  tail_ids_.clear();
  tail_row_of_.clear();
}

void KnnIndex::set(std::int64_t id, const double* coordinates) {
  const auto d = static_cast<std::size_t>(dim_);
  if (const auto it = tail_row_of_.find(id); it != tail_row_of_.end()) {
    std::copy(coordinates, coordinates + dim_, tail_coordinates_.begin() + it->second * d);
    return;
  }
  bool existed = false;
  const std::int64_t offset = id - tree_base_id_;
  if (offset >= 0 && offset < static_cast<std::int64_t>(row_of_id_.size())) {
    const std::int64_t row = row_of_id_[static_cast<std::size_t>(offset)];
    if (row >= 0 && !tree_dead_[static_cast<std::size_t>(row)] && id >= min_live_id_) {
      tree_dead_[static_cast<std::size_t>(row)] = 1;
      ++tree_dead_count_;
      existed = true;
    }
  }
  if (!existed) ++live_;
  tail_row_of_.emplace(id, tail_ids_.size());
  tail_ids_.push_back(id);
  tail_coordinates_.insert(tail_coordinates_.end(), coordinates, coordinates + dim_);
}

void KnnIndex::remove_below(std::int64_t id) {
  if (id <= min_live_id_) return;
  for (std::int64_t gone = min_live_id_; gone < id; ++gone) {
    if (tail_row_of_.count(gone) != 0) {
      --live_;
      continue;
    }
    const std::int64_t offset = gone - tree_base_id_;
    if (offset < 0 || offset >= static_cast<std::int64_t>(row_of_id_.size())) continue;
    const std::int64_t row = row_of_id_[static_cast<std::size_t>(offset)];
    if (row >= 0 && !tree_dead_[static_cast<std::size_t>(row)]) {
      tree_dead_[static_cast<std::size_t>(row)] = 1;
      ++tree_dead_count_;
      --live_;
    }
  }
  min_live_id_ = id;
}

void KnnIndex::prepare(std::size_t queries) {
  if (tail_ids_.empty() && tree_dead_count_ == 0) return;
  // A query scans the whole tail; a rebuild costs about n log2 n distance-sized steps.
  const double n = static_cast<double>(live_) + 2.0;
  const double rebuild_cost = n * std::log2(n);
  const double tail_cost = static_cast<double>(queries) * static_cast<double>(tail_ids_.size());
  const bool mostly_dead = tree_dead_count_ * 2 > tree_ids_.size() + 64;
  if (tail_cost > rebuild_cost || mostly_dead) rebuild();
}

void KnnIndex::rebuild() {
  const auto d = static_cast<std::size_t>(dim_);
  std::vector<double> coordinates;
  std::vector<std::int64_t> ids;
  coordinates.reserve(live_ * d);
  ids.reserve(live_);
  for (std::size_t row = 0; row < tree_ids_.size(); ++row) {
    if (tree_dead_[row] || tree_ids_[row] < min_live_id_) continue;
    ids.push_back(tree_ids_[row]);
    coordinates.insert(coordinates.end(), tree_coordinates_.begin() + row * d,
                       tree_coordinates_.begin() + (row + 1) * d);
  }
  for (std::size_t row = 0; row < tail_ids_.size(); ++row) {
    if (tail_ids_[row] < min_live_id_) continue;
    ids.push_back(tail_ids_[row]);
    coordinates.insert(coordinates.end(), tail_coordinates_.begin() + row * d,
                       tail_coordinates_.begin() + (row + 1) * d);
  }
  tail_coordinates_.clear();
  tail_ids_.clear();
  tail_row_of_.clear();

  // Arrange the rows in tree order: build over a permutation, then copy.
  const auto n = static_cast<std::int64_t>(ids.size());
  tree_ids_ = std::move(ids);
  tree_coordinates_ = std::move(coordinates);
  nodes_.clear();
  order_.resize(static_cast<std::size_t>(n));
  std::iota(order_.begin(), order_.end(), 0);
  if (n > 0) build_kd_nodes(nodes_, tree_coordinates_, dim_, order_, 0, n);
  std::vector<double> sorted_coordinates(tree_coordinates_.size());
  std::vector<std::int64_t> sorted_ids(tree_ids_.size());
  for (std::int64_t row = 0; row < n; ++row) {
    const auto from = static_cast<std::size_t>(order_[static_cast<std::size_t>(row)]);
    sorted_ids[static_cast<std::size_t>(row)] = tree_ids_[from];
    std::copy(tree_coordinates_.begin() + from * d, tree_coordinates_.begin() + (from + 1) * d,
              sorted_coordinates.begin() + static_cast<std::size_t>(row) * d);
  }
  tree_ids_ = std::move(sorted_ids);
  tree_coordinates_ = std::move(sorted_coordinates);
  tree_dead_.assign(tree_ids_.size(), 0);
  tree_dead_count_ = 0;

  row_of_id_.clear();
  if (n > 0) {
    const auto [lo, hi] = std::minmax_element(tree_ids_.begin(), tree_ids_.end());
    tree_base_id_ = *lo;
    row_of_id_.assign(static_cast<std::size_t>(*hi - *lo + 1), -1);
    for (std::int64_t row = 0; row < n; ++row)
      row_of_id_[static_cast<std::size_t>(tree_ids_[static_cast<std::size_t>(row)] -
                                          tree_base_id_)] = row;
  }
  live_ = tree_ids_.size();
}

void KnnIndex::offer(std::vector<Neighbor>& heap, std::size_t k, const Neighbor& n) {
  if (heap.size() < k) {
    heap.push_back(n);
    std::push_heap(heap.begin(), heap.end());
  } else if (n < heap.front()) {
    std::pop_heap(heap.begin(), heap.end());
    heap.back() = n;
    std::push_heap(heap.begin(), heap.end());
  }
}

void KnnIndex::search(std::int32_t id, const double* query, std::size_t k,
                      std::vector<Neighbor>& heap) const {
  const KdNode& node = nodes_[static_cast<std::size_t>(id)];
  if (node.left < 0) {
    const auto d = static_cast<std::size_t>(dim_);
    for (std::int64_t row = node.begin; row < node.end; ++row) {
      const auto r = static_cast<std::size_t>(row);
      if (tree_dead_[r] || tree_ids_[r] < min_live_id_) continue;
      offer(heap, k, {squared_distance(query, &tree_coordinates_[r * d], dim_), tree_ids_[r]});
    }
    return;
  }
  // Left holds coordinates <= split, right >= split: the far side is at least diff away.
  const double diff = query[node.split_dim] - node.split_value;
  const std::int32_t near = diff < 0 ? node.left : node.right;
  const std::int32_t far = diff < 0 ? node.right : node.left;
  search(near, query, k, heap);
  // Not pruned on equality: an equally near point with a lower id must still be found.
  if (heap.size() < k || diff * diff <= heap.front().squared_distance) search(far, query, k, heap);
}

void KnnIndex::k_nearest(const double* query, int k, std::vector<Neighbor>& out) const {
  out.clear();
  if (k <= 0) return;
  const auto kk = static_cast<std::size_t>(k);
  if (!nodes_.empty()) search(0, query, kk, out);
  const auto d = static_cast<std::size_t>(dim_);
  for (std::size_t row = 0; row < tail_ids_.size(); ++row) {
    if (tail_ids_[row] < min_live_id_) continue;
    offer(out, kk, {squared_distance(query, &tail_coordinates_[row * d], dim_), tail_ids_[row]});
  }
  std::sort_heap(out.begin(), out.end());
}

}  // namespace qdgen::archive
