#pragma once
// Exact, compact text for doubles in saved engine state: base64 of the IEEE-754 bytes
// (little-endian), so a resumed run sees bit-identical numbers.

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <string>

namespace qdgen::engine {

std::string encode_doubles(const double* values, std::size_t count);
void decode_doubles(const std::string& text, double* values, std::size_t count);

template <typename Matrix>
std::string encode_matrix(const Matrix& m) {
  return encode_doubles(m.data(), static_cast<std::size_t>(m.size()));
}
template <typename Matrix>
void decode_matrix(const nlohmann::json& text, Matrix& m, Eigen::Index rows, Eigen::Index cols) {
  m.resize(rows, cols);
  decode_doubles(text.get<std::string>(), m.data(), static_cast<std::size_t>(m.size()));
}

}  // namespace qdgen::engine
