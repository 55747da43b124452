#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "input_file.hpp"
#include "qdgen/metrics/io.hpp"

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

Eigen::MatrixXd read_csv_matrix(const std::filesystem::path& file) {
  std::ifstream stream = detail::open_input(file);
  std::vector<double> values;  // row-major while reading
  std::size_t columns = 0, rows = 0;
  bool seen_header = false;
  std::string line;
  for (std::size_t line_number = 1; std::getline(stream, line); ++line_number) {
    if (trimmed(line).empty()) continue;
    const std::vector<std::string_view> cells = cells_of(line);
    std::vector<double> row(cells.size());
    std::size_t numeric_cells = 0;
    for (std::size_t c = 0; c < cells.size(); ++c) numeric_cells += parse_number(cells[c], row[c]);
    const bool numeric = numeric_cells == cells.size();
    const auto where = [&](std::size_t c) {
      return "line " + std::to_string(line_number) + ", column " + std::to_string(c + 1);
    };
    if (!numeric) {
      // A first line with no number in it is a header.
      if (rows == 0 && !seen_header && numeric_cells == 0) {
        seen_header = true;
        continue;
      }
      for (std::size_t c = 0; c < cells.size(); ++c) {
        double ignored = 0;
        if (!parse_number(cells[c], ignored)) {
          throw std::runtime_error(detail::at_file(
              file, where(c) + ": '" + std::string(cells[c]) + "' is not a number"));
        }
      }
    }
    if (rows == 0) {
      columns = cells.size();
    } else if (cells.size() != columns) {
      throw std::runtime_error(detail::at_file(
          file, "line " + std::to_string(line_number) + " has " + std::to_string(cells.size()) +
                    " cells; expected " + std::to_string(columns) + " like the rows before it"));
    }
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (!std::isfinite(row[c])) {
        throw std::runtime_error(detail::at_file(
            file, where(c) + ": '" + std::string(cells[c]) + "' is not finite; expected a number"));
      }
    }
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (stream.bad()) throw std::runtime_error(detail::at_file(file, "read error"));
  if (rows == 0) {
    throw std::runtime_error(detail::at_file(file, "has no rows of numbers; expected CSV rows"));
  }
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      values.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(columns));
}

}  // namespace qdgen::metrics
