#pragma once
// Internal: the CSV and NPY parsers behind MatrixFile and the read_* functions. Both work on
// the file's bytes in memory and throw one line naming the file and what is wrong.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "qdgen/metrics/matrix_view.hpp"

namespace qdgen::metrics::detail {

struct CsvMatrix {
  std::vector<double> values;  // row-major, all finite
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

CsvMatrix parse_csv(std::span<const std::byte> bytes, const std::filesystem::path& file);

struct NpyLayout {
  ScalarType type = ScalarType::float64;
  bool fortran_order = false;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::size_t data_offset = 0;  // of the first value; the data runs to the end of the file
};

// Checks the magic, version, header, dtype, shape and data length against the file size.
NpyLayout parse_npy(std::span<const std::byte> bytes, const std::filesystem::path& file);

}  // namespace qdgen::metrics::detail
