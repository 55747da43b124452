#include "decode_attention.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "packed_linear.hpp"

namespace qdgen::inference {
namespace {

// scores[t] = scale * <q, keys[:, t]>, t < length, keys transposed ([hd][stride]); returns
// the largest.
using ScoresKernel = float (*)(const float* q, const float* keys, std::int64_t stride,
                               std::int64_t length, std::int64_t hd, float scale, float* scores);
// out = sum_t weights[t] * values[t] (overwrites out).
using MixKernel = void (*)(const float* weights, const float* values, std::int64_t length,
                           std::int64_t hd, float* out);

// out[j] = sum over r of coefficients[r] * matrix[r * stride + j], for j < columns: up to 128
// columns at a time in 8 accumulators, so each matrix row is read once. Scores are this over
// the transposed key rows (r = head dimension, j = position); the mix is it over the value
// rows (r = position, j = head dimension).
__attribute__((target("avx512f"))) void weighted_rows_avx512(const float* coefficients,
                                                             std::int64_t rows, const float* matrix,
                                                             std::int64_t stride,
                                                             std::int64_t columns, float* out) {
  for (std::int64_t begin = 0; begin < columns; begin += 128) {
    const std::int64_t blocks = std::min<std::int64_t>(8, (columns - begin + 15) / 16);
    __mmask16 masks[8];
    __m512 acc[8];
    for (std::int64_t b = 0; b < 8; ++b) {
      const std::int64_t left = columns - begin - 16 * b;
      masks[b] = static_cast<__mmask16>(left >= 16 ? 0xFFFFu : left > 0 ? (1u << left) - 1u : 0u);
      acc[b] = _mm512_setzero_ps();
    }
    for (std::int64_t r = 0; r < rows; ++r) {
      const __m512 c = _mm512_set1_ps(coefficients[r]);
      const float* row = matrix + r * stride + begin;
#pragma GCC unroll 8
      for (std::int64_t b = 0; b < 8; ++b) {
        if (b < blocks) {
          acc[b] = _mm512_fmadd_ps(c, _mm512_maskz_loadu_ps(masks[b], row + 16 * b), acc[b]);
        }
      }
    }
    for (std::int64_t b = 0; b < blocks; ++b) {
      _mm512_mask_storeu_ps(out + begin + 16 * b, masks[b], acc[b]);
    }
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

const Kernels& kernels() {
  static const Kernels chosen = [] {
    return cpu_kernels() == CpuKernels::kAvx512 ? Kernels{scores_avx512, mix_avx512}
                                                : Kernels{scores_portable, mix_portable};
  }();
  return chosen;
}

}  // namespace

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& key_cache,
                            const at::Tensor& value_cache, std::int64_t first_slot,
                            std::span<const std::int64_t> lengths, std::int64_t heads,
                            double scale) {
  const std::int64_t rows = q.size(0), kv_heads = key_cache.size(1);
  const std::int64_t capacity = value_cache.size(2), hd = value_cache.size(3);
  const std::int64_t group = heads / kv_heads;
  const at::Tensor queries = q.contiguous();
  at::Tensor out = at::empty({rows, heads * hd}, at::kFloat);
  const float* q_data = queries.data_ptr<float>();
  const float* k_data = key_cache.data_ptr<float>();
  const float* v_data = value_cache.data_ptr<float>();
  float* out_data = out.data_ptr<float>();
  const Kernels& k = kernels();
  const auto scale_f = static_cast<float>(scale);
  parallel_chunks(rows * kv_heads, [&](std::int64_t pair) {
    const std::int64_t r = pair / kv_heads, h = pair % kv_heads, length = lengths[r];
    // The (slot, head) block starts at the same place in both caches: capacity * hd floats each.
    const std::int64_t offset = ((first_slot + r) * kv_heads + h) * capacity * hd;
    thread_local std::vector<float> weights;
    weights.resize(static_cast<std::size_t>(length));
    for (std::int64_t g = 0; g < group; ++g) {
      const std::int64_t column = (h * group + g) * hd;
      const float max = k.scores(q_data + r * heads * hd + column, k_data + offset, capacity,
                                 length, hd, scale_f, weights.data());
      double total = 0;
      for (float& w : weights) {
        w = std::exp(w - max);
        total += w;
      }
      const auto inverse = static_cast<float>(1.0 / total);
      for (float& w : weights) w *= inverse;
      k.mix(weights.data(), v_data + offset, length, hd, out_data + r * heads * hd + column);
    }
  });
  return out;
}

}  // namespace qdgen::inference
