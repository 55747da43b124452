#pragma once
// Numeric vectors as little-endian BLOBs (float64 solutions, float32 embeddings): the
// layout numpy.frombuffer(blob, "<f8") / "<f4" reads on any machine.

#include <Eigen/Core>
#include <bit>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace qdgen::store {

static_assert(std::endian::native == std::endian::little,
              "the run store writes little-endian BLOBs by copying memory");

template <typename Vector>
std::vector<std::byte> to_blob(const Vector& values) {
  std::vector<std::byte> bytes(static_cast<std::size_t>(values.size()) *
                               sizeof(typename Vector::Scalar));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

template <typename Vector>
Vector from_blob(std::span<const std::byte> bytes) {
  using Scalar = typename Vector::Scalar;
  if (bytes.size() % sizeof(Scalar) != 0)
    throw std::runtime_error("BLOB of " + std::to_string(bytes.size()) +
                             " bytes is not a whole number of " + std::to_string(sizeof(Scalar)) +
                             "-byte values");
  Vector values(static_cast<Eigen::Index>(bytes.size() / sizeof(Scalar)));
  if (!bytes.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

}  // namespace qdgen::store
