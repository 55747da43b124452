#include "training_ops.hpp"

#include <cmath>
#include <limits>

namespace qdgen::inference::training {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::int64_t chunk_count(std::int64_t rows) {
  return (rows + kRowsPerChunk - 1) / kRowsPerChunk;
}

struct RmsNormFunction : torch::autograd::Function<RmsNormFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                            double eps) {
    const at::Tensor x = input.contiguous();
    const std::int64_t d = x.size(-1), rows = x.numel() / d;
    at::Tensor y = at::empty_like(x);
    at::Tensor rstd = at::empty({rows}, x.options());
    const float* xs = x.data_ptr<float>();
    const float* w = weight.data_ptr<float>();
    float* ys = y.data_ptr<float>();
    float* rs = rstd.data_ptr<float>();
    at::parallel_for(0, chunk_count(rows), 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t r = first * kRowsPerChunk; r < std::min(rows, last * kRowsPerChunk); ++r) {
        const float* row = xs + r * d;
        float sum = 0;
        for (std::int64_t i = 0; i < d; ++i) sum += row[i] * row[i];
        const float scale = 1.0f / std::sqrt(sum / static_cast<float>(d) + static_cast<float>(eps));
        rs[r] = scale;
        float* out = ys + r * d;
        for (std::int64_t i = 0; i < d; ++i) out[i] = row[i] * scale * w[i];
      }
    });
    ctx->save_for_backward({x, weight, rstd});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& rstd = saved[2];
    const at::Tensor dy = grads[0].contiguous();
    const std::int64_t d = x.size(-1), rows = x.numel() / d, chunks = chunk_count(rows);
    const bool input_grad = ctx->needs_input_grad(0), weight_grad = ctx->needs_input_grad(1);
    at::Tensor dx = input_grad ? at::empty_like(x) : at::Tensor();
    at::Tensor partial = weight_grad ? at::zeros({chunks, d}, x.options()) : at::Tensor();
    const float* xs = x.data_ptr<float>();
    const float* w = weight.data_ptr<float>();
    const float* rs = rstd.data_ptr<float>();
    const float* g = dy.data_ptr<float>();
    float* dxs = input_grad ? dx.data_ptr<float>() : nullptr;
    float* parts = weight_grad ? partial.data_ptr<float>() : nullptr;
    at::parallel_for(0, chunks, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t c = first; c < last; ++c) {
        for (std::int64_t r = c * kRowsPerChunk; r < std::min(rows, (c + 1) * kRowsPerChunk); ++r) {
          const float* row = xs + r * d;
          const float* grad = g + r * d;
          const float scale = rs[r];
          if (weight_grad) {
            float* part = parts + c * d;
            for (std::int64_t i = 0; i < d; ++i) part[i] += grad[i] * row[i] * scale;
          }
          if (input_grad) {
            // dx = rstd * (g w - xhat * mean(g w xhat)), xhat = x rstd.
            float dot = 0;
            for (std::int64_t i = 0; i < d; ++i) dot += grad[i] * w[i] * row[i];
            const float correction = dot * scale * scale / static_cast<float>(d);
            float* out = dxs + r * d;
            for (std::int64_t i = 0; i < d; ++i) {
              out[i] = scale * (grad[i] * w[i] - row[i] * correction);
            }
          }
        }
      }
    });
    at::Tensor dw;
    if (weight_grad) {
      dw = at::zeros({d}, x.options());
      float* sum = dw.data_ptr<float>();
      for (std::int64_t c = 0; c < chunks; ++c) {
        for (std::int64_t i = 0; i < d; ++i) sum[i] += parts[c * d + i];
      }
    }
    return {dx, dw, at::Tensor()};
  }
};

struct SiluGateFunction : torch::autograd::Function<SiluGateFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input) {
    const at::Tensor gate_up = input.contiguous();
    const std::int64_t width = gate_up.size(-1), f = width / 2, rows = gate_up.numel() / width;
    // ATen's vectorised sigmoid, then one fused pass for silu(g) * u.
    const at::Tensor sigmoid = at::sigmoid(gate_up.narrow(-1, 0, f)).contiguous();
    std::vector<std::int64_t> shape = gate_up.sizes().vec();
    shape.back() = f;
    at::Tensor y = at::empty(shape, gate_up.options());
    const float* gu = gate_up.data_ptr<float>();
    const float* s = sigmoid.data_ptr<float>();
    float* out = y.data_ptr<float>();
    at::parallel_for(0, rows, kRowsPerChunk, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t r = first; r < last; ++r) {
        const float* g = gu + r * width;
        const float* u = g + f;
        const float* sr = s + r * f;
        float* o = out + r * f;
        for (std::int64_t i = 0; i < f; ++i) o[i] = g[i] * sr[i] * u[i];
      }
    });
    ctx->save_for_backward({gate_up});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor gate_up = ctx->get_saved_variables()[0];
    const at::Tensor dy = grads[0].contiguous();
    const std::int64_t width = gate_up.size(-1), f = width / 2, rows = gate_up.numel() / width;
    const at::Tensor sigmoid = at::sigmoid(gate_up.narrow(-1, 0, f)).contiguous();
    at::Tensor dgate_up = at::empty_like(gate_up);
    const float* gu = gate_up.data_ptr<float>();
    const float* s = sigmoid.data_ptr<float>();
    const float* grad = dy.data_ptr<float>();
    float* out = dgate_up.data_ptr<float>();
    at::parallel_for(0, rows, kRowsPerChunk, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t r = first; r < last; ++r) {
        const float* g = gu + r * width;
        const float* u = g + f;
        const float* sr = s + r * f;
        const float* dyr = grad + r * f;
        float* dg = out + r * width;
        float* du = dg + f;
        for (std::int64_t i = 0; i < f; ++i) {
          const float silu = g[i] * sr[i];
          du[i] = dyr[i] * silu;
          // d silu / dg = s (1 + g (1 - s))
          dg[i] = dyr[i] * u[i] * (sr[i] + silu * (1.0f - sr[i]));
        }
      }
    });
    return {dgate_up};
  }
};

// out_first = x1 cos - x2 sin, out_second = x2 cos + x1 sin (Hugging Face's rotate_half);
// with `inverse` the transpose (the backward pass).
inline void rotate_row(const float* x, float* out, const float* cos, const float* sin,
                       std::int64_t half, bool inverse) {
  for (std::int64_t i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half], c = cos[i], s = inverse ? -sin[i] : sin[i];
    out[i] = a * c - b * s;
    out[i + half] = b * c + a * s;
  }
}

struct SplitHeadsRotaryFunction : torch::autograd::Function<SplitHeadsRotaryFunction> {
  struct Shape {
    std::int64_t batch, time, heads, kv_heads, head_dim;
    std::int64_t width() const { return (heads + 2 * kv_heads) * head_dim; }
  };

  // Moves between the fused row layout [B, T, width] and the head-major outputs; `to_heads`
  // rotates forward (q, k) and copies v, else the gradients go back through the inverse.
  static void transfer(const Shape& s, float* fused, float* q, float* k, float* v, const float* cos,
                       const float* sin, bool to_heads) {
    const std::int64_t half = s.head_dim / 2, hd = s.head_dim, width = s.width();
    const std::int64_t group = s.heads / s.kv_heads;
    at::parallel_for(
        0, s.batch * s.time, kRowsPerChunk, [&](std::int64_t first, std::int64_t last) {
          for (std::int64_t row = first; row < last; ++row) {
            const std::int64_t b = row / s.time, t = row % s.time;
            float* fused_row = fused + row * width;
            const float* c = cos + t * half;
            const float* sn = sin + t * half;
            for (std::int64_t h = 0; h < s.heads; ++h) {
              const std::int64_t kv = h / group, g = h % group;
              float* head = q + (((b * s.kv_heads + kv) * s.time + t) * group + g) * hd;
              if (to_heads) {
                rotate_row(fused_row + h * hd, head, c, sn, half, false);
              } else {
                rotate_row(head, fused_row + h * hd, c, sn, half, true);
              }
            }
            for (std::int64_t h = 0; h < s.kv_heads; ++h) {
              float* key = k + ((b * s.kv_heads + h) * s.time + t) * hd;
              float* value = v + ((b * s.kv_heads + h) * s.time + t) * hd;
              float* fused_key = fused_row + (s.heads + h) * hd;
              float* fused_value = fused_row + (s.heads + s.kv_heads + h) * hd;
              if (to_heads) {
                rotate_row(fused_key, key, c, sn, half, false);
                std::copy(fused_value, fused_value + hd, value);
              } else {
                rotate_row(key, fused_key, c, sn, half, true);
                std::copy(value, value + hd, fused_value);
              }
            }
          }
        });
  }

  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& cos,
                               const at::Tensor& sin, std::int64_t heads, std::int64_t kv_heads,
                               std::int64_t head_dim) {
    const at::Tensor qkv = input.contiguous();
    const Shape s{qkv.size(0), qkv.size(1), heads, kv_heads, head_dim};
    TORCH_CHECK(qkv.size(2) == s.width(), "split_heads_rotary: qkv width ", qkv.size(2));
    at::Tensor q =
        at::empty({s.batch, kv_heads, s.time, heads / kv_heads, head_dim}, qkv.options());
    at::Tensor k = at::empty({s.batch, kv_heads, s.time, head_dim}, qkv.options());
    at::Tensor v = at::empty({s.batch, kv_heads, s.time, head_dim}, qkv.options());
    transfer(s, const_cast<float*>(qkv.data_ptr<float>()), q.data_ptr<float>(), k.data_ptr<float>(),
             v.data_ptr<float>(), cos.data_ptr<float>(), sin.data_ptr<float>(), true);
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["batch"] = s.batch;
    ctx->saved_data["time"] = s.time;
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["kv_heads"] = kv_heads;
    ctx->saved_data["head_dim"] = head_dim;
    return {q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Shape s{ctx->saved_data["batch"].toInt(), ctx->saved_data["time"].toInt(),
                  ctx->saved_data["heads"].toInt(), ctx->saved_data["kv_heads"].toInt(),
                  ctx->saved_data["head_dim"].toInt()};
    const at::Tensor dq = grads[0].contiguous(), dk = grads[1].contiguous();
    const at::Tensor dv = grads[2].contiguous();
    at::Tensor dqkv = at::empty({s.batch, s.time, s.width()}, dq.options());
    transfer(s, dqkv.data_ptr<float>(), const_cast<float*>(dq.data_ptr<float>()),
             const_cast<float*>(dk.data_ptr<float>()), const_cast<float*>(dv.data_ptr<float>()),
             saved[0].data_ptr<float>(), saved[1].data_ptr<float>(), false);
    return {dqkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

CausalAttention::CausalAttention(std::int64_t time, std::int64_t group, std::int64_t block)
    : time_(time), group_(group), block_(std::min(block, time)) {
  for (std::int64_t first = 0; first < time_; first += block_) {
    const std::int64_t positions = std::min(block_, time_ - first), keys = first + positions;
    at::Tensor mask = at::zeros({1, positions * group_, keys}, at::kFloat);
    float* m = mask.data_ptr<float>();
    for (std::int64_t r = 0; r < positions * group_; ++r) {
      const std::int64_t position = first + r / group_;
      for (std::int64_t j = position + 1; j < keys; ++j) {
        m[r * keys + j] = -std::numeric_limits<float>::infinity();
      }
    }
    masks_.push_back(mask);
  }
}

at::Tensor CausalAttention::operator()(const at::Tensor& q, const at::Tensor& k,
                                       const at::Tensor& v, double scale) const {
  if (masks_.size() == 1) {
    return at::bmm(at::softmax(at::baddbmm(masks_[0], q, k.transpose(1, 2), 1.0, scale), -1), v);
  }
  std::vector<at::Tensor> blocks;
  for (std::size_t i = 0; i < masks_.size(); ++i) {
    const std::int64_t first = static_cast<std::int64_t>(i) * block_;
    const std::int64_t positions = std::min(block_, time_ - first), keys = first + positions;
    const at::Tensor queries = q.narrow(1, first * group_, positions * group_);
    const at::Tensor scores =
        at::baddbmm(masks_[i], queries, k.narrow(1, 0, keys).transpose(1, 2), 1.0, scale);
    blocks.push_back(at::bmm(at::softmax(scores, -1), v.narrow(1, 0, keys)));
  }
  return at::cat(blocks, 1);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return RmsNormFunction::apply(x, weight, eps);
}

at::Tensor silu_gate(const at::Tensor& gate_up) {
  return SiluGateFunction::apply(gate_up);
}

std::vector<at::Tensor> split_heads_rotary(const at::Tensor& qkv, const at::Tensor& cos,
                                           const at::Tensor& sin, std::int64_t heads,
                                           std::int64_t kv_heads, std::int64_t head_dim) {
  return SplitHeadsRotaryFunction::apply(qkv, cos, sin, heads, kv_heads, head_dim);
}

}  // namespace qdgen::inference::training
