#include "qdgen/archive/cvt_archive.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kd_tree.hpp"
#include "qdgen/archive/random_draws.hpp"

namespace qdgen::archive {

Eigen::MatrixXd cvt_centroids(const CentroidOptions& options) {
  const auto k = options.cells;
  const auto dim = static_cast<int>(options.ranges.size());
  if (k < 1) throw std::invalid_argument("cvt: cells must be positive");
  if (dim < 1) throw std::invalid_argument("cvt: needs at least one range");
  for (const auto& [lo, hi] : options.ranges)
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
      throw std::invalid_argument("cvt: a range needs finite lo < hi");
  const std::int64_t samples = options.samples > 0 ? options.samples : 20 * k;
  if (samples < k) throw std::invalid_argument("cvt: samples must be at least cells");

  Rng rng(options.seed);
  Eigen::MatrixXd points(samples, dim);  // row per sample
  for (std::int64_t i = 0; i < samples; ++i)
    for (int d = 0; d < dim; ++d) {
      const auto& [lo, hi] = options.ranges[static_cast<std::size_t>(d)];
      points(i, d) = lo + uniform01(rng) * (hi - lo);
    }
  // Lloyd's k-means, starting from the first k (already random) samples.
  Eigen::MatrixXd centroids = points.topRows(k);
  std::vector<std::int64_t> assignment(static_cast<std::size_t>(samples), -1);
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    const KdTree tree(centroids);
    bool changed = false;
    std::vector<double> query(static_cast<std::size_t>(dim));
    for (std::int64_t i = 0; i < samples; ++i) {
      for (int d = 0; d < dim; ++d) query[static_cast<std::size_t>(d)] = points(i, d);
      const std::int64_t nearest = tree.nearest(query.data());
      if (assignment[static_cast<std::size_t>(i)] != nearest) changed = true;
      assignment[static_cast<std::size_t>(i)] = nearest;
    }
    if (!changed) break;
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, dim);
    std::vector<std::int64_t> counts(static_cast<std::size_t>(k), 0);
    for (std::int64_t i = 0; i < samples; ++i) {
      const std::int64_t c = assignment[static_cast<std::size_t>(i)];
      sums.row(c) += points.row(i);
      counts[static_cast<std::size_t>(c)] += 1;
    }
    for (std::int64_t c = 0; c < k; ++c)  // an empty cluster keeps its centroid
      if (counts[static_cast<std::size_t>(c)] > 0)
        centroids.row(c) = sums.row(c) / static_cast<double>(counts[static_cast<std::size_t>(c)]);
  }
  return centroids;
}

namespace {
const Eigen::MatrixXd& checked(const Eigen::MatrixXd& centroids) {
  if (centroids.rows() < 1 || centroids.cols() < 1)
    throw std::invalid_argument("cvt archive: needs at least one centroid of dimension >= 1");
  if (!centroids.allFinite()) throw std::invalid_argument("cvt archive: centroids must be finite");
  return centroids;
}
}  // namespace

CvtArchive::CvtArchive(Eigen::MatrixXd centroids, const ThresholdOptions& options)
    : CellArchive(checked(centroids).rows(), static_cast<int>(centroids.cols()), options),
      centroids_(std::move(centroids)),
      tree_(std::make_unique<KdTree>(centroids_)) {
  if (centroids_.rows() > 1) {
    double total = 0.0;
    for (std::int64_t i = 0; i < centroids_.rows(); ++i) {
      const Eigen::VectorXd point = centroids_.row(i).transpose();
      const std::int64_t other = tree_->nearest(point.data(), i);
      total += (centroids_.row(i) - centroids_.row(other)).norm();
    }
    const double mean = total / static_cast<double>(centroids_.rows());
    if (mean > 0) cell_spacing_ = mean;
  }
}

CvtArchive::~CvtArchive() = default;

std::int64_t CvtArchive::cell_of_checked(const Eigen::VectorXd& measures) const {
  return tree_->nearest(measures.data());
}

std::int64_t CvtArchive::nearest_centroid_brute_force(const Eigen::VectorXd& measures) const {
  std::int64_t best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (std::int64_t i = 0; i < centroids_.rows(); ++i) {
    double sum = 0.0;
    for (int d = 0; d < measure_dim(); ++d) {
      const double diff = measures[d] - centroids_(i, d);
      sum += diff * diff;
    }
    if (sum < best_distance) {
      best_distance = sum;
      best = i;
    }
  }
  return best;
}

double CvtArchive::elite_distance(const Elite& a, const Elite& b) const {
  return (centroids_.row(a.cell) - centroids_.row(b.cell)).norm() / cell_spacing_;
}

nlohmann::json CvtArchive::describe() const {
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t i = 0; i < centroids_.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (int d = 0; d < measure_dim(); ++d) r.push_back(centroids_(i, d));
    rows.push_back(std::move(r));
  }
  nlohmann::json out = {{"type", "cvt"}, {"centroids", std::move(rows)}};
  out.update(describe_thresholds());
  return out;
}

}  // namespace qdgen::archive
