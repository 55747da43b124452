#include "decode_attention.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sampler.hpp"

namespace qdgen::inference {
namespace {

// scores[t] = scale * <q, keys[:, t]>, t < length, keys transposed ([hd][stride]); returns
// the largest.
using ScoresKernel = float (*)(const float* q, const float* keys, std::int64_t stride,
                               std::int64_t length, std::int64_t hd, float scale, float* scores);
// out = sum_t weights[t] * values[t] (overwrites out).
using MixKernel = void (*)(const float* weights, const float* values, std::int64_t length,
                           std::int64_t hd, float* out);

constexpr std::int64_t kPrefetchRows = 6;

// One pass over `rows` rows for kBlocks blocks of 16 columns starting at `begin`; the
// accumulators are a fixed-size array so they live in registers (with a run-time block count,
// GCC kept them on the stack and every multiply-add waited on a store).
template <int kBlocks>
__attribute__((target("avx512f"))) inline void weighted_rows_blocks(
    const float* coefficients, std::int64_t rows, const float* matrix, std::int64_t stride,
    std::int64_t begin, __mmask16 last_mask, float* out) {
  __m512 acc[kBlocks];
  for (int b = 0; b < kBlocks; ++b) acc[b] = _mm512_setzero_ps();
  for (std::int64_t r = 0; r < rows; ++r) {
    const __m512 c = _mm512_set1_ps(coefficients[r]);
    const float* row = matrix + r * stride + begin;
    // The transposed keys are many short strided runs, which the hardware prefetcher does
    // not follow, and the cache of 32 rows is far larger than L2: fetch ahead by hand.
    if (r + kPrefetchRows < rows) {
      const char* ahead = reinterpret_cast<const char*>(row + kPrefetchRows * stride);
      for (int b = 0; b < kBlocks; ++b) _mm_prefetch(ahead + 64 * b, _MM_HINT_T0);
    }
    for (int b = 0; b + 1 < kBlocks; ++b)
      acc[b] = _mm512_fmadd_ps(c, _mm512_loadu_ps(row + 16 * b), acc[b]);
    acc[kBlocks - 1] = _mm512_fmadd_ps(
        c, _mm512_maskz_loadu_ps(last_mask, row + 16 * (kBlocks - 1)), acc[kBlocks - 1]);
  }
  for (int b = 0; b + 1 < kBlocks; ++b) _mm512_storeu_ps(out + begin + 16 * b, acc[b]);
  _mm512_mask_storeu_ps(out + begin + 16 * (kBlocks - 1), last_mask, acc[kBlocks - 1]);
}

using BlockKernel = void (*)(const float*, std::int64_t, const float*, std::int64_t, std::int64_t,
                             __mmask16, float*);
// weighted_rows_blocks<k> at index k - 1: the block count is known only at run time.
constexpr BlockKernel kBlockKernels[8] = {weighted_rows_blocks<1>, weighted_rows_blocks<2>,
                                          weighted_rows_blocks<3>, weighted_rows_blocks<4>,
                                          weighted_rows_blocks<5>, weighted_rows_blocks<6>,
                                          weighted_rows_blocks<7>, weighted_rows_blocks<8>};

// out[j] = sum over r of coefficients[r] * matrix[r * stride + j], for j < columns: up to 128
// columns at a time in 8 accumulators, so each matrix row is read once. Scores are this over
// the transposed key rows (r = head dimension, j = position); the mix is it over the value
// rows (r = position, j = head dimension).
__attribute__((target("avx512f"))) void weighted_rows_avx512(const float* coefficients,
                                                             std::int64_t rows, const float* matrix,
                                                             std::int64_t stride,
                                                             std::int64_t columns, float* out) {
  for (std::int64_t begin = 0; begin < columns; begin += 128) {
    const std::int64_t left = std::min<std::int64_t>(128, columns - begin);
    const int blocks = static_cast<int>((left + 15) / 16);
    const std::int64_t tail = left - 16 * (blocks - 1);
    const auto mask = static_cast<__mmask16>(tail >= 16 ? 0xFFFFu : (1u << tail) - 1u);
    kBlockKernels[blocks - 1](coefficients, rows, matrix, stride, begin, mask, out);
  }
}

float scores_avx512(const float* q, const float* keys, std::int64_t stride, std::int64_t length,
                    std::int64_t hd, float scale, float* scores) {
  weighted_rows_avx512(q, hd, keys, stride, length, scores);
  for (std::int64_t t = 0; t < length; ++t) scores[t] *= scale;
  return *std::max_element(scores, scores + length);
}

void mix_avx512(const float* weights, const float* values, std::int64_t length, std::int64_t hd,
                float* out) {
  weighted_rows_avx512(weights, length, values, hd, hd, out);
}

float scores_portable(const float* q, const float* keys, std::int64_t stride, std::int64_t length,
                      std::int64_t hd, float scale, float* scores) {
  std::fill(scores, scores + length, 0.0f);
  for (std::int64_t d = 0; d < hd; ++d) {
    for (std::int64_t t = 0; t < length; ++t) scores[t] += q[d] * keys[d * stride + t];
  }
  for (std::int64_t t = 0; t < length; ++t) scores[t] *= scale;
  return *std::max_element(scores, scores + length);
}

void mix_portable(const float* weights, const float* values, std::int64_t length, std::int64_t hd,
                  float* out) {
  std::fill(out, out + hd, 0.0f);
  for (std::int64_t t = 0; t < length; ++t) {
    for (std::int64_t d = 0; d < hd; ++d) out[d] += weights[t] * values[t * hd + d];
  }
}

struct Kernels {
  ScoresKernel scores;
  MixKernel mix;
};

Kernels kernels(CpuKernels set) {
  return set == CpuKernels::kAvx512 ? Kernels{scores_avx512, mix_avx512}
                                    : Kernels{scores_portable, mix_portable};
}

}  // namespace

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& key_cache,
                            const at::Tensor& value_cache, std::span<const std::int64_t> slots,
                            std::span<const std::int64_t> lengths, std::int64_t heads, double scale,
                            CpuKernels set, CpuThreadPool& pool) {
  const std::int64_t rows = q.size(0), kv_heads = key_cache.size(1);
  const std::int64_t capacity = value_cache.size(2), hd = value_cache.size(3);
  const std::int64_t group = heads / kv_heads;
  const at::Tensor queries = q.stride(1) == 1 ? q : q.contiguous();
  const std::int64_t q_stride = queries.stride(0);
  at::Tensor out = at::empty({rows, heads * hd}, at::kFloat);
  const float* q_data = queries.data_ptr<float>();
  const float* k_data = key_cache.data_ptr<float>();
  const float* v_data = value_cache.data_ptr<float>();
  float* out_data = out.data_ptr<float>();
  const Kernels k = kernels(set);
  const auto scale_f = static_cast<float>(scale);
  // A 32-row cache is far larger than the caches, and each (slot, head) block is a few short
  // runs that the hardware prefetcher does not learn in time: a chunk's heads run in sequence,
  // each fetching the next one's keys and values into L2 while it computes. Large batches
  // take a row per chunk; small ones a head per chunk, so that every thread has work.
  auto fetch = [&](std::int64_t r, std::int64_t h) {
    const std::int64_t offset = (slots[r] * kv_heads + h) * capacity * hd;
    const std::int64_t length = lengths[r];
    const char* keys = reinterpret_cast<const char*>(k_data + offset);
    const char* values = reinterpret_cast<const char*>(v_data + offset);
    const std::int64_t key_bytes = length * static_cast<std::int64_t>(sizeof(float));
    for (std::int64_t d = 0; d < hd; ++d)
      for (std::int64_t b = 0; b < key_bytes; b += 64)
        _mm_prefetch(keys + d * capacity * sizeof(float) + b, _MM_HINT_T1);
    for (std::int64_t b = 0; b < key_bytes * hd; b += 64) _mm_prefetch(values + b, _MM_HINT_T1);
  };
  const std::int64_t heads_per_chunk = rows >= 8 ? kv_heads : 1;
  const std::int64_t chunks_per_row = kv_heads / heads_per_chunk;
  pool.run(rows * chunks_per_row, [&](std::int64_t chunk) {
    const std::int64_t r = chunk / chunks_per_row;
    const std::int64_t first_head = chunk % chunks_per_row * heads_per_chunk;
    const std::int64_t end_head = first_head + heads_per_chunk;
    const std::int64_t length = lengths[r];
    thread_local std::vector<float> weights;
    weights.resize(static_cast<std::size_t>(length));
    fetch(r, first_head);
    for (std::int64_t h = first_head; h < end_head; ++h) {
      if (h + 1 < end_head) fetch(r, h + 1);
      // The (slot, head) block starts at the same place in both caches: capacity * hd floats.
      const std::int64_t offset = (slots[r] * kv_heads + h) * capacity * hd;
      for (std::int64_t g = 0; g < group; ++g) {
        const std::int64_t column = (h * group + g) * hd;
        const float max = k.scores(q_data + r * q_stride + column, k_data + offset, capacity,
                                   length, hd, scale_f, weights.data());
        // Vectorised exp: with std::exp the softmax cost more than both products.
        exp_weights(weights.data(), weights.data(), length, max, 1.0f, set);
        double total = 0;
        for (const float w : weights) total += w;
        const auto inverse = static_cast<float>(1.0 / total);
        for (float& w : weights) w *= inverse;
        k.mix(weights.data(), v_data + offset, length, hd, out_data + r * heads * hd + column);
      }
    }
  });
  return out;
}

}  // namespace qdgen::inference
