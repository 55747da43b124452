#pragma once
// The two BLAS/LAPACK kernels the Vendi score rests on (OpenBLAS).

#include <Eigen/Core>

namespace qdgen::metrics {

// Eigenvalues (ascending) of a symmetric matrix (lower triangle read), eigenvalues only, by
// LAPACK dsyevd, or dsyevd_2stage from 3,500 rows on (faster there, measured). Takes the matrix
// by value: LAPACK overwrites it.
Eigen::VectorXd symmetric_eigenvalues(Eigen::MatrixXd matrix);

// The same on the caller's buffer, which it destroys, reading the given triangle only: a
// matrix stored transposed (row-major data) is read through its upper triangle.
enum class Triangle { lower, upper };
Eigen::VectorXd symmetric_eigenvalues_in_place(Eigen::MatrixXd& matrix, Triangle triangle);

// XᵀX (d x d, both triangles filled) by BLAS dsyrk.
Eigen::MatrixXd gram_of_columns(const Eigen::MatrixXd& x);

// X Xᵀ (n x n, both triangles filled) by BLAS dsyrk.
Eigen::MatrixXd gram_of_rows(const Eigen::MatrixXd& x);

// YᵀY and Y Yᵀ for Y = diag(row_scale) X, without materialising Y: blocks of block_size rows
// (columns for Y Yᵀ) are scaled and fed to dsyrk; 0 picks about 16 MB a block.
Eigen::MatrixXd scaled_gram_of_columns(const Eigen::MatrixXd& x, const Eigen::VectorXd& row_scale,
                                       Eigen::Index block_size = 0);
Eigen::MatrixXd scaled_gram_of_rows(const Eigen::MatrixXd& x, const Eigen::VectorXd& row_scale,
                                    Eigen::Index block_size = 0);

}  // namespace qdgen::metrics
