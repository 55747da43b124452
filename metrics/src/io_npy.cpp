// NPY format 1.0-3.0: magic "\x93NUMPY", version, header length, then a Python dict literal
// such as {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } padded with spaces.

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "input_file.hpp"
#include "mapped_file.hpp"
#include "matrix_formats.hpp"
#include "qdgen/io/atomic_file.hpp"
#include "qdgen/metrics/io.hpp"
#include "visible_text.hpp"

namespace qdgen::metrics {
namespace {

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// The value text after 'key': in the header dict, up to the delimiter that ends it.
std::string value_of(const std::string& header, const std::string& key,
                     const std::filesystem::path& file) {
  const std::size_t at = header.find("'" + key + "'");
  const std::size_t colon = at == std::string::npos ? at : header.find(':', at);
  if (colon == std::string::npos) {
    throw std::runtime_error(detail::at_file(file, "NPY header has no '" + key + "' entry"));
  }
  std::size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) start = header.size();
  std::size_t end;
  if (header[start] == '\'' || header[start] == '"') {
    end = header.find(header[start], start + 1);
    if (end == std::string::npos)
      throw std::runtime_error(detail::at_file(file, "NPY header is malformed"));
    return header.substr(start + 1, end - start - 1);
  }
  if (header[start] == '(') {
    end = header.find(')', start);
    if (end == std::string::npos)
      throw std::runtime_error(detail::at_file(file, "NPY header is malformed"));
    return header.substr(start, end - start + 1);
  }
  end = header.find_first_of(",}", start);
  return header.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::vector<std::int64_t> parse_shape(const std::string& tuple, const std::filesystem::path& file) {
  std::vector<std::int64_t> shape;
  std::size_t i = 1;  // after '('
  while (i < tuple.size()) {
    while (i < tuple.size() && (tuple[i] == ' ' || tuple[i] == ',')) ++i;
    if (i >= tuple.size() || tuple[i] == ')') break;
    std::size_t digits = 0;
    std::int64_t value = 0;
    while (i < tuple.size() && tuple[i] >= '0' && tuple[i] <= '9' && digits < 18) {
      value = value * 10 + (tuple[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || (i < tuple.size() && tuple[i] >= '0' && tuple[i] <= '9')) {
      throw std::runtime_error(
          detail::at_file(file, "NPY shape " + detail::visible(tuple) + " is malformed"));
    }
    shape.push_back(value);
  }
  return shape;
}

NpyHeader parse_header(const std::string& text, const std::filesystem::path& file) {
  NpyHeader header;
  header.descr = value_of(text, "descr", file);
  const std::string fortran = value_of(text, "fortran_order", file);
  if (fortran != "False" && fortran != "True") {
    throw std::runtime_error(detail::at_file(
        file, "NPY fortran_order is '" + detail::visible(fortran) + "'; expected True or False"));
  }
  header.fortran_order = fortran == "True";
  header.shape = parse_shape(value_of(text, "shape", file), file);
  return header;
}

}  // namespace

namespace detail {

NpyLayout parse_npy(std::span<const std::byte> data, const std::filesystem::path& file) {
  static_assert(std::endian::native == std::endian::little, "the NPY reader assumes little-endian");
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t size = data.size();
  const auto fail = [&](const std::string& message) {
    return std::runtime_error(detail::at_file(file, message));
  };
  if (size < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0) {
    throw fail("is not an NPY file (no \\x93NUMPY magic)");
  }
  const int major = bytes[6];
  std::size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = bytes[8] | (static_cast<std::size_t>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw fail("NPY header is truncated");
    for (int b = 3; b >= 0; --b) {
      header_length = (header_length << 8) | bytes[8 + static_cast<std::size_t>(b)];
    }
    header_start = 12;
  } else {
    throw fail("NPY version " + std::to_string(major) + " is not supported; expected 1, 2 or 3");
  }
  if (size < header_start + header_length) throw fail("NPY header is truncated");
  const NpyHeader header = parse_header(
      std::string(reinterpret_cast<const char*>(bytes) + header_start, header_length), file);
  NpyLayout layout;
  std::size_t item_size = 0;
  if (header.descr == "<f8" || header.descr == "=f8") {
    layout.type = ScalarType::float64;
    item_size = 8;
  } else if (header.descr == "<f4" || header.descr == "=f4") {
    layout.type = ScalarType::float32;
    item_size = 4;
  } else {
    throw fail("NPY dtype '" + visible(header.descr) +
               "' is not supported; expected float32 or float64 "
               "('<f4' or '<f8')");
  }
  if (header.shape.size() != 1 && header.shape.size() != 2) {
    throw fail("NPY array has " + std::to_string(header.shape.size()) +
               " dimensions; expected a 2-D array (items x features) or 1-D");
  }
  const std::int64_t rows = header.shape.size() == 2 ? header.shape[0] : 1;
  const std::int64_t cols = header.shape.back();
  if (rows == 0 || cols == 0) throw fail("NPY array is empty; expected at least one value");
  if (rows > static_cast<std::int64_t>(size) / cols) {
    throw fail("NPY shape " + std::to_string(rows) + " x " + std::to_string(cols) +
               " is larger than the file");
  }
  const std::size_t data_bytes = size - header_start - header_length;
  const auto expected_bytes = static_cast<std::size_t>(rows * cols) * item_size;
  if (data_bytes != expected_bytes) {
    throw fail("NPY data is " + std::to_string(data_bytes) + " bytes; expected " +
               std::to_string(expected_bytes) + " for shape " + std::to_string(rows) + " x " +
               std::to_string(cols));
  }
  layout.fortran_order = header.fortran_order;
  layout.rows = rows;
  layout.cols = cols;
  layout.data_offset = header_start + header_length;
  return layout;
}

}  // namespace detail

Eigen::MatrixXd read_npy_matrix(const std::filesystem::path& file) {
  const detail::MappedFile mapped(file);
  const detail::NpyLayout layout = detail::parse_npy(mapped.bytes(), file);
  const MatrixView view{mapped.bytes().data() + layout.data_offset, layout.type, layout.rows,
                        layout.cols, !layout.fortran_order};
  Eigen::MatrixXd matrix = to_matrix(view);
  if (matrix.allFinite()) return matrix;
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
      if (!std::isfinite(matrix(i, j))) {
        throw std::runtime_error(detail::at_file(file, "element (" + std::to_string(i + 1) + ", " +
                                                           std::to_string(j + 1) +
                                                           ") is not finite; expected numbers"));
      }
    }
  }
  return matrix;
}

void write_npy_float32(const std::filesystem::path& file,
                       const std::vector<std::vector<float>>& rows) {
  const std::size_t columns = rows.empty() ? 0 : rows.front().size();
  for (const auto& row : rows) {
    if (row.size() != columns) {
      throw std::invalid_argument(file.string() + ": NPY rows of different lengths");
    }
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows.size()) + ", " + std::to_string(columns) + "), }";
  // Magic (6), version (2), header length (2), header, newline: a multiple of 64 bytes.
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  // The file appears whole or not at all (qdgen/io/atomic_file.hpp).
  io::AtomicFileWriter out(file);
  const auto header_length = static_cast<std::uint16_t>(header.size());
  out.write(std::string_view("\x93NUMPY\x01\x00", 8));
  const char length[2] = {static_cast<char>(header_length & 0xff),
                          static_cast<char>(header_length >> 8)};
  out.write(std::string_view(length, 2));
  out.write(header);
  for (const auto& row : rows) out.write_values(std::span<const float>(row));
  out.commit();
}

}  // namespace qdgen::metrics
