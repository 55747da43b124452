#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "input_file.hpp"
#include "mapped_file.hpp"
#include "matrix_formats.hpp"
#include "qdgen/metrics/io.hpp"
#include "visible_text.hpp"

namespace qdgen::metrics {
namespace {

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> cells_of(std::string_view line) {
  std::vector<std::string_view> cells;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(trimmed(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

bool parse_number(std::string_view cell, double& value) {
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);  // from_chars rejects '+'
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return error == std::errc{} && end == cell.data() + cell.size() && !cell.empty();
}

}  // namespace

namespace detail {

CsvMatrix parse_csv(std::span<const std::byte> bytes, const std::filesystem::path& file) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
    throw std::runtime_error(
        at_file(file,
                "is UTF-16 text (it starts with a UTF-16 byte-order mark); expected UTF-8 "
                "or ASCII CSV"));
  }
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  CsvMatrix matrix;
  bool seen_header = false;
  std::vector<double> row;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    ++line_number;
    if (trimmed(line).empty()) continue;
    const std::vector<std::string_view> cells = cells_of(line);
    row.assign(cells.size(), 0.0);
    std::size_t numeric_cells = 0;
    for (std::size_t c = 0; c < cells.size(); ++c) numeric_cells += parse_number(cells[c], row[c]);
    const auto where = [&](std::size_t c) {
      return "line " + std::to_string(line_number) + ", column " + std::to_string(c + 1);
    };
    if (numeric_cells != cells.size()) {
      // A first line with no number in it is a header.
      if (matrix.rows == 0 && !seen_header && numeric_cells == 0) {
        seen_header = true;
        continue;
      }
      for (std::size_t c = 0; c < cells.size(); ++c) {
        double ignored = 0;
        if (!parse_number(cells[c], ignored)) {
          throw std::runtime_error(
              at_file(file, where(c) + ": '" + visible(cells[c]) + "' is not a number"));
        }
      }
    }
    if (matrix.rows == 0) {
      matrix.cols = static_cast<std::int64_t>(cells.size());
    } else if (static_cast<std::int64_t>(cells.size()) != matrix.cols) {
      throw std::runtime_error(at_file(file, "line " + std::to_string(line_number) + " has " +
                                                 std::to_string(cells.size()) +
                                                 " cells; expected " + std::to_string(matrix.cols) +
                                                 " like the rows before it"));
    }
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (!std::isfinite(row[c])) {
        throw std::runtime_error(at_file(
            file, where(c) + ": '" + visible(cells[c]) + "' is not finite; expected a number"));
      }
    }
    matrix.values.insert(matrix.values.end(), row.begin(), row.end());
    ++matrix.rows;
  }
  if (matrix.rows == 0) {
    throw std::runtime_error(at_file(file, "has no rows of numbers; expected CSV rows"));
  }
  return matrix;
}

}  // namespace detail

Eigen::MatrixXd read_csv_matrix(const std::filesystem::path& file) {
  const detail::MappedFile mapped(file);
  const detail::CsvMatrix csv = detail::parse_csv(mapped.bytes(), file);
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      csv.values.data(), csv.rows, csv.cols);
}

}  // namespace qdgen::metrics
