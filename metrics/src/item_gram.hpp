#pragma once
// Internal: the weighted, normalised items Y = diag(s) X of the cosine and linear kernels and
// their Gram matrices, computed from a MatrixView block by block.
//
// Cosine: s_i = sqrt(p_i) / |x_i|. Linear: s_i = sqrt(p_i) / M with M the largest |x_ij|; the
// spectrum is normalised to sum 1 afterwards, so the common factor 1/M changes no score but
// keeps rows of 1e-200 or 1e200 from under- or overflowing. Norms of rows that extreme are
// computed after dividing by the row's largest entry, so a cosine of rows of 1e-200 is exact.

#include <Eigen/Core>

#include "qdgen/metrics/kernels.hpp"
#include "qdgen/metrics/matrix_view.hpp"

namespace qdgen::metrics::detail {

// YᵀY (d x d), upper triangle only. The items are copied a block at a time (about 2 MB) into
// a buffer, scaled there and accumulated by dsyrk: the view is read once and never copied
// whole. Throws naming the row (and column) of a non-finite value or (cosine) a zero row.
Eigen::MatrixXd item_gram_of_features(const MatrixView& x, KernelKind kind,
                                      const Eigen::VectorXd& root_p);

// Y Yᵀ (n x n), upper triangle only, through a column-major copy of Y. Same checks.
Eigen::MatrixXd item_gram_of_items(const MatrixView& x, KernelKind kind,
                                   const Eigen::VectorXd& root_p);

}  // namespace qdgen::metrics::detail
