#pragma once
// CMA-ES (Hansen's purecma, as pyribs' CMAEvolutionStrategy uses it): truncation weights,
// a lazily refreshed eigendecomposition, bound handling by resampling, stop tests.
//
// One published difference is kept as a switch: pyribs' covariance update (every version
// of ribs/emitters/opt/_cma_es.py, `rank_one_update = c1 * outer(pc, pc)` then
// `+ rank_one_update * c1`) weights the rank-one term by c1^2 instead of Hansen's c1.
// pyribs' published CMA-ME / CMA-MAE figures were made with it.

#include <Eigen/Core>
#include <optional>
#include <vector>

#include "qdgen/engine/domain.hpp"
#include "qdgen/engine/random.hpp"

namespace qdgen::engine {

enum class RankOneUpdate {
  kHansen,  // C += c1 pc pc^T (Hansen's tutorial and purecma)
  kPyribs   // C += c1^2 pc pc^T (pyribs' CMAEvolutionStrategy)
};

class CmaEs {
 public:
  CmaEs(int dim, double sigma0, int batch_size, RankOneUpdate rank_one = RankOneUpdate::kHansen);

  void reset(const Eigen::VectorXd& mean);
  // Samples batch_size solutions (columns) from `noise`, inside `bounds` when given.
  const Eigen::MatrixXd& ask(NoiseRng& noise, const std::optional<SolutionBounds>& bounds);
  // ranking: indices of the last asked solutions, best first; the first num_parents
  // of them recombine into the new mean.
  void tell(const std::vector<int>& ranking, int num_parents);
  // Hansen's stop tests: ill-conditioned, collapsed, or flat (value_spread: distance
  // between the best and the worst ranking value, below 1e-12).
  bool should_stop(double value_spread) const;

  const Eigen::VectorXd& mean() const { return mean_; }
  double sigma() const { return sigma_; }
  const Eigen::MatrixXd& covariance() const { return cov_; }
  int batch_size() const { return batch_size_; }

  // Everything that evolves, so a resumed run continues bit for bit.
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  void refresh_eigensystem(bool force);

  int dim_;
  double sigma0_;
  int batch_size_;
  RankOneUpdate rank_one_;
  double lazy_gap_evals_ = 0.0;

  std::int64_t current_eval_ = 0;
  std::int64_t updated_eval_ = 0;
  double sigma_ = 0.0;
  Eigen::VectorXd mean_, pc_, ps_;
  Eigen::MatrixXd cov_, eigenbasis_, invsqrt_;
  Eigen::VectorXd eigenvalues_;
  Eigen::MatrixXd transform_;  // eigenbasis * sqrt(eigenvalues): maps N(0, I) to N(0, cov)
  double condition_ = 1.0;
  Eigen::MatrixXd normals_;    // last ask's standard normal draws, one column per solution
  Eigen::MatrixXd solutions_;  // last ask, one column per solution
};

}  // namespace qdgen::engine
