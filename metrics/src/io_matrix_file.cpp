#include <stdexcept>

#include "input_file.hpp"
#include "qdgen/metrics/io.hpp"

namespace qdgen::metrics {

Eigen::MatrixXd read_matrix(const std::filesystem::path& file) {
  return file.extension() == ".npy" ? read_npy_matrix(file) : read_csv_matrix(file);
}

std::vector<double> read_vector(const std::filesystem::path& file) {
  const Eigen::MatrixXd matrix = read_matrix(file);
  if (matrix.rows() != 1 && matrix.cols() != 1) {
    throw std::runtime_error(detail::at_file(
        file, "is " + std::to_string(matrix.rows()) + " x " + std::to_string(matrix.cols()) +
                  "; expected one row or one column of numbers"));
  }
  return {matrix.data(), matrix.data() + matrix.size()};
}

}  // namespace qdgen::metrics
