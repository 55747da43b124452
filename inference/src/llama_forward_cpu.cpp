// The forward pass on the CPU in fp32 (decode steps, prefills, scored continuations): qdgen's
// own kernels for the projections and attention, and plain loops over token rows for the rest
// (RMS norms, rotary embedding, KV writes, SiLU gate, residual adds), which took thirty-odd
// ATen calls per layer, each microseconds of dispatch on a few thousand floats, and ran on one
// thread.

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "decode_attention.hpp"
#include "llama_runtime.hpp"
#include "packed_linear.hpp"
#include "sampler.hpp"

namespace qdgen::inference {
namespace {

// Runs body(r) for every row: spread over the PackedLinear threads when the batch is large
// enough to pay for waking them, in the caller's thread otherwise.
void for_rows(std::int64_t rows, const std::function<void(std::int64_t)>& body) {
  if (rows >= 8) {
    parallel_chunks(rows, body);
  } else {
    for (std::int64_t r = 0; r < rows; ++r) body(r);
  }
}

// out = in * rsqrt(mean(in^2) + eps) * weight over one row of `dim` floats.
void rms_norm_row(const float* in, std::int64_t dim, const float* weight, float eps, float* out) {
  float sum = 0.0f;
  for (std::int64_t i = 0; i < dim; ++i) sum += in[i] * in[i];
  const float scale = 1.0f / std::sqrt(sum / static_cast<float>(dim) + eps);
  for (std::int64_t i = 0; i < dim; ++i) out[i] = in[i] * scale * weight[i];
}

// Rotary embedding on halves (rotate_half) of one head vector, in place.
void rotate_head(float* v, const float* cos, const float* sin, std::int64_t half) {
  for (std::int64_t i = 0; i < half; ++i) {
    const float first = v[i], second = v[i + half];
    v[i] = first * cos[i] - second * sin[i];
    v[i + half] = second * cos[i] + first * sin[i];
  }
}

// out[i] = (g >= 0 ? g : g e) / (1 + e) * up[i], i.e. silu(g) * up with e = exp(-|g|), over
// whole blocks of 16; returns how many it did (silu_gate_row finishes the rest).
__attribute__((target("avx512f"))) std::int64_t gated_silu_avx512(const float* gate, const float* e,
                                                                  const float* up, std::int64_t f,
                                                                  float* out) {
  std::int64_t i = 0;
  const __m512 one = _mm512_set1_ps(1.0f);
  for (; i + 16 <= f; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i), ev = _mm512_loadu_ps(e + i);
    const __mmask16 negative = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_LT_OQ);
    const __m512 numerator = _mm512_mask_mul_ps(g, negative, g, ev);
    const __m512 silu = _mm512_div_ps(numerator, _mm512_add_ps(one, ev));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
  }
  return i;
}

// out[i] = silu(gate[i]) * up[i] over one row, with silu(g) = g / (1 + exp(-g)) computed from
// e = exp(-|g|) (vectorised, never overflows): g / (1 + e) for g >= 0, g e / (1 + e) below.
void silu_gate_row(const float* gate, const float* up, std::int64_t f, float* out,
                   CpuKernels kernels) {
  thread_local std::vector<float> negative_magnitude, e;
  negative_magnitude.resize(static_cast<std::size_t>(f));
  e.resize(static_cast<std::size_t>(f));
  for (std::int64_t i = 0; i < f; ++i) negative_magnitude[i] = -std::fabs(gate[i]);
  exp_weights(negative_magnitude.data(), e.data(), f, 0.0f, 1.0f, kernels);
  const std::int64_t done =
      kernels == CpuKernels::kAvx512 ? gated_silu_avx512(gate, e.data(), up, f, out) : 0;
  for (std::int64_t i = done; i < f; ++i) {
    const float numerator = gate[i] >= 0.0f ? gate[i] : gate[i] * e[i];
    out[i] = numerator / (1.0f + e[i]) * up[i];
  }
}

}  // namespace

at::Tensor LlamaRuntime::forward_cpu(KvCache& cache, const at::Tensor& tokens,
                                     std::int64_t first_slot,
                                     std::span<const std::int64_t> starts) const {
  const LlamaConfig& c = config();
  const std::int64_t rows = tokens.size(0), steps = tokens.size(1), n = rows * steps;
  const std::int64_t dim = c.hidden_size, f = c.intermediate_size;
  const std::int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads;
  const std::int64_t hd = c.head_dim, half = hd / 2, capacity = cache.capacity;
  const std::int64_t qkv_width = (heads + 2 * kv_heads) * hd;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  // Token row i is step i % steps of row i / steps: its cache slot, position, and the causal
  // length it attends over.
  std::vector<std::int64_t> slots(n), positions(n), lengths(n);
  for (std::int64_t i = 0; i < n; ++i) {
    slots[i] = first_slot + i / steps;
    positions[i] = starts[i / steps] + i % steps;
    lengths[i] = positions[i] + 1;
  }
  at::Tensor x = weights_.embedding.index_select(0, tokens.reshape({n})).contiguous();
  at::Tensor normed = at::empty({n, dim}, at::kFloat);
  at::Tensor activation = at::empty({n, f}, at::kFloat);
  float* x_data = x.data_ptr<float>();
  float* normed_data = normed.data_ptr<float>();
  const float* cos_data = cos_.data_ptr<float>();
  const float* sin_data = sin_.data_ptr<float>();

  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const LlamaLayerWeights& w = weights_.layers[l];
    const LayerProjections& p = layers_[l];
    const float* attention_norm = w.attention_norm.data_ptr<float>();
    for_rows(n, [&](std::int64_t i) {
      rms_norm_row(x_data + i * dim, dim, attention_norm, eps, normed_data + i * dim);
    });
    at::Tensor qkv = p.qkv(normed);
    float* qkv_data = qkv.data_ptr<float>();
    float* key_cache = cache.keys[l].data_ptr<float>();
    float* value_cache = cache.values[l].data_ptr<float>();
    for_rows(n, [&](std::int64_t i) {
      const std::int64_t position = positions[i], slot = slots[i];
      const float* cos = cos_data + position * half;
      const float* sin = sin_data + position * half;
      float* q = qkv_data + i * qkv_width;
      for (std::int64_t h = 0; h < heads; ++h) rotate_head(q + h * hd, cos, sin, half);
      float* k = q + heads * hd;
      const float* v = k + kv_heads * hd;
      for (std::int64_t h = 0; h < kv_heads; ++h) {
        rotate_head(k + h * hd, cos, sin, half);
        // Keys transposed ([hd][capacity]), values as rows ([capacity][hd]).
        float* key_block = key_cache + (slot * kv_heads + h) * hd * capacity;
        for (std::int64_t d = 0; d < hd; ++d) key_block[d * capacity + position] = k[h * hd + d];
        std::memcpy(value_cache + ((slot * kv_heads + h) * capacity + position) * hd, v + h * hd,
                    static_cast<std::size_t>(hd) * sizeof(float));
      }
    });
    // Every token row's keys and values are in the cache now, so each attends causally.
    const at::Tensor attended =
        decode_attention(qkv.narrow(1, 0, heads * hd), cache.keys[l], cache.values[l], slots,
                         lengths, heads, scale, kernels_);
    const at::Tensor projected = p.output(attended);
    const float* projected_data = projected.data_ptr<float>();
    const float* mlp_norm = w.mlp_norm.data_ptr<float>();
    for_rows(n, [&](std::int64_t i) {
      float* row = x_data + i * dim;
      for (std::int64_t j = 0; j < dim; ++j) row[j] += projected_data[i * dim + j];
      rms_norm_row(row, dim, mlp_norm, eps, normed_data + i * dim);
    });
    const at::Tensor gate_up = p.gate_up(normed);
    const float* gate_up_data = gate_up.data_ptr<float>();
    float* activation_data = activation.data_ptr<float>();
    for_rows(n, [&](std::int64_t i) {
      const float* gate = gate_up_data + i * 2 * f;
      silu_gate_row(gate, gate + f, f, activation_data + i * f, kernels_);
    });
    const at::Tensor down = p.down(activation);
    const float* down_data = down.data_ptr<float>();
    for_rows(n, [&](std::int64_t i) {
      for (std::int64_t j = 0; j < dim; ++j) x_data[i * dim + j] += down_data[i * dim + j];
    });
  }
  at::Tensor out = at::empty({n, dim}, at::kFloat);
  float* out_data = out.data_ptr<float>();
  const float* final_norm = weights_.final_norm.data_ptr<float>();
  for_rows(n, [&](std::int64_t i) {
    rms_norm_row(x_data + i * dim, dim, final_norm, eps, out_data + i * dim);
  });
  return out.view({rows, steps, dim});
}

}  // namespace qdgen::inference
