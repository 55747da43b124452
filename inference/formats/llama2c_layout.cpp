#include "llama2c_layout.hpp"

#include <cstdlib>
#include <cstring>

namespace qdgen::inference::llama2c {

std::vector<Section> sections(const Header& header) {
  const std::int64_t dim = header.dim;
  const std::int64_t hidden = header.hidden_dim;
  const std::int64_t head_size = dim / header.n_heads;
  const std::int64_t kv_dim = head_size * header.n_kv_heads;
  const std::int64_t vocab = std::abs(static_cast<std::int64_t>(header.vocab_size));
  // memory_map_weights() in run.c, in order.
  std::vector<Section> result = {
      {"model.embed_tokens.weight", vocab, dim},
      {"model.layers.{}.input_layernorm.weight", dim, 0, true},
      {"model.layers.{}.self_attn.q_proj.weight", dim, dim, true, header.n_heads},
      {"model.layers.{}.self_attn.k_proj.weight", kv_dim, dim, true, header.n_kv_heads},
      {"model.layers.{}.self_attn.v_proj.weight", kv_dim, dim, true},
      {"model.layers.{}.self_attn.o_proj.weight", dim, dim, true},
      {"model.layers.{}.post_attention_layernorm.weight", dim, 0, true},
      {"model.layers.{}.mlp.gate_proj.weight", hidden, dim, true},  // w1
      {"model.layers.{}.mlp.down_proj.weight", dim, hidden, true},  // w2
      {"model.layers.{}.mlp.up_proj.weight", hidden, dim, true},    // w3
      {"model.norm.weight", dim, 0},
      {"freq_cis_real", header.seq_len, head_size / 2, false, 0, true},
      {"freq_cis_imag", header.seq_len, head_size / 2, false, 0, true},
  };
  if (header.vocab_size < 0) result.push_back({"lm_head.weight", vocab, dim});
  return result;
}

std::string layer_name(const Section& section, std::int64_t layer) {
  std::string name = section.hf_name;
  const auto at = name.find("{}");
  if (at != std::string::npos) name.replace(at, 2, std::to_string(layer));
  return name;
}

LlamaConfig config_of(const Header& header) {
  LlamaConfig config;
  config.architecture = "LlamaForCausalLM";
  config.vocab_size = std::abs(static_cast<std::int64_t>(header.vocab_size));
  config.hidden_size = header.dim;
  config.intermediate_size = header.hidden_dim;
  config.num_hidden_layers = header.n_layers;
  config.num_attention_heads = header.n_heads;
  config.num_key_value_heads = header.n_kv_heads;
  config.head_dim = header.dim / header.n_heads;
  config.max_position_embeddings = header.seq_len;
  config.rms_norm_eps = kRmsNormEps;
  config.rope_theta = kRopeTheta;
  config.tie_word_embeddings = header.vocab_size > 0;
  config.torch_dtype = "float32";
  // run.c starts every prompt with BOS (1) and stops when the model emits it again: in
  // llama2.c's training data BOS is the delimiter between stories.
  if (config.vocab_size > 1) {
    config.bos_token_id = 1;
    config.eos_token_ids = {1};
  }
  return config;
}

namespace {

// llama2.c keeps each head's RoPE pairs interleaved (rows 2i, 2i+1); Hugging Face keeps them
// in halves (rows i, i + head_size/2). Calls move(hf_row, llama2c_row) for every row.
template <typename Move>
void for_each_rope_row(std::int64_t heads, std::int64_t head_size, Move move) {
  const std::int64_t half = head_size / 2;
  for (std::int64_t head = 0; head < heads; ++head) {
    for (std::int64_t pair = 0; pair < half; ++pair) {
      for (std::int64_t component = 0; component < 2; ++component) {
        move(head * head_size + component * half + pair, head * head_size + 2 * pair + component);
      }
    }
  }
}

}  // namespace

void rows_llama2c_to_hf(const float* source, float* target, std::int64_t heads,
                        std::int64_t head_size, std::int64_t cols) {
  const auto row_bytes = static_cast<std::size_t>(cols) * sizeof(float);
  for_each_rope_row(heads, head_size, [&](std::int64_t hf_row, std::int64_t llama2c_row) {
    std::memcpy(target + hf_row * cols, source + llama2c_row * cols, row_bytes);
  });
}

void rows_hf_to_llama2c(const float* source, float* target, std::int64_t heads,
                        std::int64_t head_size, std::int64_t cols) {
  const auto row_bytes = static_cast<std::size_t>(cols) * sizeof(float);
  for_each_rope_row(heads, head_size, [&](std::int64_t hf_row, std::int64_t llama2c_row) {
    std::memcpy(target + llama2c_row * cols, source + hf_row * cols, row_bytes);
  });
}

}  // namespace qdgen::inference::llama2c
