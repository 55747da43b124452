#include "qdgen/engine/cma_es.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "state_codec.hpp"

namespace qdgen::engine {

namespace {

struct StrategyParams {
  Eigen::VectorXd weights;
  double mueff, cc, cs, c1, cmu;
};

StrategyParams strategy_params(int dim, int num_parents) {
  StrategyParams p;
  const double n = dim;
  p.weights.resize(num_parents);
  for (int i = 0; i < num_parents; ++i)
    p.weights[i] = std::log(num_parents + 0.5) - std::log(i + 1.0);
  p.weights /= p.weights.sum();
  p.mueff = 1.0 / p.weights.squaredNorm();
  p.cc = (4 + p.mueff / n) / (n + 4 + 2 * p.mueff / n);
  p.cs = (p.mueff + 2) / (n + p.mueff + 5);
  p.c1 = 2 / ((n + 1.3) * (n + 1.3) + p.mueff);
  p.cmu = std::min(1 - p.c1, 2 * (p.mueff - 2 + 1 / p.mueff) / ((n + 2) * (n + 2) + p.mueff));
  return p;
}

}  // namespace

CmaEs::CmaEs(int dim, double sigma0, int batch_size, RankOneUpdate rank_one)
    : dim_(dim), sigma0_(sigma0), batch_size_(batch_size), rank_one_(rank_one) {
  if (dim < 1) throw std::runtime_error("CMA-ES needs a numeric domain (solution_dim >= 1)");
  if (batch_size < 2) throw std::runtime_error("CMA-ES needs a batch of at least 2");
  // Refreshing the eigensystem costs O(n^3); Hansen's gap keeps it O(n^2) per sample.
  const StrategyParams p = strategy_params(dim, batch_size / 2);
  lazy_gap_evals_ = 0.5 * dim * batch_size / (p.c1 + p.cmu) / (double(dim) * dim);
  reset(Eigen::VectorXd::Zero(dim));
}

void CmaEs::reset(const Eigen::VectorXd& mean) {
  current_eval_ = 0;
  updated_eval_ = 0;
  sigma_ = sigma0_;
  mean_ = mean;
  pc_ = Eigen::VectorXd::Zero(dim_);
  ps_ = Eigen::VectorXd::Zero(dim_);
  cov_ = Eigen::MatrixXd::Identity(dim_, dim_);
  eigenbasis_ = Eigen::MatrixXd::Identity(dim_, dim_);
  invsqrt_ = Eigen::MatrixXd::Identity(dim_, dim_);
  eigenvalues_ = Eigen::VectorXd::Ones(dim_);
  transform_ = Eigen::MatrixXd::Identity(dim_, dim_);
  condition_ = 1.0;
}

void CmaEs::refresh_eigensystem(bool force) {
  if (!force && current_eval_ <= updated_eval_ + lazy_gap_evals_) return;
  cov_ = cov_.selfadjointView<Eigen::Upper>();  // symmetric up to rounding
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov_);
  eigenvalues_ = solver.eigenvalues().cwiseMax(1e-300);
  eigenbasis_ = solver.eigenvectors();
  condition_ = eigenvalues_.maxCoeff() / eigenvalues_.minCoeff();
  invsqrt_ =
      eigenbasis_ * eigenvalues_.cwiseSqrt().cwiseInverse().asDiagonal() * eigenbasis_.transpose();
  transform_ = eigenbasis_ * eigenvalues_.cwiseSqrt().asDiagonal();
  updated_eval_ = current_eval_;
}

const Eigen::MatrixXd& CmaEs::ask(NoiseRng& noise, const std::optional<SolutionBounds>& bounds) {
  refresh_eigensystem(false);
  // One matrix product for the whole batch instead of a matrix-vector product per sample.
  normals_.resize(dim_, batch_size_);
  fill_standard_normal(noise, std::span<double>(normals_.data(), normals_.size()));
  solutions_.noalias() = transform_ * normals_;
  solutions_ = (sigma_ * solutions_).colwise() + mean_;
  if (!bounds) return solutions_;
  // Resample out-of-bounds draws as pyribs does; after many misses, clip instead, so a
  // mean stuck at a bound cannot loop forever.
  Eigen::VectorXd z(dim_);
  for (int j = 0; j < batch_size_; ++j) {
    for (int attempt = 0;; ++attempt) {
      auto col = solutions_.col(j);
      const bool inside = (col.array() >= bounds->lower.array()).all() &&
                          (col.array() <= bounds->upper.array()).all();
      if (inside) break;
      if (attempt >= 100) {
        col = col.cwiseMax(bounds->lower).cwiseMin(bounds->upper);
        break;
      }
      fill_standard_normal(noise, std::span<double>(z.data(), z.size()));
      col = mean_ + sigma_ * (transform_ * z);
    }
  }
  return solutions_;
}

void CmaEs::tell(const std::vector<int>& ranking, int num_parents) {
  current_eval_ += static_cast<std::int64_t>(ranking.size());
  if (num_parents <= 0) return;
  const double n = dim_;
  const StrategyParams p = strategy_params(dim_, num_parents);
  const double damps = 1 + 2 * std::max(0.0, std::sqrt((p.mueff - 1) / (n + 1)) - 1) + p.cs;

  Eigen::MatrixXd parents(dim_, num_parents);
  for (int i = 0; i < num_parents; ++i) parents.col(i) = solutions_.col(ranking[i]);
  const Eigen::VectorXd old_mean = mean_;
  mean_ = parents * p.weights;

  const Eigen::VectorXd y = mean_ - old_mean;
  ps_ = (1 - p.cs) * ps_ + (std::sqrt(p.cs * (2 - p.cs) * p.mueff) / sigma_) * (invsqrt_ * y);
  const double left = ps_.squaredNorm() / n /
                      (1 - std::pow(1 - p.cs, 2.0 * double(current_eval_) / double(batch_size_)));
  const double hsig = left < 2 + 4.0 / (n + 1) ? 1.0 : 0.0;
  pc_ = (1 - p.cc) * pc_ + hsig * std::sqrt(p.cc * (2 - p.cc) * p.mueff) * y;

  const Eigen::MatrixXd ys = parents.colwise() - old_mean;
  const Eigen::MatrixXd rank_mu = ys * p.weights.asDiagonal() * ys.transpose();
  const double c1a = p.c1 * (1 - (1 - hsig * hsig) * p.cc * (2 - p.cc));
  // The decay keeps c1a either way; only the rank-one term's weight differs.
  const double rank_one_weight = rank_one_ == RankOneUpdate::kPyribs ? p.c1 * p.c1 : p.c1;
  cov_ = cov_ * (1 - c1a - p.cmu) + rank_one_weight * pc_ * pc_.transpose() +
         (p.cmu / (sigma_ * sigma_)) * rank_mu;

  const double cn = p.cs / damps;
  sigma_ *= std::exp(std::min(1.0, cn * (ps_.squaredNorm() / n - 1) / 2));
}

bool CmaEs::should_stop(double value_spread) const {
  if (condition_ > 1e14) return true;
  if (sigma_ * std::sqrt(eigenvalues_.maxCoeff()) < 1e-11) return true;
  return value_spread < 1e-12;
}

nlohmann::json CmaEs::state() const {
  return {{"current_eval", current_eval_},
          {"updated_eval", updated_eval_},
          {"sigma", encode_doubles(&sigma_, 1)},
          {"condition", encode_doubles(&condition_, 1)},
          {"mean", encode_matrix(mean_)},
          {"pc", encode_matrix(pc_)},
          {"ps", encode_matrix(ps_)},
          {"cov", encode_matrix(cov_)},
          {"eigenbasis", encode_matrix(eigenbasis_)},
          {"eigenvalues", encode_matrix(eigenvalues_)},
          {"invsqrt", encode_matrix(invsqrt_)}};
}

void CmaEs::restore(const nlohmann::json& s) {
  current_eval_ = s.at("current_eval").get<std::int64_t>();
  updated_eval_ = s.at("updated_eval").get<std::int64_t>();
  decode_doubles(s.at("sigma").get<std::string>(), &sigma_, 1);
  decode_doubles(s.at("condition").get<std::string>(), &condition_, 1);
  decode_matrix(s.at("mean"), mean_, dim_, 1);
  decode_matrix(s.at("pc"), pc_, dim_, 1);
  decode_matrix(s.at("ps"), ps_, dim_, 1);
  decode_matrix(s.at("cov"), cov_, dim_, dim_);
  decode_matrix(s.at("eigenbasis"), eigenbasis_, dim_, dim_);
  decode_matrix(s.at("eigenvalues"), eigenvalues_, dim_, 1);
  decode_matrix(s.at("invsqrt"), invsqrt_, dim_, dim_);
  transform_ = eigenbasis_ * eigenvalues_.cwiseSqrt().asDiagonal();
}

}  // namespace qdgen::engine
