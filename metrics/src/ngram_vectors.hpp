#pragma once
// Internal: word n-gram count vectors of texts, the Vendi paper's text features.

#include <Eigen/SparseCore>
#include <span>
#include <string>

namespace qdgen::metrics::detail {

// One row per text, one column per distinct n-gram of orders 1..max_order (words are
// whitespace-separated); entries are counts.
Eigen::SparseMatrix<double, Eigen::RowMajor> ngram_count_vectors(std::span<const std::string> texts,
                                                                 int max_order);

}  // namespace qdgen::metrics::detail
