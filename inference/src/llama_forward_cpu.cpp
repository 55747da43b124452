// The forward pass's operations on the CPU in fp32 (decode steps, prefills, scored
// continuations): qdgen's own kernels for attention, and plain loops over token rows for the
// rest (RMS norms, rotary embedding, KV writes, SiLU gate, residual adds), which took thirty-odd
// ATen calls per layer, each microseconds of dispatch on a few thousand floats, and ran on one
// thread.

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "decode_attention.hpp"
#include "forward_backend.hpp"
#include "sampler.hpp"

namespace qdgen::inference {
namespace {

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

class KernelBackend final : public ForwardBackend {
 public:
  KernelBackend(const ForwardModel& model, const ForwardBatch& batch)
      : model_(model),
        cache_(batch.cache),
        n_(batch.rows * batch.steps),
        normed_(at::empty({n_, model.config.hidden_size}, at::kFloat)),
        activation_(at::empty({n_, model.config.intermediate_size}, at::kFloat)) {
    // Token row t is step t % steps of row t / steps: its cache slot, position, and the causal
    // length it attends over.
    slots_.resize(n_);
    positions_.resize(n_);
    lengths_.resize(n_);
    for (std::int64_t t = 0; t < n_; ++t) {
      slots_[t] = batch.first_slot + t / batch.steps;
      positions_[t] = batch.starts[t / batch.steps] + t % batch.steps;
      lengths_[t] = positions_[t] + 1;
    }
  }

  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) override {
    const std::int64_t dim = model_.config.hidden_size;
    const float* x_data = x.data_ptr<float>();
    const float* w = weight.data_ptr<float>();
    float* out = normed_.data_ptr<float>();
    for_rows([&](std::int64_t t) { rms_norm_row(x_data + t * dim, dim, w, eps(), out + t * dim); });
    return normed_;
  }

  at::Tensor add_and_norm(at::Tensor& x, const at::Tensor& delta,
                          const at::Tensor& weight) override {
    const std::int64_t dim = model_.config.hidden_size;
    float* x_data = x.data_ptr<float>();
    const at::Tensor d = delta.contiguous();
    const float* d_data = d.data_ptr<float>();
    const float* w = weight.data_ptr<float>();
    float* out = normed_.data_ptr<float>();
    for_rows([&](std::int64_t t) {
      float* row = x_data + t * dim;
      for (std::int64_t j = 0; j < dim; ++j) row[j] += d_data[t * dim + j];
      rms_norm_row(row, dim, w, eps(), out + t * dim);
    });
    return normed_;
  }

  at::Tensor rotate_and_cache(const at::Tensor& qkv, std::int64_t layer) override {
    const LlamaConfig& c = model_.config;
    const std::int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads;
    const std::int64_t hd = c.head_dim, half = hd / 2, capacity = cache_.capacity;
    const std::int64_t width = (heads + 2 * kv_heads) * hd;
    float* qkv_data = qkv.data_ptr<float>();
    float* key_cache = cache_.keys[layer].data_ptr<float>();
    float* value_cache = cache_.values[layer].data_ptr<float>();
    const float* cos_data = model_.cos.data_ptr<float>();
    const float* sin_data = model_.sin.data_ptr<float>();
    for_rows([&](std::int64_t t) {
      const std::int64_t position = positions_[t], slot = slots_[t];
      const float* cos = cos_data + position * half;
      const float* sin = sin_data + position * half;
      float* q = qkv_data + t * width;
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
    return qkv.narrow(1, 0, heads * hd);
  }

  at::Tensor attend(const at::Tensor& queries, std::int64_t layer) override {
    // Every token row's keys and values are in the cache now, so each attends causally.
    const LlamaConfig& c = model_.config;
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
    return decode_attention(queries, cache_.keys[layer], cache_.values[layer], slots_, lengths_,
                            c.num_attention_heads, scale, model_.kernels, model_.pool);
  }

  at::Tensor silu_gate(const at::Tensor& gate_up) override {
    const std::int64_t f = model_.config.intermediate_size;
    const at::Tensor g = gate_up.contiguous();
    const float* gate_up_data = g.data_ptr<float>();
    float* out = activation_.data_ptr<float>();
    for_rows([&](std::int64_t t) {
      const float* gate = gate_up_data + t * 2 * f;
      silu_gate_row(gate, gate + f, f, out + t * f, model_.kernels);
    });
    return activation_;
  }

 private:
  float eps() const { return static_cast<float>(model_.config.rms_norm_eps); }

  // Runs body(t) for every token row: spread over the model's threads when there are enough
  // rows to pay for waking them, in the caller's thread otherwise.
  void for_rows(const std::function<void(std::int64_t)>& body) const {
    if (n_ >= 8) {
      model_.pool.run(n_, body);
    } else {
      for (std::int64_t t = 0; t < n_; ++t) body(t);
    }
  }

  const ForwardModel& model_;
  KvCache& cache_;
  std::int64_t n_;
  std::vector<std::int64_t> slots_, positions_, lengths_;
  at::Tensor normed_, activation_;  // reused by every layer
};

}  // namespace

std::unique_ptr<ForwardBackend> make_kernel_backend(const ForwardModel& model,
                                                    const ForwardBatch& batch) {
  return std::make_unique<KernelBackend>(model, batch);
}

}  // namespace qdgen::inference
