#include "qdgen/metrics/linear_algebra.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

// OpenBLAS exports the Fortran interfaces; gfortran passes each character argument's
// length as a trailing hidden size_t. dsyevd_2stage (LAPACK >= 3.7, eigenvalues only) reduces
// to a band matrix with BLAS-3 first: on a 5,000 x 5,000 matrix it took 3.98 s against
// dsyevd's 5.98 s here (2 OpenBLAS threads, same eigenvalues).
extern "C" {
void dsyevd_2stage_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                    double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                    int* info, std::size_t jobz_len, std::size_t uplo_len);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc,
            std::size_t uplo_len, std::size_t trans_len);
}

namespace qdgen::metrics {
namespace {

int checked_int(Eigen::Index value, const char* what) {
  if (value > Eigen::Index{2147483647}) {
    throw std::runtime_error(std::string(what) + " " + std::to_string(value) +
                             " exceeds the 32-bit LAPACK limit");
  }
  return static_cast<int>(value);
}

// dsyrk computes one triangle; the other is mirrored so callers get a plain matrix.
void mirror_upper_to_lower(Eigen::MatrixXd& c) {
  for (Eigen::Index j = 0; j < c.cols(); ++j) {
    for (Eigen::Index i = j + 1; i < c.rows(); ++i) c(i, j) = c(j, i);
  }
}

Eigen::MatrixXd syrk(const Eigen::MatrixXd& x, char trans) {
  // trans 'T': C = XᵀX (cols x cols); 'N': C = X Xᵀ (rows x rows).
  const int n = checked_int(trans == 'T' ? x.cols() : x.rows(), "dimension");
  const int k = checked_int(trans == 'T' ? x.rows() : x.cols(), "dimension");
  const int lda = std::max(1, checked_int(x.rows(), "dimension"));
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(n, n);
  if (n == 0 || k == 0) return c;
  const double alpha = 1.0, beta = 0.0;
  const int ldc = std::max(1, n);
  dsyrk_("U", &trans, &n, &k, &alpha, x.data(), &lda, &beta, c.data(), &ldc, 1, 1);
  mirror_upper_to_lower(c);
  return c;
}

}  // namespace

Eigen::VectorXd symmetric_eigenvalues(Eigen::MatrixXd matrix) {
  if (matrix.rows() != matrix.cols()) {
    throw std::runtime_error("symmetric_eigenvalues: matrix is " + std::to_string(matrix.rows()) +
                             " x " + std::to_string(matrix.cols()) + ", expected square");
  }
  const int n = checked_int(matrix.rows(), "matrix size");
  Eigen::VectorXd eigenvalues(n);
  if (n == 0) return eigenvalues;
  const int lda = n;
  int info = 0;
  // Workspace query first, as LAPACK recommends; eigenvalues only ('N').
  int lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  dsyevd_2stage_("N", "L", &n, matrix.data(), &lda, eigenvalues.data(), &work_size, &lwork,
                 &iwork_size, &liwork, &info, 1, 1);
  lwork = std::max(1, static_cast<int>(work_size));
  liwork = std::max(1, iwork_size);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_2stage_("N", "L", &n, matrix.data(), &lda, eigenvalues.data(), work.data(), &lwork,
                 iwork.data(), &liwork, &info, 1, 1);
  if (info < 0) {
    throw std::runtime_error("dsyevd_2stage: argument " + std::to_string(-info) + " is invalid");
  }
  if (info > 0) {
    throw std::runtime_error("dsyevd_2stage: the eigenvalue iteration did not converge (info " +
                             std::to_string(info) + "); is the matrix finite?");
  }
  return eigenvalues;
}

Eigen::MatrixXd gram_of_columns(const Eigen::MatrixXd& x) {
  return syrk(x, 'T');
}

Eigen::MatrixXd gram_of_rows(const Eigen::MatrixXd& x) {
  return syrk(x, 'N');
}

}  // namespace qdgen::metrics
