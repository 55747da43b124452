#pragma once
// Readers for the files `qdgen metrics` accepts. Each throws std::runtime_error with one line
// naming the file (and line/column where it applies) and what was expected.

#include <Eigen/Core>
#include <filesystem>
#include <string>
#include <vector>

namespace qdgen::metrics {

// CSV: one item per line, comma-separated numbers; a first line with a non-numeric cell is
// a header and skipped. Rows must all have the same length; cells must be finite.
Eigen::MatrixXd read_csv_matrix(const std::filesystem::path& file);

// NPY: a 2-D (or 1-D, read as one row) float32/float64 little-endian C-order array.
Eigen::MatrixXd read_npy_matrix(const std::filesystem::path& file);

// By extension: .npy as NPY, anything else as CSV.
Eigen::MatrixXd read_matrix(const std::filesystem::path& file);

// JSONL: one object per line with a string field "text"; blank lines are skipped.
std::vector<std::string> read_jsonl_texts(const std::filesystem::path& file);

// Writes rows (all of one length) as NPY 1.0, little-endian float32, C order: numpy.load
// reads it as an (n, d) array.
void write_npy_float32(const std::filesystem::path& file,
                       const std::vector<std::vector<float>>& rows);

// A vector (weights): all values of a one-row or one-column matrix file.
std::vector<double> read_vector(const std::filesystem::path& file);

}  // namespace qdgen::metrics
