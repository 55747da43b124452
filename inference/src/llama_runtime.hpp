#pragma once
// The forward pass of a Llama-family decoder over preallocated tensors, with a slot-based KV
// cache (kv_cache.hpp). Its block structure is written once (forward()), over the operations of
// a backend (forward_backend.hpp) and the projections (projection.hpp) through which every
// matrix product goes.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "cpu_kernels.hpp"
#include "cpu_memory.hpp"
#include "cpu_thread_pool.hpp"
#include "kv_cache.hpp"
#include "llama_weights.hpp"
#include "lora_mixture.hpp"
#include "projection.hpp"
#include "qdgen/inference/generation.hpp"
#include "qdgen/inference/lora_adapter.hpp"

namespace qdgen::inference {

// How a runtime computes on the CPU.
struct RuntimeOptions {
  CpuKernels kernels = widest_cpu_kernels();
  int threads = 1;  // of its own pool, the caller's included
  // On the CPU in fp32, ATen's operations (what CUDA runs) instead of qdgen's kernels.
  bool aten_forward = false;
};

class LlamaRuntime {
 public:
  // `adapters`: LoRA experts applied unmerged, each row of a pass with its own mixture of
  // them. Throws std::invalid_argument when two share a name or a module does not fit the
  // base (naming the adapter and the module).
  explicit LlamaRuntime(LlamaWeights weights, const RuntimeOptions& options = {},
                        const std::vector<LoraAdapter>& adapters = {});

  const LlamaConfig& config() const { return weights_.config; }
  at::Device device() const { return weights_.embedding.device(); }
  at::ScalarType dtype() const { return weights_.embedding.scalar_type(); }
  CpuKernels cpu_kernels() const { return kernels_; }  // the set its CPU kernels use
  int threads() const { return pool_->threads(); }
  // On the CPU in fp32, unless the ATen forward was asked for.
  bool runs_own_kernels() const {
    return device().is_cpu() && dtype() == at::kFloat && !aten_forward_;
  }

  // Runs body(0) .. body(n - 1) on the model's threads; returns when all are done, rethrowing
  // the first exception a call threw.
  void parallel_rows(std::int64_t n, const std::function<void(std::int64_t)>& body) const {
    pool_->run(n, body);
  }

  // The loaded adapters' names, in load order: RowAdapters weights come in this order.
  const std::vector<std::string>& adapter_names() const { return adapter_names_; }
  std::int64_t adapter_count() const { return static_cast<std::int64_t>(adapter_names_.size()); }
  // A weight per loaded adapter (and layer, when the mixture gives layer weights) for
  // `mixture` (lora_mixture.hpp); `what` names the request.
  MixtureWeights adapter_weights(const LoraMixture& mixture, const std::string& what) const;

  KvCache make_cache(std::int64_t slots, std::int64_t capacity) const;

  // tokens: [rows, T] int64 (CPU). Row r's tokens take positions starts[r] .. starts[r]+T-1
  // and see its slot's cached positions before them; `adapters` gives each row's adapter
  // weights to every projection (count 0, or adapter_count() weights per row and layer) from
  // the row's first mixed position on. Returns the final normalised hidden states [rows, T, D].
  at::Tensor forward(KvCache& cache, const at::Tensor& tokens, std::int64_t first_slot,
                     std::span<const std::int64_t> starts, const RowAdapters& adapters = {}) const;
  at::Tensor logits(const at::Tensor& hidden) const;  // [..., V] float32 on the CPU

  // Copies the first `length` cached positions of slot `from` (of `source`) into slot `to`.
  void copy_slot(const KvCache& source, std::int64_t from, KvCache& target, std::int64_t to,
                 std::int64_t length) const;

 private:
  struct LayerProjections {
    Projection qkv, output, gate_up, down;
  };

  // Made first: the packed projections compute on it.
  std::unique_ptr<CpuThreadPool> pool_;
  CpuKernels kernels_;
  bool aten_forward_;
  LlamaWeights weights_;  // the projection matrices themselves live in layers_ and lm_head_
  std::vector<LayerProjections> layers_;
  Projection lm_head_;
  std::vector<std::string> adapter_names_;
  at::Tensor cos_, sin_;  // [max_positions, head_dim / 2]
  // CPU fp32 KV caches, kept across calls: up to 1 GiB of idle buffers.
  mutable ReusableBuffers kv_buffers_{std::size_t{1} << 30};
};

// Per-row adapter weights for LlamaRuntime::forward, gathered row by row: none at all (count
// 0) while every row runs the base model, one set per layer only once some row's mixture gives
// layer weights, and from positions only once some row's mixture starts after position 0.
class AdapterRows {
 public:
  explicit AdapterRows(const LlamaRuntime& runtime) : runtime_(runtime) {}
  // The next row's mixture: validated before (an unknown adapter still throws), and resolved
  // (resolved_mixture: no kLastPromptToken).
  void add(const LoraMixture& mixture);
  RowAdapters rows() const {
    return {mixed_ ? runtime_.adapter_count() : 0, weights_, layers_, from_};
  }

 private:
  const LlamaRuntime& runtime_;
  std::vector<float> weights_;      // [rows, layers_, adapters] once mixed_
  std::vector<std::int64_t> from_;  // [rows] once activated_
  std::int64_t rows_ = 0;
  std::int64_t layers_ = 1;
  bool mixed_ = false;
  bool activated_ = false;  // some row's mixture starts after position 0
};

}  // namespace qdgen::inference
