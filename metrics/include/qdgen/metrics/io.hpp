#pragma once
// Readers for the files `qdgen metrics` accepts. Each throws std::runtime_error with one line
// naming the file (and line/column where it applies) and what was expected.

#include <Eigen/Core>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "qdgen/metrics/matrix_view.hpp"

namespace qdgen::metrics {

// CSV: one item per line, comma-separated numbers; a first line with a non-numeric cell is
// a header and skipped. Rows must all have the same length; cells must be finite. A UTF-8
// byte-order mark before the first line is skipped.
Eigen::MatrixXd read_csv_matrix(const std::filesystem::path& file);

// NPY: a 2-D (or 1-D, read as one row) float32/float64 little-endian C-order array.
Eigen::MatrixXd read_npy_matrix(const std::filesystem::path& file);

// By extension: .npy as NPY, anything else as CSV.
Eigen::MatrixXd read_matrix(const std::filesystem::path& file);

// A matrix file opened for reading, by extension like read_matrix, with the same checks of
// its format (values are checked for finiteness where they are used). An NPY file is
// memory-mapped and read in place; a CSV file is parsed into memory.
class MatrixFile {
 public:
  explicit MatrixFile(const std::filesystem::path& file);
  const MatrixView& view() const { return view_; }

 private:
  std::shared_ptr<const void> storage_;  // the mapping or the parsed values
  MatrixView view_;
};

// JSONL: one object per line with a string field "text"; blank lines are skipped.
std::vector<std::string> read_jsonl_texts(const std::filesystem::path& file);

// Writes rows (all of one length) as NPY 1.0, little-endian float32, C order: numpy.load
// reads it as an (n, d) array.
void write_npy_float32(const std::filesystem::path& file,
                       const std::vector<std::vector<float>>& rows);

// The vectors of a matrix file, as users write them: a single column is one vector (one number
// per line), a single row is one vector, and a file of many rows and columns holds one vector
// per row.
std::vector<std::vector<double>> read_vectors(const std::filesystem::path& file);

// Exactly one vector (weights) by the rule of read_vectors; throws otherwise.
std::vector<double> read_vector(const std::filesystem::path& file);

}  // namespace qdgen::metrics
