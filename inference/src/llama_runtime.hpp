#pragma once
// The forward pass of a Llama-family decoder on plain ATen ops over preallocated tensors,
// with a slot-based KV cache: row r of a batch lives in cache slot first_slot + r.

#include <cstdint>
#include <span>
#include <vector>

#include "cpu_memory.hpp"
#include "llama_weights.hpp"
#include "packed_linear.hpp"

namespace qdgen::inference {

struct KvCache {
  // Per layer. Keys are stored transposed, [slots, kv_heads, head_dim, capacity], so that a
  // query's scores against consecutive positions are plain vector products (and ATen's
  // q K^T takes the keys as they are); values are [slots, kv_heads, capacity, head_dim].
  std::vector<at::Tensor> keys, values;
  std::int64_t slots = 0;
  std::int64_t capacity = 0;
};

// A linear layer y = x W^T + b: on the CPU in fp32 through PackedLinear, elsewhere (CUDA, or
// the CPU under QDGEN_ATEN_FORWARD) through ATen's matrix products on the plain matrix.
class Projection {
 public:
  Projection() = default;
  // packed: through PackedLinear with `kernels` (CPU, fp32); else ATen's matrix product.
  Projection(const at::Tensor& weight, const at::Tensor& bias, bool packed, CpuKernels kernels);
  at::Tensor operator()(const at::Tensor& x) const;  // x: [rows, K]

 private:
  at::Tensor weight_, bias_;
  PackedLinear packed_;
};

class LlamaRuntime {
 public:
  explicit LlamaRuntime(LlamaWeights weights);

  const LlamaConfig& config() const { return weights_.config; }
  at::Device device() const { return weights_.embedding.device(); }
  at::ScalarType dtype() const { return weights_.embedding.scalar_type(); }
  CpuKernels cpu_kernels() const { return kernels_; }  // the set its CPU kernels use
  // On the CPU in fp32, unless QDGEN_ATEN_FORWARD asked for the ATen ops CUDA runs.
  bool runs_own_kernels() const {
    return device().is_cpu() && dtype() == at::kFloat && !aten_forward_;
  }

  KvCache make_cache(std::int64_t slots, std::int64_t capacity) const;

  // tokens: [rows, T] int64 (CPU). Row r's tokens take positions starts[r] .. starts[r]+T-1
  // and see its slot's cached positions before them. Returns the final normalised hidden
  // states [rows, T, D].
  at::Tensor forward(KvCache& cache, const at::Tensor& tokens, std::int64_t first_slot,
                     std::span<const std::int64_t> starts) const;
  at::Tensor logits(const at::Tensor& hidden) const;  // [..., V] float32 on the CPU

  // Copies the first `length` cached positions of slot `from` (of `source`) into slot `to`.
  void copy_slot(const KvCache& source, std::int64_t from, KvCache& target, std::int64_t to,
                 std::int64_t length) const;

 private:
  // forward() on the CPU in fp32: qdgen's kernels and plain loops over token rows, without
  // ATen's per-op overhead (llama_forward_cpu.cpp). The ATen ops below serve other devices.
  at::Tensor forward_cpu(KvCache& cache, const at::Tensor& tokens, std::int64_t first_slot,
                         std::span<const std::int64_t> starts) const;
  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) const;
  at::Tensor rotate(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) const;

  struct LayerProjections {
    Projection qkv, output, gate_up, down;
  };

  LlamaWeights weights_;  // the projection matrices themselves live in layers_ and lm_head_
  std::vector<LayerProjections> layers_;
  Projection lm_head_;
  at::Tensor cos_, sin_;  // [max_positions, head_dim / 2]
  // CPU fp32 KV caches, kept across calls: up to 1 GiB of idle buffers.
  mutable ReusableBuffers kv_buffers_{std::size_t{1} << 30};
  // QDGEN_ATEN_FORWARD=1 when the runtime is made: the CPU runs the ATen ops that CUDA runs,
  // so that tests can check that path against qdgen's kernels on a machine without a GPU.
  bool aten_forward_ = false;
  CpuKernels kernels_ = cpu_kernels_from_environment();  // QDGEN_CPU_KERNELS when it is made
};

}  // namespace qdgen::inference
