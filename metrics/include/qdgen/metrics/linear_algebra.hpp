#pragma once
// The two BLAS/LAPACK kernels the Vendi score rests on (OpenBLAS).

#include <Eigen/Core>

namespace qdgen::metrics {

// Eigenvalues (ascending) of a symmetric matrix (lower triangle read), by LAPACK dsyevd_2stage
// (eigenvalues only). Takes the matrix by value: LAPACK overwrites it.
Eigen::VectorXd symmetric_eigenvalues(Eigen::MatrixXd matrix);

// XᵀX (d x d, both triangles filled) by BLAS dsyrk.
Eigen::MatrixXd gram_of_columns(const Eigen::MatrixXd& x);

// X Xᵀ (n x n, both triangles filled) by BLAS dsyrk.
Eigen::MatrixXd gram_of_rows(const Eigen::MatrixXd& x);

}  // namespace qdgen::metrics
