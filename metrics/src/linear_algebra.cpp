#include "qdgen/metrics/linear_algebra.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "blas.hpp"

// Eigenvalues come from dsyevd (the routine NumPy's eigvalsh calls) below kTwoStageFrom and
// from dsyevd_2stage (BLAS-3 band reduction first) from there on. Measured here, same
// matrices, same process (rbf kernel matrices):
//   n = 768:   dsyevd 0.021 s, 2stage 0.051 s (2 threads); 0.027 / 0.043 (1 thread)
//   n = 2,000: dsyevd 0.23-0.26 s, 2stage 0.41 s (2 threads); 0.42 / 0.45 (1 thread)
//   n = 5,000: dsyevd 5.7-6.9 s, 2stage 4.2-6.8 s (2 threads); 11.5-12.0 / 5.9 (1 thread)
namespace qdgen::metrics {
namespace detail {

int checked_int(Eigen::Index value, const char* what) {
  if (value > Eigen::Index{2147483647}) {
    throw std::runtime_error(std::string(what) + " " + std::to_string(value) +
                             " exceeds the 32-bit LAPACK limit");
  }
  return static_cast<int>(value);
}

Eigen::MatrixXd uninitialised_matrix(Eigen::Index rows, Eigen::Index cols) {
  Eigen::MatrixXd matrix(rows, cols);
  constexpr std::uintptr_t kHugePage = std::uintptr_t{1} << 21;
  const auto begin = reinterpret_cast<std::uintptr_t>(matrix.data());
  const std::uintptr_t end = begin + static_cast<std::uintptr_t>(matrix.size()) * sizeof(double);
  const std::uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t last = end & ~(kHugePage - 1);
  // Advice only: where the kernel has no huge pages the call fails and nothing changes.
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  return matrix;
}

}  // namespace detail

namespace {

using detail::checked_int;

// dsyrk computes one triangle; the other is mirrored so callers get a plain matrix.
void mirror_upper_to_lower(Eigen::MatrixXd& c) {
  for (Eigen::Index j = 0; j < c.cols(); ++j) {
    for (Eigen::Index i = j + 1; i < c.rows(); ++i) c(i, j) = c(j, i);
  }
}

// Rows of the scaled copy kept at once: about 16 MB, so each block stays in the last-level
// cache between scaling and dsyrk instead of streaming an n x d copy through memory.
constexpr int kTwoStageFrom = 3500;

constexpr Eigen::Index kBlockElements = Eigen::Index{1} << 21;

// C = Yᵀ Y (trans 'T', cols x cols) or Y Yᵀ (trans 'N', rows x rows) for Y = diag(s) X, with
// s = row_scale or all ones. dsyrk accumulates block by block (beta = 1 after the first):
// on 20,000 x 768 this took 0.146 s against 0.23 s for scaling a full copy first.
Eigen::MatrixXd syrk(const Eigen::MatrixXd& x, const Eigen::VectorXd* row_scale, char trans,
                     Eigen::Index block_size) {
  const int n = checked_int(trans == 'T' ? x.cols() : x.rows(), "dimension");
  const int k = checked_int(trans == 'T' ? x.rows() : x.cols(), "dimension");
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(n, n);
  if (n == 0 || k == 0) return c;
  const double alpha = 1.0, beta_zero = 0.0, beta_one = 1.0;
  const int ldc = std::max(1, n);
  if (row_scale == nullptr) {
    const int lda = std::max(1, checked_int(x.rows(), "dimension"));
    dsyrk_("U", &trans, &n, &k, &alpha, x.data(), &lda, &beta_zero, c.data(), &ldc, 1, 1);
    mirror_upper_to_lower(c);
    return c;
  }
  if (row_scale->size() != x.rows()) {
    throw std::runtime_error("row scale has " + std::to_string(row_scale->size()) +
                             " entries for " + std::to_string(x.rows()) + " rows");
  }
  // 'T' blocks the rows (the summed dimension); 'N' blocks the columns.
  const Eigen::Index other = trans == 'T' ? x.cols() : x.rows();
  const Eigen::Index automatic =
      std::max<Eigen::Index>(64, kBlockElements / std::max<Eigen::Index>(other, 1));
  const Eigen::Index block = std::min<Eigen::Index>(block_size > 0 ? block_size : automatic, k);
  Eigen::MatrixXd scaled(trans == 'T' ? block : x.rows(), trans == 'T' ? x.cols() : block);
  for (Eigen::Index start = 0; start < k; start += block) {
    const int count = static_cast<int>(std::min<Eigen::Index>(block, k - start));
    int lda = 0;
    if (trans == 'T') {
      scaled.topRows(count) =
          row_scale->segment(start, count).asDiagonal() * x.middleRows(start, count);
      lda = static_cast<int>(scaled.rows());
    } else {
      scaled.leftCols(count) = row_scale->asDiagonal() * x.middleCols(start, count);
      lda = std::max(1, checked_int(x.rows(), "dimension"));
    }
    dsyrk_("U", &trans, &n, &count, &alpha, scaled.data(), &lda,
           start == 0 ? &beta_zero : &beta_one, c.data(), &ldc, 1, 1);
  }
  mirror_upper_to_lower(c);
  return c;
}

}  // namespace

Eigen::VectorXd symmetric_eigenvalues(Eigen::MatrixXd matrix) {
  return symmetric_eigenvalues_in_place(matrix, Triangle::lower);
}

Eigen::VectorXd symmetric_eigenvalues_in_place(Eigen::MatrixXd& matrix, Triangle triangle) {
  if (matrix.rows() != matrix.cols()) {
    throw std::runtime_error("symmetric_eigenvalues: matrix is " + std::to_string(matrix.rows()) +
                             " x " + std::to_string(matrix.cols()) + ", expected square");
  }
  const int n = checked_int(matrix.rows(), "matrix size");
  Eigen::VectorXd eigenvalues(n);
  if (n == 0) return eigenvalues;
  const int lda = n;
  int info = 0;
  const auto solver = n >= kTwoStageFrom ? dsyevd_2stage_ : dsyevd_;
  const char* const name = n >= kTwoStageFrom ? "dsyevd_2stage" : "dsyevd";
  const char* const uplo = triangle == Triangle::lower ? "L" : "U";
  // Workspace query first, as LAPACK recommends; eigenvalues only ('N').
  int lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  solver("N", uplo, &n, matrix.data(), &lda, eigenvalues.data(), &work_size, &lwork, &iwork_size,
         &liwork, &info, 1, 1);
  lwork = std::max(1, static_cast<int>(work_size));
  liwork = std::max(1, iwork_size);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  solver("N", uplo, &n, matrix.data(), &lda, eigenvalues.data(), work.data(), &lwork, iwork.data(),
         &liwork, &info, 1, 1);
  if (info < 0) {
    throw std::runtime_error(std::string(name) + ": argument " + std::to_string(-info) +
                             " is invalid");
  }
  if (info > 0) {
    throw std::runtime_error(std::string(name) +
                             ": the eigenvalue iteration did not converge (info " +
                             std::to_string(info) + "); is the matrix finite?");
  }
  return eigenvalues;
}

Eigen::MatrixXd gram_of_columns(const Eigen::MatrixXd& x) {
  return syrk(x, nullptr, 'T', 0);
}

Eigen::MatrixXd gram_of_rows(const Eigen::MatrixXd& x) {
  return syrk(x, nullptr, 'N', 0);
}

Eigen::MatrixXd scaled_gram_of_columns(const Eigen::MatrixXd& x, const Eigen::VectorXd& row_scale,
                                       Eigen::Index block_size) {
  return syrk(x, &row_scale, 'T', block_size);
}

Eigen::MatrixXd scaled_gram_of_rows(const Eigen::MatrixXd& x, const Eigen::VectorXd& row_scale,
                                    Eigen::Index block_size) {
  return syrk(x, &row_scale, 'N', block_size);
}

}  // namespace qdgen::metrics
