#pragma once
// Picks the next token from one request's logits row with that request's own random stream,
// so a request samples the same tokens whatever else shares its batch.

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "packed_linear.hpp"
#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

// out[i] = exp((in[i] - shift) * scale) for arguments <= 0, vectorised where the CPU allows
// (within a few ulp; arguments below -87 give ~1e-38 rather than 0).
void exp_weights(const float* in, float* out, std::int64_t n, float shift, float scale,
                 CpuKernels kernels);

// log(sum_i exp(logits[i])), the normaliser of a log-softmax, computed with the largest logit
// shifted out and the exponentials vectorised; summed in double.
double log_normalizer(std::span<const float> logits, CpuKernels kernels);

class Sampler {
 public:
  Sampler(const SamplingSettings& settings, CpuKernels kernels);
  std::int32_t next(std::span<const float> logits);

 private:
  SamplingSettings settings_;
  CpuKernels kernels_;
  std::mt19937_64 random_;
  std::vector<float> weights_;
  std::vector<std::pair<float, std::int32_t>> candidates_;
};

}  // namespace qdgen::inference
