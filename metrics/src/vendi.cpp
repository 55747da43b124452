#include "qdgen/metrics/vendi.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "item_checks.hpp"
#include "item_gram.hpp"
#include "ngram_vectors.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "spectrum.hpp"

namespace qdgen::metrics {
namespace {

using detail::format_number;

// Eigenvalues of a symmetric matrix that is no longer needed, counted for n items of d
// features.
std::vector<double> scores_of_symmetric(Eigen::MatrixXd matrix, Triangle triangle,
                                        std::span<const double> orders, std::int64_t n,
                                        std::int64_t d) {
  const Eigen::VectorXd eigenvalues = symmetric_eigenvalues_in_place(matrix, triangle);
  return detail::scores_of_spectrum(std::span(eigenvalues.data(), eigenvalues.size()), orders,
                                    relative_eigenvalue_cut(n, d));
}

}  // namespace

void check_weights(std::span<const double> weights, std::int64_t num_items) {
  if (static_cast<std::int64_t>(weights.size()) != num_items) {
    throw std::runtime_error("there are " + std::to_string(weights.size()) + " weights for " +
                             std::to_string(num_items) + " items; expected one weight per item");
  }
  double sum = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0) {
      throw std::runtime_error("weight " + std::to_string(i + 1) + " is " +
                               format_number(weights[i]) + "; expected a finite number >= 0");
    }
    sum += weights[i];
  }
  if (std::abs(sum - 1) > 1e-6) {
    throw std::runtime_error("the weights sum to " + format_number(sum) +
                             "; expected 1 (within 1e-6)");
  }
}

std::string to_string(VendiPath path) {
  switch (path) {
    case VendiPath::automatic:
      return "automatic";
    case VendiPath::features_dxd:
      return "features (d x d)";
    case VendiPath::kernel_nxn:
      return "kernel (n x n)";
  }
  return "?";
}

VendiResult vendi_of_features(const MatrixView& rows, const Kernel& kernel,
                              std::span<const double> orders, std::span<const double> weights,
                              VendiPath path) {
  detail::check_orders(orders);
  detail::check_item_count(rows.rows);
  if (rows.cols == 0) throw std::runtime_error("the items have 0 features; expected at least 1");
  const bool has_features_path =
      kernel.kind == KernelKind::cosine || kernel.kind == KernelKind::linear;
  if (!has_features_path && kernel.kind != KernelKind::rbf) {
    throw std::runtime_error("kernel " + to_string(kernel) + " does not apply to feature rows");
  }
  if (path == VendiPath::automatic) {
    path = has_features_path && rows.cols < rows.rows ? VendiPath::features_dxd
                                                      : VendiPath::kernel_nxn;
  }
  if (path == VendiPath::features_dxd && !has_features_path) {
    throw std::runtime_error("kernel " + to_string(kernel) +
                             " has no d x d path; use the n x n path");
  }
  const Eigen::VectorXd root_p = detail::sqrt_probabilities(weights, rows.rows);
  VendiResult result{.scores = {}, .n = rows.rows, .d = rows.cols, .path = path};

  if (kernel.kind == KernelKind::rbf) {
    const Eigen::MatrixXd x = to_matrix(rows);
    if (!x.allFinite()) detail::throw_first_non_finite(rows);
    Eigen::MatrixXd k = kernel_matrix(x, kernel);
    k = root_p.asDiagonal() * k * root_p.asDiagonal();
    result.scores =
        scores_of_symmetric(std::move(k), Triangle::lower, orders, rows.rows, rows.cols);
    return result;
  }
  // diag(√p) K diag(√p) = Y Yᵀ with Y = diag(√p) X (rows normalised for cosine); its non-zero
  // eigenvalues are those of YᵀY. Normalising the spectrum to sum 1 divides by
  // Σ p_i k(x_i, x_i) (exactly 1 for cosine).
  Eigen::MatrixXd gram = path == VendiPath::features_dxd
                             ? detail::item_gram_of_features(rows, kernel.kind, root_p)
                             : detail::item_gram_of_items(rows, kernel.kind, root_p);
  result.scores =
      scores_of_symmetric(std::move(gram), Triangle::upper, orders, rows.rows, rows.cols);
  return result;
}

VendiResult vendi_of_features(const Eigen::MatrixXd& rows, const Kernel& kernel,
                              std::span<const double> orders, std::span<const double> weights,
                              VendiPath path) {
  return vendi_of_features(MatrixView::of(rows), kernel, orders, weights, path);
}

std::vector<double> vendi_scores_of_embeddings(const Eigen::MatrixXd& rows,
                                               std::span<const double> orders) {
  return vendi_of_features(rows, Kernel{.kind = KernelKind::cosine}, orders).scores;
}

VendiResult vendi_of_texts(std::span<const std::string> texts, int ngram_order,
                           std::span<const double> orders, std::span<const double> weights) {
  detail::check_orders(orders);
  detail::check_item_count(static_cast<Eigen::Index>(texts.size()));
  if (ngram_order < 1) {
    throw std::runtime_error("n-gram order " + std::to_string(ngram_order) +
                             " is invalid; expected N >= 1");
  }
  Eigen::SparseMatrix<double, Eigen::RowMajor> counts =
      detail::ngram_count_vectors(texts, ngram_order);
  for (Eigen::Index i = 0; i < counts.rows(); ++i) {
    const double norm = counts.row(i).norm();
    if (norm == 0) {
      throw std::runtime_error("text " + std::to_string(i + 1) +
                               " has fewer than one word; the "
                               "n-gram kernel needs non-empty texts");
    }
    counts.row(i) /= norm;
  }
  const Eigen::Index n = counts.rows();
  const Eigen::VectorXd root_p = detail::sqrt_probabilities(weights, n);
  if (counts.cols() < n) {
    // Few distinct n-grams: the dense d x d path is the cheaper one.
    VendiResult result =
        vendi_of_features(Eigen::MatrixXd(counts), Kernel{.kind = KernelKind::cosine}, orders,
                          weights, VendiPath::features_dxd);
    return result;
  }
  const Eigen::SparseMatrix<double, Eigen::RowMajor> weighted = root_p.asDiagonal() * counts;
  return VendiResult{.scores = scores_of_symmetric(Eigen::MatrixXd(weighted * weighted.transpose()),
                                                   Triangle::lower, orders, n, counts.cols()),
                     .n = n,
                     .d = counts.cols(),
                     .path = VendiPath::kernel_nxn};
}

}  // namespace qdgen::metrics
