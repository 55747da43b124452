#pragma once
// y = x W^T + b on the CPU in fp32, with W packed once into panels of 16 output features
// ([ceil(N / 16), K, 16]) so that a product streams the weights contiguously and no BLAS
// repacks them per call. OpenBLAS's sgemm packs (and transposes) the whole weight matrix on
// every call: at 32 rows that copy cost as much as the arithmetic (perf: sgemm_incopy 36 %,
// sgemm_kernel 36 % of a batch-32 decode of the 110M shape).
//
// Every output is one chain of fused multiply-adds over k in order, started from the bias, in
// whichever block of rows it falls: a row's result does not depend on the other rows, so
// batched and one-by-one decoding give bitwise the same logits.

#include <cstdint>
#include <functional>

namespace qdgen::inference {

// The instruction set of qdgen's CPU kernels (PackedLinear, attention, SiLU, exp, argmax): the
// widest the CPU has, or a narrower one named by the environment variable QDGEN_CPU_KERNELS
// (avx512, avx2 or portable), which lets tests cover every path on one machine. A model reads
// it once, when it is made, and passes its choice to every kernel, so models of one process may
// use different sets. Throws on an unknown name.
enum class CpuKernels { kAvx512, kAvx2, kPortable };
CpuKernels cpu_kernels_from_environment();
const char* cpu_kernels_name(CpuKernels kernels);

// Threads (the caller included) that PackedLinear splits a product over; process-wide. Not to
// be called while another thread runs a model (loading a model calls it).
void set_packed_linear_threads(int threads);

// Runs work(0) .. work(chunks - 1) on those threads, the caller's included; returns when all
// are done. Chunks are claimed from a counter, so a descheduled thread delays no one.
void parallel_chunks(std::int64_t chunks, const std::function<void(std::int64_t)>& work);

class PackedLinear {
 public:
  static constexpr std::int64_t kPanel = 16;

  PackedLinear() = default;
  // weight: [N, K] float32 on the CPU; bias: [N] or undefined.
  PackedLinear(const at::Tensor& weight, const at::Tensor& bias, CpuKernels kernels);

  bool defined() const { return packed_.defined(); }
  std::int64_t out_features() const { return out_features_; }
  std::int64_t in_features() const { return in_features_; }

  // x: [M, K] float32 on the CPU (any row stride, unit column stride). Returns [M, N].
  at::Tensor operator()(const at::Tensor& x) const;

  // The weight back in [N, K] (for tests and for code that needs the plain matrix).
  at::Tensor unpacked() const;

 private:
  std::int64_t out_features_ = 0, in_features_ = 0;
  CpuKernels kernels_ = CpuKernels::kPortable;
  at::Tensor packed_;  // [panels, K, 16], zero-padded past N
  at::Tensor bias_;    // [panels * 16], zero-padded, or undefined
};

}  // namespace qdgen::inference
