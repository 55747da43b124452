#pragma once
// CVT-MAP-Elites (Vassiliades et al. 2018): cells are the Voronoi regions of k centroids,
// from k-means over uniform samples of the measure box or given by the user. Lookup uses a
// k-d tree and returns exactly what brute force returns (lowest index on ties).

#include <memory>
#include <utility>
#include <vector>

#include "qdgen/archive/cell_archive.hpp"

namespace qdgen::archive {

class KdTree;

struct CentroidOptions {
  std::int64_t cells = 0;                         // k
  std::vector<std::pair<double, double>> ranges;  // one [lo, hi] per measure
  std::int64_t samples = 0;                       // 0: 20 samples per centroid
  std::uint64_t seed = 0;
  int max_iterations = 50;  // Lloyd iterations (stops early when stable)
};

// k-means centroids (rows), deterministic for a seed.
Eigen::MatrixXd cvt_centroids(const CentroidOptions& options);

class CvtArchive : public CellArchive {
 public:
  CvtArchive(Eigen::MatrixXd centroids, const ThresholdOptions& options = {});
  ~CvtArchive() override;

  int measure_dim() const override { return static_cast<int>(centroids_.cols()); }
  nlohmann::json describe() const override;
  // Centroid distance over the mean nearest-centroid distance ("cells apart").
  double elite_distance(const Elite& a, const Elite& b) const override;

  const Eigen::MatrixXd& centroids() const { return centroids_; }
  // The reference lookup the k-d tree is tested against.
  std::int64_t nearest_centroid_brute_force(const Eigen::VectorXd& measures) const;

 protected:
  std::int64_t cell_of_checked(const Eigen::VectorXd& measures) const override;

 private:
  Eigen::MatrixXd centroids_;  // k x measure_dim
  std::unique_ptr<KdTree> tree_;
  double cell_spacing_ = 1.0;
};

}  // namespace qdgen::archive
