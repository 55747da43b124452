#pragma once
// The decoder's element-wise parts as single autograd nodes with hand-written backward
// passes: fewer nodes and fewer saved tensors than the same maths in separate ATen ops.

#include "training_pch.hpp"

namespace qdgen::inference::training {

// y = x * rsqrt(mean(x^2) + eps) * weight over the last dimension. x: [..., D] contiguous.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// silu(gate) * up, where gate and up are the two halves of the last dimension of
// gate_up [..., 2F] (the fused gate_proj | up_proj product). Returns [..., F].
at::Tensor silu_gate(const at::Tensor& gate_up);

// Splits a fused projection qkv [B, T, (H + 2 KVH) hd] into heads and applies Hugging Face's
// rotary embedding (rotate-half) to queries and keys: returns {q [B, KVH, T, G, hd],
// k [B, KVH, T, hd], v [B, KVH, T, hd]}, contiguous, where G = H / KVH query heads share a
// key head (head h = kv * G + g). cos, sin: [T, hd / 2].
std::vector<at::Tensor> split_heads_rotary(const at::Tensor& qkv, const at::Tensor& cos,
                                           const at::Tensor& sin, std::int64_t heads,
                                           std::int64_t kv_heads, std::int64_t head_dim);

// Causal attention for queries [N, T * G, hd] (rows by position, then by the G query heads
// of a key head) over keys and values [N, T, hd]; returns [N, T * G, hd]. Queries go in blocks
// of `block` positions, each attending only to the keys up to its last position, so the
// products above the diagonal (almost half) are never computed.
class CausalAttention {
 public:
  CausalAttention(std::int64_t time, std::int64_t group, std::int64_t block);
  at::Tensor operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        double scale) const;

 private:
  std::int64_t time_, group_, block_;
  std::vector<at::Tensor> masks_;  // per block: [1, rows, keys] of 0 and -inf
};

// Rows are processed in chunks of this many, each by one thread, and reductions over rows
// (a norm weight's gradient) add the chunks' partial sums in chunk order: the result does not
// depend on the thread count.
inline constexpr std::int64_t kRowsPerChunk = 32;

}  // namespace qdgen::inference::training
