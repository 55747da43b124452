#pragma once
// The slot-based KV cache of a forward pass: row r of a batch lives in cache slot
// first_slot + r.

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace qdgen::inference {

struct KvCache {
  // Per layer. Keys are stored transposed, [slots, kv_heads, head_dim, capacity], so that a
  // query's scores against consecutive positions are plain vector products (and ATen's
  // q K^T takes the keys as they are); values are [slots, kv_heads, capacity, head_dim].
  std::vector<at::Tensor> keys, values;
  std::int64_t slots = 0;
  std::int64_t capacity = 0;
};

}  // namespace qdgen::inference
