#pragma once
// Similarity kernels for the Vendi score: k(x, x) = 1 and positive semi-definite.

#include <Eigen/Core>
#include <string>
#include <string_view>

namespace qdgen::metrics {

enum class KernelKind { cosine, linear, rbf, precomputed, ngram };

struct Kernel {
  KernelKind kind = KernelKind::cosine;
  double rbf_sigma = 1.0;  // rbf: exp(-|x - y|^2 / (2 sigma^2))
  int ngram_order = 2;     // ngram: word n-grams of orders 1..ngram_order
};

// "cosine", "linear", "rbf:SIGMA", "precomputed" or "ngram:N"; throws naming the spec.
Kernel parse_kernel(std::string_view spec);
std::string to_string(const Kernel& kernel);

// Tolerances a precomputed matrix must meet.
inline constexpr double kSymmetryTolerance = 1e-6;  // |K_ij - K_ji|
inline constexpr double kDiagonalTolerance = 1e-6;  // |K_ii - 1|
inline constexpr double kPsdTolerance = 1e-6;       // smallest eigenvalue of K/n >= -this

// The n x n matrix of a feature kernel (cosine, linear, rbf) on the rows.
Eigen::MatrixXd kernel_matrix(const Eigen::MatrixXd& rows, const Kernel& kernel);

}  // namespace qdgen::metrics
