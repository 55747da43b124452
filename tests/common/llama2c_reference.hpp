#pragma once
// An independent fp32 implementation of llama2.c's run.c forward pass, reading the .bin
// directly (raw llama2.c layout: RoPE on interleaved pairs, W1/W3 gate/up, shared or separate
// classifier). It exists to check qdgen's libtorch model against run.c's arithmetic, and as
// the run.c-equivalent baseline of bench_generation (compiled there with -O3 -fopenmp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace qdgen::testing {

class Llama2cReference {
 public:
  struct Header {
    std::int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
  };

  explicit Llama2cReference(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file.read(reinterpret_cast<char*>(&h_), sizeof h_)) {
      throw std::runtime_error(path.string() + ": no llama2.c header");
    }
    shared_classifier_ = h_.vocab_size > 0;
    h_.vocab_size = std::abs(h_.vocab_size);
    head_size_ = h_.dim / h_.n_heads;
    kv_dim_ = h_.dim * h_.n_kv_heads / h_.n_heads;
    weights_.assign((std::filesystem::file_size(path) - sizeof h_) / sizeof(float), 0.0f);
    file.read(reinterpret_cast<char*>(weights_.data()),
              static_cast<std::streamsize>(weights_.size() * sizeof(float)));
    map_weights();
    const std::size_t cache = static_cast<std::size_t>(h_.n_layers) * h_.seq_len * kv_dim_;
    key_cache_.assign(cache, 0.0f);
    value_cache_.assign(cache, 0.0f);
    x_.resize(h_.dim), xb_.resize(h_.dim), xb2_.resize(h_.dim), q_.resize(h_.dim);
    hb_.resize(h_.hidden_dim), hb2_.resize(h_.hidden_dim), att_.resize(h_.seq_len);
    logits_.resize(h_.vocab_size);
  }

  const Header& header() const { return h_; }

  // run.c's forward(): one token at `pos`, all earlier positions already run.
  const std::vector<float>& forward(std::int32_t token, std::int32_t pos) {
    const int dim = h_.dim, kv_mul = h_.n_heads / h_.n_kv_heads;
    std::copy_n(token_embedding_ + static_cast<std::size_t>(token) * dim, dim, x_.begin());
    for (int l = 0; l < h_.n_layers; ++l) {
      rmsnorm(xb_.data(), x_.data(), rms_att_ + l * dim, dim);
      const std::size_t layer_offset = static_cast<std::size_t>(l) * h_.seq_len * kv_dim_;
      float* k = key_cache_.data() + layer_offset + static_cast<std::size_t>(pos) * kv_dim_;
      float* v = value_cache_.data() + layer_offset + static_cast<std::size_t>(pos) * kv_dim_;
      matmul(q_.data(), xb_.data(), wq_ + static_cast<std::size_t>(l) * dim * dim, dim, dim);
      matmul(k, xb_.data(), wk_ + static_cast<std::size_t>(l) * dim * kv_dim_, dim, kv_dim_);
      matmul(v, xb_.data(), wv_ + static_cast<std::size_t>(l) * dim * kv_dim_, dim, kv_dim_);
      for (int i = 0; i < dim; i += 2) {  // rotate each interleaved pair (i, i + 1)
        const float frequency =
            1.0f / std::pow(10000.0f, static_cast<float>(i % head_size_) / head_size_);
        const float angle = static_cast<float>(pos) * frequency;
        const float c = std::cos(angle), s = std::sin(angle);
        for (int target = 0; target < (i < kv_dim_ ? 2 : 1); ++target) {
          float* vec = target == 0 ? q_.data() : k;
          const float v0 = vec[i], v1 = vec[i + 1];
          vec[i] = v0 * c - v1 * s;
          vec[i + 1] = v0 * s + v1 * c;
        }
      }
#ifdef _OPENMP
#pragma omp parallel for
#endif
      for (int head = 0; head < h_.n_heads; ++head) {
        const float* q = q_.data() + head * head_size_;
        std::vector<float> att(pos + 1);
        for (int t = 0; t <= pos; ++t) {
          const float* key = key_cache_.data() + layer_offset +
                             static_cast<std::size_t>(t) * kv_dim_ + (head / kv_mul) * head_size_;
          float score = 0;
          for (int i = 0; i < head_size_; ++i) score += q[i] * key[i];
          att[t] = score / std::sqrt(static_cast<float>(head_size_));
        }
        softmax(att.data(), pos + 1);
        float* out = xb_.data() + head * head_size_;
        std::fill_n(out, head_size_, 0.0f);
        for (int t = 0; t <= pos; ++t) {
          const float* value = value_cache_.data() + layer_offset +
                               static_cast<std::size_t>(t) * kv_dim_ + (head / kv_mul) * head_size_;
          for (int i = 0; i < head_size_; ++i) out[i] += att[t] * value[i];
        }
      }
      matmul(xb2_.data(), xb_.data(), wo_ + static_cast<std::size_t>(l) * dim * dim, dim, dim);
      for (int i = 0; i < dim; ++i) x_[i] += xb2_[i];
      rmsnorm(xb_.data(), x_.data(), rms_ffn_ + l * dim, dim);
      const std::size_t ffn = static_cast<std::size_t>(l) * dim * h_.hidden_dim;
      matmul(hb_.data(), xb_.data(), w1_ + ffn, dim, h_.hidden_dim);
      matmul(hb2_.data(), xb_.data(), w3_ + ffn, dim, h_.hidden_dim);
      for (int i = 0; i < h_.hidden_dim; ++i) {
        const float gate = hb_[i];
        hb_[i] = gate * (1.0f / (1.0f + std::exp(-gate))) * hb2_[i];
      }
      matmul(xb_.data(), hb_.data(), w2_ + ffn, h_.hidden_dim, dim);
      for (int i = 0; i < dim; ++i) x_[i] += xb_[i];
    }
    rmsnorm(x_.data(), x_.data(), rms_final_, dim);
    matmul(logits_.data(), x_.data(), classifier_, dim, h_.vocab_size);
    return logits_;
  }

  // Greedy decoding as run.c does it with temperature 0: the prompt is forced token by token,
  // then each argmax is fed back.
  std::vector<std::int32_t> greedy(const std::vector<std::int32_t>& prompt, int new_tokens) {
    std::vector<std::int32_t> generated;
    std::int32_t token = prompt[0];
    const int total = static_cast<int>(prompt.size()) + new_tokens - 1;
    for (int pos = 0; pos < total && pos < h_.seq_len; ++pos) {
      const auto& logits = forward(token, pos);
      if (pos + 1 < static_cast<int>(prompt.size())) {
        token = prompt[pos + 1];
      } else {
        token = static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                          logits.begin());
        generated.push_back(token);
      }
    }
    return generated;
  }

 private:
  void map_weights() {
    const std::size_t dim = h_.dim, hidden = h_.hidden_dim, layers = h_.n_layers;
    const std::size_t kv = kv_dim_, vocab = h_.vocab_size;
    std::size_t offset = 0;
    const auto take = [&](std::size_t count) {
      if (offset + count > weights_.size()) throw std::runtime_error("llama2.c file too short");
      const float* at = weights_.data() + offset;
      offset += count;
      return at;
    };
    token_embedding_ = take(vocab * dim);
    rms_att_ = take(layers * dim);
    wq_ = take(layers * dim * dim);
    wk_ = take(layers * dim * kv);
    wv_ = take(layers * dim * kv);
    wo_ = take(layers * dim * dim);
    rms_ffn_ = take(layers * dim);
    w1_ = take(layers * dim * hidden);
    w2_ = take(layers * hidden * dim);
    w3_ = take(layers * dim * hidden);
    rms_final_ = take(dim);
    take(static_cast<std::size_t>(h_.seq_len) * head_size_ / 2);  // freq_cis_real, unused
    take(static_cast<std::size_t>(h_.seq_len) * head_size_ / 2);  // freq_cis_imag, unused
    classifier_ = shared_classifier_ ? token_embedding_ : take(vocab * dim);
  }

  static void rmsnorm(float* out, const float* x, const float* weight, int size) {
    float ss = 0;
    for (int i = 0; i < size; ++i) ss += x[i] * x[i];
    ss = 1.0f / std::sqrt(ss / size + 1e-5f);
    for (int i = 0; i < size; ++i) out[i] = weight[i] * (ss * x[i]);
  }

  static void softmax(float* x, int size) {
    const float max = *std::max_element(x, x + size);
    float sum = 0;
    for (int i = 0; i < size; ++i) sum += (x[i] = std::exp(x[i] - max));
    for (int i = 0; i < size; ++i) x[i] /= sum;
  }

  // out[d] = W[d, n] · x[n]
  static void matmul(float* out, const float* x, const float* w, int n, int d) {
#ifdef _OPENMP
#pragma omp parallel for
#endif
    for (int i = 0; i < d; ++i) {
      float value = 0;
      const float* row = w + static_cast<std::size_t>(i) * n;
      for (int j = 0; j < n; ++j) value += row[j] * x[j];
      out[i] = value;
    }
  }

  Header h_{};
  bool shared_classifier_ = true;
  int head_size_ = 0, kv_dim_ = 0;
  std::vector<float> weights_;
  const float *token_embedding_ = nullptr, *rms_att_ = nullptr, *wq_ = nullptr, *wk_ = nullptr,
              *wv_ = nullptr, *wo_ = nullptr, *rms_ffn_ = nullptr, *w1_ = nullptr, *w2_ = nullptr,
              *w3_ = nullptr, *rms_final_ = nullptr, *classifier_ = nullptr;
  std::vector<float> key_cache_, value_cache_, x_, xb_, xb2_, q_, hb_, hb2_, att_, logits_;
};

}  // namespace qdgen::testing
