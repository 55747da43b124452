#pragma once
// Internal: the OpenBLAS routines metrics/ calls. OpenBLAS exports the Fortran interfaces;
// gfortran passes each character argument's length as a trailing hidden size_t.

#include <Eigen/Core>
#include <cstddef>

extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             std::size_t jobz_len, std::size_t uplo_len);
void dsyevd_2stage_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                    double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                    int* info, std::size_t jobz_len, std::size_t uplo_len);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc,
            std::size_t uplo_len, std::size_t trans_len);
int openblas_get_num_threads();
}

namespace qdgen::metrics::detail {

// value as a LAPACK int; throws "WHAT VALUE exceeds the 32-bit LAPACK limit".
int checked_int(Eigen::Index value, const char* what);

// A matrix whose values are about to be overwritten: not zeroed, and (on Linux) backed by
// transparent huge pages where the kernel allows them, so that filling 200 MB costs about a
// hundred page faults instead of fifty thousand.
Eigen::MatrixXd uninitialised_matrix(Eigen::Index rows, Eigen::Index cols);

}  // namespace qdgen::metrics::detail
