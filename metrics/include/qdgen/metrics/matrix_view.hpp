#pragma once
// A matrix as it lies in memory (a mapped NPY file, a parsed CSV, an Eigen matrix): float32 or
// float64 values, row-major (NumPy's C order) or column-major (Eigen's and Fortran's). The
// Vendi functions read items straight from it, so a large file is never copied whole.

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qdgen::metrics {

enum class ScalarType { float32, float64 };

struct MatrixView {
  const std::byte* data = nullptr;  // need not be aligned (an NPY header can end anywhere)
  ScalarType type = ScalarType::float64;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  bool row_major = false;

  static MatrixView of(const Eigen::MatrixXd& matrix) {
    return {reinterpret_cast<const std::byte*>(matrix.data()), ScalarType::float64, matrix.rows(),
            matrix.cols(), false};
  }

  // Element (i, j), 0-based.
  double at(std::int64_t i, std::int64_t j) const {
    const std::int64_t k = row_major ? i * cols + j : j * rows + i;
    if (type == ScalarType::float64) {
      double value;
      std::memcpy(&value, data + k * 8, sizeof value);
      return value;
    }
    float value;
    std::memcpy(&value, data + k * 4, sizeof value);
    return value;
  }
};

// A column-major float64 copy.
Eigen::MatrixXd to_matrix(const MatrixView& view);

}  // namespace qdgen::metrics
