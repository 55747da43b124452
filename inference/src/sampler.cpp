#include "sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "packed_linear.hpp"

namespace qdgen::inference {
namespace {

// The first index of the largest value: its value in one vectorised pass, then its place.
// (GCC vector types: GCC 12's _mm512_max_ps trips -Wmaybe-uninitialized in its own header.)
__attribute__((target("avx512f"))) std::int32_t argmax_avx512(std::span<const float> values) {
  using Lanes = float __attribute__((vector_size(64)));
  const auto n = static_cast<std::int64_t>(values.size());
  Lanes best;
  for (int j = 0; j < 16; ++j) best[j] = -std::numeric_limits<float>::infinity();
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Lanes v;
    std::memcpy(&v, values.data() + i, sizeof v);
    best = v > best ? v : best;
  }
  float max = best[0];
  for (int j = 1; j < 16; ++j) max = std::max(max, best[j]);
  for (; i < n; ++i) max = std::max(max, values[i]);
  return static_cast<std::int32_t>(std::find(values.begin(), values.end(), max) - values.begin());
}

// Greedy's argmax, lowest id among equals, as std::max_element gives it (which stays the
// answer where a NaN hides the largest value from the vectorised pass).
std::int32_t argmax(std::span<const float> values, CpuKernels set) {
  if (set == CpuKernels::kAvx512) {
    const std::int32_t found = argmax_avx512(values);
    if (found < static_cast<std::int32_t>(values.size())) return found;
  }
  return static_cast<std::int32_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

// out[i] = exp((in[i] - shift) * scale), for arguments <= 0 (weights relative to the largest
// logit): 2^n * p(r) with n = round(x / ln 2), r = x - n ln 2 and Cephes's expf polynomial,
// within a few ulp; arguments below -87 give ~1e-38 rather than 0 or a denormal.
__attribute__((target("avx512f"))) void exp_weights_avx512(const float* in, float* out,
                                                           std::int64_t n, float shift,
                                                           float scale) {
  using Lanes = float __attribute__((vector_size(64)));
  using Ints = std::int32_t __attribute__((vector_size(64)));
  const Lanes low = (Lanes{} + -87.0f), log2e = (Lanes{} + 1.44269504088896341f),
              magic = (Lanes{} + 12582912.0f);
  const Lanes ln2_high = (Lanes{} + 0.693359375f), ln2_low = (Lanes{} + -2.12194440e-4f);
  const Lanes shift_v = (Lanes{} + shift), scale_v = (Lanes{} + scale), one = (Lanes{} + 1.0f);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Lanes x;
    std::memcpy(&x, in + i, sizeof x);
    x = (x - shift_v) * scale_v;
    x = x < low ? low : x;
    const Lanes rounded = x * log2e + magic;  // round to nearest in the low mantissa bits
    const Lanes whole = rounded - magic;
    const Lanes r = (x - whole * ln2_high) - whole * ln2_low;
    Lanes p = (Lanes{} + 1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const Lanes y = p * r * r + r + one;
    Ints bits;
    std::memcpy(&bits, &rounded, sizeof bits);
    const Ints exponent = ((bits - 0x4B400000) + 127) << 23;  // 2^n
    Lanes power;
    std::memcpy(&power, &exponent, sizeof power);
    const Lanes result = y * power;
    std::memcpy(out + i, &result, sizeof result);
  }
  for (; i < n; ++i) out[i] = std::exp((in[i] - shift) * scale);
}

}  // namespace

void exp_weights(const float* in, float* out, std::int64_t n, float shift, float scale,
                 CpuKernels set) {
  if (set == CpuKernels::kAvx512) return exp_weights_avx512(in, out, n, shift, scale);
  for (std::int64_t i = 0; i < n; ++i) out[i] = std::exp((in[i] - shift) * scale);
}

double log_normalizer(std::span<const float> logits, CpuKernels set) {
  const float max_logit = logits[argmax(logits, set)];
  thread_local std::vector<float> weights;
  weights.resize(logits.size());
  exp_weights(logits.data(), weights.data(), static_cast<std::int64_t>(logits.size()), max_logit,
              1.0f, set);
  double total = 0.0;
  for (const float w : weights) total += w;
  return static_cast<double>(max_logit) + std::log(total);
}

Sampler::Sampler(const SamplingSettings& settings, CpuKernels kernels)
    : settings_(settings), kernels_(kernels), random_(settings.seed) {}

std::int32_t Sampler::next(std::span<const float> logits) {
  if (settings_.temperature <= 0) return argmax(logits, kernels_);
  const auto vocab = static_cast<std::int64_t>(logits.size());
  // Weights exp((logit - max) / T), relative to the largest logit, in one vectorised pass.
  const float max_logit = logits[argmax(logits, kernels_)];
  weights_.resize(static_cast<std::size_t>(vocab));
  exp_weights(logits.data(), weights_.data(), vocab, max_logit,
              static_cast<float>(1.0 / settings_.temperature), kernels_);
  candidates_.clear();
  for (std::int64_t i = 0; i < vocab; ++i) {
    candidates_.emplace_back(weights_[i], static_cast<std::int32_t>(i));
  }
  // Heaviest first, lowest id among equals: an order that depends on nothing but the row.
  const auto higher = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const bool nucleus = settings_.top_p < 1.0;
  if (settings_.top_k > 0 && settings_.top_k < vocab) {
    std::nth_element(candidates_.begin(), candidates_.begin() + settings_.top_k, candidates_.end(),
                     higher);
    candidates_.resize(settings_.top_k);
  }
  double total = 0;
  for (const auto& [weight, id] : candidates_) total += weight;
  if (nucleus) {
    // No token of weight below (1 - top_p) * total / (n - 1) can be in the nucleus: the n - 1
    // or fewer tokens at or below it hold less than the 1 - top_p left outside it. (llama2.c's
    // sample_topp prunes so; half that bound leaves room for rounding.) Only the rest is
    // sorted, instead of all 32,000 or so.
    if (candidates_.size() > 1) {
      const double bound =
          0.5 * (1.0 - settings_.top_p) * total / static_cast<double>(candidates_.size() - 1);
      std::erase_if(candidates_, [&](const auto& c) { return c.first < bound; });
    }
    std::sort(candidates_.begin(), candidates_.end(), higher);
    double kept = 0;
    std::size_t count = 0;
    while (count < candidates_.size() && kept < settings_.top_p * total)
      kept += candidates_[count++].first;
    candidates_.resize(std::max<std::size_t>(count, 1));
    total = std::max(kept, static_cast<double>(candidates_[0].first));
  }
  const double draw = static_cast<double>(random_() >> 11) * 0x1.0p-53 * total;
  double cumulative = 0;
  for (const auto& [weight, id] : candidates_) {
    cumulative += weight;
    if (draw < cumulative) return id;
  }
  return candidates_.back().second;
}

}  // namespace qdgen::inference
