#include "packed_linear.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace qdgen::inference {
namespace {

constexpr std::int64_t kPanel = PackedLinear::kPanel;

// One block of `R` rows against one panel: y[r, 0..valid) = bias + sum_k x[r, k] * panel[k, :].
using RowsKernel = void (*)(const float* x, std::int64_t ldx, const float* panel,
                            std::int64_t depth, const float* bias, float* y, std::int64_t ldy,
                            std::int64_t valid);

// AVX-512: 16 outputs in one register, R accumulators (R broadcasts and one load per k).
template <int R>
__attribute__((target("avx512f"))) void rows_avx512(const float* x, std::int64_t ldx,
                                                    const float* panel, std::int64_t depth,
                                                    const float* bias, float* y, std::int64_t ldy,
                                                    std::int64_t valid) {
  __m512 acc[R];
  const __m512 start = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = start;
  for (std::int64_t k = 0; k < depth; ++k) {
    const __m512 w = _mm512_loadu_ps(panel + k * kPanel);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + k]), w, acc[r]);
  }
  const auto mask = static_cast<__mmask16>(valid >= kPanel ? 0xFFFFu : (1u << valid) - 1u);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * ldy, mask, acc[r]);
}

// AVX-512, two panels at once (32 outputs): 2R accumulators, so each broadcast of x feeds
// two FMAs. `next` is the second panel; `valid` counts the outputs of both.
template <int R>
__attribute__((target("avx512f"))) void rows_avx512_pair(const float* x, std::int64_t ldx,
                                                         const float* panel, const float* next,
                                                         std::int64_t depth, const float* bias,
                                                         float* y, std::int64_t ldy,
                                                         std::int64_t valid) {
  __m512 acc[R], acc2[R];
  const __m512 start = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
  const __m512 start2 = bias ? _mm512_loadu_ps(bias + kPanel) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = start, acc2[r] = start2;
  for (std::int64_t k = 0; k < depth; ++k) {
    const __m512 w = _mm512_loadu_ps(panel + k * kPanel);
    const __m512 w2 = _mm512_loadu_ps(next + k * kPanel);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 b = _mm512_set1_ps(x[r * ldx + k]);
      acc[r] = _mm512_fmadd_ps(b, w, acc[r]);
      acc2[r] = _mm512_fmadd_ps(b, w2, acc2[r]);
    }
  }
  const auto mask =
      static_cast<__mmask16>(valid >= 2 * kPanel ? 0xFFFFu : (1u << (valid - kPanel)) - 1u);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(y + r * ldy, acc[r]);
    _mm512_mask_storeu_ps(y + r * ldy + kPanel, mask, acc2[r]);
  }
}

// AVX2 + FMA: 16 outputs in two registers, so at most 4 rows (8 accumulators of 16).
template <int R>
__attribute__((target("avx2,fma"))) void rows_avx2(const float* x, std::int64_t ldx,
                                                   const float* panel, std::int64_t depth,
                                                   const float* bias, float* y, std::int64_t ldy,
                                                   std::int64_t valid) {
  __m256 low[R], high[R];
  const __m256 start_low = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  const __m256 start_high = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) low[r] = start_low, high[r] = start_high;
  for (std::int64_t k = 0; k < depth; ++k) {
    const __m256 w_low = _mm256_loadu_ps(panel + k * kPanel);
    const __m256 w_high = _mm256_loadu_ps(panel + k * kPanel + 8);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(x + r * ldx + k);
      low[r] = _mm256_fmadd_ps(b, w_low, low[r]);
      high[r] = _mm256_fmadd_ps(b, w_high, high[r]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    alignas(32) float out[kPanel];
    _mm256_store_ps(out, low[r]);
    _mm256_store_ps(out + 8, high[r]);
    std::memcpy(y + r * ldy, out, static_cast<std::size_t>(valid) * sizeof(float));
  }
}

// Any CPU: one row at a time.
void rows_portable(const float* x, std::int64_t ldx, const float* panel, std::int64_t depth,
                   const float* bias, float* y, std::int64_t ldy, std::int64_t valid) {
  float acc[kPanel];
  for (std::int64_t j = 0; j < kPanel; ++j) acc[j] = bias ? bias[j] : 0.0f;
  for (std::int64_t k = 0; k < depth; ++k) {
    for (std::int64_t j = 0; j < kPanel; ++j) acc[j] += x[k] * panel[k * kPanel + j];
  }
  std::memcpy(y, acc, static_cast<std::size_t>(valid) * sizeof(float));
  static_cast<void>(ldx), static_cast<void>(ldy);
}

using PairKernel = void (*)(const float* x, std::int64_t ldx, const float* panel, const float* next,
                            std::int64_t depth, const float* bias, float* y, std::int64_t ldy,
                            std::int64_t valid);

struct Kernels {
  int max_rows = 1;
  std::array<RowsKernel, 9> rows{};   // rows[R] handles R rows, 1 <= R <= max_rows
  std::array<PairKernel, 9> pairs{};  // the same for two panels, where there is such a kernel
};

Kernels pick_kernels(CpuKernels set) {
  Kernels k;
  switch (set) {
    case CpuKernels::kAvx512:
      k.max_rows = 8;
      k.rows = {nullptr,        rows_avx512<1>, rows_avx512<2>, rows_avx512<3>, rows_avx512<4>,
                rows_avx512<5>, rows_avx512<6>, rows_avx512<7>, rows_avx512<8>};
      k.pairs = {nullptr,
                 rows_avx512_pair<1>,
                 rows_avx512_pair<2>,
                 rows_avx512_pair<3>,
                 rows_avx512_pair<4>,
                 rows_avx512_pair<5>,
                 rows_avx512_pair<6>,
                 rows_avx512_pair<7>,
                 rows_avx512_pair<8>};
      break;
    case CpuKernels::kAvx2:
      k.max_rows = 4;
      k.rows = {nullptr, rows_avx2<1>, rows_avx2<2>, rows_avx2<3>, rows_avx2<4>};
      break;
    case CpuKernels::kPortable:
      k.max_rows = 1;
      k.rows[1] = rows_portable;
      break;
  }
  return k;
}

const Kernels& kernels(CpuKernels set) {
  static const std::array<Kernels, 3> all = {pick_kernels(CpuKernels::kAvx512),
                                             pick_kernels(CpuKernels::kAvx2),
                                             pick_kernels(CpuKernels::kPortable)};
  return all[static_cast<std::size_t>(set)];
}

}  // namespace

PackedLinear::PackedLinear(const at::Tensor& weight, const at::Tensor& bias, CpuKernels kernels,
                           CpuThreadPool& pool)
    : kernels_(kernels), pool_(&pool) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat || !weight.device().is_cpu()) {
    throw std::logic_error("PackedLinear: the weight must be a 2-D float32 CPU tensor");
  }
  out_features_ = weight.size(0);
  in_features_ = weight.size(1);
  const std::int64_t panels = (out_features_ + kPanel - 1) / kPanel;
  at::Tensor padded = at::zeros({panels * kPanel, in_features_}, at::kFloat);
  padded.narrow(0, 0, out_features_).copy_(weight);
  packed_ = padded.view({panels, kPanel, in_features_}).transpose(1, 2).contiguous();
  if (bias.defined()) {
    bias_ = at::zeros({panels * kPanel}, at::kFloat);
    bias_.narrow(0, 0, out_features_).copy_(bias.to(at::kFloat).reshape({-1}));
  }
}

at::Tensor PackedLinear::unpacked() const {
  return packed_.transpose(1, 2)
      .reshape({packed_.size(0) * kPanel, in_features_})
      .narrow(0, 0, out_features_)
      .contiguous();
}

at::Tensor PackedLinear::operator()(const at::Tensor& input) const {
  const at::Tensor x = input.stride(-1) == 1 ? input : input.contiguous();
  if (x.dim() != 2 || x.size(1) != in_features_ || x.scalar_type() != at::kFloat) {
    throw std::logic_error("PackedLinear: input of the wrong shape or dtype");
  }
  const std::int64_t rows = x.size(0), depth = in_features_, n = out_features_;
  const std::int64_t panels = packed_.size(0);
  at::Tensor y = at::empty({rows, n}, at::kFloat);
  if (rows == 0) return y;
  const Kernels& k = kernels(kernels_);
  const float* x_data = x.data_ptr<float>();
  const std::int64_t ldx = x.stride(0);
  const float* packed = packed_.data_ptr<float>();
  const float* bias = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
  float* y_data = y.data_ptr<float>();
  // Chunks of panels (an even number) of ~64k multiply-adds at least.
  std::int64_t per_chunk = std::max<std::int64_t>(1, 65536 / (rows * depth * kPanel) + 1);
  per_chunk += per_chunk % 2;
  const std::int64_t chunks = (panels + per_chunk - 1) / per_chunk;
  pool_->run(chunks, [&](std::int64_t chunk) {
    const std::int64_t begin = chunk * per_chunk, end = std::min(panels, begin + per_chunk);
    for (std::int64_t p = begin; p < end;) {
      const float* panel = packed + p * depth * kPanel;
      const float* panel_bias = bias ? bias + p * kPanel : nullptr;
      const std::int64_t valid = n - p * kPanel;
      float* out = y_data + p * kPanel;
      if (p + 1 < end && k.pairs[1]) {
        for (std::int64_t r = 0; r < rows; r += k.max_rows) {
          const auto block = static_cast<int>(std::min<std::int64_t>(k.max_rows, rows - r));
          k.pairs[block](x_data + r * ldx, ldx, panel, panel + depth * kPanel, depth, panel_bias,
                         out + r * n, n, std::min(2 * kPanel, valid));
        }
        p += 2;
      } else {
        for (std::int64_t r = 0; r < rows; r += k.max_rows) {
          const auto block = static_cast<int>(std::min<std::int64_t>(k.max_rows, rows - r));
          k.rows[block](x_data + r * ldx, ldx, panel, depth, panel_bias, out + r * n, n,
                        std::min(kPanel, valid));
        }
        p += 1;
      }
    }
  });
  return y;
}

}  // namespace qdgen::inference
