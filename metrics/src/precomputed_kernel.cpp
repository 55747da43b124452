// The Vendi score of a precomputed similarity matrix: the values are copied once, straight
// from the caller's (or the mapped file's) memory into the buffer LAPACK overwrites, and
// checked there. Row-major data lands transposed; a symmetric matrix does not mind, and the
// lower triangle of K is then the buffer's upper one.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "blas.hpp"
#include "item_checks.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "qdgen/metrics/vendi.hpp"
#include "spectrum.hpp"

namespace qdgen::metrics {
namespace {

using detail::format_number;

// K(i, j) of the matrix a buffer holds, stored as is or transposed.
struct Stored {
  const Eigen::MatrixXd& buffer;
  bool transposed;
  double operator()(Eigen::Index i, Eigen::Index j) const {
    return transposed ? buffer(j, i) : buffer(i, j);
  }
};

Eigen::MatrixXd copy_into_buffer(const MatrixView& k) {
  Eigen::MatrixXd buffer = detail::uninitialised_matrix(k.rows, k.cols);
  if (k.type == ScalarType::float64) {
    std::memcpy(buffer.data(), k.data, static_cast<std::size_t>(buffer.size()) * sizeof(double));
  } else {
    for (Eigen::Index i = 0; i < buffer.size(); ++i) {
      float value;
      std::memcpy(&value, k.data + i * 4, sizeof value);
      buffer.data()[i] = value;
    }
  }
  return buffer;
}

void check_finite(const Stored& k) {
  if (k.buffer.allFinite()) return;
  for (Eigen::Index j = 0; j < k.buffer.cols(); ++j) {
    for (Eigen::Index i = 0; i < k.buffer.rows(); ++i) {
      if (!std::isfinite(k(i, j))) throw detail::non_finite(i, j, k(i, j));
    }
  }
}

void check_diagonal(const Stored& k) {
  for (Eigen::Index i = 0; i < k.buffer.rows(); ++i) {
    if (std::abs(k(i, i) - 1) > kDiagonalTolerance) {
      throw std::runtime_error("the precomputed kernel's diagonal K[" + std::to_string(i + 1) +
                               "][" + std::to_string(i + 1) + "] = " + format_number(k(i, i)) +
                               "; expected 1 (k(x, x) = 1)");
    }
  }
}

// Tile by tile, so that the transposed side is not walked with a stride of n; the first
// violation in column order (the one named) is looked for only once one is known.
void check_symmetric(const Stored& k) {
  const Eigen::MatrixXd& b = k.buffer;
  const Eigen::Index n = b.rows();
  constexpr Eigen::Index kTile = 64;
  bool symmetric = true;
  for (Eigen::Index j0 = 0; j0 < n && symmetric; j0 += kTile) {
    for (Eigen::Index i0 = j0; i0 < n && symmetric; i0 += kTile) {
      const Eigen::Index j1 = std::min(n, j0 + kTile), i1 = std::min(n, i0 + kTile);
      for (Eigen::Index j = j0; j < j1; ++j) {
        for (Eigen::Index i = std::max(i0, j + 1); i < i1; ++i) {
          symmetric = symmetric && std::abs(b(i, j) - b(j, i)) <= kSymmetryTolerance;
        }
      }
    }
  }
  if (symmetric) return;
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = j + 1; i < n; ++i) {
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

VendiResult vendi_of_kernel_matrix(const MatrixView& kernel_matrix, std::span<const double> orders,
                                   std::span<const double> weights) {
  detail::check_orders(orders);
  if (kernel_matrix.rows != kernel_matrix.cols) {
    throw std::runtime_error("the precomputed kernel is " + std::to_string(kernel_matrix.rows) +
                             " x " + std::to_string(kernel_matrix.cols) +
                             "; expected a square matrix");
  }
  const std::int64_t n = kernel_matrix.rows;
  detail::check_item_count(n);
  detail::checked_int(n, "matrix size");
  Eigen::MatrixXd buffer = copy_into_buffer(kernel_matrix);
  const Stored k{buffer, kernel_matrix.row_major};
  check_finite(k);
  check_diagonal(k);
  check_symmetric(k);
  const Eigen::VectorXd root_p = detail::sqrt_probabilities(weights, n);
  // The weighted matrix diag(√p) K diag(√p) needs K, which LAPACK is about to overwrite.
  Eigen::MatrixXd weighted;
  if (!weights.empty()) {
    weighted =
        root_p.asDiagonal() * (k.transposed ? buffer.transpose() : buffer) * root_p.asDiagonal();
  }
  const Triangle lower_of_k = k.transposed ? Triangle::upper : Triangle::lower;
  const Eigen::VectorXd unweighted =
      symmetric_eigenvalues_in_place(buffer, lower_of_k) / static_cast<double>(n);
  check_psd(unweighted);
  VendiResult result{.scores = {}, .n = n, .d = n, .path = VendiPath::kernel_nxn};
  const double cut = relative_eigenvalue_cut(n, n);
  if (weights.empty()) {
    result.scores =
        detail::scores_of_spectrum(std::span(unweighted.data(), unweighted.size()), orders, cut);
  } else {
    const Eigen::VectorXd eigenvalues = symmetric_eigenvalues_in_place(weighted, Triangle::lower);
    result.scores =
        detail::scores_of_spectrum(std::span(eigenvalues.data(), eigenvalues.size()), orders, cut);
  }
  return result;
}

VendiResult vendi_of_kernel_matrix(const Eigen::MatrixXd& kernel_matrix,
                                   std::span<const double> orders,
                                   std::span<const double> weights) {
  return vendi_of_kernel_matrix(MatrixView::of(kernel_matrix), orders, weights);
}

}  // namespace qdgen::metrics
