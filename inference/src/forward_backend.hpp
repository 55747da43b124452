#pragma once
// The operations that the forward pass (LlamaRuntime::forward, which writes the block
// structure once) asks of a backend, besides its matrix products (Projection): qdgen's own
// kernels and plain loops on the CPU in fp32 (llama_forward_cpu.cpp), or ATen's operations
// (llama_forward_aten.cpp: CUDA, and the CPU when asked, so that tests check that path against
// the kernels).
//
// Activations are token rows: token row t of a call is step t % steps of batch row t / steps.

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <span>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"
#include "kv_cache.hpp"
#include "qdgen/inference/model_config.hpp"

namespace qdgen::inference {

// What every backend reads from the model.
struct ForwardModel {
  const LlamaConfig& config;
  const at::Tensor& cos;  // [max_positions, head_dim / 2], the model's device and dtype
  const at::Tensor& sin;
  CpuKernels kernels;
  CpuThreadPool& pool;
};

// One call's batch: batch row r takes positions starts[r] .. starts[r] + steps - 1 of cache
// slot first_slot + r, and sees the slot's cached positions before them.
struct ForwardBatch {
  KvCache& cache;
  std::int64_t rows = 0, steps = 0, first_slot = 0;
  std::span<const std::int64_t> starts;
  std::int64_t end = 0;  // the largest start + steps: the positions attention reads
};

// A backend for one call. A returned tensor may be a buffer of the backend that the next call
// of the same operation overwrites.
class ForwardBackend {
 public:
  virtual ~ForwardBackend() = default;

  // x * rsqrt(mean(x^2) + eps) * weight, row by row. x: [n, D].
  virtual at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) = 0;
  // The residual add x += delta, then rms_norm(x, weight).
  virtual at::Tensor add_and_norm(at::Tensor& x, const at::Tensor& delta,
                                  const at::Tensor& weight) = 0;
  // Rotary embedding of the queries and keys of qkv ([n, (H + 2 KVH) hd], rotated in place or
  // not), the keys and values written into `layer`'s cache. Returns the rotated queries, laid
  // out as attend() takes them.
  virtual at::Tensor rotate_and_cache(const at::Tensor& qkv, std::int64_t layer) = 0;
  // Causal attention of the queries over `layer`'s cache (every position up to each token's
  // own, grouped-query heads): [n, H hd].
  virtual at::Tensor attend(const at::Tensor& queries, std::int64_t layer) = 0;
  // silu(gate) * up, of gate_up = [gate | up] ([n, 2F]): [n, F].
  virtual at::Tensor silu_gate(const at::Tensor& gate_up) = 0;
};

std::unique_ptr<ForwardBackend> make_kernel_backend(const ForwardModel& model,
                                                    const ForwardBatch& batch);
std::unique_ptr<ForwardBackend> make_aten_backend(const ForwardModel& model,
                                                  const ForwardBatch& batch);

}  // namespace qdgen::inference
