#pragma once
// Token ids as the [1, n] int64 row that LlamaRuntime::forward takes.

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <span>

namespace qdgen::inference {

inline at::Tensor token_row(std::span<const std::int32_t> ids) {
  at::Tensor row = at::empty({1, static_cast<std::int64_t>(ids.size())}, at::kLong);
  std::copy(ids.begin(), ids.end(), row.data_ptr<std::int64_t>());
  return row;
}

}  // namespace qdgen::inference
