#pragma once
// Attention of one new token per row over its slot's cached keys and values, on the CPU in
// fp32: the decode step's attention without ATen's batched products, which ran one small
// OpenBLAS call per (row, head) on one thread (13 % of a batch-32 decode of the 15M shape)
// and read the whole cache from memory on that thread alone. Rows (or, in small batches,
// (row, kv head) pairs) are split over the model's threads; each result depends on
// nothing else in the batch. A 32-row cache does not fit the caches, so the step is bound by
// memory bandwidth: it prefetches each next head's keys and values while computing one.

#include <ATen/ATen.h>

#include <cstdint>
#include <span>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"

namespace qdgen::inference {

// Attention of query rows over cached positions. q: [rows, heads * hd] with unit column stride
// (any row stride); key_cache: [slots, kv_heads, hd, capacity] and value_cache: [slots,
// kv_heads, capacity, hd], contiguous; query row r attends to positions [0, lengths[r]) of
// slot slots[r], which must all have been written. A decode step has one row per slot; a
// prefill or a scored continuation has one row per (slot, position), its causal length each.
// Returns [rows, heads * hd].
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& key_cache,
                            const at::Tensor& value_cache, std::span<const std::int64_t> slots,
                            std::span<const std::int64_t> lengths, std::int64_t heads, double scale,
                            CpuKernels kernels, CpuThreadPool& pool);

}  // namespace qdgen::inference
