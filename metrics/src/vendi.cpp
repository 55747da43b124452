#include "qdgen/metrics/vendi.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "ngram_vectors.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "spectrum.hpp"

namespace qdgen::metrics {
namespace {

using detail::format_number;

void check_item_count(Eigen::Index n) {
  if (n == 0) throw std::runtime_error("the set is empty; expected at least 2 items");
  if (n == 1) {
    throw std::runtime_error("the set has 1 item; expected at least 2 (diversity of one is 1)");
  }
}

void check_finite(const Eigen::MatrixXd& m) {
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      if (!std::isfinite(m(i, j))) {
        throw std::runtime_error("row " + std::to_string(i + 1) + ", column " +
                                 std::to_string(j + 1) + " is " + format_number(m(i, j)) +
                                 "; expected finite numbers");
      }
    }
  }
}

// Square roots of the item probabilities: uniform 1/n, or the given weights renormalised
// exactly after checking they are a distribution.
Eigen::VectorXd sqrt_probabilities(std::span<const double> weights, Eigen::Index n) {
  if (weights.empty()) return Eigen::VectorXd::Constant(n, std::sqrt(1.0 / static_cast<double>(n)));
  check_weights(weights, n);
  double sum = 0;
  for (double w : weights) sum += w;
  Eigen::VectorXd roots(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    roots(i) = std::sqrt(weights[static_cast<std::size_t>(i)] / sum);
  }
  return roots;
}

// Squared row norms in one column-major pass; a non-finite entry (or an overflowing norm)
// shows up as a non-finite sum, so finiteness costs no extra pass over large inputs.
Eigen::VectorXd checked_squared_row_norms(const Eigen::MatrixXd& rows) {
  Eigen::VectorXd squared = Eigen::VectorXd::Zero(rows.rows());
  for (Eigen::Index j = 0; j < rows.cols(); ++j) squared += rows.col(j).cwiseAbs2();
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    if (std::isfinite(squared(i))) continue;
    for (Eigen::Index j = 0; j < rows.cols(); ++j) {
      if (!std::isfinite(rows(i, j))) {
        throw std::runtime_error("row " + std::to_string(i + 1) + ", column " +
                                 std::to_string(j + 1) + " is " + format_number(rows(i, j)) +
                                 "; expected finite numbers");
      }
    }
    throw std::runtime_error("row " + std::to_string(i + 1) +
                             " is too large: its squared norm overflows a double");
  }
  return squared;
}

std::vector<double> scores_of_symmetric(const Eigen::MatrixXd& matrix,
                                        std::span<const double> orders) {
  const Eigen::VectorXd eigenvalues = symmetric_eigenvalues(matrix);
  return detail::scores_of_spectrum(std::span(eigenvalues.data(), eigenvalues.size()), orders,
                                    kRelativeEigenvalueThreshold);
}

void check_precomputed(const Eigen::MatrixXd& k) {
  if (k.rows() != k.cols()) {
    throw std::runtime_error("the precomputed kernel is " + std::to_string(k.rows()) + " x " +
                             std::to_string(k.cols()) + "; expected a square matrix");
  }
  check_item_count(k.rows());
  check_finite(k);
  for (Eigen::Index i = 0; i < k.rows(); ++i) {
    if (std::abs(k(i, i) - 1) > kDiagonalTolerance) {
      throw std::runtime_error("the precomputed kernel's diagonal K[" + std::to_string(i + 1) +
                               "][" + std::to_string(i + 1) + "] = " + format_number(k(i, i)) +
                               "; expected 1 (k(x, x) = 1)");
    }
  }
  for (Eigen::Index j = 0; j < k.cols(); ++j) {
    for (Eigen::Index i = j + 1; i < k.rows(); ++i) {
      if (std::abs(k(i, j) - k(j, i)) > kSymmetryTolerance) {
        throw std::runtime_error(
            "the precomputed kernel is not symmetric: K[" + std::to_string(i + 1) + "][" +
            std::to_string(j + 1) + "] = " + format_number(k(i, j)) + " but K[" +
            std::to_string(j + 1) + "][" + std::to_string(i + 1) + "] = " + format_number(k(j, i)));
      }
    }
  }
}

void check_psd(const Eigen::VectorXd& eigenvalues_of_k_over_n) {
  const double smallest = eigenvalues_of_k_over_n.minCoeff();
  if (smallest < -kPsdTolerance) {
    throw std::runtime_error(
        "the precomputed kernel is not positive semi-definite: K/n has "
        "eigenvalue " +
        format_number(smallest) + " (expected >= -" + format_number(kPsdTolerance) + ")");
  }
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

VendiResult vendi_of_features(const Eigen::MatrixXd& rows, const Kernel& kernel,
                              std::span<const double> orders, std::span<const double> weights,
                              VendiPath path) {
  detail::check_orders(orders);
  check_item_count(rows.rows());
  if (rows.cols() == 0) throw std::runtime_error("the items have 0 features; expected at least 1");
  const bool has_features_path =
      kernel.kind == KernelKind::cosine || kernel.kind == KernelKind::linear;
  if (!has_features_path && kernel.kind != KernelKind::rbf) {
    throw std::runtime_error("kernel " + to_string(kernel) + " does not apply to feature rows");
  }
  if (path == VendiPath::automatic) {
    path = has_features_path && rows.cols() < rows.rows() ? VendiPath::features_dxd
                                                          : VendiPath::kernel_nxn;
  }
  if (path == VendiPath::features_dxd && !has_features_path) {
    throw std::runtime_error("kernel " + to_string(kernel) +
                             " has no d x d path; use the n x n path");
  }
  const Eigen::VectorXd squared_norms = checked_squared_row_norms(rows);
  const Eigen::VectorXd root_p = sqrt_probabilities(weights, rows.rows());
  VendiResult result{.scores = {}, .n = rows.rows(), .d = rows.cols(), .path = path};

  if (kernel.kind == KernelKind::rbf) {
    const Eigen::MatrixXd k = kernel_matrix(rows, kernel);
    result.scores = scores_of_symmetric(root_p.asDiagonal() * k * root_p.asDiagonal(), orders);
    return result;
  }
  // diag(√p) K diag(√p) = Y Yᵀ with Y = diag(√p) X; its non-zero eigenvalues are those of YᵀY.
  // Normalising the spectrum to sum 1 divides by Σ p_i k(x_i, x_i) (exactly 1 for cosine).
  Eigen::VectorXd row_scale = root_p;
  if (kernel.kind == KernelKind::cosine) {
    for (Eigen::Index i = 0; i < rows.rows(); ++i) {
      if (squared_norms(i) == 0) {
        throw std::runtime_error("row " + std::to_string(i + 1) +
                                 " is a zero vector; the cosine kernel needs non-zero rows");
      }
      row_scale(i) /= std::sqrt(squared_norms(i));
    }
  } else if (squared_norms.dot(root_p.cwiseAbs2()) == 0) {
    throw std::runtime_error(
        "every item with weight is a zero vector; the linear kernel needs "
        "a non-zero row");
  }
  result.scores =
      scores_of_symmetric(path == VendiPath::features_dxd ? scaled_gram_of_columns(rows, row_scale)
                                                          : scaled_gram_of_rows(rows, row_scale),
                          orders);
  return result;
}

std::vector<double> vendi_scores_of_embeddings(const Eigen::MatrixXd& rows,
                                               std::span<const double> orders) {
  return vendi_of_features(rows, Kernel{.kind = KernelKind::cosine}, orders).scores;
}

VendiResult vendi_of_kernel_matrix(const Eigen::MatrixXd& kernel_matrix,
                                   std::span<const double> orders,
                                   std::span<const double> weights) {
  detail::check_orders(orders);
  check_precomputed(kernel_matrix);
  const Eigen::Index n = kernel_matrix.rows();
  const Eigen::VectorXd root_p = sqrt_probabilities(weights, n);
  const Eigen::VectorXd unweighted = symmetric_eigenvalues(kernel_matrix / static_cast<double>(n));
  check_psd(unweighted);
  VendiResult result{.scores = {}, .n = n, .d = n, .path = VendiPath::kernel_nxn};
  if (weights.empty()) {
    result.scores = detail::scores_of_spectrum(std::span(unweighted.data(), unweighted.size()),
                                               orders, kRelativeEigenvalueThreshold);
  } else {
    result.scores =
        scores_of_symmetric(root_p.asDiagonal() * kernel_matrix * root_p.asDiagonal(), orders);
  }
  return result;
}

VendiResult vendi_of_texts(std::span<const std::string> texts, int ngram_order,
                           std::span<const double> orders, std::span<const double> weights) {
  detail::check_orders(orders);
  check_item_count(static_cast<Eigen::Index>(texts.size()));
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
  const Eigen::VectorXd root_p = sqrt_probabilities(weights, n);
  if (counts.cols() < n) {
    // Few distinct n-grams: the dense d x d path is the cheaper one.
    VendiResult result =
        vendi_of_features(Eigen::MatrixXd(counts), Kernel{.kind = KernelKind::cosine}, orders,
                          weights, VendiPath::features_dxd);
    return result;
  }
  const Eigen::SparseMatrix<double, Eigen::RowMajor> weighted = root_p.asDiagonal() * counts;
  const Eigen::MatrixXd k = Eigen::MatrixXd(weighted * weighted.transpose());
  return VendiResult{.scores = scores_of_symmetric(k, orders),
                     .n = n,
                     .d = counts.cols(),
                     .path = VendiPath::kernel_nxn};
}

}  // namespace qdgen::metrics
