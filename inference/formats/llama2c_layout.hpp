#pragma once
// The order and shapes of the weights in a llama2.c (version 0) file, shared by the reader
// and the writer so that the two cannot disagree.

#include <cstdint>
#include <string>
#include <vector>

#include "qdgen/inference/model_config.hpp"

namespace qdgen::inference::llama2c {

inline constexpr std::size_t kHeaderBytes = 7 * sizeof(std::int32_t);
inline constexpr double kRmsNormEps = 1e-5;  // hard-coded in run.c
inline constexpr double kRopeTheta = 10000.0;

struct Header {
  std::int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0,
               seq_len = 0;
};

// One stretch of the file: a tensor per layer (name contains "{}" for the layer index) or a
// single tensor. `rope_heads` > 0 marks q/k weights whose rows pair up for RoPE differently.
struct Section {
  std::string hf_name;
  std::int64_t rows = 0;
  std::int64_t cols = 0;  // 0 for vectors
  bool per_layer = false;
  std::int64_t rope_heads = 0;
  bool rope_table = false;  // freq_cis_real / freq_cis_imag: not weights
};

std::vector<Section> sections(const Header& header);
std::string layer_name(const Section& section, std::int64_t layer);
LlamaConfig config_of(const Header& header);

// q/k rows: llama2.c rotates interleaved pairs (2i, 2i+1) of each head, HF rotates halves
// (i, i + head_size/2). These move rows between the two layouts.
void rows_llama2c_to_hf(const float* source, float* target, std::int64_t heads,
                        std::int64_t head_size, std::int64_t cols);
void rows_hf_to_llama2c(const float* source, float* target, std::int64_t heads,
                        std::int64_t head_size, std::int64_t cols);

}  // namespace qdgen::inference::llama2c
