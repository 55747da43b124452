#include <algorithm>
#include <memory>
#include <stdexcept>

#include "input_file.hpp"
#include "mapped_file.hpp"
#include "matrix_formats.hpp"
#include "qdgen/metrics/io.hpp"

namespace qdgen::metrics {
namespace {

bool is_npy(const std::filesystem::path& file) {
  return file.extension() == ".npy";
}

template <typename Float>
void copy_to_column_major(const MatrixView& view, double* out) {
  const std::int64_t rows = view.rows, cols = view.cols;
  const auto load = [&](std::int64_t k) {
    Float value;
    std::memcpy(&value, view.data + k * static_cast<std::int64_t>(sizeof(Float)), sizeof value);
    return static_cast<double>(value);
  };
  if (!view.row_major) {
    for (std::int64_t k = 0; k < rows * cols; ++k) out[k] = load(k);
    return;
  }
  // Transposed in tiles, so that neither side is walked with a large stride.
  constexpr std::int64_t kTile = 64;
  for (std::int64_t i0 = 0; i0 < rows; i0 += kTile) {
    for (std::int64_t j0 = 0; j0 < cols; j0 += kTile) {
      const std::int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
      for (std::int64_t i = i0; i < i1; ++i) {
        for (std::int64_t j = j0; j < j1; ++j) out[j * rows + i] = load(i * cols + j);
      }
    }
  }
}

}  // namespace

Eigen::MatrixXd to_matrix(const MatrixView& view) {
  Eigen::MatrixXd matrix(view.rows, view.cols);
  if (view.type == ScalarType::float64) {
    copy_to_column_major<double>(view, matrix.data());
  } else {
    copy_to_column_major<float>(view, matrix.data());
  }
  return matrix;
}

Eigen::MatrixXd read_matrix(const std::filesystem::path& file) {
  return is_npy(file) ? read_npy_matrix(file) : read_csv_matrix(file);
}

MatrixFile::MatrixFile(const std::filesystem::path& file) {
  if (is_npy(file)) {
    auto mapped = std::make_shared<const detail::MappedFile>(file);
    const detail::NpyLayout layout = detail::parse_npy(mapped->bytes(), file);
    view_ = {mapped->bytes().data() + layout.data_offset, layout.type, layout.rows, layout.cols,
             !layout.fortran_order};
    storage_ = std::move(mapped);
    return;
  }
  auto csv = std::make_shared<detail::CsvMatrix>(
      detail::parse_csv(detail::MappedFile(file).bytes(), file));
  view_ = {reinterpret_cast<const std::byte*>(csv->values.data()), ScalarType::float64, csv->rows,
           csv->cols, true};
  storage_ = std::move(csv);
}

std::vector<std::vector<double>> read_vectors(const std::filesystem::path& file) {
  const Eigen::MatrixXd matrix = read_matrix(file);
  if (matrix.cols() == 1 || matrix.rows() == 1) {
    return {std::vector<double>(matrix.data(), matrix.data() + matrix.size())};
  }
  std::vector<std::vector<double>> vectors(static_cast<std::size_t>(matrix.rows()));
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    vectors[static_cast<std::size_t>(i)].resize(static_cast<std::size_t>(matrix.cols()));
    Eigen::Map<Eigen::RowVectorXd>(vectors[static_cast<std::size_t>(i)].data(), matrix.cols()) =
        matrix.row(i);
  }
  return vectors;
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
