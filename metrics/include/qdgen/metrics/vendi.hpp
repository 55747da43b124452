#pragma once
// Vendi scores of every order q >= 0 (Friedman & Dieng 2023; Pasarkar & Dieng 2023).
//
// VS_q = exp(log(sum lambda_i^q) / (1 - q)), with VS_1 = exp(-sum lambda log lambda),
// VS_inf = 1 / max lambda and VS_0 = the number of counted eigenvalues, where lambda are the
// eigenvalues of diag(sqrt p) K diag(sqrt p) normalised to sum 1 (p = 1/n unless weighted).
//
// Counted eigenvalues: lambda_i > max(n, d) * epsilon * max lambda, for n items of d features
// (relative_eigenvalue_cut): the numerical-rank tolerance of NumPy's matrix_rank applied to
// the kernel matrix. Round-off leaves eigenvalues of a few epsilon * max lambda in a
// rank-deficient kernel (cosine with d < n) that would inflate every order q < 1; real small
// eigenvalues (an RBF kernel's decay smoothly to 1e-14 of the largest) still count.

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/matrix_view.hpp"

namespace qdgen::metrics {

// max(n, d) * epsilon: eigenvalues at or below this times the largest are not counted.
double relative_eigenvalue_cut(std::int64_t n, std::int64_t d);

// How negative a spectrum's values may be (relative to the largest) and still be round-off.
inline constexpr double kNegativeRoundOff = 1e-10;

// Vendi scores (one per order) of a spectrum of n values, counted as for an n x n kernel and
// normalised here to sum 1; negatives down to -kNegativeRoundOff * max are dropped, lower ones
// are an error. Throws on q < 0.
std::vector<double> vendi_scores_of_spectrum(std::span<const double> eigenvalues,
                                             std::span<const double> orders);

// Cosine kernel on the rows (each normalised); the d x d path XᵀX/n when d < n.
std::vector<double> vendi_scores_of_embeddings(const Eigen::MatrixXd& rows,
                                               std::span<const double> orders);

enum class VendiPath { automatic, features_dxd, kernel_nxn };

struct VendiResult {
  std::vector<double> scores;             // one per order, same order as asked
  std::int64_t n = 0;                     // items
  std::int64_t d = 0;                     // feature dimension (vocabulary size for n-grams)
  VendiPath path = VendiPath::automatic;  // the path actually used
};

// Items as feature rows under a cosine, linear or RBF kernel. Weights (empty = uniform) must
// be one per row, non-negative and sum to 1. The linear kernel's eigenvalues are normalised
// by sum p_i k(x_i, x_i), which is K/n for unit-norm rows. The d x d path streams the rows
// from the view into BLAS block by block, normalised and weighted on the way, without a copy
// of the whole matrix.
VendiResult vendi_of_features(const MatrixView& rows, const Kernel& kernel,
                              std::span<const double> orders, std::span<const double> weights = {},
                              VendiPath path = VendiPath::automatic);
VendiResult vendi_of_features(const Eigen::MatrixXd& rows, const Kernel& kernel,
                              std::span<const double> orders, std::span<const double> weights = {},
                              VendiPath path = VendiPath::automatic);

// A precomputed similarity matrix: square, symmetric, unit diagonal and positive
// semi-definite (tolerances in kernels.hpp); throws naming the first property that fails.
// The values are copied once, into the buffer LAPACK works in.
VendiResult vendi_of_kernel_matrix(const MatrixView& kernel_matrix, std::span<const double> orders,
                                   std::span<const double> weights = {});
VendiResult vendi_of_kernel_matrix(const Eigen::MatrixXd& kernel_matrix,
                                   std::span<const double> orders,
                                   std::span<const double> weights = {});

// Texts under the n-gram kernel: cosine of word n-gram count vectors (orders 1..N).
VendiResult vendi_of_texts(std::span<const std::string> texts, int ngram_order,
                           std::span<const double> orders, std::span<const double> weights = {});

// The weights rule the functions above apply: one per item, finite, >= 0, summing to 1
// within 1e-6. Throws naming the first violation.
void check_weights(std::span<const double> weights, std::int64_t num_items);

std::string to_string(VendiPath path);

}  // namespace qdgen::metrics
